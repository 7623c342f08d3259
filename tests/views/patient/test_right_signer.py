"""The right signer through the test client: "Mickey Mouse" cannot sign for Maria Lopez; a
legal representative can, saying so, and is shown as such on the physician's review page, in
the record's JSON, its PDF and FHIR; a patient's signature made in a browser where a staff
account is logged in is flagged on the review page and to the auditor."""

import hashlib
import html
import io
import json

import pytest
from pypdf import PdfReader

from consent.models import AuditEvent, ConsentRecord, ConsentSession, Signature
from consent.record.fhir import record_fhir_bundle
from consent.services import signatures as signature_services
from tests.factories import PASSWORD, attested_session, auditor, logged_in, patient_client
from tests.record.test_fhir import assert_valid_r4, resource

pytestmark = pytest.mark.django_db

Status = ConsentSession.Status
DECISION = "/patient/decision/"
DECLINE = "/patient/decision/decline/"
MICKEY = "Mickey Mouse"
MISMATCH = (
    "The name you typed, 'Mickey Mouse', does not match the patient's name. Type the "
    "patient's name, or sign as their legal representative."
)


@pytest.fixture
def session():
    return attested_session(patient_name="Maria Lopez")


@pytest.fixture
def patient(session):
    return patient_client(session)


def consent_post(**fields):
    return {"statements": ["0", "1", "2"], "typed_name": "Maria Lopez", "signature": "", **fields}


def page(response) -> str:
    return html.unescape(response.content.decode())


def review_page(session) -> str:
    response = logged_in(session.physician).get(f"/staff/sessions/{session.public_id}/review/")
    assert response.status_code == 200
    return " ".join(page(response).split())


def nothing_signed(session, events: int) -> None:
    session.refresh_from_db()
    assert session.status == Status.ATTESTED
    assert not Signature.objects.filter(
        session=session, kind__in=["patient_consent", "patient_refusal"]
    ).exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("url", "extra"), [(DECISION, {}), (DECLINE, {"reason": "No."})])
def test_mickey_mouse_cannot_sign_for_maria_lopez(session, patient, url, extra):
    events = AuditEvent.objects.count()
    data = {**consent_post(typed_name=MICKEY), **extra}
    if url == DECLINE:
        del data["statements"]

    response = patient.post(url, data)

    assert response.status_code == 400
    text = page(response)
    assert MISMATCH in text
    # Beside the name box, and listed at the top with a link to it; what was typed is kept.
    assert 'id="typed-name-error"' in text
    assert 'href="#field-typed_name"' in text
    assert 'value="Mickey Mouse"' in text
    nothing_signed(session, events)


def test_a_representative_must_give_their_relationship(session, patient):
    events = AuditEvent.objects.count()

    response = patient.post(DECISION, consent_post(typed_name=MICKEY, as_representative="on"))

    assert response.status_code == 400
    text = page(response)
    assert "Say how you are related to the patient" in text
    assert 'href="#field-relationship"' in text
    assert 'checked aria-describedby="representative-hint"' in text  # the tick is kept
    nothing_signed(session, events)


@pytest.mark.parametrize("typed", ["maria lopez", "LÓPEZ, María", "Lopez Maria", "MARIA  LOPEZ"])
def test_the_patients_name_as_people_write_it_signs(session, patient, typed):
    response = patient.post(DECISION, consent_post(typed_name=typed))

    assert response.status_code == 302
    signature = Signature.objects.get(session=session, kind="patient_consent")
    assert signature.representative_name == ""
    assert not signature.staff_browser


def test_maria_elena_lopez_is_refused_for_a_patient_registered_as_maria_lopez(session, patient):
    response = patient.post(DECISION, consent_post(typed_name="Maria Elena Lopez"))
    assert response.status_code == 400
    assert "does not match the patient's name" in page(response)


def test_a_representative_is_accepted_and_shown_everywhere(session, patient):
    response = patient.post(
        DECISION,
        consent_post(typed_name=MICKEY, as_representative="on", relationship="Son"),
    )
    assert response.status_code == 302

    signature = Signature.objects.get(session=session, kind="patient_consent")
    assert (signature.printed_name, signature.representative_name) == (MICKEY, MICKEY)
    assert signature.representative_relationship == "Son"
    key = patient.session.session_key
    assert signature.browser_session_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert key not in json.dumps(
        list(Signature.objects.filter(pk=signature.pk).values()), default=str
    )
    assert signature.address == "127.0.0.1"
    # The physician's review page.
    review = review_page(session)
    assert "signed by a legal representative" in review
    assert "Mickey Mouse, the patient's legal representative (Son)" in review
    # The record's canonical JSON.
    record = finalize(session)
    (stored,) = [
        s for s in json.loads(record.record_json)["signatures"] if s["kind"] == "patient_consent"
    ]
    assert stored["representative_name"] == MICKEY
    assert stored["representative_relationship"] == "Son"
    # FHIR: a RelatedPerson decided, for the Patient; still valid R4.
    bundle = record_fhir_bundle(record, base_url="https://consent.example-hospital.org")
    assert_valid_r4(bundle)
    person = resource(bundle, "RelatedPerson")
    assert person["name"] == [{"text": MICKEY}]
    assert person["relationship"] == [{"text": "Son"}]
    consent = resource(bundle, "Consent")
    related = f"urn:uuid:{person['id']}"
    assert consent["performer"] == [{"reference": related}]
    patient_ref = {"reference": f"urn:uuid:{resource(bundle, 'Patient')['id']}"}
    (agent,) = [
        a for a in resource(bundle, "Provenance")["agent"] if a["who"].get("reference") == related
    ]
    assert agent["onBehalfOf"] == patient_ref
    (sig,) = [
        s
        for s in resource(bundle, "Provenance")["signature"]
        if s["who"].get("reference") == related
    ]
    assert sig["onBehalfOf"] == patient_ref


def finalize(session, *, real_pdf: bool = False) -> ConsentRecord:
    return signature_services.session_finalize(
        session=session,
        physician=session.physician,
        password=PASSWORD,
        render_pdf=None if real_pdf else (lambda _session, _record_id: b"%PDF-1.7 test"),
    )


def test_a_patient_signature_beside_a_staff_log_in_is_flagged(session, patient):
    # The patient's link is open in this browser; then someone logs in as staff in it.
    patient.force_login(session.physician)

    response = patient.post(DECISION, consent_post())

    assert response.status_code == 302
    signature = Signature.objects.get(session=session, kind="patient_consent")
    assert signature.staff_browser
    assert signature.staff_browser_user == session.physician
    assert (
        "Warning: this was signed in a browser where a staff account (Alex Martin) was logged "
        "in." in review_page(session)
    )
    response = logged_in(auditor()).get(f"/audit/sessions/{session.public_id}/")
    text = " ".join(page(response).split())
    assert "signature-staff-browser" in text
    assert "Warning: signed in a browser where a staff account (Alex Martin) was logged in." in text


def test_the_patients_own_browser_is_not_flagged(session, patient):
    patient.post(DECISION, consent_post())
    signature = Signature.objects.get(session=session, kind="patient_consent")
    assert not signature.staff_browser
    assert "signature-staff-browser" not in review_page(session)


def test_the_pdf_says_who_signed_for_the_patient_and_flags_the_staff_browser(session, patient):
    """Rendered and sealed for real (a few seconds): the words are on the page."""
    patient.force_login(session.physician)
    patient.post(
        DECISION, consent_post(typed_name=MICKEY, as_representative="on", relationship="Son")
    )
    record = finalize(session, real_pdf=True)

    with record.pdf.open("rb") as stored:
        text = " ".join(
            " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(stored.read())).pages
        )
    assert "Mickey Mouse, the patient's legal representative (Son)" in text
    assert "Warning: signed in a browser where a staff account (Alex Martin) was logged in." in text
    # patient_client made the link after the attestation, with the factories' reason.
    assert "Link re-issued after attestation on" in text
    assert "by Alex Martin: A link for the patient's own browser." in text
