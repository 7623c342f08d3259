"""Consent sessions: created by staff, cancelled by staff, expired when their time runs out."""

from datetime import date, datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from consent import clock, lifecycle
from consent.audit.events import Origin, audit_record
from consent.lifecycle import Action
from consent.models import AuditEvent, ConsentSession, PatientLink, ProcedureVersion
from consent.services import ServiceError

STAFF = AuditEvent.Role.STAFF
SYSTEM = AuditEvent.Role.SYSTEM

ERROR_SESSION_CLOSED = _("This consent session is closed.")
ERROR_CANNOT_CANCEL = _("A session that has been signed or finalized cannot be cancelled.")
ERROR_REASON_REQUIRED = _("Give a reason for cancelling.")
ERROR_UNREVIEWED_CONTENT = _(
    "This procedure's text has not been clinically reviewed: it is for demonstration only, and "
    "consent sessions cannot be made on it here. Import a version with its clinical review "
    "(reviewed_by and reviewed_on in the content pack)."
)


def unreviewed_content_allowed() -> bool:
    """May sessions be made on content that is not clinically reviewed? Only while DEBUG is on
    or where CONSENT_ALLOW_UNREVIEWED_CONTENT says so (the demo); never by default."""
    return bool(settings.DEBUG or settings.CONSENT_ALLOW_UNREVIEWED_CONTENT)


def procedure_versions_offered() -> QuerySet[ProcedureVersion]:
    """The procedure versions a new session may use: the reviewed ones, and the others too where
    unreviewed content is allowed (`unreviewed_content_allowed`)."""
    versions = ProcedureVersion.objects.all()
    if unreviewed_content_allowed():
        return versions
    return versions.exclude(reviewed_by="").exclude(reviewed_on__isnull=True)


def consent_session_create(
    *,
    patient_name: str,
    patient_birth_date: date,
    patient_record_number: str = "",
    procedure_version: ProcedureVersion,
    physician: User,
    created_by: User,
    origin: Origin | None = None,
) -> ConsentSession:
    if not procedure_version.clinically_reviewed and not unreviewed_content_allowed():
        raise ServiceError(ERROR_UNREVIEWED_CONTENT)
    with transaction.atomic():
        session = ConsentSession.objects.create(
            patient_name=patient_name.strip(),
            patient_birth_date=patient_birth_date,
            patient_record_number=patient_record_number.strip(),
            procedure_version=procedure_version,
            physician=physician,
            created_by=created_by,
            max_reteach=settings.CONSENT_MAX_RETEACH,
        )
        audit_record(
            action="session.created",
            role=STAFF,
            actor=created_by,
            origin=origin,
            obj=session,
            session=session,
            payload={"procedure_version": procedure_version.content_hash},
        )
    return session


def session_cancel(
    *, session: ConsentSession, cancelled_by: User, reason: str, origin: Origin | None = None
) -> ConsentSession:
    if not reason.strip():
        raise ServiceError(ERROR_REASON_REQUIRED)
    with transaction.atomic():
        session = lifecycle.lock(session, Action.CANCEL, error=ERROR_CANNOT_CANCEL)
        session.cancelled_at = clock.now()
        session.cancel_reason = reason.strip()
        previous = lifecycle.advance(
            session, Action.CANCEL, fields=["cancelled_at", "cancel_reason"]
        )
        PatientLink.objects.filter(session=session, revoked_at__isnull=True).update(
            revoked_at=session.cancelled_at
        )
        audit_record(
            action="session.cancelled",
            role=STAFF,
            actor=cancelled_by,
            origin=origin,
            obj=session,
            session=session,
            payload={"from": previous},
        )
    return session


def session_expire(*, session: ConsentSession, origin: Origin | None = None) -> ConsentSession:
    """Close a session whose time ran out before the physician attested; revoke its links."""
    with transaction.atomic():
        session = lifecycle.lock(session, Action.EXPIRE)
        previous = lifecycle.advance(session, Action.EXPIRE)
        now = clock.now()
        PatientLink.objects.filter(session=session, revoked_at__isnull=True).update(revoked_at=now)
        audit_record(
            action="session.expired",
            role=SYSTEM,
            origin=origin,
            obj=session,
            session=session,
            payload={"from": previous, "created_at": session.created_at.isoformat()},
        )
    return session


def sessions_expire_due(*, now: datetime | None = None) -> list[ConsentSession]:
    """Expire every session still before attestation `CONSENT_SESSION_TTL` after its creation.

    Run daily (`manage.py expire_sessions`). A patient who comes back later gets a new session.
    """
    cutoff = (now or clock.now()) - settings.CONSENT_SESSION_TTL
    due = ConsentSession.objects.filter(
        status__in=lifecycle.TRANSITIONS[Action.EXPIRE].allowed, created_at__lt=cutoff
    ).order_by("created_at")
    return [session_expire(session=session) for session in due]
