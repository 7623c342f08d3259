"""A patient who always clicks the first choice shown, in a real browser: choices are shuffled
per patient and per attempt, so this gets most single-choice items wrong. Along the way: the
order stored is the order on screen, a re-ask shows another order, the result page says why a
chosen answer is wrong, and the summary states the right fact of every flagged item."""

import re
from unittest import mock

import pytest
from playwright.sync_api import Page, expect

from consent.models import Attempt, Question
from tests import factories
from tests.browser import steps

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each run's session secret, so that each run shows the same orders every time it runs.
SEEDS = ("1", "2", "3", "4", "5")
ANSWER = re.compile(r"^(Check|Send) my answer$")
NEXT = re.compile(r"^(Next question|See your summary)$")


def on_screen(page: Page) -> list[str]:
    """The choices' labels, top to bottom, as the page shows them."""
    return [text.strip() for text in page.locator(".answer-choice label").all_inner_texts()]


def click_first_choice_through(page: Page, base: str, run: str) -> dict[str, object]:
    """Open a fresh patient's link and answer every question with the first choice shown."""
    doctor = factories.physician(username=f"dr.run-{run}")
    with mock.patch("consent.models.secrets.token_hex", return_value=run * 64):
        session = factories.consent_session(doctor=doctor)
    questions = list(session.procedure_version.questions.order_by("position"))
    steps.open_link(page, base, factories.issue_link(session))
    steps.confirm_birth_date(page)
    steps.skip_to_questions(page, base, session.procedure_version.sections.count())
    seen: dict[tuple[int, int], list[str]] = {}
    feedback_seen = 0
    for question in questions:
        for round_number in range(1, session.max_reteach + 2):
            page.wait_for_url(re.compile(rf"/patient/question/{question.position}/$"))
            if question.kind == Question.Kind.FREE_TEXT:
                page.get_by_label("Write your answer in your own words").fill(
                    steps.FREE_TEXT_ANSWER
                )
            else:
                seen[question.position, round_number] = on_screen(page)
                page.locator(".answer-choice input").first.check()
            page.get_by_role("button", name=ANSWER).click()
            page.wait_for_url(re.compile(rf"/patient/question/{question.position}/result/$"))
            if page.locator(".choice-feedback").count():
                feedback_seen += 1
            again = page.get_by_role("link", name="Try the question again")
            if again.count() == 0:
                break
            again.click()
        page.get_by_role("link", name=NEXT).click()
    page.wait_for_url(re.compile(r"/patient/summary/$"))
    return {"session": session, "seen": seen, "feedback_seen": feedback_seen}


def test_clicking_the_first_choice_every_time_gets_most_single_choice_items_wrong(
    page: Page, live_server, capsys
):
    base = live_server.url
    scores = []
    for run in SEEDS:
        page.context.clear_cookies()
        result = click_first_choice_through(page, base, run)
        session = result["session"]
        seen = result["seen"]
        attempts = list(
            Attempt.objects.filter(session=session).select_related("question").order_by("pk")
        )
        single = [a for a in attempts if a.question.kind == Question.Kind.SINGLE]
        # The order stored is the order read off the screen, and the first was clicked.
        for attempt in attempts:
            if attempt.question.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
                wording = attempt.question.wording(attempt.variant)
                shown = [wording.choices[i] for i in attempt.shown_order]
                assert shown == seen[attempt.question.position, attempt.round]
                assert attempt.answer == [attempt.shown_order[0]]
        # A re-ask shows the choices in another order (and the right one elsewhere).
        for attempt in single:
            if attempt.round > 1:
                before = seen[attempt.question.position, attempt.round - 1]
                assert seen[attempt.question.position, attempt.round] != before
        first_tries = [a for a in single if a.round == 1]
        right = sum(1 for a in first_tries if a.is_correct)
        scores.append((right, len(first_tries)))
        # Wrong choices the pack explains were explained.
        assert result["feedback_seen"] > 0
        # The summary states the right fact of every flagged item, never the statement alone.
        discuss = page.locator(".summary-discuss li")
        flagged = _flagged(session)
        expect(discuss).to_have_count(len(flagged))
        for question in flagged:
            expect(page.locator(".summary-discuss")).to_contain_text(question.wording().fact_text)
    with capsys.disabled():
        print(
            "\nfirst choice, right at the first try (single-choice items): "
            + ", ".join(f"{right} of {total}" for right, total in scores)
        )
    # Chance alone (four choices) gives about 1 in 4 right; one run may be lucky, not all.
    total_right = sum(right for right, _ in scores)
    total = sum(total for _, total in scores)
    assert total_right * 2 < total, scores


def _flagged(session):
    from consent.rules import Outcome
    from consent.selectors.journey import journey_get

    journey = journey_get(session=session)
    return [p.question for p in journey.progress if p.outcome == Outcome.FLAGGED]


def test_a_wrong_answer_shows_why_that_choice_is_wrong_and_a_re_ask_reorders(
    page: Page, live_server, patient
):
    base = live_server.url
    risk_common = patient.session.procedure_version.questions.get(key="risk-common")
    steps.open_link(page, base, patient.link_path)
    steps.confirm_birth_date(page)
    steps.skip_to_questions(page, base, patient.section_count)
    for question in patient.questions():
        if question == risk_common:
            break
        steps.answer(page, question)
        steps.continue_from_result(page)
    page.wait_for_url(re.compile(rf"/patient/question/{risk_common.position}/$"))
    first_order = on_screen(page)
    page.get_by_role("radio", name="A stroke", exact=True).check()
    page.get_by_role("button", name=ANSWER).click()
    feedback = page.locator(".choice-feedback")
    expect(feedback).to_contain_text("Why “A stroke” is not right:")
    expect(feedback).to_contain_text("Stroke is less common: it happens to fewer than 1 in 100")
    page.get_by_role("link", name="Try the question again").click()
    variant = risk_common.wording(1)
    expect(page.locator("legend")).to_have_text(variant.prompt)
    second_order = on_screen(page)
    assert second_order != first_order
    right = variant.choices[variant.correct[0]]
    assert second_order.index(right) != first_order.index(risk_common.choices[0])
