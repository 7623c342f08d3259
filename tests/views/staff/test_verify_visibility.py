"""Verification tells a user nothing about a record they may not see beyond authentic or not
(issue 12 item 7).

Physicians and auditors may verify. Whoever may see the record's session (its physician, and
auditors, who see every session) gets the whole answer; another physician learns authentic or
not and nothing else: not the record's id, its patient, when it was finalized or by whom, nor
a withdrawal. A forged file naming a record, an altered copy and a foreign PDF look the same
to them, so nothing tells whether a record exists.
"""

import html
import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pypdf import PdfWriter

from consent.models import Addendum, AuditEvent, ConsentRecord
from consent.record.pdf import RECORD_ATTACHMENT
from consent.services import addenda
from consent.services import signatures as signature_services
from tests.factories import (
    PASSWORD,
    auditor,
    decided_session,
    finalized_record,
    logged_in,
    patient_client,
    physician,
    staff_user,
)

pytestmark = pytest.mark.django_db

AUTHENTIC = "Authentic: this file is a document issued by this system, unchanged."
NOT_AUTHENTIC = (
    "Not authentic: this file is not a document issued by this system, or it was changed since."
)
VERDICT_ONLY = "Only the verdict is shown"


def owner():
    return staff_user(username="dr.owner", first_name="Olivia")


def stored(record: ConsentRecord) -> bytes:
    with record.pdf.open("rb") as handle:
        return handle.read()


def upload(client: Client, data: bytes) -> str:
    response = client.post(
        "/staff/verify/", {"file": SimpleUploadedFile("file.pdf", data, "application/pdf")}
    )
    assert response.status_code == 200
    return " ".join(html.unescape(response.content.decode()).split())


def verdict(body: str) -> str:
    """The verdict section, without the line naming the uploaded file's own SHA-256."""
    section = re.search(r'<section class="verification.*?</section>', body)
    assert section is not None
    return re.sub(
        r"<p class=\"small text-body-secondary\">SHA-256 of the file.*?</p>", "", section[0]
    )


def pdf_naming(record_id: str) -> bytes:
    """A PDF of nobody's making whose attachment names `record_id`, as a record's does."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_attachment(RECORD_ATTACHMENT, json.dumps({"record_id": record_id}).encode())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def tells_nothing_more(body: str, record: ConsentRecord) -> None:
    session = record.session
    for secret in (
        record.record_id,
        session.patient_name,
        session.patient_record_number,
        f"{record.finalized_at:%Y-%m-%d}",
        "Olivia",  # who finalized it
        record.record_sha256[:16],
        str(session.public_id),
        "✓ Passed",
        "✗ Failed",
        "withdrawn",
        "Corrected",
        "addendum",
    ):
        assert secret not in body, secret
    assert VERDICT_ONLY in body


def unsealed_record() -> ConsentRecord:
    """A record whose stored PDF is readable and names it, but was never sealed (no render)."""
    return signature_services.session_finalize(
        session=(session := decided_session(doctor=owner())),
        physician=session.physician,
        password=PASSWORD,
        render_pdf=lambda _data, record_id: pdf_naming(record_id),
    )


@pytest.fixture
def real_record() -> ConsentRecord:
    """A record rendered, sealed and stored (a few seconds), finalized by Olivia."""
    return finalized_record(real_pdf=True, doctor=owner())


def test_another_physician_learns_authentic_and_nothing_else(real_record):
    other = logged_in(physician(username="dr.other"))
    body = upload(other, stored(real_record))
    assert AUTHENTIC in body
    tells_nothing_more(body, real_record)
    event = AuditEvent.objects.get(action="record.verified")
    # The audit log keeps what was found, and that only the verdict was told.
    assert event.payload["verdict"] == "authentic"
    assert event.payload["record_id"] == real_record.record_id
    assert event.payload["withheld"] is True
    assert event.session_id == real_record.session_id

    # The responsible physician and an auditor get the whole answer.
    for client in (logged_in(real_record.session.physician), logged_in(auditor())):
        body = upload(client, stored(real_record))
        assert f"Authentic: this is record {real_record.record_id}" in body
        assert body.count("✓ Passed") == 5
        assert VERDICT_ONLY not in body
    assert (
        "withheld" not in AuditEvent.objects.filter(action="record.verified").latest("seq").payload
    )


def test_a_withdrawn_record_and_its_addendum_tell_another_physician_nothing_more(real_record):
    # A readable stand-in for the addendum's PDF (an unsealed one: never authentic).
    addenda.addendum_add(
        record=real_record,
        kind=Addendum.Kind.WITHDRAWAL,
        text="Changed her mind.",
        author=real_record.session.physician,
        password=PASSWORD,
        patient_name=real_record.session.patient_name,
        render_pdf=lambda _document, _canonical: blank_pdf(),
    )
    made = Addendum.objects.get(record=real_record)
    other = logged_in(physician(username="dr.other"))
    body = upload(other, stored(real_record))
    assert AUTHENTIC in body and made.addendum_id not in body
    tells_nothing_more(body, real_record)
    with made.pdf.open("rb") as handle:
        body = upload(other, handle.read())
    assert NOT_AUTHENTIC in body and made.addendum_id not in body  # the stand-in is not sealed
    tells_nothing_more(body, real_record)

    body = upload(logged_in(real_record.session.physician), stored(real_record))
    assert "Consent withdrawn on" in body and made.addendum_id in body


def test_an_altered_copy_a_forged_name_and_a_foreign_pdf_look_the_same():
    record = unsealed_record()
    other = logged_in(physician(username="dr.other"))
    files = {
        "the stored copy, unsealed": stored(record),
        "a PDF naming the record": pdf_naming(record.record_id) + b"\n",
        "a PDF naming no stored record": pdf_naming("CR-2099-999999"),
        "any other PDF": blank_pdf(),
    }
    answers = {name: verdict(upload(other, data)) for name, data in files.items()}
    assert len(set(answers.values())) == 1, answers
    body = next(iter(answers.values()))
    assert NOT_AUTHENTIC in body
    tells_nothing_more(body, record)
    assert "CR-2099-999999" not in body

    # An auditor is told what each is.
    sam = logged_in(auditor())
    assert record.record_id in upload(sam, files["a PDF naming the record"])
    assert "names record CR-2099-999999, but no such record is stored here" in upload(
        sam, files["a PDF naming no stored record"]
    )
    # A file that is no PDF at all says so to everyone: it is about the file alone.
    assert "This file is not a PDF." in upload(other, b"plain text")


def test_who_may_verify_and_what_each_is_told():
    record = unsealed_record()
    data = stored(record)
    superuser = staff_user(username="root", role="auditor")
    superuser.groups.clear()
    superuser.is_superuser = True
    superuser.save()
    clerk = staff_user(username="clerk", role="auditor")
    clerk.groups.clear()
    told = {
        "responsible physician": logged_in(record.session.physician),
        "auditor": logged_in(auditor()),
        "superuser": logged_in(superuser),
        "another physician": logged_in(physician(username="dr.other")),
    }
    for role, client in told.items():
        body = upload(client, data)
        assert "Not authentic" in body, role  # a stand-in PDF, never sealed
        if role == "another physician":
            tells_nothing_more(body, record)
        else:
            assert record.record_id in body and VERDICT_ONLY not in body, role
    files = {"file": SimpleUploadedFile("file.pdf", data, "application/pdf")}
    assert logged_in(clerk).post("/staff/verify/", files).status_code == 403
    patient = patient_client(decided_session(doctor=physician(username="dr.third")))
    for client in (Client(), patient):
        response = client.post("/staff/verify/", files)
        assert response["Location"].startswith("/accounts/login/")
    # The record's own verification page stays closed to another physician, like a record
    # that does not exist.
    other = told["another physician"]
    assert other.get(f"/staff/records/{record.record_id}/verify/").status_code == 404
    assert other.get("/staff/records/CR-2099-999999/verify/").status_code == 404
