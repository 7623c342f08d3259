"""The patient's decision through the test client: consent (drawn or typed), informed refusal,
an interpreter's or a witness's signature, and the patient's copy of the finalized record.
Every refusal says what is wrong, keeps what was typed and stores nothing."""

import base64
import io
import os
import re

import pytest
from django.test import Client
from PIL import Image
from pypdf import PdfReader

from consent import services
from consent.forms.patient import MESSAGE_SIGNATURE_TOO_LARGE, MESSAGE_SIGNATURE_UNREADABLE
from consent.models import AuditEvent, ConsentSession, Question, Signature
from consent.selectors.session import record_data_get
from consent.services import review as review_services
from consent.services import signatures as signature_services
from tests.factories import (
    PASSWORD,
    birth_date_post,
    consent_session,
    issue_link,
    patient_client,
    read_all_sections,
    right_answer,
    submit,
)

pytestmark = pytest.mark.django_db

Status = ConsentSession.Status
Kind = Signature.Kind
DECISION = "/patient/decision/"
DECLINE = "/patient/decision/decline/"
COMPANION = "/patient/decision/companion/"
RECORD = "/patient/record.pdf"
ALL_STATEMENTS = ["0", "1", "2"]
NAME = "Jeanne Testpatient"


def png(width: int = 120, height: int = 40, *, noise: bool = False) -> bytes:
    """A real PNG: a short dark line on white, or random noise (which does not compress)."""
    if noise:
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), "white")
        for x in range(10, width - 10):
            image.putpixel((x, height // 2), (11, 31, 51))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


DRAWING = png()


def ready_for_discussion(session: ConsentSession) -> Client:
    """The patient reads every section and answers every question right."""
    client = patient_client(session)
    read_all_sections(client, session)
    for question in session.procedure_version.questions.order_by("position"):
        submit(client, question.position, right_answer(question))
    session.refresh_from_db()
    assert session.status == Status.READY_FOR_DISCUSSION
    return client


def attest(session: ConsentSession) -> None:
    """The physician reviews the answers in the patient's own words and attests."""
    for question in session.procedure_version.questions.filter(kind=Question.Kind.FREE_TEXT):
        review_services.question_review_save(
            session=session,
            question=question,
            covered_key_points=[0],
            note="",
            physician=session.physician,
        )
    assert signature_services.attestation_blockers(record_data_get(session=session)) == []
    signature_services.session_attest(
        session=session, physician=session.physician, password=PASSWORD
    )
    session.refresh_from_db()
    assert session.status == Status.ATTESTED


def finalize(session: ConsentSession):
    return signature_services.session_finalize(
        session=session,
        physician=session.physician,
        password=PASSWORD,
        render_pdf=lambda session, record_id: b"%PDF-1.7 test",
    )


@pytest.fixture
def session():
    return consent_session(patient_name=NAME)


@pytest.fixture
def patient(session):
    client = ready_for_discussion(session)
    attest(session)
    return client


def consent_post(**overrides):
    data = {"statements": ALL_STATEMENTS, "typed_name": NAME, "signature": ""}
    data.update(overrides)
    return data


def sign_consent(patient, **overrides):
    return patient.post(DECISION, consent_post(**overrides))


def body(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def actions(session) -> list[str]:
    return list(AuditEvent.objects.filter(session=session).values_list("action", flat=True))


def assert_nothing_signed(session):
    session.refresh_from_db()
    assert session.status == Status.ATTESTED
    assert not Signature.objects.filter(session=session).exclude(kind=Kind.ATTESTATION).exists()


# Getting to the decision


def test_after_attestation_the_patient_is_sent_to_the_decision(patient):
    assert patient.get("/patient/")["Location"] == DECISION


def test_decision_page_shows_the_statements_the_attestation_and_both_paths(session, patient):
    response = patient.get(DECISION)
    page = body(response)
    assert response.status_code == 200
    for statement in signature_services.PATIENT_CONSENT_STATEMENTS:
        assert str(statement) in page
    assert page.count('type="checkbox" name="statements"') == 3
    attestation = Signature.objects.get(session=session, kind=Kind.ATTESTATION)
    assert "Alex Martin signed on" in page
    assert attestation.meaning in page
    assert f'href="{DECLINE}"' in page
    assert "Decline the procedure" in page
    assert session.procedure_version.title in page
    # The drawing area is there for JavaScript to show; the typed name works without it.
    assert "data-signature-pad" in page
    assert re.search(r"<div[^>]*data-signature-pad[^>]*hidden>", page)
    assert 'src="/static/consent/signature.js"' in page
    # Questions written now could not be answered before signing: ask in person instead.
    assert "/patient/ask/" not in page


def test_summary_points_to_the_decision_once_attested(patient):
    page = body(patient.get("/patient/summary/"))
    assert "You can now make your decision." in page
    assert f'href="{DECISION}"' in page


# Consent


def test_consent_with_a_drawn_png_is_stored_with_the_picture(session, patient):
    response = sign_consent(
        patient, typed_name="  Jeanne   Testpatient ", signature=data_url(DRAWING)
    )
    assert response.status_code == 302
    assert response["Location"] == DECISION
    signature = Signature.objects.get(session=session, kind=Kind.PATIENT_CONSENT)
    assert signature.printed_name == NAME
    assert signature.method == Signature.Method.DRAWN
    assert bytes(signature.image) == DRAWING
    assert signature.meaning == str(signature_services.MEANINGS[Kind.PATIENT_CONSENT])
    for statement in signature_services.PATIENT_CONSENT_STATEMENTS:
        assert str(statement) in signature.statement
    session.refresh_from_db()
    assert session.status == Status.SIGNED
    assert session.decided_at == signature.signed_at
    assert actions(session)[-2:] == ["signature.patient_consent", "session.signed"]
    event = AuditEvent.objects.get(session=session, action="signature.patient_consent")
    assert event.role == AuditEvent.Role.PATIENT
    assert event.payload["drawn"] is True
    assert event.payload["method"] == "drawn"

    done = patient.get(DECISION)
    page = body(done)
    assert "Thank you. Your decision is recorded." in body(done)
    assert "You agreed to have the procedure." in page
    assert f"Signed by {NAME} on" in page
    assert data_url(DRAWING) in page  # the patient sees the signature they drew
    assert f'href="{COMPANION}"' in page
    assert "Please hand the device back" in page


def test_consent_with_the_typed_name_only_is_accepted(session, patient):
    response = sign_consent(patient)
    assert response.status_code == 302
    signature = Signature.objects.get(session=session, kind=Kind.PATIENT_CONSENT)
    assert signature.method == Signature.Method.TYPED
    assert signature.image is None
    event = AuditEvent.objects.get(session=session, action="signature.patient_consent")
    assert event.payload["drawn"] is False


@pytest.mark.parametrize(
    "ticked", [[], ["0"], ["0", "1"], ["1", "2"], ["0", "0", "1"], ["0", "1", "7"]]
)
def test_a_missing_statement_is_refused_and_what_was_typed_is_kept(session, patient, ticked):
    response = sign_consent(patient, statements=ticked, signature=data_url(DRAWING))
    page = body(response)
    assert response.status_code == 400
    assert "Please confirm each statement before signing." in page
    assert f'value="{NAME}"' in page
    # The drawing comes back too, so that the patient need not draw it again.
    assert f'value="{data_url(DRAWING)}"' in page
    assert_nothing_signed(session)


def test_ticked_statements_stay_ticked_when_the_name_is_missing(session, patient):
    response = sign_consent(patient, typed_name="   ")
    page = body(response)
    assert response.status_code == 400
    assert str(signature_services.ERROR_NAME_REQUIRED) in page
    assert len(re.findall(r'<input[^>]*name="statements"[^>]*checked', page)) == 3
    assert 'href="#field-typed_name"' in page
    assert_nothing_signed(session)


def test_a_name_longer_than_the_record_holds_is_refused(session, patient):
    response = sign_consent(patient, typed_name="J" * 201)
    assert response.status_code == 400
    assert "Your name can be at most 200 characters long." in body(response)
    assert_nothing_signed(session)


NOT_A_PNG = [
    pytest.param(data_url(b"\xff\xd8\xff\xe0" + b"\x00" * 100, "image/jpeg"), id="jpeg"),
    pytest.param(data_url(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"), id="svg"),
    pytest.param(data_url(b"GIF89a" + b"\x00" * 50), id="gif-named-png"),
    pytest.param(data_url(signature_services.PNG_MAGIC + b"not really a png"), id="png-magic-only"),
    pytest.param(data_url(DRAWING[: len(DRAWING) // 2]), id="truncated-png"),
    pytest.param(data_url(png(7000, 12)), id="png-wider-than-any-screen"),
    pytest.param("data:image/png;base64,@@@not base64@@@", id="not-base64"),
    pytest.param("data:image/png;base64,", id="empty-png"),
    pytest.param(base64.b64encode(DRAWING).decode(), id="no-data-url"),
    pytest.param("javascript:alert(1)", id="script-url"),
]


@pytest.mark.parametrize("signature", NOT_A_PNG)
def test_a_drawing_that_is_not_a_png_is_refused_with_a_clear_message(session, patient, signature):
    response = sign_consent(patient, signature=signature)
    page = body(response)
    assert response.status_code == 400
    assert str(MESSAGE_SIGNATURE_UNREADABLE) in page
    assert f'value="{NAME}"' in page
    assert 'href="#field-signature"' in page
    # The refused data never comes back into the page.
    assert f'value="{signature}"' not in page
    assert_nothing_signed(session)


def test_a_png_over_the_size_limit_is_refused(session, patient):
    big = png(500, 400, noise=True)
    assert len(big) > signature_services.MAX_SIGNATURE_BYTES
    response = sign_consent(patient, signature=data_url(big))
    assert response.status_code == 400
    assert str(MESSAGE_SIGNATURE_TOO_LARGE) in body(response)
    assert_nothing_signed(session)


TEN_MB_DATA_URL = "data:image/png;base64," + "A" * (10 * 1024 * 1024)


def test_a_ten_megabyte_data_url_is_refused_with_a_page_that_says_so(session, patient):
    response = sign_consent(patient, signature=TEN_MB_DATA_URL)
    assert response.status_code == 413
    assert "That was too large to store" in body(response)
    assert "nothing was signed" in body(response)
    assert_nothing_signed(session)


def test_a_ten_megabyte_post_from_a_real_browser_is_stopped_before_any_view(session, patient):
    """With CSRF checks on, as in a browser, Django refuses to read so large a body: a 400
    before any view runs, and nothing is stored."""
    browser = Client(enforce_csrf_checks=True)
    browser.get(issue_link(session))
    browser.get("/patient/identity/")
    token = browser.cookies["csrftoken"].value
    verified = browser.post(
        "/patient/identity/", {**birth_date_post(), "csrfmiddlewaretoken": token}
    )
    assert verified["Location"] == "/patient/"
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        DECISION, consent_post(signature=TEN_MB_DATA_URL, csrfmiddlewaretoken=token)
    )
    assert response.status_code == 400
    assert_nothing_signed(session)


def test_the_decision_before_attestation_is_refused_and_nothing_is_stored(session):
    client = ready_for_discussion(session)
    response = client.get(DECISION, follow=True)
    assert response.redirect_chain[-1][0] == "/patient/summary/"
    assert any("once your doctor has talked" in m for m in messages_of(response))
    for url, data in [(DECISION, consent_post()), (DECLINE, {"typed_name": NAME})]:
        response = client.post(url, data)
        assert response.status_code == 302
        assert response["Location"] == "/patient/"
    assert client.get(COMPANION)["Location"] == "/patient/"
    session.refresh_from_db()
    assert session.status == Status.READY_FOR_DISCUSSION
    assert not Signature.objects.filter(session=session).exists()
    assert not [a for a in actions(session) if a.startswith("signature.")]


def test_a_double_submitted_consent_is_stored_once(session, patient):
    first = sign_consent(patient, signature=data_url(DRAWING))
    second = sign_consent(patient, typed_name="Someone Else")
    assert first.status_code == second.status_code == 302
    assert second["Location"] == DECISION
    followed = patient.get(DECISION)
    assert "Your decision is already recorded. Nothing was changed." in messages_of(followed)
    signature = Signature.objects.get(session=session, kind=Kind.PATIENT_CONSENT)
    assert signature.printed_name == NAME
    assert actions(session).count("signature.patient_consent") == 1
    assert actions(session).count("session.signed") == 1


def test_a_refusal_from_signing_is_shown_on_the_form(session, patient, monkeypatch):
    """Should signing refuse what the form let through, the patient sees why on the form."""

    def refuse(**kwargs):
        raise services.ServiceError(signature_services.ERROR_STATEMENTS)

    monkeypatch.setattr(signature_services, "patient_consent_sign", refuse)
    response = sign_consent(patient)
    assert response.status_code == 400
    assert str(signature_services.ERROR_STATEMENTS) in body(response)
    assert_nothing_signed(session)


# Informed refusal


def test_decline_with_a_reason(session, patient):
    page = body(patient.get(DECLINE))
    assert str(signature_services.PATIENT_REFUSAL_STATEMENT) in page
    response = patient.post(
        DECLINE,
        {"reason": "  I would rather keep my medicines.  ", "typed_name": NAME, "signature": ""},
    )
    assert response.status_code == 302
    assert response["Location"] == DECISION
    session.refresh_from_db()
    assert session.status == Status.DECLINED
    assert session.decline_reason == "I would rather keep my medicines."
    signature = Signature.objects.get(session=session, kind=Kind.PATIENT_REFUSAL)
    assert signature.statement == str(signature_services.PATIENT_REFUSAL_STATEMENT)
    assert signature.method == Signature.Method.TYPED
    assert actions(session)[-2:] == ["signature.patient_refusal", "session.declined"]
    event = AuditEvent.objects.get(session=session, action="session.declined")
    # The reason stays in its own row, never in the log.
    assert event.payload == {"reason_given": True}

    done = patient.get(DECISION)
    page = body(done)
    assert "You decided not to have the procedure." in page
    assert "I would rather keep my medicines." in page


def test_decline_without_a_reason_and_with_a_drawing(session, patient):
    response = patient.post(DECLINE, {"typed_name": NAME, "signature": data_url(DRAWING)})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == Status.DECLINED
    assert session.decline_reason == ""
    signature = Signature.objects.get(session=session, kind=Kind.PATIENT_REFUSAL)
    assert signature.method == Signature.Method.DRAWN
    assert bytes(signature.image) == DRAWING
    event = AuditEvent.objects.get(session=session, action="session.declined")
    assert event.payload == {"reason_given": False}


def test_decline_without_a_name_is_refused_and_the_reason_is_kept(session, patient):
    response = patient.post(DECLINE, {"reason": "Too frightened.", "typed_name": ""})
    page = body(response)
    assert response.status_code == 400
    assert str(signature_services.ERROR_NAME_REQUIRED) in page
    assert "Too frightened.</textarea>" in page
    assert_nothing_signed(session)


def test_a_reason_longer_than_2000_characters_is_refused_and_kept(session, patient):
    reason = "I am not sure. " * 200
    response = patient.post(DECLINE, {"reason": reason, "typed_name": NAME})
    page = body(response)
    assert response.status_code == 400
    assert "Please shorten it to 2000 characters or fewer: your text is still in the box." in page
    assert reason.strip() in page
    assert_nothing_signed(session)


def test_after_declining_consent_can_no_longer_be_signed(session, patient):
    patient.post(DECLINE, {"typed_name": NAME})
    response = sign_consent(patient)
    assert response["Location"] == DECISION
    assert patient.get(DECLINE)["Location"] == DECISION
    assert not Signature.objects.filter(session=session, kind=Kind.PATIENT_CONSENT).exists()
    session.refresh_from_db()
    assert session.status == Status.DECLINED


# Interpreter and witness


def test_an_interpreter_and_then_a_witness_sign_after_the_decision(session, patient):
    sign_consent(patient)
    page = body(patient.get(COMPANION))
    assert str(signature_services.INTERPRETER_STATEMENT) in page
    assert str(signature_services.WITNESS_STATEMENT) in page

    response = patient.post(
        COMPANION, {"role": "interpreter", "typed_name": "Ana Lopes", "signature": ""}
    )
    assert response["Location"] == DECISION
    interpreter = Signature.objects.get(session=session, kind=Kind.INTERPRETER)
    assert interpreter.printed_name == "Ana Lopes"
    assert interpreter.statement == str(signature_services.INTERPRETER_STATEMENT)
    assert interpreter.method == Signature.Method.TYPED

    page = body(patient.get(COMPANION))
    assert str(signature_services.INTERPRETER_STATEMENT) not in page
    assert str(signature_services.WITNESS_STATEMENT) in page
    response = patient.post(
        COMPANION, {"role": "witness", "typed_name": "Paul Durand", "signature": data_url(DRAWING)}
    )
    witness = Signature.objects.get(session=session, kind=Kind.WITNESS)
    assert witness.method == Signature.Method.DRAWN
    assert bytes(witness.image) == DRAWING
    assert actions(session).count("signature.interpreter") == 1
    assert actions(session).count("signature.witness") == 1
    event = AuditEvent.objects.get(session=session, action="signature.witness")
    assert event.actor_label == "witness"

    done = patient.get(COMPANION, follow=True)
    assert "The interpreter and the witness have both signed." in messages_of(done)
    page = body(done)
    assert "Interpreter: Ana Lopes" in page
    assert "Witness: Paul Durand" in page
    assert f'href="{COMPANION}"' not in page


def test_a_companion_signing_twice_is_stored_once(session, patient):
    sign_consent(patient)
    data = {"role": "interpreter", "typed_name": "Ana Lopes"}
    patient.post(COMPANION, data)
    response = patient.post(COMPANION, {**data, "typed_name": "Ana Lopes-Again"})
    assert response["Location"] == DECISION
    followed = patient.get(DECISION)
    assert "The interpreter has already signed. Nothing was changed." in messages_of(followed)
    assert Signature.objects.get(session=session, kind=Kind.INTERPRETER).printed_name == "Ana Lopes"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"typed_name": "Ana Lopes"},
            "Choose whether you sign as the interpreter or as the witness.",
        ),
        ({"role": "surgeon", "typed_name": "Ana Lopes"}, "Choose whether you sign as the"),
        ({"role": "witness", "typed_name": " "}, str(signature_services.ERROR_NAME_REQUIRED)),
        (
            {"role": "witness", "typed_name": "Ana", "signature": "data:image/gif;base64,R0lG"},
            "The drawn signature could not be read.",
        ),
    ],
)
def test_a_companion_form_with_a_mistake_is_refused(session, patient, data, message):
    sign_consent(patient)
    response = patient.post(COMPANION, data)
    assert response.status_code == 400
    assert message in body(response)
    assert not Signature.objects.filter(
        session=session, kind__in=[Kind.INTERPRETER, Kind.WITNESS]
    ).exists()


def test_a_companion_cannot_sign_before_the_decision(session, patient):
    response = patient.post(COMPANION, {"role": "witness", "typed_name": "Paul Durand"})
    assert response["Location"] == DECISION
    assert not Signature.objects.filter(session=session, kind=Kind.WITNESS).exists()


# The patient's copy


def test_the_patient_copy_is_404_until_finalized_then_downloads(session, patient):
    assert patient.get(RECORD).status_code == 404
    sign_consent(patient)
    assert patient.get(RECORD).status_code == 404
    assert RECORD not in body(patient.get(DECISION))

    record = finalize(session)
    response = patient.get(RECORD)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 test"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{record.record_id}.pdf"'
    assert "no-store" in response["Cache-Control"]

    assert f'href="{RECORD}"' in body(patient.get(DECISION))
    assert f'href="{RECORD}"' in body(patient.get("/patient/summary/"))
    assert patient.get("/patient/")["Location"] == DECISION
    # Nothing more can be signed on a finalized record.
    response = patient.post(COMPANION, {"role": "witness", "typed_name": "Paul Durand"})
    assert response["Location"] == DECISION
    assert not Signature.objects.filter(session=session, kind=Kind.WITNESS).exists()


def test_the_patient_copy_needs_the_patients_own_session(session, patient):
    sign_consent(patient)
    finalize(session)
    assert Client().get(RECORD).status_code == 404
    other = consent_session(patient_name="Other Patient", doctor=session.physician)
    other_client = patient_client(other)
    assert other_client.get(RECORD).status_code == 404


def test_a_drawn_signature_goes_into_the_real_record_pdf(session, patient):
    sign_consent(patient, signature=data_url(DRAWING))
    patient.post(COMPANION, {"role": "witness", "typed_name": "Paul Durand"})
    record = signature_services.session_finalize(
        session=session, physician=session.physician, password=PASSWORD
    )
    response = patient.get(RECORD)
    pdf = b"".join(response.streaming_content)
    assert pdf.startswith(b"%PDF")
    assert len(pdf) == record.pdf_size
    images = [image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images]
    assert images, "the drawn signature is drawn in the record"
