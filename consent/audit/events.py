"""The audit event log: the single entry point through which everything that happens is recorded.

Every state change and every patient action calls `audit_record` inside the same database
transaction as the change itself, so an event exists exactly when its change does.
Payloads carry identifiers and choices, never free text written by or about the patient.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import models, transaction
from django.http import HttpRequest
from python_ipware import IpWare

from consent import clock
from consent.audit.chain import chain_link
from consent.canonical import nfc
from consent.models import AuditEvent, ConsentSession
from consent.roles import role_of
from consent.text import text_fields_normalize

CLIENT_MAX = 300


def client_address(request: HttpRequest) -> str | None:
    """The address of the browser that made this request: the one function that says it, for
    the audit log (`Origin.of`) and for django-axes' lock-out (`AXES_CLIENT_IP_CALLABLE`).

    With `TRUSTED_PROXY_COUNT` = 0 (the default) it is `REMOTE_ADDR`, and any X-Forwarded-For
    is ignored: a client can write anything there. Behind N proxies (each appending the
    address it was reached from, as nginx's `$proxy_add_x_forwarded_for` does) the nearest
    proxy is `REMOTE_ADDR` and the last N - 1 entries of X-Forwarded-For are the other
    proxies, so the client is the N-th entry from the right: the right-most one that no
    trusted proxy wrote, never the left-most, which the client controls. python-ipware reads
    the header (ports, IPv6 brackets, IPv4-mapped addresses, entries that are not addresses);
    a header too short for the proxies counted, or without a usable address there, falls back
    to `REMOTE_ADDR`: counted and recorded as the proxy, never as whatever the client wrote.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if proxies < 1:
        return remote
    reader = IpWare(precedence=("HTTP_X_FORWARDED_FOR",), proxy_count=proxies - 1)
    found, _trusted = reader.get_client_ip(request.META)
    return str(found) if found is not None else remote


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
            ip=client_address(request),
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
