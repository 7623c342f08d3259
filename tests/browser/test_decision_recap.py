"""The decision page opens with a recap, in a real browser: the patient reads the purpose, the
main benefit, each risk's figure in the pack's words, the alternatives with saying no and the
doctor's written answer, before the doctor's signature and the statements; then ticks the
statements and signs. An answer taken away behind the application's back shows "My questions
have been answered" disabled with the question named. axe (WCAG A and AA) checks both pages at
1280 and 375 px. With SCREENSHOTS=1 each page is also saved."""

import re

import pytest
from playwright.sync_api import expect

from consent.models import ConsentSession, PatientQuestion, Risk, Signature
from consent.services import signatures as signature_services
from tests import factories
from tests.browser import steps
from tests.browser.test_patient_accessibility import PageChecker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DECISION_URL = re.compile(r"/patient/decision/(#agree)?$")
ANSWER = "Yes, if she stays with you tonight."  # physician_reviews' answer


def open_decision(new_context, live_server, session: ConsentSession):
    page = new_context().new_page()
    steps.open_link(page, live_server.url, factories.issue_link(session))
    steps.enter_birth_date(page)
    page.wait_for_url(DECISION_URL)
    return page


def test_the_patient_reads_the_recap_then_signs(new_context, live_server, screenshot):
    session = factories.attested_session(read_through=True)
    page = open_decision(new_context, live_server, session)

    recap = page.locator("#recap")
    expect(recap.get_by_role("heading", name="Before you decide: the main points")).to_be_visible()
    # The recap comes first: above the doctor's signature and the statements.
    recap_top = recap.bounding_box()
    statements_top = page.locator("#field-statements").bounding_box()
    attestation_top = page.locator("#attestation-title").bounding_box()
    assert recap_top and statements_top and attestation_top
    assert recap_top["y"] < attestation_top["y"] < statements_top["y"]
    headings = recap.get_by_role("heading", level=3).all_inner_texts()
    assert headings == [
        "What it is for",
        "How it can help",
        "The risks",
        "Your other choices",
        "Your questions and your doctor's answers",
    ]
    risks = recap.locator(".recap-risk")
    for risk in Risk.objects.filter(version=session.procedure_version):
        expect(risks.filter(has_text=risk.name)).to_contain_text(risk.frequency_text)
    expect(recap.locator(".recap-say-no")).to_have_text(
        "Saying no. You can always say no. Your care team will still care for you."
    )
    question = recap.locator(".recap-question")
    expect(question).to_contain_text(f"You asked: {factories.PATIENT_QUESTION}")
    expect(question).to_contain_text(f"Alex Martin answered: {ANSWER}")

    check = PageChecker(page, screenshot)
    check("decision-recap")
    assert check.reports == [], "\n".join(check.reports)

    page.get_by_role("link", name="Agree and sign").click()
    for statement in signature_services.PATIENT_CONSENT_STATEMENTS:
        page.get_by_role("checkbox", name=str(statement)).check()
    page.get_by_label("Your full name").fill(session.patient_name)
    page.get_by_role("button", name="Sign my consent").click()
    page.wait_for_url(DECISION_URL)
    expect(page.get_by_role("heading", name="You agreed to have the procedure.")).to_be_visible()
    assert Signature.objects.filter(session=session, kind="patient_consent").exists()


def test_an_unanswered_question_keeps_the_statement_disabled(new_context, live_server, screenshot):
    session = factories.attested_session(read_through=True)
    # Behind the application's back: the written answer goes.
    PatientQuestion.objects.filter(session=session).update(
        answer="", answered_by=None, answered_at=None
    )
    page = open_decision(new_context, live_server, session)

    statement = page.get_by_role(
        "checkbox", name=str(signature_services.STATEMENT_QUESTIONS_ANSWERED)
    )
    expect(statement).to_be_disabled()
    note = (
        "You cannot tick this yet. Your doctor has not answered your question "
        f"“{factories.PATIENT_QUESTION}”."
    )
    expect(statement).to_have_accessible_description(note)
    expect(page.locator("#recap .recap-unanswered")).to_have_text(
        "Not answered yet. Ask your doctor or nurse now."
    )
    check = PageChecker(page, screenshot)
    check("decision-recap-unanswered")
    assert check.reports == [], "\n".join(check.reports)

    # Signing anyway: refused, the question named, nothing stored.
    page.get_by_role("link", name="Agree and sign").click()
    for other in signature_services.PATIENT_CONSENT_STATEMENTS:
        if other != signature_services.STATEMENT_QUESTIONS_ANSWERED:
            page.get_by_role("checkbox", name=str(other)).check()
    page.get_by_label("Your full name").fill(session.patient_name)
    page.get_by_role("button", name="Sign my consent").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Your doctor has not answered this question yet: “{factories.PATIENT_QUESTION}”."
    )
    expect(page.get_by_label("Your full name")).to_have_value(session.patient_name)
    assert not Signature.objects.filter(session=session, kind="patient_consent").exists()
