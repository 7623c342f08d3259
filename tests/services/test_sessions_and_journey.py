"""Services and the pure teach-back rules, without HTTP."""

import threading
import uuid

import pytest
from django.db import connection, transaction

from consent import services
from consent.audit.events import Origin, audit_record
from consent.models import Attempt, AuditEvent, ConsentSession, PatientQuestion
from consent.rules import Outcome, QuestionProgress, answer_is_valid, answer_text, grade
from consent.services import journey as journey_services
from consent.services import links, sessions
from tests.factories import BIRTH_DATE, consent_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_():
    return Origin(ip="10.1.2.3", user_agent="TestBrowser/1.0")


def reviewing(session, origin):
    link, _token = links.patient_link_issue(session=session, issued_by=session.physician)
    assert links.patient_identity_confirm(link=link, birth_date=BIRTH_DATE, origin=origin)
    session.refresh_from_db()
    session.sections_done = True
    session.save()
    return session


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_the_changes_transaction():
    with pytest.raises(RuntimeError):
        audit_record(action="x", role="system")


def test_audit_event_records_actor_role_action_object_time_address_and_client(request_):
    session = consent_session()
    with transaction.atomic():
        event = audit_record(
            action="demo.done",
            role="physician",
            actor=session.physician,
            obj=session,
            session=session,
            origin=request_,
        )
    event.refresh_from_db()
    assert event.actor == session.physician
    assert event.actor_label == session.physician.username
    assert (event.role, event.action) == ("physician", "demo.done")
    assert (event.object_type, event.object_id) == ("consent.consentsession", str(session.pk))
    assert event.occurred_at is not None
    assert (event.address, event.client) == ("10.1.2.3", "TestBrowser/1.0")


def test_every_state_change_writes_its_audit_event(request_):
    session = consent_session()
    session = reviewing(session, request_)
    sessions.session_cancel(
        session=session, cancelled_by=session.physician, reason="No longer needed", origin=request_
    )
    actions = list(AuditEvent.objects.filter(session=session).values_list("action", flat=True))
    assert actions == [
        "session.created",
        "link.issued",
        "patient.birth_date_confirmed",
        "session.reviewing",
        "session.cancelled",
    ]


def test_a_cancelled_session_cannot_be_cancelled_again(request_):
    session = consent_session()
    sessions.session_cancel(
        session=session, cancelled_by=session.physician, reason="x", origin=request_
    )
    with pytest.raises(services.ServiceError, match="cannot be cancelled"):
        sessions.session_cancel(
            session=session, cancelled_by=session.physician, reason="y", origin=request_
        )


def test_no_link_is_issued_for_a_cancelled_session(request_):
    session = consent_session()
    sessions.session_cancel(
        session=session, cancelled_by=session.physician, reason="x", origin=request_
    )
    with pytest.raises(services.ServiceError):
        links.patient_link_issue(session=session, issued_by=session.physician)


def test_answer_of_the_wrong_shape_is_refused_by_the_service(request_):
    session = reviewing(consent_session(), request_)
    question = session.procedure_version.questions.get(position=1)
    with pytest.raises(services.ServiceError):
        journey_services.answer_submit(
            session=session, question=question, answer=[99], round_number=1, origin=request_
        )
    assert not Attempt.objects.exists()


def test_answers_before_review_starts_are_refused(request_):
    session = consent_session()
    question = session.procedure_version.questions.get(position=1)
    with pytest.raises(services.ServiceError):
        journey_services.answer_submit(
            session=session,
            question=question,
            answer=list(question.correct),
            round_number=1,
            origin=request_,
        )


def test_patient_question_with_the_same_form_id_is_stored_once(request_):
    session = reviewing(consent_session(), request_)
    form_id = uuid.uuid4()
    first, created = journey_services.patient_question_ask(
        session=session, text="Pain?", asked_from="/patient/", form_id=form_id, origin=request_
    )
    again, created_again = journey_services.patient_question_ask(
        session=session, text="Pain?", asked_from="/patient/", form_id=form_id, origin=request_
    )
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    assert PatientQuestion.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_concurrent_double_submit_stores_exactly_one_attempt():
    origin = Origin(ip="127.0.0.1", user_agent="tests")
    session = consent_session()
    session = reviewing(session, origin)
    question = session.procedure_version.questions.get(position=1)
    barrier = threading.Barrier(4)
    results = []

    def submit():
        barrier.wait()
        try:
            results.append(
                journey_services.answer_submit(
                    session=session,
                    question=question,
                    answer=list(question.correct),
                    round_number=1,
                    origin=origin,
                ).created
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert Attempt.objects.filter(session=session).count() == 1


# Teach-back rules


class FakeQuestion:
    def __init__(self, kind, choices=(), correct=None):
        self.kind, self.choices, self.correct = kind, list(choices), correct


def attempt(round_number, correct):
    return Attempt(round=round_number, is_correct=correct, answer=[0])


@pytest.mark.parametrize(
    ("attempts", "outcome", "done"),
    [
        ([], Outcome.UNANSWERED, False),
        ([(1, True)], Outcome.CORRECT_FIRST, True),
        ([(1, False)], Outcome.RETEACH, False),
        ([(1, False), (2, True)], Outcome.CORRECT_AFTER_RETEACH, True),
        ([(1, False), (2, False)], Outcome.RETEACH, False),
        ([(1, False), (2, False), (3, False)], Outcome.FLAGGED, True),
        ([(1, None)], Outcome.ANSWERED, True),
    ],
)
def test_outcome_follows_the_attempts(attempts, outcome, done):
    progress = QuestionProgress(
        question=FakeQuestion("single"),
        number=1,
        max_reteach=2,
        attempts=[attempt(r, c) for r, c in attempts],
    )
    assert progress.outcome == outcome
    assert progress.done is done


def test_grading_each_kind():
    assert grade(FakeQuestion("single", "ab", [1]), [1]) is True
    assert grade(FakeQuestion("single", "ab", [1]), [0]) is False
    assert grade(FakeQuestion("multiple", "abc", [0, 2]), [2, 0]) is True
    assert grade(FakeQuestion("multiple", "abc", [0, 2]), [0]) is False
    assert grade(FakeQuestion("true-false", correct=False), False) is True
    assert grade(FakeQuestion("free-text"), "anything") is None


@pytest.mark.parametrize(
    ("question", "answer", "valid"),
    [
        (FakeQuestion("single", "abc", [0]), [2], True),
        (FakeQuestion("single", "abc", [0]), [0, 1], False),
        (FakeQuestion("single", "abc", [0]), [3], False),
        (FakeQuestion("single", "abc", [0]), [True], False),
        (FakeQuestion("multiple", "abc", [0]), [0, 0], False),
        (FakeQuestion("multiple", "abc", [0]), [], False),
        (FakeQuestion("true-false", correct=True), "true", False),
        (FakeQuestion("free-text"), "x" * 5001, False),
        (FakeQuestion("free-text"), "  ", False),
        (FakeQuestion("free-text"), "ok", True),
    ],
)
def test_answer_shapes(question, answer, valid):
    assert answer_is_valid(question, answer, max_text=5000) is valid


def test_answer_text_shows_the_chosen_wording():
    assert (
        answer_text(FakeQuestion("multiple", ["Stroke", "Bleeding", "Fever"]), [0, 1])
        == "Stroke; Bleeding"
    )
    assert answer_text(FakeQuestion("true-false"), False) == "False"


# Icon arrays: tests/record/test_icon_array.py


def test_session_status_choices_follow_the_design():
    assert [s.value for s in ConsentSession.Status] == [
        "created",
        "reviewing",
        "ready_for_discussion",
        "attested",
        "signed",
        "declined",
        "finalized",
        "expired",
        "cancelled",
    ]
