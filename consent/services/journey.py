"""The patient's journey: reading sections, answering teach-back questions, asking the doctor.

Error messages are module constants so that views show them and tests assert them.
"""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from consent import clock, lifecycle
from consent.audit.events import Origin, audit_record
from consent.choice_order import presentation_of
from consent.lifecycle import Action
from consent.models import (
    Attempt,
    AuditEvent,
    ConsentSession,
    PatientQuestion,
    Question,
    Section,
    SectionView,
)
from consent.rules import answer_is_valid, grade
from consent.selectors.journey import Journey, journey_get
from consent.services import ServiceError

PATIENT = AuditEvent.Role.PATIENT
STAFF = AuditEvent.Role.STAFF

ERROR_ANSWERS_LOCKED = _("Your answers are saved and can no longer be changed.")
ERROR_ANSWER_INVALID = _("That answer could not be read. Please answer again.")
ERROR_QUESTION_EMPTY = _("Write your question before sending it.")
ERROR_ASK_IN_PERSON = _(
    "Your doctor has already answered your written questions. Please ask this one in person, "
    "before you sign."
)


def section_leave(
    *,
    session: ConsentSession,
    section: Section,
    seconds: int | None,
    go_to: int,
    finished_reading: bool,
    origin: Origin | None = None,
) -> ConsentSession:
    """Record the time spent on a section as the patient moves to another page.

    `seconds` is None when the page was not shown from this browser session (a replayed post):
    the move is kept, but no time is counted.
    """
    with transaction.atomic():
        session = ConsentSession.objects.select_for_update().get(pk=session.pk)
        if not lifecycle.can(session, Action.READ):
            # Re-reading is fine at any time; once the answers lock, the time is not counted.
            return session
        counted = 0
        if seconds is not None:
            cap = int(settings.CONSENT_SECTION_TIME_CAP.total_seconds())
            counted = max(0, min(seconds, cap))
            view, _created = SectionView.objects.get_or_create(session=session, section=section)
            view.seconds += counted
            view.visits += 1
            view.save(update_fields=["seconds", "visits", "last_viewed_at"])
        fields = []
        if session.current_section != go_to:
            session.current_section = go_to
            fields.append("current_section")
        if finished_reading and not session.sections_done:
            session.sections_done = True
            fields.append("sections_done")
        if fields:
            session.save(update_fields=fields)
        audit_record(
            action="section.read",
            role=PATIENT,
            actor_label="patient",
            origin=origin,
            obj=section,
            session=session,
            payload={"section": section.key, "seconds": counted},
        )
    return session


@dataclass(frozen=True)
class SubmitResult:
    attempt: Attempt
    created: bool


def answer_submit(
    *,
    session: ConsentSession,
    question: Question,
    answer: list[int] | bool | str,
    round_number: int,
    origin: Origin | None = None,
) -> SubmitResult:
    """Store one attempt at a question; finish the review when every question is settled.

    `round_number` is the round the patient saw, and `answer` is given in that round's
    wording (`Question.wording_for_round`): choice indexes into its `choices`. The attempt
    stores the wording, the order its choices were shown in and the seed of that order
    (consent/choice_order.py). A replayed or double-submitted form names a round already
    stored: it changes nothing and returns the stored attempt.
    """
    wording = question.wording_for_round(round_number)
    if not answer_is_valid(wording, answer, max_text=settings.CONSENT_FREE_TEXT_MAX):
        raise ServiceError(ERROR_ANSWER_INVALID)
    with transaction.atomic():
        session = ConsentSession.objects.select_for_update().get(pk=session.pk)
        stored = Attempt.objects.filter(session=session, question=question, round=round_number)
        if stored.exists():
            return SubmitResult(attempt=stored.get(), created=False)
        lifecycle.require(session, Action.ANSWER, error=ERROR_ANSWERS_LOCKED)
        journey = journey_get(session=session)
        progress = next(p for p in journey.progress if p.question.pk == question.pk)
        current = journey.current_question
        if current is None or current.question.pk != question.pk:
            raise ServiceError(ERROR_ANSWER_INVALID)
        if round_number != progress.next_round:
            raise ServiceError(ERROR_ANSWER_INVALID)
        shown = presentation_of(session, question, round_number, progress.attempts)
        try:
            with transaction.atomic():
                attempt = Attempt.objects.create(
                    session=session,
                    question=question,
                    round=round_number,
                    answer=answer,
                    is_correct=grade(shown.wording, answer),
                    variant=shown.wording.variant,
                    shown_order=shown.order,
                    order_seed=shown.seed,
                )
        except IntegrityError:
            return SubmitResult(
                attempt=Attempt.objects.get(session=session, question=question, round=round_number),
                created=False,
            )
        progress.attempts.append(attempt)
        audit_record(
            action="answer.submitted",
            role=PATIENT,
            actor_label="patient",
            origin=origin,
            obj=attempt,
            session=session,
            payload={
                "question": question.key,
                "round": round_number,
                "correct": attempt.is_correct,
                "outcome": progress.outcome.value,
                "variant": shown.wording.variant,
                "shown_order": shown.order,
                # Choices are recorded; free text stays in its own row, not in the log.
                "answer": answer if question.kind != Question.Kind.FREE_TEXT else None,
            },
        )
        if journey.all_answered:
            _answers_complete(session=session, journey=journey, origin=origin)
    return SubmitResult(attempt=attempt, created=True)


def _answers_complete(*, session: ConsentSession, journey: Journey, origin: Origin | None) -> None:
    """reviewing -> ready_for_discussion, in the transaction of the last answer."""
    session.ready_at = clock.now()
    lifecycle.advance(session, Action.ANSWERS_COMPLETE, fields=["ready_at"])
    audit_record(
        action="session.ready_for_discussion",
        role=PATIENT,
        actor_label="patient",
        origin=origin,
        obj=session,
        session=session,
        payload={"flagged": [p.question.key for p in journey.progress if p.flagged]},
    )


def patient_question_ask(
    *,
    session: ConsentSession,
    text: str,
    asked_from: str,
    form_id: uuid.UUID,
    origin: Origin | None = None,
) -> tuple[PatientQuestion, bool]:
    """Store a question for the physician; a re-sent form (same form_id) stores nothing new."""
    if not text.strip():
        raise ServiceError(ERROR_QUESTION_EMPTY)
    with transaction.atomic():
        session = lifecycle.lock(session, Action.ASK, error=ERROR_ASK_IN_PERSON)
        existing = PatientQuestion.objects.filter(session=session, form_id=form_id).first()
        if existing is not None:
            return existing, False
        question = PatientQuestion.objects.create(
            session=session, text=text.strip(), asked_from=asked_from[:200], form_id=form_id
        )
        audit_record(
            action="patient_question.asked",
            role=PATIENT,
            actor_label="patient",
            origin=origin,
            obj=question,
            session=session,
            payload={"asked_from": question.asked_from},
        )
    return question, True
