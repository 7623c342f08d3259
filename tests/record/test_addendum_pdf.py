"""An addendum's own sealed PDF/A-3b: conformance unsealed and sealed, what it says, its
attached canonical JSON, and verification (the record's page says "Consent withdrawn on ...";
the addendum's own file verifies and names the record it amends)."""

import hashlib
import io
import json

import pytest
from pypdf import PdfReader

from consent.models import Addendum, ConsentRecord
from consent.record.addendum import (
    ADDENDUM_ATTACHMENT,
    addendum_document,
    addendum_document_pdf,
    addendum_json,
)
from consent.record.seal import pdf_seal
from consent.record.verification import State, Verdict, verify_bytes, verify_record
from tests.factories import addendum_added, finalized_record, logged_in, signature_png
from tests.record.pdfa import metadata_of, pdfa_failures, revisions

pytestmark = pytest.mark.django_db


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def withdrawn() -> tuple[ConsentRecord, Addendum]:
    """A real sealed record withdrawn by a real sealed addendum, signed by the patient."""
    record = finalized_record(real_pdf=True)
    addendum = addendum_added(
        record=record,
        kind=Addendum.Kind.WITHDRAWAL,
        text="The patient withdrew their consent in clinic after talking to their family.",
        patient_name="Maria Keller",
        patient_image=signature_png(),
        real_pdf=True,
    )
    return record, addendum


def test_the_addendum_conforms_to_pdfa_unsealed_and_sealed(tmp_path):
    record = finalized_record()
    document = addendum_document(
        record=record,
        addendum_id=f"{record.record_id}-A1",
        kind=Addendum.Kind.WITHDRAWAL,
        text="The patient withdrew their consent.",
        author_name="Alex Martin",
        author_username="dr.martin",
        created_at=record.finalized_at,
        patient_name="Maria Keller",
        patient_image=signature_png(),
    )
    canonical = addendum_json(document)
    unsealed = addendum_document_pdf(document, canonical)
    sealed = pdf_seal(unsealed, record_id=document["addendum_id"], reason="Withdrawal")
    (tmp_path / "addendum.pdf").write_bytes(sealed)
    assert pdfa_failures(unsealed) == {}
    assert pdfa_failures(sealed) == {}
    assert sealed.startswith(unsealed)
    assert sealed[:9] == b"%PDF-1.7\n"
    assert [len(r) for r in revisions(sealed)] == [len(unsealed), len(sealed)]
    assert metadata_of(sealed) == metadata_of(unsealed)
    attached = PdfReader(io.BytesIO(sealed)).attachments[ADDENDUM_ATTACHMENT]
    assert attached == [canonical]
    # Rendering depends only on the data.
    assert addendum_document_pdf(document, canonical) == unsealed


def test_the_addendum_names_the_record_and_is_stored_as_sealed(withdrawn):
    record, addendum = withdrawn
    pdf = addendum.pdf.read()
    assert hashlib.sha256(pdf).hexdigest() == addendum.pdf_sha256
    text = text_of(pdf)
    for expected in (
        "Withdrawal of consent",
        addendum.addendum_id,
        record.record_id,
        record.record_sha256[:16],
        record.pdf_sha256[:16],
        "Maria Keller",
        "withdrew their consent in clinic",
    ):
        assert expected in text.replace("\n", " "), expected
    (attached,) = PdfReader(io.BytesIO(pdf)).attachments[ADDENDUM_ATTACHMENT]
    assert attached.decode() == addendum.addendum_json
    assert json.loads(attached)["record"]["pdf_sha256"] == record.pdf_sha256
    assert pdfa_failures(pdf) == {}


def test_a_withdrawn_record_never_verifies_as_bare_authentic(withdrawn):
    record, addendum = withdrawn
    verification = verify_record(record)
    assert verification.verdict == Verdict.WITHDRAWN
    assert not verification.authentic and verification.amended
    assert verification.headline.startswith(
        f"Consent withdrawn on {addendum.created_at:%Y-%m-%d} by "
    )
    assert all(check.state == State.PASS for check in verification.checks)


def test_the_verify_page_says_withdrawn_in_plain_sight(withdrawn):
    record, addendum = withdrawn
    page = logged_in(record.session.physician).get(f"/staff/records/{record.record_id}/verify/")
    body = page.content.decode()
    assert "Consent withdrawn on" in body
    assert "alert-warning" in body and "alert-success" not in body
    assert addendum.addendum_id in body


def test_an_uploaded_addendum_verifies_and_names_the_record_it_amends(withdrawn):
    record, addendum = withdrawn
    pdf = addendum.pdf.read()
    verification = verify_bytes(pdf)
    assert verification.verdict == Verdict.WITHDRAWN, verification.checks
    assert verification.record == record
    assert f"Authentic addendum {addendum.addendum_id} to record {record.record_id}" in (
        verification.headline
    )
    assert {c.key: c.state for c in verification.checks} == dict.fromkeys(
        ("stored", "identical", "seal", "embedded", "amends"), State.PASS
    )
    # One byte changed in the sealed content: named as that addendum, and not authentic.
    forged = pdf.replace(b"Maria Keller", b"Mario Keller", 1)
    if forged == pdf:  # the name is in a compressed stream: flip a byte in the middle
        middle = len(pdf) // 3
        forged = pdf[:middle] + bytes([pdf[middle] ^ 1]) + pdf[middle + 1 :]
    altered = verify_bytes(forged)
    assert altered.verdict in (Verdict.ALTERED, Verdict.UNREADABLE, Verdict.FOREIGN)
    assert altered.verdict != Verdict.WITHDRAWN
