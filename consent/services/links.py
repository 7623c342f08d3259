"""The patient's link and the identity check behind it.

A link is 256 random bits shown once; only its SHA-256 is stored. Opening it and confirming the
date of birth are audited; too many wrong dates lock the link.
"""

import hashlib
import secrets
from datetime import date

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from consent import clock, lifecycle
from consent.audit.events import Origin, audit_record
from consent.lifecycle import Action
from consent.models import AuditEvent, ConsentSession, PatientLink
from consent.services import ServiceError
from consent.services.sessions import ERROR_SESSION_CLOSED

PATIENT = AuditEvent.Role.PATIENT
STAFF = AuditEvent.Role.STAFF

TOKEN_BYTES = 32  # 256 random bits; the link needs at least 128.
REASON_MAX = 1000

ERROR_REISSUE_REASON = _(
    "The physician has already attested this session, so a new link lets someone sign as the "
    "patient. Give the reason for the new link. No link was made."
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def patient_link_issue(
    *, session: ConsentSession, issued_by: User, origin: Origin | None = None, reason: str = ""
) -> tuple[PatientLink, str]:
    """Make a new link for the patient, revoking any earlier one; return it with its token.

    The token is returned once, to be shown to staff; only its hash is stored. Once the
    physician has attested, a new link lets whoever holds it sign as the patient: it then
    needs a `reason`, stored on the link, audited, and shown on the review page and in the
    record ("Link re-issued after attestation on ... by ...: <reason>"). Before, a reason is
    optional.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = clock.now()
    reason = reason.strip()
    with transaction.atomic():
        session = lifecycle.lock(session, Action.LINK_ISSUE, error=ERROR_SESSION_CLOSED)
        after_attestation = session.attested_at is not None
        if after_attestation and not reason:
            raise ServiceError(ERROR_REISSUE_REASON)
        revoked = PatientLink.objects.filter(session=session, revoked_at__isnull=True).update(
            revoked_at=now
        )
        link = PatientLink.objects.create(
            session=session,
            token_hash=token_hash(token),
            created_by=issued_by,
            expires_at=now + settings.CONSENT_LINK_TTL,
            issue_reason=reason,
            after_attestation=after_attestation,
        )
        audit_record(
            action="link.reissued" if revoked else "link.issued",
            role=STAFF,
            actor=issued_by,
            origin=origin,
            obj=link,
            session=session,
            payload={
                "expires_at": link.expires_at.isoformat(),
                "revoked_links": revoked,
                "after_attestation": after_attestation,
                "reason": reason,
            },
        )
    return link, token


def patient_link_revoke(
    *, session: ConsentSession, revoked_by: User, origin: Origin | None = None
) -> int:
    with transaction.atomic():
        count = PatientLink.objects.filter(session=session, revoked_at__isnull=True).update(
            revoked_at=clock.now()
        )
        audit_record(
            action="link.revoked",
            role=STAFF,
            actor=revoked_by,
            origin=origin,
            obj=session,
            session=session,
            payload={"revoked_links": count},
        )
    return count


def patient_link_usable(link: PatientLink | None) -> bool:
    """Whether a link may be used now: not revoked, expired, locked, or its session closed."""
    return (
        link is not None
        and link.revoked_at is None
        and link.locked_at is None
        and link.expires_at > clock.now()
        and lifecycle.can(link.session, Action.LINK_USE)
    )


def patient_link_open(*, token: str, origin: Origin | None = None) -> PatientLink | None:
    """Find the usable link for a token and record that it was opened; None otherwise."""
    link = (
        PatientLink.objects.select_related("session").filter(token_hash=token_hash(token)).first()
    )
    if link is None or not patient_link_usable(link):
        return None
    with transaction.atomic():
        audit_record(
            action="link.opened",
            role=PATIENT,
            actor_label=_patient_label(link),
            origin=origin,
            obj=link,
            session=link.session,
        )
    return link


def _patient_label(link: PatientLink) -> str:
    return f"patient (link {link.pk})"


def patient_identity_confirm(
    *, link: PatientLink, birth_date: date, origin: Origin | None = None
) -> bool:
    """Check the date of birth; lock the link after too many wrong tries. True when it matches.

    The first correct confirmation starts the patient's review (`session_review_start`).
    """
    with transaction.atomic():
        link = PatientLink.objects.select_for_update().select_related("session").get(pk=link.pk)
        if not patient_link_usable(link):
            return False
        session = link.session
        if birth_date != session.patient_birth_date:
            link.failed_birth_date_tries += 1
            locked = link.failed_birth_date_tries >= settings.CONSENT_DOB_MAX_TRIES
            if locked:
                link.locked_at = clock.now()
            link.save(update_fields=["failed_birth_date_tries", "locked_at"])
            audit_record(
                action="link.locked" if locked else "patient.birth_date_refused",
                role=PATIENT,
                actor_label=_patient_label(link),
                origin=origin,
                obj=link,
                session=session,
                payload={"failed_tries": link.failed_birth_date_tries},
            )
            return False
        audit_record(
            action="patient.birth_date_confirmed",
            role=PATIENT,
            actor_label=_patient_label(link),
            origin=origin,
            obj=link,
            session=session,
        )
        if lifecycle.can(session, Action.REVIEW_START):
            session_review_start(session=session, actor_label=_patient_label(link), origin=origin)
    return True


def session_review_start(
    *, session: ConsentSession, actor_label: str, origin: Origin | None = None
) -> ConsentSession:
    """created -> reviewing: the patient has confirmed who they are."""
    with transaction.atomic():
        session = lifecycle.lock(session, Action.REVIEW_START)
        session.reviewing_at = clock.now()
        lifecycle.advance(session, Action.REVIEW_START, fields=["reviewing_at"])
        audit_record(
            action="session.reviewing",
            role=PATIENT,
            actor_label=actor_label,
            origin=origin,
            obj=session,
            session=session,
        )
    return session


def failed_tries_left(link: PatientLink) -> int:
    return max(0, settings.CONSENT_DOB_MAX_TRIES - link.failed_birth_date_tries)
