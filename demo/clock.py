"""The simulated clock of the demo history, and the row times that follow it.

The services read the time from `consent.clock.now()`, so installing a `SimulatedClock` with
`consent.clock.using()` is enough for everything they stamp themselves. Django fills the
`auto_now` and `auto_now_add` fields from its own clock while it writes the row, and no argument
changes that: `row_times_follow()` stamps those fields again right after each save, in the
same transaction. That happens before anything can freeze the row (a finalized session's rows
refuse changes, and what its record shows is written before it is finalized). The append-only
tables refuse every UPDATE: an addendum keeps the real time at which it was seeded.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models.signals import post_save

from consent import clock
from consent.audit.triggers import APPEND_ONLY_TABLES


class SimulatedClock:
    """A clock that only moves forward, from `start`."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def move_to(self, moment: datetime) -> None:
        self._now = max(self._now, moment)


def _auto_fields(model: type[models.Model], created: bool) -> list[models.DateTimeField]:
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.DateTimeField)
        and (field.auto_now or (field.auto_now_add and created))
    ]


@contextmanager
def row_times_follow(simulated: SimulatedClock) -> Iterator[None]:
    """Within this block, rows saved while `simulated` is installed get its time in their
    `auto_now` and `auto_now_add` fields, as they would from Django's clock."""

    def restamp(
        sender: type[models.Model],
        instance: models.Model,
        created: bool,
        raw: bool,
        update_fields: frozenset[str] | None,
        **kwargs: Any,
    ) -> None:
        # Signals reach every thread: only saves made on the simulated clock are restamped.
        if raw or clock.installed() is not simulated:
            return
        if sender._meta.db_table in APPEND_ONLY_TABLES:
            return
        now = simulated.now()
        stamps = {
            field.attname: now
            for field in _auto_fields(sender, created)
            if update_fields is None or field.name in update_fields
        }
        if stamps:
            sender._base_manager.filter(pk=instance.pk).update(**stamps)
            for name, value in stamps.items():
                setattr(instance, name, value)

    uid = f"demo.row_times_follow:{id(simulated)}"
    post_save.connect(restamp, weak=False, dispatch_uid=uid)
    try:
        yield
    finally:
        post_save.disconnect(dispatch_uid=uid)
