"""The state machine, walked as a table: every action from every status.

An allowed action succeeds through its real service and leaves the session in the table's
target status; every other action is refused with a message that names the session's status,
and changes nothing (no status change, no new audit event other than a refusal).
"""

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from consent import lifecycle
from consent.lifecycle import TRANSITIONS, Action, NotAllowed
from consent.models import (
    AuditEvent,
    ConsentRecord,
    ConsentSession,
    PatientLink,
    PatientQuestion,
    SectionView,
)
from consent.services import journey as journey_services
from consent.services import links
from consent.services import review as review_services
from consent.services import sessions as session_services
from consent.services import signatures as signature_services
from tests import factories
from tests.factories import BIRTH_DATE, FAKE_PDF, PASSWORD, addendum_added

pytestmark = pytest.mark.django_db

Status = ConsentSession.Status
QUESTION = "Will I be awake?"


# A session in each status, reached through the real services.


def _reviewing() -> ConsentSession:
    session = factories.consent_session()
    link, _token = links.patient_link_issue(session=session, issued_by=session.physician)
    assert links.patient_identity_confirm(link=link, birth_date=BIRTH_DATE)
    # Past the reading part, so that the first question is the one to answer.
    ConsentSession.objects.filter(pk=session.pk).update(sections_done=True)
    session.refresh_from_db()
    return session


def _cancelled() -> ConsentSession:
    session = factories.consent_session()
    return session_services.session_cancel(
        session=session, cancelled_by=session.physician, reason="Patient moved away"
    )


def _expired() -> ConsentSession:
    return session_services.session_expire(session=factories.consent_session())


def _reviewed() -> ConsentSession:
    return factories.reviewed_session(patient_question=QUESTION)


def _finalized() -> ConsentSession:
    return factories.finalized_record(patient_question=QUESTION).session


MAKERS: dict[str, Callable[[], ConsentSession]] = {
    Status.CREATED: factories.consent_session,
    Status.REVIEWING: _reviewing,
    Status.READY_FOR_DISCUSSION: lambda: factories.ready_session(patient_question=QUESTION),
    Status.ATTESTED: lambda: factories.attested_session(patient_question=QUESTION),
    Status.SIGNED: lambda: factories.decided_session(patient_question=QUESTION),
    Status.DECLINED: lambda: factories.decided_session(
        decline_reason="Not now", patient_question=QUESTION
    ),
    Status.FINALIZED: _finalized,
    Status.CANCELLED: _cancelled,
    Status.EXPIRED: _expired,
}


# Each action through the service that performs it. Actions without a service of their own
# are checked through `lifecycle.require`: ANSWERS_COMPLETE happens inside the last answer,
# DECISION_VIEW and RECORD_COPY only open pages (their views ask `lifecycle.can`).


def _patient_question(session: ConsentSession) -> PatientQuestion:
    """The session's written question; made directly where asking is not (or no longer) open."""
    return session.patient_questions.first() or PatientQuestion.objects.create(
        session=session, text=QUESTION, asked_from="/patient/", form_id=uuid.uuid4()
    )


def _first_open_question(session: ConsentSession):
    return session.procedure_version.questions.order_by("position").first()


def _answer(session: ConsentSession) -> object:
    """Answer the first question, in a round not stored yet (a stored round is a replay)."""
    question = _first_open_question(session)
    stored = session.attempts.filter(question=question).count()
    answer = factories.right_value(question.wording_for_round(stored + 1))
    return journey_services.answer_submit(
        session=session, question=question, answer=answer, round_number=stored + 1
    )


def _record_of(session: ConsentSession) -> ConsentRecord:
    return ConsentRecord.objects.filter(session=session).first() or ConsentRecord(session=session)


SERVICES: dict[Action, Callable[[ConsentSession], object]] = {
    Action.LINK_ISSUE: lambda s: links.patient_link_issue(
        session=s, issued_by=s.physician, reason="The patient lost the link."
    ),
    Action.REVIEW_START: lambda s: links.session_review_start(session=s, actor_label="patient"),
    Action.ANSWER: _answer,
    Action.ASK: lambda s: journey_services.patient_question_ask(
        session=s, text="And afterwards?", asked_from="/patient/", form_id=uuid.uuid4()
    ),
    Action.QUESTION_ANSWER: lambda s: review_services.patient_question_answer(
        question=_patient_question(s), answer="Yes, we will talk.", physician=s.physician
    ),
    Action.REVIEW: lambda s: review_services.discussion_save(
        session=s, physician=s.physician, alternatives_notes="Surgery discussed."
    ),
    Action.ATTEST: lambda s: signature_services.session_attest(
        session=s, physician=s.physician, password=PASSWORD
    ),
    Action.CONSENT: lambda s: signature_services.patient_consent_sign(
        session=s,
        confirmed_statements=len(signature_services.PATIENT_CONSENT_STATEMENTS),
        typed_name=s.patient_name,
        image=None,
    ),
    Action.DECLINE: lambda s: signature_services.patient_decline(
        session=s, typed_name=s.patient_name, reason="", image=None
    ),
    Action.COMPANION_SIGN: lambda s: signature_services.companion_sign(
        session=s, kind="witness", typed_name="Bo Witness", image=None
    ),
    Action.FINALIZE: lambda s: signature_services.session_finalize(
        session=s,
        physician=s.physician,
        password=PASSWORD,
        render_pdf=lambda _session, _record_id: FAKE_PDF,
    ),
    Action.ADDENDUM: lambda s: addendum_added(
        record=_record_of(s), kind="correction", text="Typo in the notes.", author=s.physician
    ),
    Action.CANCEL: lambda s: session_services.session_cancel(
        session=s, cancelled_by=s.physician, reason="Changed plans"
    ),
    Action.EXPIRE: lambda s: session_services.session_expire(session=s),
}
# Refusals that are not errors: an unusable link opens nothing, and reading a closed
# session's text counts no time.
QUIET = {Action.LINK_USE, Action.READ}
WITHOUT_SERVICE = {Action.ANSWERS_COMPLETE, Action.DECISION_VIEW, Action.RECORD_COPY}


def _token_for(session: ConsentSession) -> str:
    """A fresh link for any status (issuing is itself refused on closed sessions)."""
    token = f"walk-{uuid.uuid4().hex}"
    PatientLink.objects.create(
        session=session,
        token_hash=links.token_hash(token),
        created_by=session.physician,
        expires_at=timezone.now() + timedelta(days=1),
    )
    return token


def _read(session: ConsentSession) -> int:
    section = session.procedure_version.sections.first()
    journey_services.section_leave(
        session=session, section=section, seconds=20, go_to=2, finished_reading=False
    )
    return SectionView.objects.filter(session=session).count()


ALLOWED = sorted((a, s) for a, t in TRANSITIONS.items() for s in t.allowed)
REFUSED = sorted((a, s) for a, t in TRANSITIONS.items() for s in MAKERS if s not in t.allowed)


def test_every_action_has_a_row_and_every_status_is_reachable():
    assert set(TRANSITIONS) == set(Action)
    targets = {t.target for t in TRANSITIONS.values() if t.target}
    assert targets | {Status.CREATED} == set(Status.values)
    assert set(MAKERS) == set(Status.values)
    assert set(SERVICES) | QUIET | WITHOUT_SERVICE == set(Action)


@pytest.mark.parametrize(("action", "status"), ALLOWED)
def test_an_allowed_action_succeeds_and_leads_to_its_target(action, status):
    # Attesting needs a finished review as well as the status.
    maker = MAKERS[status] if action != Action.ATTEST else _reviewed
    session = maker()
    assert session.status == status
    target = TRANSITIONS[action].target or status
    if action == Action.LINK_USE:
        assert links.patient_link_open(token=_token_for(session)) is not None
    elif action == Action.READ:
        assert _read(session) == 1
    elif action in WITHOUT_SERVICE:
        assert lifecycle.require(session, action) == target
        return
    else:
        SERVICES[action](session)
    session.refresh_from_db()
    assert session.status == target


@pytest.mark.parametrize("status", list(MAKERS))
def test_every_other_action_is_refused_with_a_clear_error_and_changes_nothing(status):
    session = MAKERS[status]()
    label = str(Status(status).label).lower()
    for action in sorted(a for a, s in REFUSED if s == status):
        events = AuditEvent.objects.exclude(action="signature.refused").count()
        if action == Action.LINK_USE:
            assert links.patient_link_open(token=_token_for(session)) is None
        elif action == Action.READ:
            views = list(SectionView.objects.filter(session=session).values("seconds"))
            _read(session)
            assert list(SectionView.objects.filter(session=session).values("seconds")) == views
        else:
            call = SERVICES.get(action) or (lambda s, a=action: lifecycle.require(s, a))
            with pytest.raises(NotAllowed) as refused:
                call(session)
            assert refused.value.action == action
            message = str(refused.value)
            generic = str(lifecycle.ERROR_NOT_NOW).format(status=label)
            assert message == generic or "{" not in message, message
            assert message.strip(), action
        session.refresh_from_db()
        assert session.status == status, action
        after = AuditEvent.objects.exclude(action="signature.refused").count()
        assert after == events, f"{action} from {status} wrote an audit event"


def test_the_refusal_names_the_status_in_words():
    session = _cancelled()
    with pytest.raises(NotAllowed) as refused:
        signature_services.session_attest(
            session=session, physician=session.physician, password=PASSWORD
        )
    assert str(refused.value) == "This step is not possible now: the consent session is cancelled."


def test_a_session_not_attested_in_time_expires_and_its_link_stops_working(settings):
    settings.CONSENT_SESSION_TTL = timedelta(days=30)
    old = _reviewing()
    fresh = factories.consent_session(patient_name="Ada Fresh", doctor=old.physician)
    token = _token_for(old)
    ConsentSession.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    attested = factories.attested_session(patient_name="Bea Attested", doctor=old.physician)
    ConsentSession.objects.filter(pk=attested.pk).update(
        created_at=timezone.now() - timedelta(days=90)
    )

    expired = session_services.sessions_expire_due()

    assert [s.pk for s in expired] == [old.pk]
    old.refresh_from_db()
    fresh.refresh_from_db()
    attested.refresh_from_db()
    assert (old.status, fresh.status, attested.status) == (
        Status.EXPIRED,
        Status.CREATED,
        Status.ATTESTED,
    )
    assert links.patient_link_open(token=token) is None
    event = AuditEvent.objects.get(action="session.expired")
    assert event.session_id == old.pk
    assert event.payload["from"] == Status.REVIEWING


def test_expire_sessions_command_reports_how_many(settings, capsys):
    from django.core.management import call_command

    settings.CONSENT_SESSION_TTL = timedelta(days=30)
    session = factories.consent_session()
    ConsentSession.objects.filter(pk=session.pk).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    call_command("expire_sessions")
    assert "1 consent session(s) expired." in capsys.readouterr().out
    session.refresh_from_db()
    assert session.status == Status.EXPIRED
