"""The whole consent spine in two browsers at once, through the UI only: the physician makes the
session and its link, the patient reads and answers (one re-teach, own words, a question for the
doctor), the physician reviews and attests, the patient signs with a drawn signature, the
physician countersigns, and both download the same stored PDF record."""

import hashlib
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Download, expect
from pypdf import PdfReader

from consent.models import Attempt, ConsentRecord, ConsentSession, Question, Signature
from consent.rules import answer_text
from consent.services import signatures as signature_services
from tests import factories
from tests.browser import steps
from tests.browser.conftest import SLOW_STEP_MS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PATIENT_NAME = "Louise Spinewright"
# What the patient types to sign: their name, family name first. The name check
# (rules.typed_name_matches) accepts it, and the record prints it exactly as typed.
SIGNED_NAME = "Spinewright, Louise"
DOCTOR_QUESTION = "Can I keep taking my blood thinner before the procedure?"
DOCTOR_ANSWER = "Keep taking it until two days before; we will tell you exactly when to stop."
# After the consent form is sent, the browser keeps the form's "#agree" through the redirect.
DECISION_URL = re.compile(r"/patient/decision/(#agree)?$")


def flat(text: str) -> str:
    """Whitespace collapsed: the PDF wraps lines wherever its columns end."""
    return " ".join(text.split())


def downloaded(download: Download) -> bytes:
    path = download.path()
    assert path is not None
    return Path(path).read_bytes()


def test_consent_spine_from_new_session_to_both_copies_of_the_record(
    new_context, live_server, reading_clock
):
    base = live_server.url
    doctor = factories.physician()
    version = factories.mitraclip_version()
    questions = list(version.questions.order_by("position"))
    risk_common = next(q for q in questions if q.key == "risk-common")
    own_words = next(q for q in questions if q.kind == Question.Kind.FREE_TEXT)
    ask_from = next(q for q in questions if q.kind == Question.Kind.TRUE_FALSE)
    staff = new_context().new_page()
    patient = new_context().new_page()

    # 1. The physician makes the session and sees its link once, with a QR code.
    steps.staff_log_in(staff, base, doctor.username)
    staff.get_by_role("link", name="New consent session").click()
    staff.get_by_label("Patient's full name").fill(PATIENT_NAME)
    staff.get_by_label("Date of birth").fill(factories.BIRTH_DATE.isoformat())
    staff.get_by_label("Record number").fill("MRN-4242")
    staff.get_by_role("button", name="Create consent session").click()
    expect(staff.get_by_role("heading", name=PATIENT_NAME)).to_be_visible()
    expect(staff.locator(".patient-link-qr svg")).to_be_visible()
    link = staff.locator(".patient-link a").get_attribute("href")
    assert link and re.search(r"/link/[A-Za-z0-9_-]{43}/$", link)

    # 2. The patient reads everything, answers (one wrong once), asks a question: the summary.
    patient.goto(link)
    patient.wait_for_url(re.compile(r"/patient/identity/$"))
    steps.confirm_birth_date(patient)
    steps.read_every_section(patient, version.sections.count())
    for question in questions:
        patient.wait_for_url(re.compile(rf"/patient/question/{question.position}/$"))
        if question == risk_common:
            steps.answer(patient, question, right=False)
            expect(patient.get_by_role("heading", name="Not quite.")).to_be_visible()
            expect(patient.get_by_text(question.explanation)).to_be_visible()
            steps.continue_from_result(patient)
            expect(patient.get_by_text("Second look: take your time.")).to_be_visible()
        elif question == ask_from:
            question_url = patient.url
            patient.get_by_role("link", name="Ask your doctor a question").click()
            patient.get_by_label("Your question for the doctor").fill(DOCTOR_QUESTION)
            patient.get_by_role("button", name="Send the question").click()
            patient.wait_for_url(question_url)
            expect(patient.get_by_role("status")).to_contain_text("Your question was sent.")
        steps.answer(patient, question)
        if question != own_words:
            expect(patient.get_by_role("heading", name="That's right.")).to_be_visible()
        steps.continue_from_result(patient)
    patient.wait_for_url(re.compile(r"/patient/summary/$"))
    expect(patient.locator(".summary-understood li")).to_have_count(len(questions) - 1)
    expect(patient.locator(".asked")).to_contain_text(DOCTOR_QUESTION)

    # 3. The physician answers, reviews the own words, records the discussion and attests.
    staff.goto(base + "/staff/")
    staff.get_by_role("link", name=PATIENT_NAME).click()
    staff.get_by_role("link", name="Review and attest").click()
    staff.wait_for_url(re.compile(r"/staff/sessions/[0-9a-f-]{36}/review/$"))
    messages = staff.locator(".messages")

    asked = staff.locator("#patient-questions article")
    expect(asked).to_have_count(1)
    expect(asked.locator(".patient-question-text")).to_have_text(DOCTOR_QUESTION)
    asked.get_by_label("Your answer").fill(DOCTOR_ANSWER)
    asked.get_by_role("button", name="Save answer").click()
    expect(messages).to_contain_text("Your answer to the patient's question was saved.")

    words = staff.locator(f"#question-{own_words.pk}")
    expect(words.locator(".own-words-answer")).to_have_text(steps.FREE_TEXT_ANSWER)
    for point in own_words.key_points[1:3]:
        words.get_by_role("checkbox", name=point).check()
    words.get_by_role("button", name="Save the review").click()
    expect(messages).to_contain_text(f"Your review of question {own_words.position} was saved.")
    expect(words.get_by_text("reviewed", exact=True)).to_be_visible()

    risks = version.sections.get(kind="risks")
    alternative = version.alternatives.order_by("pk").first()
    discussion = staff.locator("#discussion")
    discussion.get_by_role("checkbox", name=f"Risks: {risks.title}").check()
    discussion.get_by_label("Notes on the verbal teach-back").fill("Explained bleeding back.")
    discussion.get_by_role("checkbox", name=alternative.name).check()
    discussion.get_by_role("button", name="Save the discussion").click()
    expect(messages).to_contain_text("The record of the discussion was saved.")

    attestation = staff.locator("#attestation")
    expect(attestation.locator(".attestation-blockers")).to_have_count(0)
    attestation.get_by_label("Your password").fill(factories.PASSWORD)
    attestation.get_by_role("button", name="Sign the attestation").click()
    expect(messages).to_contain_text("You signed the attestation.")
    expect(attestation.locator(".signature-name")).to_have_text(doctor.get_full_name())
    expect(attestation.locator(".signature-meaning")).to_have_text(
        str(signature_services.MEANINGS[signature_services.Kind.ATTESTATION])
    )

    # 4. The patient comes back, is sent to the decision, ticks, types, draws and signs.
    patient.goto(base + "/patient/")
    patient.wait_for_url(DECISION_URL)
    expect(patient.get_by_text(f"{doctor.get_full_name()} signed on")).to_be_visible()
    patient.get_by_role("link", name="Agree and sign").click()
    for statement in signature_services.PATIENT_CONSENT_STATEMENTS:
        patient.get_by_role("checkbox", name=str(statement)).check()
    patient.get_by_label("Your full name").fill(SIGNED_NAME)
    steps.draw_signature(patient)
    patient.get_by_role("button", name="Sign my consent").click()
    patient.wait_for_url(DECISION_URL)
    expect(
        patient.get_by_role("heading", name="Thank you. Your decision is recorded.")
    ).to_be_visible()
    expect(patient.get_by_role("heading", name="You agreed to have the procedure.")).to_be_visible()
    expect(patient.get_by_role("img", name="Your drawn signature")).to_be_visible()

    # 5. The physician countersigns and finalizes, then downloads the stored record.
    staff.reload()
    expect(staff.locator(".session-status")).to_have_text(str(ConsentSession.Status.SIGNED.label))
    countersign = staff.locator("#finalize")
    countersign.get_by_label("Your password").fill(factories.PASSWORD)
    # The server renders and seals the PDF before it answers: wait for that, however slow.
    countersign.get_by_role("button", name="Countersign and finalize").click(timeout=SLOW_STEP_MS)
    staff.wait_for_url(re.compile(r"/review/#record$"), timeout=SLOW_STEP_MS)
    record_link = staff.get_by_role("link", name="Download the record (PDF)")
    expect(record_link).to_be_visible(timeout=SLOW_STEP_MS)
    with staff.expect_download() as staff_download:
        record_link.click()
    pdf = downloaded(staff_download.value)

    record = ConsentRecord.objects.get(session__patient_name=PATIENT_NAME)
    assert staff_download.value.suggested_filename == f"{record.record_id}.pdf"
    assert hashlib.sha256(pdf).hexdigest() == record.pdf_sha256
    text = flat(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    assert PATIENT_NAME in text
    assert record.record_id in text
    assert doctor.get_full_name() in text
    assert SIGNED_NAME in text
    # Every prompt whole (none is hyphenated: the record's stylesheet does not hyphenate).
    missing = [q.prompt for q in questions if flat(q.prompt) not in text]
    assert not missing, f"prompts not in the PDF: {missing}"
    # The wrong first attempt, in its own row: round 1, the answer chosen, marked wrong.
    first_try = Attempt.objects.get(session=record.session_id, question=risk_common, round=1)
    assert first_try.is_correct is False
    wrong_answer = answer_text(risk_common, first_try.answer)
    assert re.search(rf"\bRound 1 · {re.escape(wrong_answer)} · ✗ wrong\b", text), wrong_answer

    # 6. The patient's copy, from the done page, is the same stored file.
    patient.reload()
    copy_link = patient.get_by_role("link", name="Download your copy (PDF)")
    expect(copy_link).to_be_visible()
    with patient.expect_download() as patient_download:
        copy_link.click()
    assert downloaded(patient_download.value) == pdf

    session = ConsentSession.objects.get(pk=record.session_id)
    assert session.status == ConsentSession.Status.FINALIZED
    assert session.physician == doctor
    consent = Signature.objects.get(session=session, kind=Signature.Kind.PATIENT_CONSENT)
    assert consent.method == Signature.Method.DRAWN
    assert consent.printed_name == SIGNED_NAME
    assert bytes(consent.image).startswith(b"\x89PNG")
    attempts = session.attempts.filter(question=risk_common).order_by("round")
    assert [(a.round, a.is_correct) for a in attempts] == [(1, False), (2, True)]
