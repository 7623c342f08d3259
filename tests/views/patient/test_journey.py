"""The patient's journey through the test client: reading, teach to goal, questions, summary."""

from datetime import timedelta

import pytest

from consent import clock
from consent.models import Attempt, AuditEvent, ConsentSession, PatientQuestion, SectionView
from tests.factories import (
    StandingClock,
    consent_session,
    patient_client,
    read_all_sections,
    right_answer,
    submit,
    wrong_answer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def session():
    return consent_session()


@pytest.fixture
def patient(session):
    return patient_client(session)


def questions(session):
    return list(session.procedure_version.questions.order_by("position"))


def question_number(session, key):
    return session.procedure_version.questions.get(key=key).position


def test_first_visit_starts_at_the_welcome_page(patient):
    response = patient.get("/patient/", follow=True)
    assert response.redirect_chain[-1][0] == "/patient/start/"
    assert "What happens here" in response.content.decode()


def test_each_section_shows_its_position_and_title(session, patient):
    total = session.procedure_version.sections.count()
    response = patient.get("/patient/section/3/")
    body = response.content.decode()
    assert f"Section 3 of {total}" in body
    assert session.procedure_version.sections.get(position=3).title in body


def test_next_and_back_move_between_sections_and_record_time(session, patient):
    patient.get("/patient/section/2/")
    assert patient.post("/patient/section/2/", {"go": "next"})["Location"] == "/patient/section/3/"
    patient.get("/patient/section/3/")
    assert patient.post("/patient/section/3/", {"go": "back"})["Location"] == "/patient/section/2/"
    views = SectionView.objects.filter(session=session).order_by("section__position")
    assert [(v.section.position, v.visits) for v in views] == [(2, 1), (3, 1)]
    assert AuditEvent.objects.filter(session=session, action="section.read").count() == 2


def test_time_on_a_section_is_measured_between_showing_and_leaving(session, patient):
    with clock.using(StandingClock()) as travel:
        patient.get("/patient/section/1/")
        travel.at += timedelta(seconds=95)
        patient.post("/patient/section/1/", {"go": "next"})
    assert SectionView.objects.get(session=session, section__position=1).seconds == 95


def test_time_on_a_section_is_capped(session, patient, settings):
    settings.CONSENT_SECTION_TIME_CAP = timedelta(minutes=2)
    with clock.using(StandingClock()) as travel:
        patient.get("/patient/section/1/")
        travel.at += timedelta(minutes=5)  # the tab was left open: the cap applies
        patient.post("/patient/section/1/", {"go": "next"})
    assert SectionView.objects.get(session=session, section__position=1).seconds == 120


def test_time_counts_only_for_the_section_shown_last_and_only_once(session, patient):
    with clock.using(StandingClock()) as travel:
        patient.get("/patient/section/1/")
        patient.get("/patient/section/2/")  # another tab: section 2 is the one on screen
        travel.at += timedelta(seconds=30)
        patient.post("/patient/section/1/", {"go": "next"})
        patient.post("/patient/section/2/", {"go": "next"})
        patient.post("/patient/section/2/", {"go": "next"})  # the same post again
    views = {v.section.position: v for v in SectionView.objects.filter(session=session)}
    assert 1 not in views
    assert (views[2].seconds, views[2].visits) == (30, 1)


def test_an_altered_shown_cookie_counts_no_time(session, patient):
    patient.get("/patient/section/1/")
    value = patient.cookies["section_shown"].value
    patient.cookies["section_shown"] = value.replace("1:", "1:1", 1)
    patient.post("/patient/section/1/", {"go": "next"})
    assert not SectionView.objects.filter(session=session).exists()


def test_a_shown_cookie_from_an_ended_browser_session_counts_no_time(session, patient):
    patient.get("/patient/section/1/")
    shown = patient.cookies["section_shown"].value
    patient.post("/patient/leave/")
    patient_client(session, patient)  # the same browser opens the link again
    patient.cookies["section_shown"] = shown
    patient.post("/patient/section/1/", {"go": "next"})
    assert not SectionView.objects.filter(session=session).exists()


def test_replayed_section_post_moves_on_but_counts_no_time(session, patient):
    patient.post("/patient/section/1/", {"go": "next"})
    assert not SectionView.objects.filter(session=session).exists()


def test_risks_section_shows_each_risk_with_an_icon_array_where_a_number_is_given(session, patient):
    risks_section = session.procedure_version.sections.get(kind="risks")
    body = patient.get(f"/patient/section/{risks_section.position}/").content.decode()
    for risk in session.procedure_version.risks.all():
        assert risk.name in body
        assert risk.frequency_text in body
    # Three risks share ONE figure, "fewer than 1 in 100" (one picture, tests/record/
    # test_icon_array.py); bleeding and detachment give no number.
    assert body.count('<svg class="icon-array" role="img"') == 1
    assert "One figure is partly filled: fewer than 1 in 100 people." in body
    assert body.count("No picture: the information gives no number for this risk.") == 2


def test_questions_wait_until_every_section_is_read(session, patient):
    response = patient.get("/patient/question/1/")
    assert response["Location"] == "/patient/"


def test_after_the_last_section_the_first_question_follows(session, patient):
    read_all_sections(patient, session)
    response = patient.get("/patient/", follow=True)
    assert response.redirect_chain[-1][0] == "/patient/question/1/"
    assert "Question 1 of" in response.content.decode()


def test_right_answer_gets_immediate_praise_and_the_next_question(session, patient):
    read_all_sections(patient, session)
    first = questions(session)[0]
    response = submit(patient, 1, right_answer(first))
    assert response["Location"] == "/patient/question/1/result/"
    body = patient.get(response["Location"]).content.decode()
    assert "That's right." in body
    assert 'href="/patient/question/2/"' in body
    attempt = Attempt.objects.get(session=session, question=first)
    assert (attempt.round, attempt.is_correct) == (1, True)


def test_wrong_answer_reshows_explanation_and_section_then_asks_again(session, patient):
    read_all_sections(patient, session)
    number = question_number(session, "risk-common")
    for q in questions(session)[: number - 1]:
        submit(patient, q.position, right_answer(q))
    question = questions(session)[number - 1]
    submit(patient, number, wrong_answer(question))
    body = patient.get(f"/patient/question/{number}/result/").content.decode()
    assert "Not quite. Let's look at this again." in body
    assert question.section.title in body
    assert "Try the question again" in body
    # Leaving and coming back lands on the re-teach, not on a later question.
    assert patient.get("/patient/")["Location"] == f"/patient/question/{number}/result/"
    again = patient.get(f"/patient/question/{number}/")
    assert 'name="round" value="2"' in again.content.decode()
    submit(patient, number, right_answer(question), round_number=2)
    attempts = Attempt.objects.filter(session=session, question=question).order_by("round")
    assert [(a.round, a.is_correct) for a in attempts] == [(1, False), (2, True)]
    body = patient.get(f"/patient/question/{number}/result/").content.decode()
    assert "That's right." in body


def test_still_wrong_after_two_reteaches_is_flagged_to_discuss_with_the_doctor(session, patient):
    read_all_sections(patient, session)
    first = questions(session)[0]
    for round_number in (1, 2, 3):
        submit(patient, 1, wrong_answer(first), round_number=round_number)
    body = patient.get("/patient/question/1/result/").content.decode()
    assert "Your doctor will go over this with you." in body
    assert 'href="/patient/question/2/"' in body
    assert Attempt.objects.filter(session=session, question=first).count() == 3
    # No fourth round is offered.
    assert submit(patient, 1, right_answer(first), round_number=4)["Location"] == "/patient/"
    assert Attempt.objects.filter(session=session, question=first).count() == 3


def test_number_of_reteaches_is_a_setting_pinned_on_the_session(settings):
    settings.CONSENT_MAX_RETEACH = 1
    session = consent_session()
    patient = patient_client(session)
    read_all_sections(patient, session)
    first = questions(session)[0]
    submit(patient, 1, wrong_answer(first))
    submit(patient, 1, wrong_answer(first), round_number=2)
    body = patient.get("/patient/question/1/result/").content.decode()
    assert "Your doctor will go over this with you." in body


def test_free_text_answer_is_stored_for_the_physician_and_not_graded(session, patient):
    read_all_sections(patient, session)
    free = next(q for q in questions(session) if q.kind == "free-text")
    for q in questions(session)[: free.position - 1]:
        submit(patient, q.position, right_answer(q))
    submit(patient, free.position, {"answer": "It pinches the two flaps together."})
    attempt = Attempt.objects.get(session=session, question=free)
    assert attempt.answer == "It pinches the two flaps together."
    assert attempt.is_correct is None
    body = patient.get(f"/patient/question/{free.position}/result/").content.decode()
    assert "Your doctor will read your answer." in body
    # Free text stays out of the audit log.
    assert "pinches" not in str(list(AuditEvent.objects.values_list("payload", flat=True)))


def test_patient_can_ask_a_question_from_any_page_and_return_there(session, patient):
    page = "/patient/section/4/"
    form = patient.get(f"/patient/ask/?next={page}")
    assert "Ask your doctor a question" in form.content.decode()
    form_id = form.context["form"]["form_id"].value()
    response = patient.post(
        "/patient/ask/",
        {"text": "Will I need to stop my blood thinner?", "next": page, "form_id": form_id},
    )
    assert response["Location"] == page
    asked = PatientQuestion.objects.get(session=session)
    assert asked.text == "Will I need to stop my blood thinner?"
    assert asked.asked_from == page
    assert "Your question was sent." in patient.get(page).content.decode()


def test_ask_page_never_sends_the_patient_off_site(patient):
    form = patient.get("/patient/ask/?next=https://evil.example/")
    assert form.context["return_to"] == "/patient/"


def complete_journey(session, patient, *, wrong_key=None):
    read_all_sections(patient, session)
    for q in questions(session):
        if q.key == wrong_key:
            for round_number in (1, 2, 3):
                submit(patient, q.position, wrong_answer(q), round_number=round_number)
        else:
            submit(patient, q.position, right_answer(q))


def test_answering_everything_makes_the_session_ready_for_discussion(session, patient):
    complete_journey(session, patient)
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.READY_FOR_DISCUSSION
    assert session.ready_at is not None
    assert (
        AuditEvent.objects.filter(session=session, action="session.ready_for_discussion").count()
        == 1
    )


def test_summary_says_what_was_understood_and_what_to_discuss(session, patient):
    complete_journey(session, patient, wrong_key="risk-common")
    body = patient.get("/patient/summary/").content.decode()
    assert "What you understood" in body
    assert "To discuss with your doctor" in body
    risk = session.procedure_version.questions.get(key="risk-common")
    discuss = body.split("To discuss with your doctor")[1]
    assert risk.prompt in discuss
    assert patient.get("/patient/")["Location"] == "/patient/summary/"


def test_answers_lock_once_the_session_is_ready_for_discussion(session, patient):
    complete_journey(session, patient)
    first = questions(session)[0]
    before = Attempt.objects.filter(session=session).count()
    response = submit(patient, 1, wrong_answer(first), round_number=2)
    assert response.status_code == 302
    assert Attempt.objects.filter(session=session).count() == before
    assert (
        "can no longer be changed"
        in patient.get(response["Location"], follow=True).content.decode()
    )


def test_patient_leaves_and_comes_back_to_the_same_place(session, patient, client):
    read_all_sections(patient, session)
    first = questions(session)[0]
    submit(patient, 1, right_answer(first))
    assert patient.post("/patient/leave/").status_code == 200
    assert patient.get("/patient/start/").status_code == 404  # this browser session is over
    again = patient_client(session, client)
    response = again.get("/patient/", follow=True)
    assert response.redirect_chain[-1][0] == "/patient/question/2/"
    assert Attempt.objects.filter(session=session).count() == 1


def test_every_patient_action_is_audited_with_address_and_client(session, patient):
    read_all_sections(patient, session)
    submit(patient, 1, right_answer(questions(session)[0]))
    event = AuditEvent.objects.filter(session=session, action="answer.submitted").get()
    assert event.role == "patient"
    assert event.address == "127.0.0.1"
    assert event.object_type == "consent.attempt"
    assert event.payload["question"] == questions(session)[0].key
