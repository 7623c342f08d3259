"""A patient reads the MitraClip information, answers the teach-back questions and gets a summary,
all in a real browser."""

import re

import pytest
from playwright.sync_api import Page, expect

from consent.models import Attempt, ConsentSession, PatientQuestion, SectionView
from tests.browser import steps

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCTOR_QUESTION = "Can I keep taking my blood thinner before the procedure?"


def test_patient_reads_answers_with_one_reteach_asks_the_doctor_and_reaches_the_summary(
    page: Page, live_server, patient, reading_clock
):
    base = live_server.url
    section_count = patient.section_count
    questions = patient.questions()
    ask_from = next(q for q in questions if q.kind == "true-false")

    # The link is exchanged for a session: the token leaves the address bar and no referrer.
    response = steps.open_link(page, base, patient.link_path)
    assert "/link/" not in page.url
    assert page.url.endswith("/patient/identity/")
    link_response = response.request.redirected_from.response()
    assert link_response.status == 302
    assert link_response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["referrer-policy"] == "same-origin"

    steps.confirm_birth_date(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        patient.session.procedure_version.title
    )
    page.get_by_role("link", name="Start reading").click()

    # Sections, one per page, with Next and, once, Back.
    progress_label = page.locator(".journey-progress label")
    expect(progress_label).to_have_text(f"Section 1 of {section_count}")
    steps.next_section(page)
    expect(progress_label).to_have_text(f"Section 2 of {section_count}")
    steps.next_section(page)
    expect(progress_label).to_have_text(f"Section 3 of {section_count}")
    progress = page.get_by_role("progressbar", name=f"Section 3 of {section_count}")
    expect(progress).to_have_attribute("value", "3")
    page.get_by_role("button", name="Back").click()
    page.wait_for_url(re.compile(r"/patient/section/2/$"))
    steps.next_section(page)
    page.wait_for_url(re.compile(r"/patient/section/3/$"))

    # The rest of the sections; the risks section shows its icon arrays with text alternatives.
    risks_number = patient.session.procedure_version.sections.get(kind="risks").position
    for number in range(3, section_count + 1):
        page.wait_for_url(re.compile(rf"/patient/section/{number}/$"))
        if number == risks_number:
            pictures = page.locator("svg.icon-array[role=img]")
            # One picture for the three risks the source gives one figure for.
            expect(pictures).to_have_count(1)
            expect(pictures.first).to_have_accessible_name("Fewer than 1 in 100 people")
            expect(pictures.first).to_have_accessible_description(
                re.compile(
                    r"One figure is partly filled: fewer than 1 in 100 people\. More than 99"
                )
            )
            expect(page.get_by_text("No picture: the information gives no number")).to_have_count(2)
        steps.next_section(page)

    # Question 1 right first time.
    page.wait_for_url(re.compile(r"/patient/question/1/$"))
    expect(progress_label).to_have_text(f"Question 1 of {len(questions)}")
    steps.answer(page, questions[0])
    expect(page.get_by_role("heading", name="That's right.")).to_be_visible()
    steps.continue_from_result(page)

    for question in questions[1:]:
        page.wait_for_url(re.compile(rf"/patient/question/{question.position}/$"))
        if question.key == "risk-common":
            # Wrong once: the explanation and the risks section are shown again.
            steps.answer(page, question, right=False)
            expect(page.get_by_role("heading", name="Not quite.")).to_be_visible()
            expect(page.get_by_text(question.explanation)).to_be_visible()
            expect(page.get_by_role("heading", name=question.section.title)).to_be_visible()
            expect(page.locator("svg.icon-array")).to_have_count(1)  # one for the group
            steps.continue_from_result(page)
            expect(page.get_by_text("Second look: take your time.")).to_be_visible()
            steps.answer(page, question)
            expect(page.get_by_role("heading", name="That's right.")).to_be_visible()
        elif question == ask_from:
            # A question for the doctor, written from a question page, comes back to it.
            question_url = page.url
            page.get_by_role("link", name="Ask your doctor a question").click()
            page.get_by_label("Your question for the doctor").fill(DOCTOR_QUESTION)
            page.get_by_role("button", name="Send the question").click()
            page.wait_for_url(question_url)
            expect(page.get_by_role("status")).to_contain_text("Your question was sent.")
            steps.answer(page, question)
        else:
            steps.answer(page, question)
        steps.continue_from_result(page)

    # The summary lists what was understood.
    page.wait_for_url(re.compile(r"/patient/summary/$"))
    understood = page.locator(".summary-understood li")
    expect(understood).to_have_count(len(questions) - 1)
    # Right at the re-ask, which asked the variant's wording ("Which problem happens most often").
    expect(understood.filter(has_text="happens most often")).to_contain_text("after a second look")
    expect(page.get_by_role("heading", name="In your own words")).to_be_visible()
    expect(page.locator(".asked")).to_contain_text(DOCTOR_QUESTION)

    session = ConsentSession.objects.get(pk=patient.session.pk)
    assert session.status == ConsentSession.Status.READY_FOR_DISCUSSION
    common = Attempt.objects.filter(session=session, question__key="risk-common")
    assert [(a.round, a.is_correct) for a in common.order_by("round")] == [(1, False), (2, True)]
    assert Attempt.objects.filter(session=session).count() == len(questions) + 1
    own_words = Attempt.objects.get(session=session, question__kind="free-text")
    assert own_words.answer == steps.FREE_TEXT_ANSWER
    assert own_words.is_correct is None
    asked = PatientQuestion.objects.get(session=session)
    assert asked.text == DOCTOR_QUESTION
    assert asked.asked_from == f"/patient/question/{ask_from.position}/"
    views = {v.section.position: v for v in SectionView.objects.filter(session=session)}
    assert sorted(views) == list(range(1, section_count + 1))
    # Each look at a section is timed by the (stepped) clock; sections 2 and 3 were seen twice.
    assert views[2].visits == views[3].visits == 2
    assert views[4].visits == 1
    assert all(view.seconds >= 3 * view.visits for view in views.values())
