"""Fuzzing the staff's forms through the test client: a new session, a patient link, the review
(a patient's question answered, an item reviewed), the discussion, the attestation, the
finalization and an addendum. No input gets a server error; a refused one says why and stores
nothing; an accepted one stores one row, and sending it again stores no second."""

import pytest
from hypothesis import strategies as st

from consent.models import ConsentSession
from tests.factories import (
    PASSWORD,
    attested_session,
    decided_session,
    fake_addendum_render,
    finalized_record,
    flagged_question,
    free_text_question,
    physician,
    ready_session,
    reviewed_session,
)
from tests.fuzz.harness import either, form_data, fuzz
from tests.fuzz.strategies import NASTY, SHORT, SIGNATURE, TEXT, post_to, staff, values

pytestmark = pytest.mark.django_db

PASSWORD_TRY = st.one_of(st.just(PASSWORD), SHORT)
# A date as a browser's date input sends it, and what else may come.
DATE = st.one_of(
    st.dates().map(str),
    st.sampled_from(["9999-12-31", "0001-01-01", "2026-02-30", "1948-03-27", "31/12/2020"]),
    SHORT,
)


def review_url(session: ConsentSession, tail: str) -> str:
    return f"/staff/sessions/{session.public_id}/{tail}"


def test_session_create(record_property):
    doctor = physician()
    from tests.factories import mitraclip_version, translated_version

    version = mitraclip_version()
    translated_version(source=version)
    ids = st.one_of(st.sampled_from([str(version.pk), str(doctor.pk)]), SHORT)
    valid = {
        "patient_name": "Maria Lopez",
        "patient_birth_date": "1950-01-31",
        "patient_record_number": "MRN-77",
        "procedure_version": str(version.pk),
        "language": "fr",
        "physician": str(doctor.pk),
    }
    strategy = either(
        valid,
        {
            "patient_name": st.one_of(st.just("Maria Lopez"), TEXT),
            "patient_birth_date": DATE,
            "patient_record_number": st.one_of(st.just("MRN-77"), SHORT),
            "procedure_version": ids,
            "language": st.one_of(st.sampled_from(["fr", "en", "de", ""]), SHORT),
            "physician": ids,
        },
    )
    fuzz(
        name="staff: session create",
        client=staff(doctor),
        strategy=strategy,
        send=post_to("/staff/sessions/new/"),
        record_property=record_property,
        may_add=("ConsentSession", "PatientLink"),
        # Two posts of the same form are two sessions: staff may well mean both.
        replay=False,
    )


@pytest.mark.parametrize("attested", [False, True], ids=["before", "after attestation"])
def test_link_issue(attested, record_property):
    session = attested_session() if attested else ready_session()
    fuzz(
        name=f"staff: link issue ({'after' if attested else 'before'} attestation)",
        client=staff(session.physician),
        strategy=form_data({"reason": st.one_of(st.just("Lost the first one."), TEXT)}),
        send=post_to(review_url(session, "link/")),
        record_property=record_property,
        may_add=("PatientLink",),
        # Each post is a new link that replaces the one before (shown once).
        replay=False,
    )


@pytest.fixture
def read_through():
    return ready_session(read_through=True)


def test_patient_question_answer(read_through, record_property):
    session = read_through
    question = session.patient_questions.get()
    answer = st.one_of(st.just("Yes, if she stays with you."), TEXT)
    strategy = st.tuples(
        st.one_of(st.just(question.pk), st.integers(-5, 10**12)),
        form_data({f"pq{question.pk}-answer": answer, "answer": answer}),
    )

    def send(client, value):
        question_id, data = value
        return client.post(review_url(session, f"patient-questions/{question_id}/answer/"), data)

    fuzz(
        name="staff: review (patient question)",
        client=staff(session.physician),
        strategy=strategy,
        send=send,
        record_property=record_property,
        may_add=(),
    )


def test_question_review(read_through, record_property):
    session = read_through
    questions = [flagged_question(session), free_text_question(session)]
    ids = [q.pk for q in questions]
    points = values(st.one_of(st.sampled_from(["0", "1", "2", "3"]), SHORT))
    fields = {}
    for q in questions:
        fields[f"q{q.pk}-covered_key_points"] = points
        fields[f"q{q.pk}-note"] = st.one_of(st.just("Explained again."), TEXT)
    strategy = st.tuples(
        st.one_of(st.sampled_from(ids), st.integers(-5, 10**12)), form_data(fields)
    )

    def send(client, value):
        question_id, data = value
        return client.post(review_url(session, f"questions/{question_id}/review/"), data)

    fuzz(
        name="staff: review (question review)",
        client=staff(session.physician),
        strategy=strategy,
        send=send,
        record_property=record_property,
        may_add=("QuestionReview",),
    )


def test_discussion(read_through, record_property):
    session = read_through
    sections = [s.key for s in session.procedure_version.sections.all()]
    alternatives = [a.key for a in session.procedure_version.alternatives.all()]
    valid = {
        "verbal_teachback": sections[:2],
        "alternatives_discussed": alternatives,
        "alternatives_notes": "Surgery discussed.",
        "witness_name": "Marie Témoin",
    }
    strategy = either(
        valid,
        {
            "verbal_teachback": values(st.one_of(st.sampled_from(sections), SHORT)),
            "verbal_teachback_notes": TEXT,
            "alternatives_discussed": values(st.one_of(st.sampled_from(alternatives), SHORT)),
            "alternatives_notes": TEXT,
            "interpreter_name": st.one_of(st.just("Ana Ruiz"), SHORT),
            "interpreter_language": st.one_of(st.just("Spanish"), SHORT),
            "witness_name": st.one_of(st.just("Marie Témoin"), SHORT),
        },
    )
    fuzz(
        name="staff: discussion",
        client=staff(session.physician),
        strategy=strategy,
        send=post_to(review_url(session, "discussion/")),
        record_property=record_property,
        may_add=("Discussion",),
    )


def test_attest(record_property):
    session = reviewed_session(read_through=True)
    fuzz(
        name="staff: attest",
        client=staff(session.physician),
        strategy=form_data({"attest-password": PASSWORD_TRY, "password": PASSWORD_TRY}),
        send=post_to(review_url(session, "attest/")),
        record_property=record_property,
        may_add=("Signature",),
    )


def test_finalize(fake_pdf_renderer, record_property):
    session = decided_session()
    fuzz(
        name="staff: finalize",
        client=staff(session.physician),
        strategy=form_data({"finalize-password": PASSWORD_TRY, "password": PASSWORD_TRY}),
        send=post_to(review_url(session, "finalize/")),
        record_property=record_property,
        may_add=("ConsentRecord", "Signature"),
    )


def test_addendum(fake_pdf_renderer, monkeypatch, record_property):
    monkeypatch.setattr("consent.record.addendum.addendum_pdf_render", fake_addendum_render)
    record = finalized_record()
    session = record.session
    valid = {
        "kind": "withdrawal",
        "text": "The patient withdrew in clinic.",
        "password": PASSWORD,
        "submission_key": "f" * 32,
    }
    strategy = either(
        valid,
        {
            "kind": st.one_of(st.sampled_from(["withdrawal", "correction"]), NASTY),
            "text": st.one_of(st.just("The patient withdrew in clinic."), TEXT),
            "patient_name": st.one_of(st.just("Jeanne Testpatient"), SHORT),
            "signature": SIGNATURE,
            "password": PASSWORD_TRY,
            "submission_key": st.one_of(st.just("f" * 32), SHORT),
        },
    )
    fuzz(
        name="staff: addendum",
        client=staff(session.physician),
        strategy=strategy,
        send=post_to(review_url(session, "addenda/")),
        record_property=record_property,
        may_add=("Addendum",),
    )
