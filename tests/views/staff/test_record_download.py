"""Downloads of a finalized record are byte-identical to what was stored, and audited."""

import pytest

from consent.models import AuditEvent
from consent.services import signatures as signature_services
from tests.factories import PASSWORD, attested_session, auditor, logged_in, patient_client

pytestmark = pytest.mark.django_db


def fake_pdf(session, record_id):
    return b"%PDF-1.7 " + record_id.encode()


@pytest.fixture
def finalized_with_patient():
    """A finalized record, and the patient's browser that opened its link before."""
    session = attested_session()
    # No new link is made for a finalized session: the patient keeps the one they had.
    patient = patient_client(session)
    signature_services.patient_consent_sign(
        session=session, confirmed_statements=3, typed_name="Jeanne Testpatient", image=None
    )
    record = signature_services.session_finalize(
        session=session, physician=session.physician, password=PASSWORD, render_pdf=fake_pdf
    )
    return record, patient


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return b"".join(response.streaming_content)


def test_physician_auditor_and_patient_each_get_the_stored_bytes_and_each_is_audited(
    finalized_with_patient,
):
    record, patient = finalized_with_patient
    session = record.session
    stored = record.pdf.open("rb").read()
    physician = logged_in(session.physician)
    watcher = logged_in(auditor())
    url = f"/staff/sessions/{session.public_id}/record.pdf"
    assert download(physician, url) == stored
    assert download(watcher, url) == stored
    assert download(patient, "/patient/record.pdf") == stored
    events = AuditEvent.objects.filter(session=session, action="record.downloaded")
    assert list(events.values_list("role", flat=True)) == ["physician", "auditor", "patient"]
    assert events.first().payload == {"record_id": record.record_id, "sha256": record.pdf_sha256}
