"""Consent sessions: created by staff in the patient's language, switched to another of the
procedure's languages by the patient before they read anything, cancelled by staff, expired
when their time runs out."""

from collections.abc import Iterable
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from consent import clock, lifecycle
from consent.audit.events import Origin, audit_record
from consent.languages import language_label
from consent.lifecycle import Action
from consent.models import (
    Attempt,
    AuditEvent,
    ConsentSession,
    PatientLink,
    ProcedureVersion,
    SectionView,
)
from consent.services import ServiceError

STAFF = AuditEvent.Role.STAFF
PATIENT = AuditEvent.Role.PATIENT
SYSTEM = AuditEvent.Role.SYSTEM

ERROR_SESSION_CLOSED = _("This consent session is closed.")
ERROR_CANNOT_CANCEL = _("A session that has been signed or finalized cannot be cancelled.")
ERROR_REASON_REQUIRED = _("Give a reason for cancelling.")
ERROR_LANGUAGE_UNAVAILABLE = _(
    "This procedure has no text in %(language)s. Choose one of its languages: %(languages)s."
)
ERROR_LANGUAGE_PINNED = _(
    "The language can no longer be changed: you have already started reading or answering "
    "in this one."
)
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


def procedure_sources_offered() -> QuerySet[ProcedureVersion]:
    """The procedures staff choose from: the offered versions that translate no other (a
    translation is reached through its source's languages, `procedure_languages`)."""
    return procedure_versions_offered().filter(translation_of__isnull=True)


def procedure_languages(procedure_version: ProcedureVersion) -> dict[str, ProcedureVersion]:
    """The languages a procedure version can be read in, each with the version to pin: its
    source text, and for every other language the newest offered translation of that source.

    A translation given here stands for its source: the patient switching from French to
    English gets the source the French text translates."""
    source = procedure_version.translation_of or procedure_version
    languages = {source.language: source}
    translations = procedure_versions_offered().filter(translation_of=source)
    for translation in translations.order_by("imported_at", "pk"):
        if translation.language != source.language:
            languages[translation.language] = translation  # newest last, so it stays
    return languages


class LanguageUnavailable(ServiceError):
    """The procedure has no (offered) text in the language asked for."""


def language_unavailable_message(language: str, languages: Iterable[str]) -> str:
    return str(ERROR_LANGUAGE_UNAVAILABLE) % {
        "language": language_label(language),
        "languages": ", ".join(language_label(code) for code in languages),
    }


def _version_in(procedure_version: ProcedureVersion, language: str) -> ProcedureVersion:
    """The version to pin for `language`, or LanguageUnavailable naming the languages there
    are."""
    languages = procedure_languages(procedure_version)
    if language not in languages:
        raise LanguageUnavailable(language_unavailable_message(language, languages))
    return languages[language]


def consent_session_create(
    *,
    patient_name: str,
    patient_birth_date: date,
    patient_record_number: str = "",
    procedure_version: ProcedureVersion,
    language: str = "",
    physician: User,
    created_by: User,
    origin: Origin | None = None,
) -> ConsentSession:
    """Start a consent session on `procedure_version` in the patient's `language` (one the
    procedure has, `procedure_languages`; empty: the version's own)."""
    if language and language != procedure_version.language:
        procedure_version = _version_in(procedure_version, language)
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
            payload={
                "procedure_version": procedure_version.content_hash,
                "language": procedure_version.language,
            },
        )
    return session


# The statuses in which the patient may still switch languages (before anything is read).
LANGUAGE_OPEN = (ConsentSession.Status.CREATED, ConsentSession.Status.REVIEWING)


def language_pinned(session: ConsentSession) -> bool:
    """Has the patient seen a section (noted since `content_shown_at` exists; before, a
    section left), or answered? Their language is then the one they read."""
    return (
        session.content_shown_at is not None
        or session.status not in LANGUAGE_OPEN
        or SectionView.objects.filter(session=session).exists()
        or Attempt.objects.filter(session=session).exists()
    )


def session_language_change(
    *, session: ConsentSession, language: str, origin: Origin | None = None
) -> ConsentSession:
    """Pin the procedure's version in another of its languages, as the patient asks on the
    first page; refused once they have seen a section or answered (`content_shown_at`)."""
    with transaction.atomic():
        session = ConsentSession.objects.select_for_update().get(pk=session.pk)
        if session.status not in LANGUAGE_OPEN:
            raise ServiceError(ERROR_LANGUAGE_PINNED)
        if language_pinned(session):
            raise ServiceError(ERROR_LANGUAGE_PINNED)
        previous = session.procedure_version
        version = _version_in(previous, language)
        if version.pk == previous.pk:
            return session
        if not version.clinically_reviewed and not unreviewed_content_allowed():
            raise ServiceError(ERROR_UNREVIEWED_CONTENT)
        session.procedure_version = version
        session.save(update_fields=["procedure_version"])
        audit_record(
            action="session.language_changed",
            role=PATIENT,
            actor_label="patient",
            origin=origin,
            obj=session,
            session=session,
            payload={
                "from": previous.language,
                "to": version.language,
                "procedure_version": version.content_hash,
            },
        )
    return session


def session_content_shown(*, session: ConsentSession, origin: Origin | None = None) -> None:
    """Note that the patient sees the procedure's text for the first time (its first section
    page): its language is the one they read from now on. Later pages change nothing."""
    if session.content_shown_at is not None or session.status not in LANGUAGE_OPEN:
        return  # noted already, or the answers locked (sessions from before the note existed)
    with transaction.atomic():
        now = clock.now()
        updated = ConsentSession.objects.filter(
            pk=session.pk, content_shown_at__isnull=True, status__in=LANGUAGE_OPEN
        ).update(content_shown_at=now)
        session.content_shown_at = now
        if not updated:  # another request of the same patient was first
            return
        audit_record(
            action="session.content_shown",
            role=PATIENT,
            actor_label="patient",
            origin=origin,
            obj=session,
            session=session,
            payload={"language": session.language},
        )


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
