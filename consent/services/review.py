"""The physician's review before attesting: answers to the patient's questions, the review of
each teach-back item, and the record of the discussion held in person."""

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from consent import clock, lifecycle
from consent.audit.events import Origin, audit_record
from consent.lifecycle import Action
from consent.models import (
    AuditEvent,
    ConsentSession,
    Discussion,
    PatientQuestion,
    Question,
    QuestionReview,
)
from consent.services import ServiceError, check_responsible

PHYSICIAN = AuditEvent.Role.PHYSICIAN


def patient_question_answer(
    *, question: PatientQuestion, answer: str, physician: User, origin: Origin | None = None
) -> PatientQuestion:
    with transaction.atomic():
        session = lifecycle.lock(question.session, Action.QUESTION_ANSWER)
        check_responsible(session, physician)
        question = PatientQuestion.objects.get(pk=question.pk, session=session)
        question.answer = answer.strip()
        question.answered_by = physician
        question.answered_at = clock.now()
        question.save(update_fields=["answer", "answered_by", "answered_at"])
        audit_record(
            action="patient_question.answered",
            role=PHYSICIAN,
            actor=physician,
            origin=origin,
            obj=question,
            session=session,
        )
    return question


def question_review_save(
    *,
    session: ConsentSession,
    question: Question,
    covered_key_points: list[int],
    note: str,
    physician: User,
    origin: Origin | None = None,
) -> QuestionReview:
    """Record which key points the patient's words covered and how a flagged item was resolved."""
    covered = sorted({i for i in covered_key_points if 0 <= i < len(question.key_points)})
    with transaction.atomic():
        session = lifecycle.lock(session, Action.REVIEW)
        check_responsible(session, physician)
        if question.version_id != session.procedure_version_id:
            raise ServiceError(_("That question is not part of this consent session."))
        review, _created = QuestionReview.objects.update_or_create(
            session=session,
            question=question,
            defaults={
                "covered_key_points": covered,
                "note": note.strip(),
                "reviewed_by": physician,
            },
        )
        audit_record(
            action="question.reviewed",
            role=PHYSICIAN,
            actor=physician,
            origin=origin,
            obj=review,
            session=session,
            payload={"question": question.key, "covered_key_points": covered},
        )
    return review


def discussion_save(
    *,
    session: ConsentSession,
    physician: User,
    verbal_teachback: Sequence[str] = (),
    verbal_teachback_notes: str = "",
    alternatives_discussed: Sequence[str] = (),
    alternatives_notes: str = "",
    interpreter_name: str = "",
    interpreter_language: str = "",
    witness_name: str = "",
    origin: Origin | None = None,
) -> Discussion:
    """Record the in-person discussion: verbal teach-back, alternatives, interpreter, witness.

    `verbal_teachback` names the sections the patient explained back, `alternatives_discussed`
    the alternatives talked through (their keys in the pack).
    """
    fields = {
        "verbal_teachback": list(verbal_teachback),
        "verbal_teachback_notes": verbal_teachback_notes,
        "alternatives_discussed": list(alternatives_discussed),
        "alternatives_notes": alternatives_notes,
        "interpreter_name": interpreter_name,
        "interpreter_language": interpreter_language,
        "witness_name": witness_name,
    }
    with transaction.atomic():
        session = lifecycle.lock(session, Action.REVIEW)
        check_responsible(session, physician)
        discussion, _created = Discussion.objects.update_or_create(
            session=session, defaults={**fields, "updated_by": physician}
        )
        audit_record(
            action="discussion.recorded",
            role=PHYSICIAN,
            actor=physician,
            origin=origin,
            obj=discussion,
            session=session,
            payload={
                "verbal_teachback": discussion.verbal_teachback,
                "alternatives_discussed": discussion.alternatives_discussed,
                "interpreter": bool(discussion.interpreter_name),
                "witness": bool(discussion.witness_name),
            },
        )
    return discussion
