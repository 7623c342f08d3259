"""The audit event log: the single entry point through which everything that happens is recorded.

Every state change and every patient action calls `audit_record` inside the same database
transaction as the change itself, so an event exists exactly when its change does.
Payloads carry identifiers and choices, never free text written by or about the patient.
"""

from typing import Any

from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from consent.chain import chain_link
from consent.models import AuditEvent, ConsentSession
from consent.roles import role_of

CLIENT_MAX = 300


def _request_origin(request: HttpRequest | None) -> tuple[str | None, str]:
    if request is None:
        return None, ""
    address = request.META.get("REMOTE_ADDR") or None
    client = request.META.get("HTTP_USER_AGENT", "")[:CLIENT_MAX]
    return address, client


def audit_record(
    *,
    action: str,
    role: str,
    request: HttpRequest | None = None,
    actor: Any = None,
    actor_label: str = "",
    obj: models.Model | None = None,
    session: ConsentSession | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event; must run inside the transaction of the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the change's transaction")
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if not actor_label:
        actor_label = actor.get_username() if actor is not None else role
    address, client = _request_origin(request)
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=actor,
        actor_label=actor_label,
        role=role,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        session=session,
        address=address,
        client=client,
        payload=payload or {},
    )
    chain_link(event)
    event.save(force_insert=True)
    return event


def staff_access_record(
    *,
    request: HttpRequest,
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
            role=role or role_of(request.user),
            actor=request.user,
            request=request,
            obj=obj,
            session=session,
            payload=payload,
        )
