"""Teach to goal: how a question's attempts translate into what the patient sees next.

Pure functions over already-loaded rows, so every page computes progress from one query.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consent.models import Attempt, Question


class Outcome(StrEnum):
    UNANSWERED = "unanswered"
    CORRECT_FIRST = "correct_first"
    CORRECT_AFTER_RETEACH = "correct_after_reteach"
    # Wrong, with a re-teach still to come: the patient sees the explanation and section again.
    RETEACH = "reteach"
    # Still wrong after the last re-teach: to discuss with the physician.
    FLAGGED = "flagged"
    # A free-text answer, which the physician assesses.
    ANSWERED = "answered"


OUTCOME_LABELS = {
    Outcome.UNANSWERED: gettext_lazy("Not answered yet"),
    Outcome.CORRECT_FIRST: gettext_lazy("Right first time"),
    Outcome.CORRECT_AFTER_RETEACH: gettext_lazy("Right after re-teaching"),
    Outcome.RETEACH: gettext_lazy("Wrong, being re-taught"),
    Outcome.FLAGGED: gettext_lazy("Flagged: to discuss"),
    Outcome.ANSWERED: gettext_lazy("Answered in own words"),
}

DONE = {Outcome.CORRECT_FIRST, Outcome.CORRECT_AFTER_RETEACH, Outcome.FLAGGED, Outcome.ANSWERED}


@dataclass
class QuestionProgress:
    question: Question
    number: int
    max_reteach: int
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def last(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def next_round(self) -> int:
        return len(self.attempts) + 1

    @property
    def outcome(self) -> Outcome:
        last = self.last
        if last is None:
            return Outcome.UNANSWERED
        if last.is_correct is None:
            return Outcome.ANSWERED
        if last.is_correct:
            return Outcome.CORRECT_FIRST if last.round == 1 else Outcome.CORRECT_AFTER_RETEACH
        if last.round > self.max_reteach:
            return Outcome.FLAGGED
        return Outcome.RETEACH

    @property
    def flagged(self) -> bool:
        return self.outcome == Outcome.FLAGGED

    @property
    def answer_display(self) -> str:
        """The latest answer as the patient gave it."""
        return answer_text(self.question, self.last.answer) if self.last else ""

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS[self.outcome])

    @property
    def done(self) -> bool:
        return self.outcome in DONE

    @property
    def reteaches_left(self) -> int:
        return max(0, self.max_reteach + 1 - len(self.attempts))


def grade(question: Question, answer: Any) -> bool | None:
    """Say whether a (validated) answer is right; None for free text, which a person assesses."""
    if question.kind == Question.Kind.FREE_TEXT:
        return None
    if question.kind == Question.Kind.TRUE_FALSE:
        return answer is question.correct
    return sorted(answer) == sorted(question.correct)


def answer_is_valid(question: Question, answer: Any, *, max_text: int) -> bool:
    """Check an answer's shape against its question (the forms give the user-facing messages)."""
    kind = question.kind
    if kind == Question.Kind.TRUE_FALSE:
        return isinstance(answer, bool)
    if kind == Question.Kind.FREE_TEXT:
        return isinstance(answer, str) and len(answer.strip()) > 0 and len(answer) <= max_text
    if not isinstance(answer, list) or not answer:
        return False
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in answer):
        return False
    if len(set(answer)) != len(answer) or not all(0 <= i < len(question.choices) for i in answer):
        return False
    return kind != Question.Kind.SINGLE or len(answer) == 1


def answer_text(question: Question, answer: Any) -> str:
    """Show an attempt's answer as the patient gave it: the chosen wording, or their text."""
    if question.kind == Question.Kind.FREE_TEXT:
        return str(answer)
    if question.kind == Question.Kind.TRUE_FALSE:
        return _("True") if answer else _("False")
    return "; ".join(question.choices[i] for i in answer if 0 <= i < len(question.choices))
