"""axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA) finds nothing on any patient page, at desktop
and at phone width. With SCREENSHOTS=1 each page is also saved at both widths."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from consent.models import Question
from tests.browser import steps
from tests.browser.steps import DESKTOP, PHONE
from tests.factories import BIRTH_DATE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_A_AND_AA = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"],
    },
    "resultTypes": ["violations"],
}
AXE = Axe()
EVERY_PATIENT_PAGE = [
    "link-unusable",
    "verify",
    "verify-error",
    "start",
    "section",
    "section-risks",
    "question-single",
    "result-correct",
    "result-reteach",
    "question-second-look",
    "result-flagged",
    "question-multiple",
    "question-error",
    "question-true-false",
    "question-free-text",
    "result-own-words",
    "ask",
    "ask-error",
    "summary",
    "left",
]


class PageChecker:
    """Runs axe on the page on screen at both widths and keeps every violation found."""

    def __init__(self, page: Page, screenshot) -> None:
        self.page = page
        self.screenshot = screenshot
        self.checked: list[str] = []
        self.reports: list[str] = []

    def __call__(self, name: str) -> None:
        for size in (DESKTOP, PHONE):
            self.page.set_viewport_size(size)
            results = AXE.run(self.page, options=WCAG_A_AND_AA)
            if results.violations_count:
                where = f"{name} at {size['width']} px ({self.page.url})"
                self.reports.append(f"== {where}\n{results.generate_report()}")
            self.screenshot(self.page, name)
        self.page.set_viewport_size(DESKTOP)
        self.checked.append(name)


def _question_of_kind(questions: list[Question], kind: str) -> Question:
    return next(q for q in questions if q.kind == kind)


def test_every_patient_page_has_no_wcag_a_or_aa_violations_at_desktop_and_phone_width(
    page, live_server, patient, screenshot
):
    base = live_server.url
    questions = patient.questions()
    check = PageChecker(page, screenshot)

    page.goto(f"{base}/link/not-a-real-token/")
    expect(page.get_by_role("heading", name="This link cannot be opened")).to_be_visible()
    check("link-unusable")

    steps.open_link(page, base, patient.link_path)
    check("verify")
    steps.enter_birth_date(page, BIRTH_DATE.replace(day=28))
    expect(page.get_by_role("alert")).to_be_visible()
    check("verify-error")
    steps.confirm_birth_date(page)
    check("start")

    page.get_by_role("link", name="Start reading").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check("section")
    risks = patient.session.procedure_version.sections.get(kind="risks")
    page.goto(f"{base}/patient/section/{risks.position}/")
    expect(page.locator("svg.icon-array")).to_have_count(1)  # one for the group
    check("section-risks")
    steps.skip_to_questions(page, base, patient.section_count)

    flagged = next(q for q in questions if q.key == "risk-common")
    multiple = _question_of_kind(questions, "multiple")
    for question in questions:
        page.wait_for_url(re.compile(rf"/patient/question/{question.position}/$"))
        if question.position == 1:
            check("question-single")
            steps.answer(page, question)
            check("result-correct")
        elif question is flagged:
            # Wrong three times: re-taught twice, then noted for the doctor.
            steps.answer(page, question, right=False)
            expect(page.locator("svg.icon-array")).to_have_count(1)  # one for the group
            check("result-reteach")
            steps.continue_from_result(page)
            check("question-second-look")
            steps.answer(page, question, right=False)
            steps.continue_from_result(page)
            steps.answer(page, question, right=False)
            expect(
                page.get_by_role("heading", name="Your doctor will go over this")
            ).to_be_visible()
            check("result-flagged")
        elif question is multiple:
            check("question-multiple")
            page.get_by_role("button", name="Check my answer").click()
            expect(page.get_by_role("alert")).to_contain_text("Choose at least one answer.")
            check("question-error")
            steps.answer(page, question)
        elif question.kind == "true-false" and "question-true-false" not in check.checked:
            check("question-true-false")
            steps.answer(page, question)
        elif question.kind == "free-text":
            check("question-free-text")
            steps.answer(page, question)
            check("result-own-words")
        else:
            steps.answer(page, question)
        steps.continue_from_result(page)

    page.wait_for_url(re.compile(r"/patient/summary/$"))
    page.get_by_role("link", name="Ask your doctor a question").click()
    check("ask")
    page.get_by_role("button", name="Send the question").click()
    expect(page.get_by_role("alert")).to_contain_text("Write your question before sending it.")
    check("ask-error")
    page.get_by_label("Your question for the doctor").fill("How long does the clip last?")
    page.get_by_role("button", name="Send the question").click()
    expect(page.get_by_role("status").first).to_contain_text("Your question was sent.")
    check("summary")
    page.get_by_role("button", name="Save and leave").click()
    expect(page.get_by_role("heading", name="Your answers are saved")).to_be_visible()
    check("left")

    assert not check.reports, "\n\n".join(check.reports)
    assert check.checked == EVERY_PATIENT_PAGE
