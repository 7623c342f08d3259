"""The review page shows health data however it is reached: a GET, or a form refused and shown
again with its errors. Each showing writes its access event first (issue 12 item 7)."""

import html

import pytest

from consent.models import AuditEvent, ConsentSession
from tests.factories import (
    PASSWORD,
    decided_session,
    finalized_session,
    flagged_question,
    logged_in,
    ready_session,
)

pytestmark = pytest.mark.django_db


def url(session: ConsentSession, suffix: str) -> str:
    return f"/staff/sessions/{session.public_id}/{suffix}"


def views(session: ConsentSession) -> list[dict]:
    return list(
        AuditEvent.objects.filter(session=session, action="session.viewed")
        .order_by("seq")
        .values_list("payload", flat=True)
    )


def refused_page_is_recorded(session: ConsentSession, suffix: str, data: dict, anchor: str):
    before = views(session)
    response = logged_in(session.physician).post(url(session, suffix), data)
    assert response.status_code == 400
    body = html.unescape(response.content.decode())
    assert session.patient_name in body  # health data on the page...
    after = views(session)
    assert after[: len(before)] == before
    assert after[len(before) :] == [{"page": "review", "refused_form": anchor}]  # ...recorded
    event = AuditEvent.objects.filter(session=session, action="session.viewed").latest("seq")
    assert event.actor == session.physician
    assert event.object_id == str(session.pk)


def test_the_page_itself_records_each_look():
    session = ready_session(read_through=True)
    client = logged_in(session.physician)
    assert client.get(url(session, "review/")).status_code == 200
    assert views(session) == [{"page": "review"}]


def test_an_empty_answer_to_the_patients_question_is_recorded():
    session = ready_session(read_through=True)
    question = session.patient_questions.get()
    refused_page_is_recorded(
        session,
        f"patient-questions/{question.pk}/answer/",
        {f"pq{question.pk}-answer": ""},
        f"patient-question-{question.pk}",
    )


def test_a_flagged_item_without_its_resolution_is_recorded():
    session = ready_session(read_through=True)
    question = flagged_question(session)
    refused_page_is_recorded(
        session,
        f"questions/{question.pk}/review/",
        {f"q{question.pk}-note": " "},
        f"question-{question.pk}",
    )


def test_a_discussion_with_unknown_choices_is_recorded():
    session = ready_session(read_through=True)
    refused_page_is_recorded(
        session, "discussion/", {"verbal_teachback": ["not-a-section"]}, "discussion"
    )


def test_an_attestation_without_the_password_is_recorded():
    session = ready_session(read_through=True)
    refused_page_is_recorded(session, "attest/", {"attest-password": ""}, "attestation")


def test_a_finalization_without_the_password_is_recorded():
    session = decided_session(read_through=True, drawn=False)
    refused_page_is_recorded(session, "finalize/", {"finalize-password": ""}, "finalize")


def test_an_addendum_without_text_or_with_a_wrong_password_is_recorded(fake_pdf_renderer):
    session = finalized_session(read_through=True, drawn=False)
    form = {"kind": "correction", "text": "", "password": PASSWORD, "submission_key": "k1"}
    refused_page_is_recorded(session, "addenda/", form, "addendum-form")
    # Refused by the service (the password), shown again with what was written.
    form = {"kind": "correction", "text": "Dose.", "password": "wrong", "submission_key": "k2"}
    refused_page_is_recorded(session, "addenda/", form, "addendum-form")
