"""The physician's review and the signing acts: attestation, the patient's decision, witnesses,
countersignature and finalization. Each change runs in one transaction with its audit event.

Signing is a deliberate act (21 CFR 11.50, 11.200): a physician re-enters their password;
each signature stores the printed name, the date-time and the meaning of the signature.
"""

import hashlib
import io
import logging
from collections.abc import Callable
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image

from consent.audit import audit_record
from consent.canonical import record_json, snapshot_hash
from consent.models import (
    Addendum,
    AuditEvent,
    ConsentRecord,
    ConsentSession,
    Discussion,
    PatientQuestion,
    Question,
    QuestionReview,
    Signature,
)
from consent.selectors import journey_get
from consent.services import ServiceError
from consent.teachback import Outcome

Status = ConsentSession.Status
Kind = Signature.Kind
PHYSICIAN = AuditEvent.Role.PHYSICIAN
PATIENT = AuditEvent.Role.PATIENT

ATTESTATION_STATEMENT = _(
    "I explained the procedure, its benefits, risks and alternatives; the patient's "
    "understanding was checked by teach-back; their questions were answered."
)
PATIENT_CONSENT_STATEMENTS = (
    _("I have read the information about the procedure."),
    _("My questions have been answered."),
    _(
        "I agree freely to have the procedure. I know I can change my mind and withdraw my "
        "consent at any time."
    ),
)
PATIENT_REFUSAL_STATEMENT = _(
    "I was informed about the procedure, its benefits, risks and alternatives, and I decide "
    "not to have it."
)
INTERPRETER_STATEMENT = _("I interpreted the information and the discussion faithfully.")
WITNESS_STATEMENT = _("I saw the patient make and sign their decision.")
COUNTERSIGNATURE_STATEMENT = _(
    "I countersign the patient's decision and finalize this consent record."
)
MEANINGS = {
    Kind.ATTESTATION: _("Physician attests that the informed consent discussion took place"),
    Kind.PATIENT_CONSENT: _("Patient consents to the procedure"),
    Kind.PATIENT_REFUSAL: _("Patient declines the procedure (informed refusal)"),
    Kind.INTERPRETER: _("Interpreter confirms faithful interpretation"),
    Kind.WITNESS: _("Witness confirms the patient's decision and signature"),
    Kind.COUNTERSIGNATURE: _("Physician countersigns and finalizes the record"),
}

logger = logging.getLogger(__name__)


class RecordNotMade(ServiceError):
    """Rendering or sealing the record's PDF failed: the finalization was rolled back."""


ERROR_WRONG_PASSWORD = _("That password is not right. Nothing was signed.")
ERROR_NOT_RESPONSIBLE = _("Only the responsible physician can sign this consent session.")
ERROR_WRONG_STEP = _("This step is not possible now: the consent session is {status}.")
ERROR_QUESTIONS_UNANSWERED = _("Answer every question the patient asked before attesting.")
ERROR_FLAGS_UNRESOLVED = _(
    "Record how each item flagged for discussion was resolved before attesting."
)
ERROR_FREE_TEXT_UNREVIEWED = _(
    "Mark the key points of each answer in the patient's own words before attesting."
)
ERROR_STATEMENTS = _("Please confirm each statement before signing.")
ERROR_NAME_REQUIRED = _("Type your full name to sign.")
ERROR_SIGNATURE_IMAGE = _("The drawn signature could not be read. Please draw it again.")
ERROR_ALREADY_SIGNED = _("This has already been signed.")
ERROR_TEXT_REQUIRED = _("Write the text of the addendum.")
ERROR_NOT_FINALIZED = _("Addenda are added to finalized records only.")
ERROR_RECORD_NOT_MADE = _(
    "The record's PDF could not be made or sealed, so nothing was finalized and nothing was "
    "signed. Try again in a minute; if it fails again, tell IT support (the error is logged)."
)
ERROR_EVIDENCE_CHANGED = _(
    "The record changed after {signer} signed it, so that signature no longer holds. Nothing "
    "was finalized; cancel this session and start a new one."
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 512 * 1024


def _step_error(session: ConsentSession) -> ServiceError:
    return ServiceError(str(ERROR_WRONG_STEP).format(status=session.get_status_display().lower()))


def _locked(session: ConsentSession, *allowed: str) -> ConsentSession:
    session = ConsentSession.objects.select_for_update().get(pk=session.pk)
    if session.status not in allowed:
        raise _step_error(session)
    return session


def _check_physician(session: ConsentSession, user: Any) -> None:
    if session.physician_id != user.pk:
        raise ServiceError(ERROR_NOT_RESPONSIBLE)


def _check_password(
    *, session: ConsentSession, user: Any, password: str, kind: str, request: HttpRequest | None
) -> None:
    """Refuse a wrong password, recording the refusal in its own committed transaction."""
    if user.check_password(password):
        return
    with transaction.atomic():
        audit_record(
            action="signature.refused",
            role=PHYSICIAN,
            actor=user,
            request=request,
            obj=session,
            session=session,
            payload={"kind": kind, "reason": "wrong password"},
        )
    raise ServiceError(ERROR_WRONG_PASSWORD)


def _signature(
    *,
    session: ConsentSession,
    kind: str,
    printed_name: str,
    statement: str,
    method: str,
    signer: Any = None,
    image: bytes | None = None,
    request: HttpRequest | None,
    role: str,
    actor_label: str = "",
) -> Signature:
    if Signature.objects.filter(session=session, kind=kind).exists():
        raise ServiceError(ERROR_ALREADY_SIGNED)
    signature = Signature.objects.create(
        session=session,
        snapshot_hash=snapshot_hash(session),
        kind=kind,
        signer=signer,
        printed_name=printed_name,
        meaning=str(MEANINGS[kind]),
        statement=statement,
        method=method,
        image=image,
        signed_at=timezone.now(),
    )
    audit_record(
        action=f"signature.{kind}",
        role=role,
        actor=signer,
        actor_label=actor_label or ("" if signer else role),
        request=request,
        obj=signature,
        session=session,
        payload={"method": method, "meaning": signature.meaning, "drawn": image is not None},
    )
    return signature


def signature_image_check(image: bytes | None) -> bytes | None:
    """Accept a real PNG of reasonable size, or nothing; refuse anything else."""
    if not image:
        return None
    if not image.startswith(PNG_MAGIC) or len(image) > MAX_SIGNATURE_BYTES:
        raise ServiceError(ERROR_SIGNATURE_IMAGE)
    try:
        with Image.open(io.BytesIO(image)) as picture:
            picture.verify()
            if picture.format != "PNG":
                raise ServiceError(ERROR_SIGNATURE_IMAGE)
    except (OSError, SyntaxError, ValueError) as error:
        raise ServiceError(ERROR_SIGNATURE_IMAGE) from error
    return image


# The physician's review


def patient_question_answer(
    *, question: PatientQuestion, answer: str, physician: Any, request: HttpRequest | None = None
) -> PatientQuestion:
    with transaction.atomic():
        session = _locked(question.session, Status.REVIEWING, Status.READY_FOR_DISCUSSION)
        _check_physician(session, physician)
        question = PatientQuestion.objects.get(pk=question.pk, session=session)
        question.answer = answer.strip()
        question.answered_by = physician
        question.answered_at = timezone.now()
        question.save(update_fields=["answer", "answered_by", "answered_at"])
        audit_record(
            action="patient_question.answered",
            role=PHYSICIAN,
            actor=physician,
            request=request,
            obj=question,
            session=session,
        )
    return question


def question_review_save(
    *,
    session: ConsentSession,
    question: Question,
    covered_key_points: list[int],
    note: str,
    physician: Any,
    request: HttpRequest | None = None,
) -> QuestionReview:
    """Record which key points the patient's words covered and how a flagged item was resolved."""
    covered = sorted({i for i in covered_key_points if 0 <= i < len(question.key_points)})
    with transaction.atomic():
        session = _locked(session, Status.READY_FOR_DISCUSSION)
        _check_physician(session, physician)
        if question.version_id != session.procedure_version_id:
            raise ServiceError(_("That question is not part of this consent session."))
        review, _created = QuestionReview.objects.update_or_create(
            session=session,
            question=question,
            defaults={
                "covered_key_points": covered,
                "note": note.strip(),
                "reviewed_by": physician,
            },
        )
        audit_record(
            action="question.reviewed",
            role=PHYSICIAN,
            actor=physician,
            request=request,
            obj=review,
            session=session,
            payload={"question": question.key, "covered_key_points": covered},
        )
    return review


def discussion_save(
    *, session: ConsentSession, physician: Any, request: HttpRequest | None = None, **fields: Any
) -> Discussion:
    """Record the in-person discussion: verbal teach-back, alternatives, interpreter, witness."""
    allowed = {
        "verbal_teachback",
        "verbal_teachback_notes",
        "alternatives_discussed",
        "alternatives_notes",
        "interpreter_name",
        "interpreter_language",
        "witness_name",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown discussion fields: {sorted(unknown)}")
    with transaction.atomic():
        session = _locked(session, Status.READY_FOR_DISCUSSION)
        _check_physician(session, physician)
        discussion, _created = Discussion.objects.update_or_create(
            session=session, defaults={**fields, "updated_by": physician}
        )
        audit_record(
            action="discussion.recorded",
            role=PHYSICIAN,
            actor=physician,
            request=request,
            obj=discussion,
            session=session,
            payload={
                "verbal_teachback": discussion.verbal_teachback,
                "alternatives_discussed": discussion.alternatives_discussed,
                "interpreter": bool(discussion.interpreter_name),
                "witness": bool(discussion.witness_name),
            },
        )
    return discussion


def attestation_blockers(session: ConsentSession) -> list[str]:
    """What still stands between the review and the attestation, in words for the physician."""
    blockers = []
    if session.patient_questions.filter(answer="").exists():
        blockers.append(str(ERROR_QUESTIONS_UNANSWERED))
    journey = journey_get(session=session)
    reviews = {r.question_id: r for r in session.question_reviews.all()}
    flagged = journey.with_outcome(Outcome.FLAGGED)
    if any(not (reviews.get(p.question.pk) and reviews[p.question.pk].note) for p in flagged):
        blockers.append(str(ERROR_FLAGS_UNRESOLVED))
    own_words = journey.with_outcome(Outcome.ANSWERED)
    if any(p.question.pk not in reviews for p in own_words):
        blockers.append(str(ERROR_FREE_TEXT_UNREVIEWED))
    return blockers


def session_attest(
    *, session: ConsentSession, physician: Any, password: str, request: HttpRequest | None = None
) -> Signature:
    with transaction.atomic():
        session = _locked(session, Status.READY_FOR_DISCUSSION)
        _check_physician(session, physician)
        blockers = attestation_blockers(session)
        if blockers:
            raise ServiceError(blockers[0])
    _check_password(
        session=session, user=physician, password=password, kind=Kind.ATTESTATION, request=request
    )
    with transaction.atomic():
        session = _locked(session, Status.READY_FOR_DISCUSSION)
        # Checked again under the lock: a question may have come in meanwhile.
        blockers = attestation_blockers(session)
        if blockers:
            raise ServiceError(blockers[0])
        signature = _signature(
            session=session,
            kind=Kind.ATTESTATION,
            signer=physician,
            printed_name=physician.get_full_name() or physician.get_username(),
            statement=str(ATTESTATION_STATEMENT),
            method=Signature.Method.PASSWORD,
            request=request,
            role=PHYSICIAN,
        )
        session.status = Status.ATTESTED
        session.attested_at = signature.signed_at
        session.save(update_fields=["status", "attested_at"])
        audit_record(
            action="session.attested",
            role=PHYSICIAN,
            actor=physician,
            request=request,
            obj=session,
            session=session,
        )
    return signature


# The patient's decision, on the patient's device


def patient_consent_sign(
    *,
    session: ConsentSession,
    confirmed_statements: int,
    typed_name: str,
    image: bytes | None,
    request: HttpRequest | None = None,
) -> Signature:
    if confirmed_statements != len(PATIENT_CONSENT_STATEMENTS):
        raise ServiceError(ERROR_STATEMENTS)
    return _patient_decide(
        session=session,
        kind=Kind.PATIENT_CONSENT,
        new_status=Status.SIGNED,
        statement=" ".join(str(s) for s in PATIENT_CONSENT_STATEMENTS),
        typed_name=typed_name,
        image=image,
        request=request,
    )


def patient_decline(
    *,
    session: ConsentSession,
    typed_name: str,
    reason: str,
    image: bytes | None,
    request: HttpRequest | None = None,
) -> Signature:
    return _patient_decide(
        session=session,
        kind=Kind.PATIENT_REFUSAL,
        new_status=Status.DECLINED,
        statement=str(PATIENT_REFUSAL_STATEMENT),
        typed_name=typed_name,
        image=image,
        reason=reason,
        request=request,
    )


def _patient_decide(
    *,
    session: ConsentSession,
    kind: str,
    new_status: str,
    statement: str,
    typed_name: str,
    image: bytes | None,
    request: HttpRequest | None,
    reason: str = "",
) -> Signature:
    typed_name = " ".join(typed_name.split())
    if not typed_name:
        raise ServiceError(ERROR_NAME_REQUIRED)
    image = signature_image_check(image)
    with transaction.atomic():
        session = _locked(session, Status.ATTESTED)
        signature = _signature(
            session=session,
            kind=kind,
            printed_name=typed_name,
            statement=statement,
            method=Signature.Method.DRAWN if image else Signature.Method.TYPED,
            image=image,
            request=request,
            role=PATIENT,
        )
        session.status = new_status
        session.decided_at = signature.signed_at
        session.decline_reason = reason.strip()
        session.save(update_fields=["status", "decided_at", "decline_reason"])
        audit_record(
            action=f"session.{new_status}",
            role=PATIENT,
            actor_label="patient",
            request=request,
            obj=session,
            session=session,
            payload={"reason_given": bool(reason.strip())},
        )
    return signature


def companion_sign(
    *,
    session: ConsentSession,
    kind: str,
    typed_name: str,
    image: bytes | None,
    request: HttpRequest | None = None,
) -> Signature:
    """An interpreter or a witness signs after the patient's decision."""
    if kind not in (Kind.INTERPRETER, Kind.WITNESS):
        raise ValueError(kind)
    typed_name = " ".join(typed_name.split())
    if not typed_name:
        raise ServiceError(ERROR_NAME_REQUIRED)
    image = signature_image_check(image)
    statement = INTERPRETER_STATEMENT if kind == Kind.INTERPRETER else WITNESS_STATEMENT
    with transaction.atomic():
        session = _locked(session, Status.SIGNED, Status.DECLINED)
        return _signature(
            session=session,
            kind=kind,
            printed_name=typed_name,
            statement=str(statement),
            method=Signature.Method.DRAWN if image else Signature.Method.TYPED,
            image=image,
            request=request,
            role=kind,
        )


# Countersignature and finalization


RenderPdf = Callable[[ConsentSession, str], bytes]


def _check_snapshots(
    session: ConsentSession, *, physician: Any, request: HttpRequest | None, log: bool
) -> None:
    """Refuse when any signature no longer vouches for the evidence as it stands (11.70).

    With `log`, the voided signature is recorded in its own committed transaction first.
    """
    current = snapshot_hash(session)
    stale = Signature.objects.filter(session=session).exclude(snapshot_hash=current).first()
    if stale is None:
        return
    if log:
        with transaction.atomic():
            audit_record(
                action="signature.voided",
                role=PHYSICIAN,
                actor=physician,
                request=request,
                obj=stale,
                session=session,
                payload={"kind": stale.kind, "signed": stale.snapshot_hash, "now": current},
            )
    raise ServiceError(str(ERROR_EVIDENCE_CHANGED).format(signer=stale.printed_name))


def session_finalize(
    *,
    session: ConsentSession,
    physician: Any,
    password: str,
    request: HttpRequest | None = None,
    render_pdf: RenderPdf | None = None,
) -> ConsentRecord:
    """Countersign, render the record's PDF, store it and finalize, all in one transaction.

    Finalizing twice, or from two browsers at once, yields exactly one record: the session row
    is locked, and whoever comes second finds it finalized.
    """
    if render_pdf is None:
        from consent.pdf import record_pdf_render

        render_pdf = record_pdf_render
    with transaction.atomic():
        session = _locked(session, Status.SIGNED, Status.DECLINED)
        _check_physician(session, physician)
    _check_snapshots(session, physician=physician, request=request, log=True)
    _check_password(
        session=session,
        user=physician,
        password=password,
        kind=Kind.COUNTERSIGNATURE,
        request=request,
    )
    with transaction.atomic():
        session = _locked(session, Status.SIGNED, Status.DECLINED)
        _check_snapshots(session, physician=physician, request=request, log=False)
        signature = _signature(
            session=session,
            kind=Kind.COUNTERSIGNATURE,
            signer=physician,
            printed_name=physician.get_full_name() or physician.get_username(),
            statement=str(COUNTERSIGNATURE_STATEMENT),
            method=Signature.Method.PASSWORD,
            request=request,
            role=PHYSICIAN,
        )
        finalized_at = signature.signed_at
        record_id = f"CR-{finalized_at:%Y}-{session.pk:06d}"
        audit_record(
            action="session.finalized",
            role=PHYSICIAN,
            actor=physician,
            request=request,
            obj=session,
            session=session,
            payload={"record_id": record_id},
        )
        document = record_json(session, record_id)
        try:
            pdf = render_pdf(session, record_id)
        except Exception as error:
            # Names only: an exception's text could quote the record's contents.
            logger.error(
                "record %s not made: %s in %s",
                record_id,
                type(error).__name__,
                type(error).__module__,
            )
            raise RecordNotMade(ERROR_RECORD_NOT_MADE) from error
        digest = hashlib.sha256(pdf).hexdigest()
        record = ConsentRecord(
            session=session,
            record_id=record_id,
            record_json=document.decode("utf-8"),
            record_sha256=hashlib.sha256(document).hexdigest(),
            pdf_sha256=digest,
            pdf_size=len(pdf),
            finalized_at=finalized_at,
            finalized_by=physician,
        )
        record.pdf.save(f"{record_id}.pdf", ContentFile(pdf), save=False)
        try:
            record.save()
            session.status = Status.FINALIZED
            session.finalized_at = finalized_at
            session.save(update_fields=["status", "finalized_at"])
        except BaseException:
            # The transaction rolls back: leave no orphan file behind.
            record.pdf.storage.delete(record.pdf.name)
            raise
    return record


def addendum_add(
    *,
    record: ConsentRecord,
    kind: str,
    text: str,
    author: Any,
    request: HttpRequest | None = None,
) -> Addendum:
    """Withdrawal of consent or a correction: a new linked row, never an edit of the record."""
    if not text.strip():
        raise ServiceError(ERROR_TEXT_REQUIRED)
    if kind not in Addendum.Kind.values:
        raise ValueError(kind)
    with transaction.atomic():
        session = ConsentSession.objects.select_for_update().get(pk=record.session_id)
        if session.status != Status.FINALIZED:
            raise ServiceError(ERROR_NOT_FINALIZED)
        _check_physician(session, author)
        addendum = Addendum.objects.create(
            record=record, kind=kind, text=text.strip(), created_by=author
        )
        audit_record(
            action=f"addendum.{kind}",
            role=PHYSICIAN,
            actor=author,
            request=request,
            obj=addendum,
            session=session,
            payload={"record_id": record.record_id},
        )
    return addendum


def record_downloaded(
    *, record: ConsentRecord, role: str, request: HttpRequest, actor: Any = None
) -> None:
    """Note that someone received a copy of a finalized record (access to health data)."""
    with transaction.atomic():
        audit_record(
            action="record.downloaded",
            role=role,
            actor=actor,
            actor_label="" if actor is not None and actor.is_authenticated else role,
            request=request,
            obj=record,
            session=record.session,
            payload={"record_id": record.record_id, "sha256": record.pdf_sha256},
        )
