"""Bad input gets a clear message or a harmless no-op: never a server error, never a lost or
duplicated answer."""

import pytest

from consent.models import Attempt, PatientQuestion
from tests.factories import (
    birth_date_post,
    consent_session,
    issue_link,
    patient_client,
    read_all_sections,
    right_answer,
    submit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def session():
    return consent_session()


@pytest.fixture
def patient(session):
    client = patient_client(session)
    read_all_sections(client, session)
    return client


def question(session, kind):
    return session.procedure_version.questions.filter(kind=kind).order_by("position").first()


def reach(session, patient, target):
    """Answer every question before `target` correctly."""
    for q in session.procedure_version.questions.filter(position__lt=target.position):
        submit(patient, q.position, right_answer(q))


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("single", {"answer": "99"}, "Choose an answer."),
        ("single", {"answer": "-1"}, "Choose an answer."),
        ("single", {"answer": "first"}, "Choose an answer."),
        ("single", {}, "Choose an answer."),
        ("multiple", {"answer": ["0", "42"]}, "Choose at least one answer."),
        ("multiple", {}, "Choose at least one answer."),
        ("true-false", {"answer": "maybe"}, "Choose true or false."),
        ("true-false", {}, "Choose true or false."),
        ("free-text", {"answer": "   "}, "Write your answer in your own words."),
    ],
)
def test_invalid_answer_shows_a_message_and_stores_nothing(session, patient, kind, data, message):
    target = question(session, kind)
    reach(session, patient, target)
    response = submit(patient, target.position, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Attempt.objects.filter(session=session, question=target).exists()


def test_hundred_thousand_character_answer_is_refused_and_kept_in_the_box(session, patient):
    target = question(session, "free-text")
    reach(session, patient, target)
    text = "I understand the clip. " * 4348  # 100,004 characters
    response = submit(patient, target.position, {"answer": text})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Please shorten it to 5000 characters or fewer: your text is still in the box." in body
    assert text.strip() in body
    assert not Attempt.objects.filter(session=session, question=target).exists()


def test_double_submitted_answer_is_stored_once(session, patient):
    first = question(session, "single")
    reach(session, patient, first)
    submit(patient, first.position, right_answer(first))
    response = submit(patient, first.position, right_answer(first))
    assert response.status_code == 302
    assert Attempt.objects.filter(session=session, question=first).count() == 1
    assert "That answer was already saved." in patient.get(response["Location"]).content.decode()


def test_replayed_old_round_after_moving_on_changes_nothing(session, patient):
    questions = list(session.procedure_version.questions.order_by("position")[:2])
    for q in questions:
        submit(patient, q.position, right_answer(q))
    submit(patient, questions[0].position, {"answer": "1"})
    assert Attempt.objects.filter(session=session).count() == 2
    assert Attempt.objects.get(session=session, question=questions[0]).is_correct is True


@pytest.mark.parametrize("round_value", ["7", "0", "x", ""])
def test_tampered_round_is_a_harmless_no_op(session, patient, round_value):
    first = question(session, "single")
    reach(session, patient, first)
    response = patient.post(
        f"/patient/question/{first.position}/", {"round": round_value, **right_answer(first)}
    )
    assert response.status_code == 302
    assert not Attempt.objects.filter(session=session).exists()


def test_answering_ahead_of_the_current_question_stores_nothing(session, patient):
    later = session.procedure_version.questions.get(position=3)
    response = submit(patient, 3, right_answer(later))
    assert response.status_code == 302
    assert not Attempt.objects.filter(session=session).exists()


@pytest.mark.parametrize(
    "path", ["/patient/question/999/", "/patient/section/999/", "/patient/question/0/"]
)
def test_pages_that_do_not_exist_send_the_patient_back_to_where_they_were(patient, path):
    assert patient.get(path).status_code == 302
    assert patient.post(path, {"go": "next", "round": 1}).status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"day": "", "month": "", "year": ""}, "Enter your date of birth as day, month and year"),
        (
            {"day": "aa", "month": "3", "year": "1948"},
            "Enter your date of birth as day, month and year",
        ),
        ({"day": "31", "month": "2", "year": "1948"}, "That is not a real date."),
        ({"day": "27", "month": "13", "year": "1948"}, "Enter a month from 1 to 12."),
        ({"day": "27", "month": "3", "year": "48"}, "Enter the year with four digits"),
    ],
)
def test_malformed_birth_date_gets_a_message_and_does_not_count_as_a_try(client, data, message):
    session = consent_session()
    client.get(issue_link(session))
    response = client.post("/patient/identity/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert session.links.get().failed_birth_date_tries == 0


def test_empty_question_for_the_doctor_gets_a_message(session, patient):
    response = patient.post(
        "/patient/ask/", {"text": "  ", "form_id": "0b9f4c9e-6f2a-4c55-9a51-000000000001"}
    )
    assert response.status_code == 400
    assert "Write your question before sending it." in response.content.decode()
    assert not PatientQuestion.objects.exists()


def test_overlong_question_for_the_doctor_is_kept_in_the_box(session, patient):
    text = "Why? " * 20000
    response = patient.post(
        "/patient/ask/", {"text": text, "form_id": "0b9f4c9e-6f2a-4c55-9a51-000000000002"}
    )
    assert response.status_code == 400
    assert "your text is still in the box" in response.content.decode()
    assert text.strip() in response.content.decode()
    assert not PatientQuestion.objects.exists()


def test_question_for_the_doctor_sent_twice_is_stored_once(session, patient):
    data = {"text": "Can I drive home?", "form_id": "0b9f4c9e-6f2a-4c55-9a51-000000000003"}
    patient.post("/patient/ask/", data)
    response = patient.post("/patient/ask/", data)
    assert PatientQuestion.objects.filter(session=session).count() == 1
    followed = patient.get(response["Location"], follow=True)
    assert "That question was already sent." in followed.content.decode()


def test_post_without_csrf_token_is_refused(session):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.get(issue_link(session))
    assert client.post("/patient/identity/", birth_date_post()).status_code == 403
