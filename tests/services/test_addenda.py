"""Addenda are records: a password-signed withdrawal or correction, its own sealed document,
chained, append-only; every refusal stores nothing."""

import hashlib
import json

import pytest
from django.db import IntegrityError, connection, transaction

from consent.audit.chain import audit_verify
from consent.models import Addendum, AuditEvent, ConsentRecord, Signature
from consent.services import ServiceError, addenda
from tests.factories import (
    FAKE_ADDENDUM_PDF,
    PASSWORD,
    decided_session,
    fake_addendum_render,
    finalized_record,
    physician,
    signature_png,
)

pytestmark = pytest.mark.django_db


def add(record: ConsentRecord, **kwargs) -> Addendum:
    values = {
        "record": record,
        "kind": Addendum.Kind.WITHDRAWAL,
        "text": "The patient withdrew their consent in clinic.",
        "author": record.session.physician,
        "password": PASSWORD,
        "render_pdf": fake_addendum_render,
    }
    return addenda.addendum_add(**{**values, **kwargs})


def nothing_stored(record: ConsentRecord) -> bool:
    return (
        not Addendum.objects.filter(record=record).exists()
        and not AuditEvent.objects.filter(action__startswith="addendum.")
        .exclude(action="addendum.downloaded")
        .exists()
    )


def test_a_withdrawal_is_its_own_document_naming_the_record():
    record = finalized_record()
    image = signature_png()
    addendum = add(record, patient_name="  Maria   Keller ", patient_image=image)

    assert addendum.addendum_id == f"{record.record_id}-A1"
    document = json.loads(addendum.addendum_json)
    assert document["format"] == "consent-addendum"
    assert document["format_version"] == 1
    assert document["record"] == {
        "record_id": record.record_id,
        "record_sha256": record.record_sha256,
        "pdf_sha256": record.pdf_sha256,
        "finalized_at": record.finalized_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert document["kind"] == "withdrawal"
    assert document["patient_signature"]["printed_name"] == "Maria Keller"
    assert document["patient_signature"]["image_sha256"] == hashlib.sha256(image).hexdigest()
    assert addendum.addendum_sha256 == hashlib.sha256(addendum.addendum_json.encode()).hexdigest()
    assert addendum.pdf.read() == FAKE_ADDENDUM_PDF
    assert addendum.pdf_sha256 == hashlib.sha256(FAKE_ADDENDUM_PDF).hexdigest()
    assert bytes(addendum.patient_signature_image) == image
    # Never a Signature row: a finalized session takes no new signature.
    assert not Signature.objects.filter(session=record.session, printed_name="Maria Keller")


def test_the_event_pins_text_json_pdf_and_drawing():
    record = finalized_record()
    image = signature_png()
    addendum = add(record, patient_name="Maria Keller", patient_image=image)
    event = AuditEvent.objects.get(action="addendum.withdrawal", object_id=str(addendum.pk))
    assert event.payload["addendum_id"] == addendum.addendum_id
    assert event.payload["text_sha256"] == hashlib.sha256(addendum.text.encode()).hexdigest()
    assert event.payload["json_sha256"] == addendum.addendum_sha256
    assert event.payload["pdf_sha256"] == addendum.pdf_sha256
    assert event.payload["image_sha256"] == hashlib.sha256(image).hexdigest()
    assert audit_verify().intact


def test_second_addendum_is_numbered_after_the_first():
    record = finalized_record()
    add(record, kind=Addendum.Kind.CORRECTION, text="MRN is 124.")
    second = add(record)
    assert second.addendum_id == f"{record.record_id}-A2"


@pytest.mark.parametrize("password", ["", "wrong-password"])
def test_no_or_wrong_password_is_refused_audited_and_stores_nothing(password):
    record = finalized_record()
    with pytest.raises(ServiceError, match="password is not right"):
        add(record, password=password)
    assert nothing_stored(record)
    refused = AuditEvent.objects.get(action="signature.refused", session=record.session)
    assert refused.payload == {"kind": "addendum.withdrawal", "reason": "wrong password"}


def test_another_physicians_password_is_refused():
    record = finalized_record()
    other = physician(username="dr.other")
    other.set_password("other-physicians-password")
    other.save()
    with pytest.raises(ServiceError, match="password is not right"):
        add(record, password="other-physicians-password")
    assert nothing_stored(record)


def test_a_physician_not_responsible_is_refused_even_with_their_password():
    record = finalized_record()
    other = physician(username="dr.other")
    with pytest.raises(ServiceError, match="responsible"):
        add(record, author=other)
    assert nothing_stored(record)


def test_a_session_not_finalized_takes_no_addendum():
    session = decided_session()
    record = ConsentRecord(session=session, record_id="CR-FAKE", pdf_sha256="0" * 64, pdf_size=1)
    with pytest.raises(ServiceError, match="finalized records only"):
        add(record)
    assert not Addendum.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": "   "}, "Write the text"),
        ({"kind": "correction", "patient_name": "Maria Keller"}, "Only a withdrawal"),
        ({"patient_image": b"\x89PNG\r\n\x1a\nnot really"}, "could not be read"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(kwargs, message):
    record = finalized_record()
    with pytest.raises(ServiceError, match=message):
        add(record, **kwargs)
    assert nothing_stored(record)


def test_a_drawing_needs_the_typed_name():
    record = finalized_record()
    with pytest.raises(ServiceError, match="type their full name"):
        add(record, patient_image=signature_png())
    assert nothing_stored(record)


def test_the_same_form_submitted_twice_makes_one_addendum():
    record = finalized_record()
    first = add(record, submission_key="a" * 32)
    again = add(record, submission_key="a" * 32)
    assert again.pk == first.pk
    assert Addendum.objects.filter(record=record).count() == 1
    assert AuditEvent.objects.filter(action="addendum.withdrawal").count() == 1


def test_a_submission_key_cannot_be_reused_on_another_record():
    record = finalized_record()
    other = finalized_record(patient_name="Paul Other", doctor=record.session.physician)
    add(record, submission_key="b" * 32)
    with pytest.raises(ServiceError, match="already used"):
        add(other, submission_key="b" * 32)
    assert not Addendum.objects.filter(record=other).exists()


def test_a_failed_render_stores_nothing():
    record = finalized_record()

    def broken(_document, _canonical):
        raise RuntimeError("no fonts")

    with pytest.raises(addenda.AddendumNotMade):
        add(record, render_pdf=broken)
    assert nothing_stored(record)


def test_an_addendum_row_is_append_only_in_the_database():
    record = finalized_record()
    addendum = add(record, patient_name="Maria Keller", patient_image=signature_png())
    for statement, params in (
        ("UPDATE consent_addendum SET pdf_sha256 = %s WHERE id = %s", ["0" * 64, addendum.pk]),
        (
            "UPDATE consent_addendum SET patient_signature_image = %s WHERE id = %s",
            [b"x", addendum.pk],
        ),
        ("UPDATE consent_addendum SET addendum_json = %s WHERE id = %s", ["{}", addendum.pk]),
        ("DELETE FROM consent_addendum WHERE id = %s", [addendum.pk]),
    ):
        with (
            pytest.raises(IntegrityError if connection.vendor == "sqlite" else Exception),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, params)
    addendum.refresh_from_db()
    assert addendum.pdf_sha256 == hashlib.sha256(FAKE_ADDENDUM_PDF).hexdigest()
