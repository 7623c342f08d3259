"""Reads the views need, each with a fixed number of queries however much the patient answered."""

from dataclasses import dataclass

from consent.models import (
    Attempt,
    ConsentSession,
    PatientLink,
    Question,
    Section,
)
from consent.rules import Outcome, QuestionProgress


@dataclass
class Journey:
    """Everything the patient pages need about one consent session, loaded in a few queries."""

    session: ConsentSession
    sections: list[Section]
    progress: list[QuestionProgress]

    @property
    def section_count(self) -> int:
        return len(self.sections)

    @property
    def question_count(self) -> int:
        return len(self.progress)

    def section(self, number: int) -> Section | None:
        return self.sections[number - 1] if 1 <= number <= len(self.sections) else None

    def question(self, number: int) -> QuestionProgress | None:
        return self.progress[number - 1] if 1 <= number <= len(self.progress) else None

    def section_number(self, section_id: int) -> int:
        return next(i for i, s in enumerate(self.sections, start=1) if s.pk == section_id)

    @property
    def current_question(self) -> QuestionProgress | None:
        """The first question not yet settled, or None when all are."""
        return next((p for p in self.progress if not p.done), None)

    @property
    def all_answered(self) -> bool:
        return all(p.done for p in self.progress)

    def with_outcome(self, *outcomes: Outcome) -> list[QuestionProgress]:
        return [p for p in self.progress if p.outcome in outcomes]


def journey_get(*, session: ConsentSession) -> Journey:
    sections = list(Section.objects.filter(version_id=session.procedure_version_id))
    questions = list(
        Question.objects.filter(version_id=session.procedure_version_id).select_related("section")
    )
    progress = [
        QuestionProgress(question=q, number=n, max_reteach=session.max_reteach)
        for n, q in enumerate(questions, start=1)
    ]
    by_question = {p.question.pk: p for p in progress}
    for attempt in Attempt.objects.filter(session=session).order_by("question_id", "round"):
        by_question[attempt.question_id].attempts.append(attempt)
    return Journey(session=session, sections=sections, progress=progress)


def patient_link_session(*, link_id: int) -> PatientLink | None:
    return (
        PatientLink.objects.select_related("session__procedure_version").filter(pk=link_id).first()
    )


# The physician's workspace


def question_progress_get(*, session: ConsentSession, question_id: int) -> QuestionProgress | None:
    """A teach-back question of the session's procedure version with its attempts, or None."""
    journey = journey_get(session=session)
    return next((p for p in journey.progress if p.question.pk == question_id), None)
