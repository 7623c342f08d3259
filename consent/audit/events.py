"""The audit event log: the single entry point through which everything that happens is recorded.

Every state change and every patient action calls `audit_record` inside the same database
transaction as the change itself, so an event exists exactly when its change does.
Payloads carry identifiers and choices, never free text written by or about the patient.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import models, transaction
from django.http import HttpRequest

from consent import clock
from consent.audit.chain import chain_link
from consent.canonical import nfc
from consent.models import AuditEvent, ConsentSession
from consent.roles import role_of
from consent.text import text_fields_normalize

CLIENT_MAX = 300


@dataclass(frozen=True)
class Origin:
    """Where an action came from: the address and the browser, as the audit log records them.

    Services take this instead of the request: they need nothing else of it, and a command or
    the demo seeder can say where its actions come from without faking a request.
    """

    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def of(cls, request: HttpRequest) -> "Origin":
        return cls(
            ip=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:CLIENT_MAX],
        )


NO_ORIGIN = Origin()


def audit_record(
    *,
    action: str,
    role: str,
    origin: Origin | None = None,
    actor: User | AnonymousUser | None = None,
    actor_label: str = "",
    obj: models.Model | None = None,
    session: ConsentSession | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event; must run inside the transaction of the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the change's transaction")
    user = actor if isinstance(actor, User) else None
    if not actor_label:
        actor_label = user.get_username() if user is not None else role
    origin = origin or NO_ORIGIN
    event = AuditEvent(
        occurred_at=clock.now(),
        actor=user,
        actor_label=actor_label,
        role=role,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        session=session,
        address=origin.ip,
        client=nfc(origin.user_agent)[:CLIENT_MAX],
        payload=payload or {},
    )
    # Stored text is NFC (consent/text.py); the hash is taken now, so normalize first.
    text_fields_normalize(event)
    chain_link(event)
    event.save(force_insert=True)
    return event


def staff_access_record(
    *,
    user: User,
    origin: Origin,
    action: str,
    role: str = "",
    obj: models.Model | None = None,
    session: ConsentSession | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Note that a staff member looked at health data (a search, a record, an export).

    HIPAA's audit controls and Part 11 ask who saw what and when; the page is shown only after
    its event is written. The role is the user's own (`roles.role_of`) unless given.
    """
    with transaction.atomic():
        return audit_record(
            action=action,
            role=role or role_of(user),
            actor=user,
            origin=origin,
            obj=obj,
            session=session,
            payload=payload,
        )
