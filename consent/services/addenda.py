"""Addenda: a withdrawal of consent or a correction, added under a finalized record.

An addendum is a signing act and a record of its own. The responsible physician re-enters their
password, checked exactly as for the countersignature (a wrong one is audited as
`signature.refused`, in its own committed transaction); a withdrawal may carry the patient's
typed name and drawn signature, stored on the addendum (a finalized session takes no new
Signature row, and the database refuses one). The addendum becomes its own sealed PDF/A-3b
(consent/record/addendum.py) and its audit event pins the text, the canonical JSON, the PDF
and the patient's drawing, which `verify_audit` compares with the row.

A double submit or a replayed POST carries the form's one-time `submission_key`: whoever comes
second (the session row is locked) finds the addendum already made and gets it back.
"""

import hashlib
import logging
import unicodedata
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from consent import clock, lifecycle
from consent.audit.events import Origin, audit_record
from consent.lifecycle import Action
from consent.models import Addendum, AuditEvent, ConsentRecord
from consent.objectstore import removed_on_failure
from consent.services import ServiceError, check_responsible
from consent.services.signatures import (
    ERROR_NOT_FINALIZED,
    ERROR_TEXT_REQUIRED,
    _check_password,
    signature_image_check,
)

logger = logging.getLogger(__name__)

PHYSICIAN = AuditEvent.Role.PHYSICIAN
RenderAddendum = Callable[[dict[str, Any], bytes], bytes]

ERROR_PATIENT_SIGNATURE_ON_CORRECTION = _(
    "Only a withdrawal of consent carries the patient's signature. Nothing was added."
)
ERROR_PATIENT_NAME_REQUIRED = _(
    "The patient drew a signature: type their full name under it too. Nothing was added."
)
ERROR_ADDENDUM_NOT_MADE = _(
    "The addendum's PDF could not be made or sealed, so nothing was added. Try again in a "
    "minute; if it fails again, tell IT support (the error is logged)."
)
ERROR_SUBMISSION_REUSED = _("This form was already used for another addendum. Nothing was added.")


class AddendumNotMade(ServiceError):
    """Rendering or sealing the addendum's PDF failed: nothing was stored."""


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _already_made(submission_key: str, record: ConsentRecord, author: User) -> Addendum | None:
    """The addendum this form already made, if any; a key reused elsewhere is refused."""
    if not submission_key:
        return None
    existing = Addendum.objects.filter(submission_key=submission_key).first()
    if existing is not None and (
        existing.record_id != record.pk or existing.created_by_id != author.pk
    ):
        raise ServiceError(ERROR_SUBMISSION_REUSED)
    return existing


def addendum_add(
    *,
    record: ConsentRecord,
    kind: str,
    text: str,
    author: User,
    password: str,
    origin: Origin | None = None,
    patient_name: str = "",
    patient_image: bytes | None = None,
    submission_key: str = "",
    render_pdf: RenderAddendum | None = None,
) -> Addendum:
    """Add a withdrawal or a correction under a finalized record, as its own sealed document.

    Refused, with nothing stored: an empty text, a wrong password (audited), anyone but the
    responsible physician, a session that is not finalized, a patient signature on a correction.
    """
    if render_pdf is None:
        from consent.record.addendum import addendum_pdf_render

        render_pdf = addendum_pdf_render
    text = _nfc(text.strip())
    patient_name = _nfc(" ".join(patient_name.split()))
    if not text:
        raise ServiceError(ERROR_TEXT_REQUIRED)
    if kind not in Addendum.Kind.values:
        raise ValueError(kind)
    patient_image = signature_image_check(patient_image)
    if (patient_name or patient_image) and kind != Addendum.Kind.WITHDRAWAL:
        raise ServiceError(ERROR_PATIENT_SIGNATURE_ON_CORRECTION)
    if patient_image and not patient_name:
        raise ServiceError(ERROR_PATIENT_NAME_REQUIRED)
    with transaction.atomic():
        session = lifecycle.lock(record.session, Action.ADDENDUM, error=ERROR_NOT_FINALIZED)
        check_responsible(session, author)
        if (existing := _already_made(submission_key, record, author)) is not None:
            return existing
    _check_password(
        session=session, user=author, password=password, kind=f"addendum.{kind}", origin=origin
    )
    with transaction.atomic():
        session = lifecycle.lock(record.session, Action.ADDENDUM, error=ERROR_NOT_FINALIZED)
        check_responsible(session, author)
        # The session row is locked: a second submit of the same form waits, then finds this.
        if (existing := _already_made(submission_key, record, author)) is not None:
            return existing
        return _addendum_made(
            record=record,
            kind=kind,
            text=text,
            author=author,
            origin=origin,
            patient_name=patient_name,
            patient_image=patient_image,
            submission_key=submission_key,
            render_pdf=render_pdf,
        )


def _addendum_made(
    *,
    record: ConsentRecord,
    kind: str,
    text: str,
    author: User,
    origin: Origin | None,
    patient_name: str,
    patient_image: bytes | None,
    submission_key: str,
    render_pdf: RenderAddendum,
) -> Addendum:
    """Render, seal, store and chain one addendum (inside the caller's transaction)."""
    from consent.record.addendum import addendum_document, addendum_id_for, addendum_json

    number = Addendum.objects.filter(record=record).count() + 1
    addendum_id = addendum_id_for(record.record_id, number)
    created_at = clock.now().replace(microsecond=0)
    author_name = author.get_full_name() or author.get_username()
    document = addendum_document(
        record=record,
        addendum_id=addendum_id,
        kind=kind,
        text=text,
        author_name=author_name,
        author_username=author.get_username(),
        created_at=created_at,
        patient_name=patient_name,
        patient_image=patient_image,
    )
    canonical = addendum_json(document)
    try:
        pdf = render_pdf(document, canonical)
    except Exception as error:
        # Names only: an exception's text could quote the addendum.
        logger.error(
            "addendum %s not made: %s in %s",
            addendum_id,
            type(error).__name__,
            type(error).__module__,
        )
        raise AddendumNotMade(ERROR_ADDENDUM_NOT_MADE) from error
    addendum = Addendum(
        record=record,
        kind=kind,
        text=text,
        created_by=author,
        created_at=created_at,
        addendum_id=addendum_id,
        addendum_json=canonical.decode("utf-8"),
        addendum_sha256=hashlib.sha256(canonical).hexdigest(),
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        pdf_size=len(pdf),
        patient_printed_name=patient_name,
        patient_signature_image=patient_image,
        patient_signed_at=created_at if patient_name else None,
        submission_key=submission_key or None,
    )
    addendum.pdf.save(f"{addendum_id}.pdf", ContentFile(pdf), save=False)
    with removed_on_failure(addendum.pdf):
        addendum.save()
        audit_record(
            action=f"addendum.{kind}",
            role=PHYSICIAN,
            actor=author,
            origin=origin,
            obj=addendum,
            session=record.session,
            payload={
                "record_id": record.record_id,
                "addendum_id": addendum_id,
                # The chain pins the addendum: `verify_audit` compares these with the row.
                "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                "json_sha256": addendum.addendum_sha256,
                "pdf_sha256": addendum.pdf_sha256,
                "image_sha256": (
                    hashlib.sha256(patient_image).hexdigest() if patient_image else None
                ),
                "patient_signed": bool(patient_name),
            },
        )
    return addendum


def addendum_downloaded(
    *, addendum: Addendum, role: str, origin: Origin | None = None, actor: User | None = None
) -> None:
    """Note that someone received a copy of an addendum's PDF (access to health data)."""
    with transaction.atomic():
        audit_record(
            action="addendum.downloaded",
            role=role,
            actor=actor,
            actor_label="" if actor is not None else role,
            origin=origin,
            obj=addendum,
            session=addendum.record.session,
            payload={
                "record_id": addendum.record.record_id,
                "addendum_id": addendum.addendum_id,
                "sha256": addendum.pdf_sha256,
            },
        )
