"""Patient pages cost the same number of queries however many answers a session holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    consent_session,
    patient_client,
    read_all_sections,
    right_answer,
    submit,
    wrong_answer,
)

pytestmark = pytest.mark.django_db


def queries(client, path):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(captured)


def test_patient_page_query_counts_do_not_grow_with_the_number_of_answers():
    session = consent_session()
    patient = patient_client(session)
    read_all_sections(patient, session)
    questions = list(session.procedure_version.questions.order_by("position"))
    risks = session.procedure_version.sections.get(kind="risks").position
    pages = ["/patient/section/1/", f"/patient/section/{risks}/", "/patient/ask/"]

    submit(patient, 1, right_answer(questions[0]))
    few = {path: queries(patient, path) for path in [*pages, "/patient/question/1/result/"]}

    # Many more attempts: re-teach rounds on most questions, then every question answered.
    for q in questions[1:]:
        if q.kind != "free-text":
            submit(patient, q.position, wrong_answer(q), round_number=1)
            submit(patient, q.position, wrong_answer(q), round_number=2)
            submit(patient, q.position, right_answer(q), round_number=3)
        else:
            submit(patient, q.position, right_answer(q))
    many = {path: queries(patient, path) for path in [*pages, "/patient/question/1/result/"]}
    assert many == few


def test_question_page_query_count_does_not_grow_with_earlier_attempts():
    session = consent_session()
    patient = patient_client(session)
    read_all_sections(patient, session)
    questions = list(session.procedure_version.questions.order_by("position"))
    before = queries(patient, "/patient/question/1/")
    for q in questions[:5]:
        submit(patient, q.position, wrong_answer(q) if q.kind != "free-text" else right_answer(q))
        submit(patient, q.position, right_answer(q), round_number=2)
    after = queries(patient, "/patient/question/6/")
    assert after == before


def test_summary_query_count_does_not_grow_with_patient_questions():
    session = consent_session()
    patient = patient_client(session)
    read_all_sections(patient, session)
    for q in session.procedure_version.questions.order_by("position"):
        submit(patient, q.position, right_answer(q))
    patient.post(
        "/patient/ask/", {"text": "One?", "form_id": "00000000-0000-0000-0000-000000000001"}
    )
    one = queries(patient, "/patient/summary/")
    for n in range(2, 12):
        patient.post(
            "/patient/ask/",
            {"text": f"Question {n}?", "form_id": f"00000000-0000-0000-0000-{n:012d}"},
        )
    assert queries(patient, "/patient/summary/") == one
