"""The time every service and audit event reads: Django's clock unless another is installed.

The demo history (demo/seeding.py) tells a year of consent sessions in a few minutes: it
installs a simulated clock for its own context with `using()`, and every service then stamps
what it writes from that clock. A `ContextVar` rather than a module global, so that a clock
installed by one thread or task never leaks into a request served by another.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Protocol

from django.utils import timezone


class Clock(Protocol):
    def now(self) -> datetime: ...


_installed: ContextVar[Clock | None] = ContextVar("consent_clock", default=None)


def now() -> datetime:
    """Return the installed clock's time, or Django's `timezone.now()` when none is."""
    clock = _installed.get()
    return timezone.now() if clock is None else clock.now()


def installed() -> Clock | None:
    """Return the clock installed for the current context, if any."""
    return _installed.get()


@contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Make `now()` answer from `clock` within this block, in the current context only."""
    token = _installed.set(clock)
    try:
        yield clock
    finally:
        _installed.reset(token)
