"""The three server errors the first fuzzing found (issue 12), each now refused or handled
with a message, on SQLite and PostgreSQL alike."""

import base64

import pytest
import weasyprint  # noqa: F401  (sets LOAD_TRUNCATED_IMAGES for the process, as in production)
from PIL import ImageFile

from consent.forms.patient import MESSAGE_SIGNATURE_UNREADABLE
from consent.models import PatientQuestion, Signature
from consent.services import ServiceError
from consent.services.signatures import png_chunks_whole, signature_image_check
from tests.factories import attested_session, auditor, consent_session, finalized_record
from tests.fuzz.strategies import PNG, PNG_CUT_AFTER_DATA, patient, staff

pytestmark = pytest.mark.django_db


def test_the_audit_filter_until_the_last_day_of_the_calendar_lists_everything():
    record = finalized_record()
    client = staff(auditor())
    response = client.post("/audit/", {"date_from": "0001-01-01", "date_to": "9999-12-31"})
    assert response.status_code == 302
    # The filters are kept in the auditor's session: the list and the export read them again.
    listed = client.get("/audit/")
    assert listed.status_code == 200
    assert record.record_id in listed.content.decode()
    exported = client.get("/audit/records.csv")
    assert record.record_id in b"".join(exported.streaming_content).decode()


def test_a_signature_cut_after_its_image_data_is_refused_with_a_message():
    assert ImageFile.LOAD_TRUNCATED_IMAGES, "WeasyPrint's process-wide setting is the attack"
    assert not png_chunks_whole(PNG_CUT_AFTER_DATA)
    assert png_chunks_whole(PNG)
    with pytest.raises(ServiceError):
        signature_image_check(PNG_CUT_AFTER_DATA)
    # A PNG whose image data chunk is renamed has no image at all (Pillow: IndexError too).
    renamed = PNG.replace(b"IDAT", b"IDAX", 1)
    with pytest.raises(ServiceError):
        signature_image_check(renamed)
    session = attested_session()
    client = patient(session)
    drawn = "data:image/png;base64," + base64.b64encode(PNG_CUT_AFTER_DATA).decode()
    response = client.post(
        "/patient/decision/",
        {"statements": ["0", "1", "2"], "typed_name": session.patient_name, "signature": drawn},
    )
    assert response.status_code == 400
    assert str(MESSAGE_SIGNATURE_UNREADABLE)[:40] in response.content.decode()
    assert not Signature.objects.filter(
        session=session, kind=Signature.Kind.PATIENT_CONSENT
    ).exists()


@pytest.mark.parametrize(
    "next_path", ["/patient/\x00", "/patient/%00", "/patient/nowhere/", "/patient/" + "a" * 300]
)
def test_a_question_asked_with_a_forged_return_path_goes_back_to_the_patients_place(next_path):
    session = consent_session()
    client = patient(session)
    assert client.get("/patient/ask/", {"next": next_path}).status_code == 200
    response = client.post(
        "/patient/ask/?" + _query(next_path),
        {"text": "May I drive home?", "form_id": "8c7d1f0e-2b8a-4a39-9f52-1d8f8a1f2c3b"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/patient/"
    asked = PatientQuestion.objects.get(session=session)
    assert asked.asked_from == "/patient/"


def test_a_real_patient_page_is_still_where_the_patient_goes_back_to():
    session = consent_session()
    client = patient(session)
    response = client.post(
        "/patient/ask/?next=/patient/section/2/",
        {"text": "May I drive home?", "form_id": "8c7d1f0e-2b8a-4a39-9f52-1d8f8a1f2c3c"},
    )
    assert response["Location"] == "/patient/section/2/"


def _query(next_path: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": next_path})
