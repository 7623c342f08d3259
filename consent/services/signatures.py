"""The physician's review and the signing acts: attestation, the patient's decision, witnesses,
countersignature and finalization. Each change runs in one transaction with its audit event.

Signing is a deliberate act (21 CFR 11.50, 11.200): a physician re-enters their password;
each signature stores the printed name, the date-time and the meaning of the signature.
"""

import hashlib
import io
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from PIL import Image

from consent import clock, lifecycle
from consent.audit.chain import RECORD_FINALIZED, chain_head, json_chain_head
from consent.audit.checkpoint import checkpoint_after_commit
from consent.audit.events import CLIENT_MAX, Origin, audit_record
from consent.canonical import SERIALIZERS
from consent.lifecycle import Action
from consent.models import (
    AuditEvent,
    ConsentRecord,
    ConsentSession,
    Signature,
)
from consent.objectstore import removed_on_failure
from consent.record.canonical import (
    evidence_snapshot,
    record_json_of,
    snapshot_hash_of,
    snapshot_hashes,
)
from consent.rules import typed_name_matches
from consent.selectors.session import RecordData, record_data_get
from consent.services import ServiceError, check_responsible
from consent.services.accounts import locked_out_message, password_reentry_check

Kind = Signature.Kind
PHYSICIAN = AuditEvent.Role.PHYSICIAN
PATIENT = AuditEvent.Role.PATIENT
PATIENT_KINDS = (Kind.PATIENT_CONSENT, Kind.PATIENT_REFUSAL)

ATTESTATION_STATEMENT = _(
    "I explained the procedure, its benefits, risks and alternatives; the patient's "
    "understanding was checked by teach-back; their questions were answered."
)
# The statement the patient cannot confirm while a question of theirs has no written answer.
STATEMENT_QUESTIONS_ANSWERED = _("My questions have been answered.")
PATIENT_CONSENT_STATEMENTS = (
    _("I have read the information about the procedure."),
    STATEMENT_QUESTIONS_ANSWERED,
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
ERROR_WRONG_STEP = lifecycle.ERROR_NOT_NOW
ERROR_QUESTIONS_UNANSWERED = _("Answer every question the patient asked before attesting.")
ERROR_FLAGS_UNRESOLVED = _(
    "Record how each item flagged for discussion was resolved before attesting."
)
ERROR_FREE_TEXT_UNREVIEWED = _(
    "Mark the key points of each answer in the patient's own words before attesting."
)
ERROR_STATEMENTS = _("Please confirm each statement before signing.")
ERROR_NAME_REQUIRED = _("Type your full name to sign.")
ERROR_NAME_MISMATCH = _(
    "The name you typed, '{typed}', does not match the patient's name. Type the patient's "
    "name, or sign as their legal representative."
)
ERROR_RELATIONSHIP_REQUIRED = _(
    "Say how you are related to the patient (for example: daughter, husband, guardian)."
)
ERROR_SIGNATURE_IMAGE = _("The drawn signature could not be read. Please draw it again.")
ERROR_ALREADY_SIGNED = _("This has already been signed.")
ERROR_TEXT_REQUIRED = _("Write the text of the addendum.")
ERROR_NOT_FINALIZED = _("Addenda are added to finalized records only.")
ERROR_RECORD_NOT_MADE = _(
    "The record's PDF could not be made or sealed, so nothing was finalized and nothing was "
    "signed. Try again in a minute; if it fails again, tell IT support (the error is logged)."
)
ERROR_CHANGED_WHILE_DRAWN = _(
    "The session kept changing while its record was being made, so nothing was finalized "
    "and nothing was signed. Check the review page, then finalize again."
)
ERROR_EVIDENCE_CHANGED = _(
    "The record changed after {signer} signed it, so that signature no longer holds. Nothing "
    "was finalized; cancel this session and start a new one."
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The IEND chunk every PNG ends with: no data, its type, and that type's CRC.
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
MAX_SIGNATURE_BYTES = 512 * 1024
RELATIONSHIP_MAX = Signature._meta.get_field("representative_relationship").max_length or 100


class EvidenceChanged(ServiceError):
    """A stored signature no longer vouches for the evidence as it stands."""


class ChangedWhileDrawn(ServiceError):
    """The session kept changing while its record was drawn: nothing was finalized."""


class NameMismatch(ServiceError):
    """The typed name is not the patient's, and nobody said they sign as a representative."""


class QuestionsUnanswered(ServiceError):
    """A question the patient wrote has no written answer: they cannot confirm that their
    questions have been answered, so they cannot consent (declining stays open)."""


def questions_unanswered_message(questions: list[str]) -> str:
    """Why "My questions have been answered" cannot be confirmed, naming each open question."""
    quoted = ", ".join(f"“{question}”" for question in questions)
    return ngettext(
        "Your doctor has not answered this question yet: %(questions)s. So you cannot tick "
        "“%(statement)s” yet. Ask your doctor or nurse about it now.",
        "Your doctor has not answered these questions yet: %(questions)s. So you cannot tick "
        "“%(statement)s” yet. Ask your doctor or nurse about them now.",
        len(questions),
    ) % {"questions": quoted, "statement": STATEMENT_QUESTIONS_ANSWERED}


@dataclass(frozen=True)
class Browser:
    """The browser a signature came from, beyond the address and client (`Origin`).

    `session_sha256` is the SHA-256 of its Django session key (the key itself, a credential,
    is never stored); `staff_user` is the staff account logged in in that same browser, if any.
    """

    session_sha256: str = ""
    staff_user: User | None = None

    @classmethod
    def of_session_key(cls, session_key: str | None, staff_user: User | None) -> "Browser":
        digest = hashlib.sha256(session_key.encode("ascii")).hexdigest() if session_key else ""
        return cls(session_sha256=digest, staff_user=staff_user)


NO_BROWSER = Browser()


@dataclass(frozen=True)
class Representative:
    """A legal representative signing the patient's decision for them."""

    name: str
    relationship: str


def _check_password(
    *, session: ConsentSession, user: User, password: str, kind: str, origin: Origin | None = None
) -> None:
    """Refuse a wrong password, recording the refusal in its own committed transaction.

    The re-entry counts toward the log-in's lock-out (django-axes, `services/accounts.py`): a
    wrong one is a failed log-in for this account and address, and while they are locked out
    even the right password is refused.
    """
    check = password_reentry_check(user=user, password=password, origin=origin)
    if check.ok:
        return
    with transaction.atomic():
        audit_record(
            action="signature.refused",
            role=PHYSICIAN,
            actor=user,
            origin=origin,
            obj=session,
            session=session,
            payload={
                "kind": kind,
                "reason": "locked out" if check.tried_while_locked else "wrong password",
            },
        )
    if check.locked_until is not None:
        raise ServiceError(locked_out_message(check.locked_until))
    raise ServiceError(ERROR_WRONG_PASSWORD)


def _signature(
    *,
    session: ConsentSession,
    kind: str,
    printed_name: str,
    statement: str,
    method: str,
    signer: User | None = None,
    image: bytes | None = None,
    origin: Origin | None = None,
    role: str,
    actor_label: str = "",
    evidence: RecordData | None = None,
    browser: Browser = NO_BROWSER,
    representative: Representative | None = None,
) -> Signature:
    """Store a signature with the hash of the evidence it vouches for (`evidence`, when the
    caller has just read it under the same lock, else read now), the browser, address and
    client it came from, and, for the patient's decision, a staff account logged in in that
    browser (flagged) and the legal representative who signed."""
    if Signature.objects.filter(session=session, kind=kind).exists():
        raise ServiceError(ERROR_ALREADY_SIGNED)
    signature = _signature_build(
        session=session,
        kind=kind,
        printed_name=printed_name,
        statement=statement,
        method=method,
        signer=signer,
        image=image,
        origin=origin,
        evidence=evidence or record_data_get(session=session),
        browser=browser,
        representative=representative,
    )
    return _signature_store(
        signature, role=role, actor_label=actor_label, origin=origin, browser=browser
    )


def _signature_build(
    *,
    session: ConsentSession,
    kind: str,
    printed_name: str,
    statement: str,
    method: str,
    signer: User | None,
    image: bytes | None = None,
    origin: Origin | None,
    evidence: RecordData,
    browser: Browser = NO_BROWSER,
    representative: Representative | None = None,
) -> Signature:
    """The signature, not yet saved: finalization draws the record with it before storing it."""
    origin = origin or Origin()
    staff_user = browser.staff_user if kind in PATIENT_KINDS else None
    return Signature(
        session=session,
        snapshot_hash=snapshot_hash_of(evidence),
        kind=kind,
        signer=signer,
        printed_name=printed_name,
        meaning=str(MEANINGS[Kind(kind)]),
        statement=statement,
        method=method,
        image=image,
        signed_at=clock.now(),
        browser_session_sha256=browser.session_sha256,
        address=origin.ip,
        client=origin.user_agent[:CLIENT_MAX],
        staff_browser=staff_user is not None,
        staff_browser_user=staff_user,
        representative_name=representative.name if representative else "",
        representative_relationship=representative.relationship if representative else "",
    )


def _signature_store(
    signature: Signature,
    *,
    role: str,
    actor_label: str = "",
    origin: Origin | None,
    browser: Browser = NO_BROWSER,
) -> Signature:
    """Save a built signature with its audit event, which pins what was signed."""
    signature.save(force_insert=True)
    signer = signature.signer
    image = bytes(signature.image) if signature.image is not None else None
    audit_record(
        action=f"signature.{signature.kind}",
        role=role,
        actor=signer,
        actor_label=actor_label or ("" if signer else role),
        origin=origin,
        obj=signature,
        session=signature.session,
        payload={
            "method": signature.method,
            "meaning": signature.meaning,
            "drawn": image is not None,
            # The chain pins what was signed: `verify_audit` compares these with the rows.
            "evidence_sha256": signature.snapshot_hash,
            "image_sha256": hashlib.sha256(image).hexdigest() if image is not None else None,
            "browser_session_sha256": browser.session_sha256,
            "staff_browser": signature.staff_browser,
            "by_representative": bool(signature.representative_name),
        },
    )
    return signature


def png_chunks_whole(image: bytes) -> bool:
    """Whether the bytes are a PNG's signature, then whole chunks with good checksums: IHDR
    first, image data (IDAT), and IEND last with nothing after it."""
    position, kinds = len(PNG_MAGIC), []
    while position < len(image):
        if position + 12 > len(image):
            return False
        length = int.from_bytes(image[position : position + 4], "big")
        end = position + 12 + length
        if end > len(image):
            return False
        kind_and_data = image[position + 4 : end - 4]
        if zlib.crc32(kind_and_data) != int.from_bytes(image[end - 4 : end], "big"):
            return False
        kinds.append(kind_and_data[:4])
        position = end
        if kinds[-1] == b"IEND":
            break
    return (
        position == len(image)
        and len(kinds) >= 3
        and kinds[0] == b"IHDR"
        and kinds[-1] == b"IEND"
        and b"IDAT" in kinds
    )


def signature_image_check(image: bytes | None) -> bytes | None:
    """Accept a real PNG of reasonable size, or nothing; refuse anything else."""
    if not image:
        return None
    if not image.startswith(PNG_MAGIC) or len(image) > MAX_SIGNATURE_BYTES:
        raise ServiceError(ERROR_SIGNATURE_IMAGE)
    # Pillow alone is not asked whether the PNG is whole: WeasyPrint sets
    # LOAD_TRUNCATED_IMAGES for the whole process, and verify() then fails with an IndexError
    # on a PNG cut after its image data (or without any) instead of refusing it.
    if not png_chunks_whole(image):
        raise ServiceError(ERROR_SIGNATURE_IMAGE)
    # A whole PNG ends with its IEND chunk. Pillow alone is not asked: WeasyPrint sets
    # LOAD_TRUNCATED_IMAGES for the whole process, and verify() then fails on a PNG cut after
    # its image data with an IndexError instead of refusing it.
    if not image.endswith(PNG_END):
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


def attestation_blockers(data: RecordData) -> list[str]:
    """What still stands between the review and the attestation, in words for the physician.

    Read from the session's read model, the very data the attestation's evidence hash covers.
    """
    blockers = []
    if data.patient_questions_open:
        blockers.append(str(ERROR_QUESTIONS_UNANSWERED))
    if any(not (q.review and q.review.note) for q in data.flagged):
        blockers.append(str(ERROR_FLAGS_UNRESOLVED))
    if any(q.review is None for q in data.own_words):
        blockers.append(str(ERROR_FREE_TEXT_UNREVIEWED))
    return blockers


def session_attest(
    *, session: ConsentSession, physician: User, password: str, origin: Origin | None = None
) -> Signature:
    with transaction.atomic():
        session = lifecycle.lock(session, Action.ATTEST)
        check_responsible(session, physician)
        blockers = attestation_blockers(record_data_get(session=session))
        if blockers:
            raise ServiceError(blockers[0])
    _check_password(
        session=session, user=physician, password=password, kind=Kind.ATTESTATION, origin=origin
    )
    with transaction.atomic():
        session = lifecycle.lock(session, Action.ATTEST)
        # Checked again under the lock: a question may have come in meanwhile.
        evidence = record_data_get(session=session)
        blockers = attestation_blockers(evidence)
        if blockers:
            raise ServiceError(blockers[0])
        signature = _signature(
            session=session,
            kind=Kind.ATTESTATION,
            signer=physician,
            printed_name=physician.get_full_name() or physician.get_username(),
            statement=str(ATTESTATION_STATEMENT),
            method=Signature.Method.PASSWORD,
            origin=origin,
            role=PHYSICIAN,
            evidence=evidence,
        )
        session.attested_at = signature.signed_at
        lifecycle.advance(session, Action.ATTEST, fields=["attested_at"])
        audit_record(
            action="session.attested",
            role=PHYSICIAN,
            actor=physician,
            origin=origin,
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
    origin: Origin | None = None,
    browser: Browser = NO_BROWSER,
    relationship: str | None = None,
) -> Signature:
    """The patient consents. `relationship` given (even empty): a legal representative signs,
    `typed_name` being their own name; else `typed_name` must be the patient's
    (`consent.rules.typed_name_matches`)."""
    if confirmed_statements != len(PATIENT_CONSENT_STATEMENTS):
        raise ServiceError(ERROR_STATEMENTS)
    return _patient_decide(
        session=session,
        kind=Kind.PATIENT_CONSENT,
        action=Action.CONSENT,
        statement=" ".join(str(s) for s in PATIENT_CONSENT_STATEMENTS),
        typed_name=typed_name,
        image=image,
        origin=origin,
        browser=browser,
        relationship=relationship,
    )


def patient_decline(
    *,
    session: ConsentSession,
    typed_name: str,
    reason: str,
    image: bytes | None,
    origin: Origin | None = None,
    browser: Browser = NO_BROWSER,
    relationship: str | None = None,
) -> Signature:
    """The patient declines (informed refusal); the signer as in `patient_consent_sign`."""
    return _patient_decide(
        session=session,
        kind=Kind.PATIENT_REFUSAL,
        action=Action.DECLINE,
        statement=str(PATIENT_REFUSAL_STATEMENT),
        typed_name=typed_name,
        image=image,
        reason=reason,
        origin=origin,
        browser=browser,
        relationship=relationship,
    )


def patient_signer_check(
    session: ConsentSession, typed_name: str, relationship: str | None
) -> Representative | None:
    """The right signer: the patient by their own name, or a representative saying so.

    Returns the representative (None for the patient); refuses a typed name that is not the
    patient's (`NameMismatch`), and a representative who gives no relationship.
    """
    if relationship is not None:
        relationship = " ".join(relationship.split())
        if not relationship:
            raise ServiceError(ERROR_RELATIONSHIP_REQUIRED)
        return Representative(name=typed_name, relationship=relationship[:RELATIONSHIP_MAX])
    if not typed_name_matches(typed_name, session.patient_name):
        raise NameMismatch(str(ERROR_NAME_MISMATCH).format(typed=typed_name))
    return None


def _patient_decide(
    *,
    session: ConsentSession,
    kind: str,
    action: Action,
    statement: str,
    typed_name: str,
    image: bytes | None,
    origin: Origin | None = None,
    reason: str = "",
    browser: Browser = NO_BROWSER,
    relationship: str | None = None,
) -> Signature:
    typed_name = " ".join(typed_name.split())
    if not typed_name:
        raise ServiceError(ERROR_NAME_REQUIRED)
    image = signature_image_check(image)
    with transaction.atomic():
        session = lifecycle.lock(session, action)
        # Under the lock, the evidence this signature vouches for: a consent needs every
        # question the patient wrote answered (they confirm it in a statement).
        evidence = record_data_get(session=session)
        if kind == Kind.PATIENT_CONSENT and evidence.patient_questions_open:
            open_questions = [question.text for question in evidence.patient_questions_open]
            raise QuestionsUnanswered(questions_unanswered_message(open_questions))
        # After the lock: a decision already made says so, whatever name was typed.
        representative = patient_signer_check(session, typed_name, relationship)
        signature = _signature(
            session=session,
            kind=kind,
            printed_name=typed_name,
            statement=statement,
            method=Signature.Method.DRAWN if image else Signature.Method.TYPED,
            image=image,
            origin=origin,
            role=PATIENT,
            actor_label="legal representative" if representative else "",
            evidence=evidence,
            browser=browser,
            representative=representative,
        )
        session.decided_at = signature.signed_at
        session.decline_reason = reason.strip()
        lifecycle.advance(session, action, fields=["decided_at", "decline_reason"])
        audit_record(
            action=f"session.{session.status}",
            role=PATIENT,
            actor_label="legal representative" if representative else "patient",
            origin=origin,
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
    origin: Origin | None = None,
    browser: Browser = NO_BROWSER,
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
        session = lifecycle.lock(session, Action.COMPANION_SIGN)
        return _signature(
            session=session,
            kind=kind,
            printed_name=typed_name,
            statement=str(statement),
            method=Signature.Method.DRAWN if image else Signature.Method.TYPED,
            image=image,
            origin=origin,
            role=kind,
            browser=browser,
        )


# Countersignature and finalization


RenderPdf = Callable[[RecordData, str], bytes]
# How many times finalization draws the record when the session changes while it draws.
FINALIZE_DRAWS = 2


def _stale_signature(session: ConsentSession, data: RecordData) -> Signature | None:
    """A stored signature that no longer vouches for the evidence as `data` has it (11.70)."""
    # A signature made before the canonical form changed holds the older form's hash of the
    # same evidence: either form vouches for it (docs/record-format.md, "Versions").
    snapshot = evidence_snapshot(data)
    hashes = [hashlib.sha256(serialize(snapshot)).hexdigest() for serialize in SERIALIZERS.values()]
    return Signature.objects.filter(session=session).exclude(snapshot_hash__in=hashes).first()


def _check_snapshots(
    session: ConsentSession, *, physician: User, origin: Origin | None = None, log: bool
) -> None:
    """Refuse when any signature no longer vouches for the evidence as it stands (11.70).

    With `log`, the voided signature is recorded in its own committed transaction first.
    """
    current, *earlier = snapshot_hashes(session)
    stale = (
        Signature.objects.filter(session=session)
        .exclude(snapshot_hash__in=[current, *earlier])
        .first()
    )
    if stale is None:
        return
    if log:
        with transaction.atomic():
            audit_record(
                action="signature.voided",
                role=PHYSICIAN,
                actor=physician,
                origin=origin,
                obj=stale,
                session=session,
                payload={"kind": stale.kind, "signed": stale.snapshot_hash, "now": current},
            )
    raise EvidenceChanged(str(ERROR_EVIDENCE_CHANGED).format(signer=stale.printed_name))


@dataclass(frozen=True)
class RecordDraft:
    """The record as drawn before any lock: its countersignature (not yet saved), the chain
    head it prints, its canonical JSON and its sealed PDF."""

    countersignature: Signature
    head: tuple[int, str]
    record_id: str
    document: bytes
    pdf: bytes


def _record_draw(
    *, session: ConsentSession, physician: User, origin: Origin | None, render_pdf: RenderPdf
) -> RecordDraft:
    """Read the session and the chain's head (plain reads, no lock), then draw and seal the
    record as it will stand once countersigned. Nothing is written."""
    head = chain_head()
    evidence = record_data_get(session=session, head=head)
    countersignature = _signature_build(
        session=session,
        kind=Kind.COUNTERSIGNATURE,
        signer=physician,
        printed_name=physician.get_full_name() or physician.get_username(),
        statement=str(COUNTERSIGNATURE_STATEMENT),
        method=Signature.Method.PASSWORD,
        origin=origin,
        evidence=evidence,
    )
    record_id = f"CR-{countersignature.signed_at:%Y}-{session.pk:06d}"
    data = record_data_get(session=session, countersignature=countersignature, head=head)
    try:
        pdf = render_pdf(data, record_id)
    except Exception as error:
        # Names only: an exception's text could quote the record's contents.
        logger.error(
            "record %s not made: %s in %s",
            record_id,
            type(error).__name__,
            type(error).__module__,
        )
        raise RecordNotMade(ERROR_RECORD_NOT_MADE) from error
    return RecordDraft(
        countersignature=countersignature,
        head=head,
        record_id=record_id,
        document=record_json_of(data, record_id),
        pdf=pdf,
    )


def _default_render(data: RecordData, record_id: str) -> bytes:
    # Looked up at each call: tests stand in for the renderer by replacing it in its module.
    from consent.record import pdf

    return pdf.record_pdf_render(data, record_id)


def session_finalize(
    *,
    session: ConsentSession,
    physician: User,
    password: str,
    origin: Origin | None = None,
    render_pdf: RenderPdf | None = None,
) -> ConsentRecord:
    """Countersign, draw and seal the record's PDF, store it and finalize, in this thread:
    `session_finalize_check` then `session_finalize_draw`. The physician's page does the two
    apart: the check in the request, the drawing in a background task (consent/tasks.py)."""
    session_finalize_check(session=session, physician=physician, password=password, origin=origin)
    return session_finalize_draw(
        session=session, physician=physician, origin=origin, render_pdf=render_pdf
    )


def session_finalize_check(
    *, session: ConsentSession, physician: User, password: str, origin: Origin | None = None
) -> None:
    """Refuse a finalization that may not happen, before anything is drawn: the wrong step,
    not the responsible physician, a signature that no longer vouches for the evidence, or
    the wrong password (audited, and counted toward the lock-out like any password)."""
    with transaction.atomic():
        session = lifecycle.lock(session, Action.FINALIZE)
        check_responsible(session, physician)
    _check_snapshots(session, physician=physician, origin=origin, log=True)
    _check_password(
        session=session,
        user=physician,
        password=password,
        kind=Kind.COUNTERSIGNATURE,
        origin=origin,
    )


def session_finalize_draw(
    *,
    session: ConsentSession,
    physician: User,
    origin: Origin | None = None,
    render_pdf: RenderPdf | None = None,
) -> ConsentRecord:
    """Draw, seal and store the record of a session whose finalization was checked
    (`session_finalize_check`, password included).

    The PDF is drawn and sealed first, holding no lock (seconds for a large record), from the
    data read then and the countersignature about to be made. Then, under the session's lock,
    the data is read again and must give the very same record (same status, evidence,
    signatures, reading times and audit trail up to the head the record prints); only then are
    the countersignature, its events, the file and the record stored, in one short
    transaction, the only one that takes the audit chain's lock. If the session changed
    meanwhile the record is drawn once more; if it changes again, nothing is finalized.

    Finalizing twice, or from two browsers at once, yields exactly one record: whoever takes
    the session's lock second finds it finalized.
    """
    render = render_pdf or _default_render
    for _draw in range(FINALIZE_DRAWS):
        draft = _record_draw(session=session, physician=physician, origin=origin, render_pdf=render)
        record = _record_store(draft, session=session, physician=physician, origin=origin)
        if record is not None:
            return record
        logger.info("record %s drawn again: the session changed meanwhile", draft.record_id)
    raise ChangedWhileDrawn(ERROR_CHANGED_WHILE_DRAWN)


def _record_store(
    draft: RecordDraft, *, session: ConsentSession, physician: User, origin: Origin | None
) -> ConsentRecord | None:
    """Under the session's lock: store the drawn record if the session still gives exactly
    that record, else None (nothing written). Refuses what may no longer be finalized."""
    with transaction.atomic():
        session = lifecycle.lock(session, Action.FINALIZE)
        check_responsible(session, physician)
        if Signature.objects.filter(session=session, kind=Kind.COUNTERSIGNATURE).exists():
            raise ServiceError(ERROR_ALREADY_SIGNED)
        # The record as it stands now, up to the head it prints: the evidence (signatures
        # leave it unchanged) still vouched for, and exactly the record drawn.
        current = record_data_get(
            session=session, countersignature=draft.countersignature, head=draft.head
        )
        stale = _stale_signature(session, current)
        if stale is not None:
            raise EvidenceChanged(str(ERROR_EVIDENCE_CHANGED).format(signer=stale.printed_name))
        if record_json_of(current, draft.record_id) != draft.document:
            return None
        finalized_at = draft.countersignature.signed_at
        record = ConsentRecord(
            session=session,
            record_id=draft.record_id,
            record_json=draft.document.decode("utf-8"),
            record_sha256=hashlib.sha256(draft.document).hexdigest(),
            pdf_sha256=hashlib.sha256(draft.pdf).hexdigest(),
            pdf_size=len(draft.pdf),
            finalized_at=finalized_at,
            finalized_by=physician,
        )
        record.pdf.save(f"{draft.record_id}.pdf", ContentFile(draft.pdf), save=False)
        with removed_on_failure(record.pdf):
            # From here the audit chain's lock is held, until the commit: inserts only.
            _signature_store(draft.countersignature, role=PHYSICIAN, origin=origin)
            audit_record(
                action="session.finalized",
                role=PHYSICIAN,
                actor=physician,
                origin=origin,
                obj=session,
                session=session,
                payload={"record_id": draft.record_id},
            )
            record.save()
            session.finalized_at = finalized_at
            lifecycle.advance(session, Action.FINALIZE, fields=["finalized_at"])
            _record_pinned(record, actor=physician, origin=origin)
        # Anchor the chain outside the database once this finalization is committed.
        checkpoint_after_commit(trigger="finalization")
    return record


def _record_pinned(record: ConsentRecord, *, actor: User, origin: Origin | None) -> None:
    """Chain the stored record's and PDF's hashes, and the chain head the record printed:
    the head when it was drawn, before the countersignature's and session.finalized events
    (the record cannot hold the hashes of events made after it).

    The event names the record, not the session: the session's history is the one the PDF
    prints, and this event comes after the PDF by necessity.
    """
    head_seq, head_hash = json_chain_head(record.record_json)
    audit_record(
        action=RECORD_FINALIZED,
        role=PHYSICIAN,
        actor=actor,
        origin=origin,
        obj=record,
        payload={
            "record_id": record.record_id,
            "record_sha256": record.record_sha256,
            "pdf_sha256": record.pdf_sha256,
            "pdf_size": record.pdf_size,
            "chain_head_seq": head_seq,
            "chain_head_hash": head_hash,
        },
    )


def record_downloaded(
    *, record: ConsentRecord, role: str, origin: Origin | None = None, actor: User | None = None
) -> None:
    """Note that someone received a copy of a finalized record (access to health data)."""
    with transaction.atomic():
        audit_record(
            action="record.downloaded",
            role=role,
            actor=actor,
            actor_label="" if actor is not None else role,
            origin=origin,
            obj=record,
            session=record.session,
            payload={"record_id": record.record_id, "sha256": record.pdf_sha256},
        )
