"""The addendum form on the review page, the addendum downloads, and every page that shows
an addendum: the review page, the auditor's record page, the CSV, the analytics, the patient's."""

import base64
import csv
import io

import pytest

from consent.models import Addendum, AuditEvent
from tests.factories import (
    FAKE_ADDENDUM_PDF,
    PASSWORD,
    addendum_added,
    auditor,
    decided_session,
    fake_addendum_render,
    fake_pdf_render,
    finalized_record,
    finalized_session,
    logged_in,
    patient_client,
    physician,
    signature_png,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fake_addendum_pdf(monkeypatch):
    monkeypatch.setattr("consent.record.addendum.addendum_pdf_render", fake_addendum_render)


def url(session, tail: str) -> str:
    return f"/staff/sessions/{session.public_id}/{tail}"


def post(session, client=None, **fields):
    data = {
        "kind": "withdrawal",
        "text": "The patient withdrew their consent in clinic.",
        "password": PASSWORD,
        "submission_key": "f" * 32,
        **fields,
    }
    return (client or logged_in(session.physician)).post(url(session, "addenda/"), data)


def png_url() -> str:
    return "data:image/png;base64," + base64.b64encode(signature_png()).decode()


def test_the_physician_withdraws_with_the_patient_signing(fake_pdf_renderer):
    session = finalized_session(drawn=False)
    response = post(session, patient_name="Maria Keller", signature=png_url())
    assert response.status_code == 302
    (addendum,) = Addendum.objects.all()
    assert addendum.patient_printed_name == "Maria Keller"
    assert bytes(addendum.patient_signature_image) == signature_png()
    body = logged_in(session.physician).get(url(session, "review/")).content.decode()
    assert addendum.addendum_id in body
    assert "Signed by the patient: Maria Keller" in body
    assert f"/addenda/{addendum.addendum_id}.pdf" in body


@pytest.mark.parametrize("password", ["", "not-the-password"])
def test_no_or_a_wrong_password_keeps_the_text_and_stores_nothing(password, fake_pdf_renderer):
    session = finalized_session(drawn=False)
    response = post(session, password=password, text="Withdrawn after the family meeting.")
    assert response.status_code == 400
    body = response.content.decode()
    assert "Withdrawn after the family meeting." in body
    assert ("Enter your password" if not password else "That password is not right") in body
    assert not Addendum.objects.exists()


def test_another_physicians_password_and_another_physician_are_refused(fake_pdf_renderer):
    session = finalized_session(drawn=False)
    other = physician(username="dr.other")
    response = post(session, password="correct-horse-battery-2")
    assert response.status_code == 400
    response = post(session, client=logged_in(other))
    assert response.status_code in (302, 400, 404)
    assert not Addendum.objects.exists()


def test_a_double_submit_makes_one_addendum(fake_pdf_renderer):
    session = finalized_session(drawn=False)
    client = logged_in(session.physician)
    post(session, client=client)
    post(session, client=client)
    assert Addendum.objects.count() == 1
    assert AuditEvent.objects.filter(action="addendum.withdrawal").count() == 1


def test_a_patient_signature_on_a_correction_is_refused_with_a_message(fake_pdf_renderer):
    session = finalized_session(drawn=False)
    response = post(session, kind="correction", patient_name="Maria Keller")
    assert response.status_code == 400
    assert "Only a withdrawal of consent carries the patient" in response.content.decode()
    assert not Addendum.objects.exists()


def test_downloads_are_audited_and_byte_for_byte(fake_pdf_renderer):
    record = finalized_record()
    addendum = addendum_added(record=record, kind="withdrawal", text="Withdrawn.")
    session = record.session
    tail = f"addenda/{addendum.addendum_id}.pdf"
    staff = logged_in(session.physician).get(url(session, tail))
    assert b"".join(staff.streaming_content) == FAKE_ADDENDUM_PDF
    audit = logged_in(auditor()).get(f"/audit/sessions/{session.public_id}/{tail}")
    assert b"".join(audit.streaming_content) == FAKE_ADDENDUM_PDF
    events = AuditEvent.objects.filter(action="addendum.downloaded")
    assert events.count() == 2
    assert {e.payload["addendum_id"] for e in events} == {addendum.addendum_id}
    missing = logged_in(session.physician).get(url(session, "addenda/CR-0-A9.pdf"))
    assert missing.status_code == 404


def test_the_auditor_sees_the_addendum_in_the_record_page_and_csv(fake_pdf_renderer):
    record = finalized_record()
    addendum = addendum_added(
        record=record, kind="withdrawal", text="Withdrawn.", patient_name="Maria Keller"
    )
    client = logged_in(auditor())
    page = client.get(f"/audit/sessions/{record.session.public_id}/").content.decode()
    assert addendum.addendum_id in page
    assert addendum.pdf_sha256 in page
    assert f"/audit/sessions/{record.session.public_id}/addenda/{addendum.addendum_id}.pdf" in page
    response = client.get("/audit/records.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    (row,) = [r for r in rows if r["record_id"] == record.record_id]
    assert row["decision"] == "withdrawn"
    assert row["addenda"].startswith(f"{addendum.addendum_id} withdrawal ")


def test_the_analytics_count_withdrawals(fake_pdf_renderer):
    record = finalized_record()
    addendum_added(record=record, kind="withdrawal", text="Withdrawn.")
    addendum_added(record=record, kind="correction", text="A note.")
    html = logged_in(auditor()).get("/audit/analytics/").content.decode()
    block = html.split('class="analytics-withdrawals"')[1].split("</div>")[0]
    assert "<dd>1</dd>" in block


def test_the_patient_sees_the_withdrawal_and_downloads_it(fake_pdf_renderer):
    from consent.services import signatures

    session = decided_session(drawn=False)
    client = patient_client(session)  # the patient's link, opened before finalization
    record = signatures.session_finalize(
        session=session, physician=session.physician, password=PASSWORD, render_pdf=fake_pdf_render
    )
    addendum = addendum_added(record=record, kind="withdrawal", text="Withdrawn in clinic.")
    page = client.get("/patient/decision/")
    body = page.content.decode()
    assert "Withdrawal of consent on" in body
    assert "Withdrawn in clinic." in body
    download = client.get(f"/patient/addenda/{addendum.addendum_id}.pdf")
    assert b"".join(download.streaming_content) == FAKE_ADDENDUM_PDF
    assert AuditEvent.objects.filter(action="addendum.downloaded", role="patient").exists()
