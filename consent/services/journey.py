"""Every state change of the consent flow: one function each, one transaction, one audit event.

Views call these and nothing else to change data. Error messages are module constants so that
views show them and tests assert them.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.audit import audit_record
from consent.models import (
    Alternative,
    Attempt,
    AuditEvent,
    ConsentSession,
    PatientLink,
    PatientQuestion,
    ProcedureVersion,
    Question,
    Risk,
    Section,
    SectionView,
)
from consent.packs import Pack, markdown_to_html
from consent.selectors import journey_get
from consent.teachback import Outcome, answer_is_valid, grade

Status = ConsentSession.Status
PATIENT = AuditEvent.Role.PATIENT
STAFF = AuditEvent.Role.STAFF

ERROR_VERSION_CONFLICT = (
    "{name}: {slug} ({language}) version {version} is already imported with different content; "
    "give the changed pack a new version"
)
ERROR_ANSWERS_LOCKED = _("Your answers are saved and can no longer be changed.")
ERROR_ANSWER_INVALID = _("That answer could not be read. Please answer again.")
ERROR_SESSION_CLOSED = _("This consent session is closed.")
ERROR_CANNOT_CANCEL = _("A session that has been signed or finalized cannot be cancelled.")
ERROR_REASON_REQUIRED = _("Give a reason for cancelling.")
ERROR_QUESTION_EMPTY = _("Write your question before sending it.")
ERROR_ASK_IN_PERSON = _(
    "Your doctor has already answered your written questions. Please ask this one in person, "
    "before you sign."
)

TOKEN_BYTES = 32  # 256 random bits; the link needs at least 128.


class ServiceError(Exception):
    """A refused change, with a message fit to show the user."""


class PackConflict(ServiceError):
    pass


# Content packs


@dataclass(frozen=True)
class ImportResult:
    version: ProcedureVersion
    created: bool


def pack_import(*, packs: list[Pack]) -> list[ImportResult]:
    """Store validated packs as procedure versions, all of them or none.

    Importing identical content again changes nothing; different content under an existing
    slug, language and version is refused.
    """
    results = []
    with transaction.atomic():
        for pack in packs:
            slug, language, version = pack.identity
            existing = ProcedureVersion.objects.filter(
                slug=slug, language=language, version=version
            ).first()
            if existing is not None:
                if existing.content_hash != pack.content_hash:
                    raise PackConflict(
                        ERROR_VERSION_CONFLICT.format(
                            name=pack.source_name, slug=slug, language=language, version=version
                        )
                    )
                results.append(ImportResult(version=existing, created=False))
                continue
            results.append(ImportResult(version=_procedure_version_create(pack), created=True))
    return results


def _procedure_version_create(pack: Pack) -> ProcedureVersion:
    content = pack.content
    version = ProcedureVersion.objects.create(
        slug=content["slug"],
        language=content["language"],
        version=content["version"],
        title=content["title"],
        summary=content["summary"],
        reviewed_by=content.get("reviewed_by", ""),
        content_hash=pack.content_hash,
        content=content,
        source_name=pack.source_name,
    )
    sections = {
        entry["key"]: Section.objects.create(
            version=version,
            position=position,
            key=entry["key"],
            kind=entry["kind"],
            title=entry["title"],
            body=entry["body"],
            body_html=markdown_to_html(entry["body"]),
        )
        for position, entry in enumerate(content["sections"], start=1)
    }
    Risk.objects.bulk_create(
        Risk(
            version=version,
            position=position,
            key=entry["key"],
            name=entry["name"],
            description=entry["description"],
            frequency=entry["frequency"],
            frequency_text=entry["frequency_text"],
            max_per_100=entry.get("max_per_100"),
        )
        for position, entry in enumerate(content["risks"], start=1)
    )
    Alternative.objects.bulk_create(
        Alternative(version=version, position=position, **entry)
        for position, entry in enumerate(content["alternatives"], start=1)
    )
    Question.objects.bulk_create(
        Question(
            version=version,
            position=position,
            key=entry["key"],
            section=sections[entry["section"]],
            kind=entry["kind"],
            prompt=entry["prompt"],
            choices=entry.get("choices", []),
            correct=entry.get("correct"),
            explanation=entry["explanation"],
            key_points=entry.get("key_points", []),
        )
        for position, entry in enumerate(content["questions"], start=1)
    )
    audit_record(
        action="procedure_version.imported",
        role=AuditEvent.Role.SYSTEM,
        obj=version,
        payload={"slug": version.slug, "version": version.version, "hash": version.content_hash},
    )
    return version


# Consent sessions and patient links


def consent_session_create(
    *,
    patient_name: str,
    patient_birth_date: date,
    patient_record_number: str = "",
    procedure_version: ProcedureVersion,
    physician: Any,
    created_by: Any,
    request: HttpRequest | None = None,
) -> ConsentSession:
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
            request=request,
            obj=session,
            session=session,
            payload={"procedure_version": procedure_version.content_hash},
        )
    return session


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def patient_link_issue(
    *, session: ConsentSession, issued_by: Any, request: HttpRequest | None = None
) -> tuple[PatientLink, str]:
    """Make a new link for the patient, revoking any earlier one; return it with its token.

    The token is returned once, to be shown to staff; only its hash is stored.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    with transaction.atomic():
        session = ConsentSession.objects.select_for_update().get(pk=session.pk)
        if session.status in (Status.CANCELLED, Status.EXPIRED, Status.FINALIZED):
            raise ServiceError(ERROR_SESSION_CLOSED)
        revoked = PatientLink.objects.filter(session=session, revoked_at__isnull=True).update(
            revoked_at=now
        )
        link = PatientLink.objects.create(
            session=session,
            token_hash=token_hash(token),
            created_by=issued_by,
            expires_at=now + settings.CONSENT_LINK_TTL,
        )
        audit_record(
            action="link.reissued" if revoked else "link.issued",
            role=STAFF,
            actor=issued_by,
            request=request,
            obj=link,
            session=session,
            payload={"expires_at": link.expires_at.isoformat(), "revoked_links": revoked},
        )
    return link, token


def patient_link_revoke(
    *, session: ConsentSession, revoked_by: Any, request: HttpRequest | None = None
) -> int:
    with transaction.atomic():
        count = PatientLink.objects.filter(session=session, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        audit_record(
            action="link.revoked",
            role=STAFF,
            actor=revoked_by,
            request=request,
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
        and link.expires_at > timezone.now()
        and link.session.status not in (Status.CANCELLED, Status.EXPIRED)
    )


def patient_link_open(*, token: str, request: HttpRequest) -> PatientLink | None:
    """Find the usable link for a token and record that it was opened; None otherwise."""
    link = (
        PatientLink.objects.select_related("session").filter(token_hash=token_hash(token)).first()
    )
    if not patient_link_usable(link):
        return None
    with transaction.atomic():
        audit_record(
            action="link.opened",
            role=PATIENT,
            actor_label=_patient_label(link),
            request=request,
            obj=link,
            session=link.session,
        )
    return link


def _patient_label(link: PatientLink) -> str:
    return f"patient (link {link.pk})"


def patient_birth_date_confirm(
    *, link: PatientLink, birth_date: date, request: HttpRequest
) -> bool:
    """Check the date of birth; lock the link after too many wrong tries. True when it matches.

    A correct confirmation starts the patient's review (created -> reviewing).
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
                link.locked_at = timezone.now()
            link.save(update_fields=["failed_birth_date_tries", "locked_at"])
            audit_record(
                action="link.locked" if locked else "patient.birth_date_refused",
                role=PATIENT,
                actor_label=_patient_label(link),
                request=request,
                obj=link,
                session=session,
                payload={"failed_tries": link.failed_birth_date_tries},
            )
            return False
        audit_record(
            action="patient.birth_date_confirmed",
            role=PATIENT,
            actor_label=_patient_label(link),
            request=request,
            obj=link,
            session=session,
        )
        if session.status == Status.CREATED:
            session = ConsentSession.objects.select_for_update().get(pk=session.pk)
            if session.status == Status.CREATED:
                session.status = Status.REVIEWING
                session.reviewing_at = timezone.now()
                session.save(update_fields=["status", "reviewing_at"])
                audit_record(
                    action="session.reviewing",
                    role=PATIENT,
                    actor_label=_patient_label(link),
                    request=request,
                    obj=session,
                    session=session,
                )
    return True


def failed_tries_left(link: PatientLink) -> int:
    return max(0, settings.CONSENT_DOB_MAX_TRIES - link.failed_birth_date_tries)


def session_cancel(
    *, session: ConsentSession, cancelled_by: Any, reason: str, request: HttpRequest | None = None
) -> ConsentSession:
    if not reason.strip():
        raise ServiceError(ERROR_REASON_REQUIRED)
    with transaction.atomic():
        session = ConsentSession.objects.select_for_update().get(pk=session.pk)
        if session.status not in (Status.CREATED, Status.REVIEWING, Status.READY_FOR_DISCUSSION):
            raise ServiceError(ERROR_CANNOT_CANCEL)
        previous = session.status
        session.status = Status.CANCELLED
        session.cancelled_at = timezone.now()
        session.cancel_reason = reason.strip()
        session.save(update_fields=["status", "cancelled_at", "cancel_reason"])
        PatientLink.objects.filter(session=session, revoked_at__isnull=True).update(
            revoked_at=session.cancelled_at
        )
        audit_record(
            action="session.cancelled",
            role=STAFF,
            actor=cancelled_by,
            request=request,
            obj=session,
            session=session,
            payload={"from": previous},
        )
    return session


# The patient's journey


def section_leave(
    *,
    session: ConsentSession,
    section: Section,
    seconds: int | None,
    go_to: int,
    finished_reading: bool,
    request: HttpRequest,
) -> ConsentSession:
    """Record the time spent on a section as the patient moves to another page.

    `seconds` is None when the page was not shown from this browser session (a replayed post):
    the move is kept, but no time is counted.
    """
    with transaction.atomic():
        session = ConsentSession.objects.select_for_update().get(pk=session.pk)
        if session.status == Status.FINALIZED:
            # Re-reading a finalized record's text is fine; the record itself no longer changes.
            return session
        counted = 0
        if seconds is not None:
            cap = int(settings.CONSENT_SECTION_TIME_CAP.total_seconds())
            counted = max(0, min(seconds, cap))
            view, _created = SectionView.objects.get_or_create(session=session, section=section)
            view.seconds += counted
            view.visits += 1
            view.save(update_fields=["seconds", "visits", "last_viewed_at"])
        fields = []
        if session.current_section != go_to:
            session.current_section = go_to
            fields.append("current_section")
        if finished_reading and not session.sections_done:
            session.sections_done = True
            fields.append("sections_done")
        if fields:
            session.save(update_fields=fields)
        audit_record(
            action="section.read",
            role=PATIENT,
            actor_label="patient",
            request=request,
            obj=section,
            session=session,
            payload={"section": section.key, "seconds": counted},
        )
    return session


@dataclass(frozen=True)
class SubmitResult:
    attempt: Attempt
    created: bool


def answer_submit(
    *,
    session: ConsentSession,
    question: Question,
    answer: Any,
    round_number: int,
    request: HttpRequest,
) -> SubmitResult:
    """Store one attempt at a question; finish the review when every question is settled.

    `round_number` is the round the patient saw. A replayed or double-submitted form names a
    round already stored: it changes nothing and returns the stored attempt.
    """
    if not answer_is_valid(question, answer, max_text=settings.CONSENT_FREE_TEXT_MAX):
        raise ServiceError(ERROR_ANSWER_INVALID)
    with transaction.atomic():
        session = ConsentSession.objects.select_for_update().get(pk=session.pk)
        stored = Attempt.objects.filter(session=session, question=question, round=round_number)
        if stored.exists():
            return SubmitResult(attempt=stored.get(), created=False)
        if session.status != Status.REVIEWING:
            raise ServiceError(ERROR_ANSWERS_LOCKED)
        journey = journey_get(session=session)
        progress = next(p for p in journey.progress if p.question.pk == question.pk)
        current = journey.current_question
        if current is None or current.question.pk != question.pk:
            raise ServiceError(ERROR_ANSWER_INVALID)
        if round_number != progress.next_round:
            raise ServiceError(ERROR_ANSWER_INVALID)
        try:
            with transaction.atomic():
                attempt = Attempt.objects.create(
                    session=session,
                    question=question,
                    round=round_number,
                    answer=answer,
                    is_correct=grade(question, answer),
                )
        except IntegrityError:
            return SubmitResult(
                attempt=Attempt.objects.get(session=session, question=question, round=round_number),
                created=False,
            )
        progress.attempts.append(attempt)
        audit_record(
            action="answer.submitted",
            role=PATIENT,
            actor_label="patient",
            request=request,
            obj=attempt,
            session=session,
            payload={
                "question": question.key,
                "round": round_number,
                "correct": attempt.is_correct,
                "outcome": progress.outcome.value,
                # Choices are recorded; free text stays in its own row, not in the log.
                "answer": answer if question.kind != Question.Kind.FREE_TEXT else None,
            },
        )
        if journey.all_answered:
            session.status = Status.READY_FOR_DISCUSSION
            session.ready_at = timezone.now()
            session.save(update_fields=["status", "ready_at"])
            audit_record(
                action="session.ready_for_discussion",
                role=PATIENT,
                actor_label="patient",
                request=request,
                obj=session,
                session=session,
                payload={
                    "flagged": [
                        p.question.key for p in journey.progress if p.outcome == Outcome.FLAGGED
                    ]
                },
            )
    return SubmitResult(attempt=attempt, created=True)


def patient_question_ask(
    *,
    session: ConsentSession,
    text: str,
    asked_from: str,
    form_id: uuid.UUID,
    request: HttpRequest,
) -> tuple[PatientQuestion, bool]:
    """Store a question for the physician; a re-sent form (same form_id) stores nothing new."""
    if not text.strip():
        raise ServiceError(ERROR_QUESTION_EMPTY)
    with transaction.atomic():
        session = ConsentSession.objects.select_for_update().get(pk=session.pk)
        if session.status not in (Status.REVIEWING, Status.READY_FOR_DISCUSSION):
            # After the attestation the physician has answered every written question; a new
            # one is asked in person, before signing.
            raise ServiceError(ERROR_ASK_IN_PERSON)
        existing = PatientQuestion.objects.filter(session=session, form_id=form_id).first()
        if existing is not None:
            return existing, False
        question = PatientQuestion.objects.create(
            session=session, text=text.strip(), asked_from=asked_from[:200], form_id=form_id
        )
        audit_record(
            action="patient_question.asked",
            role=PATIENT,
            actor_label="patient",
            request=request,
            obj=question,
            session=session,
            payload={"asked_from": question.asked_from},
        )
    return question, True
