"""The domain's rules, each written once: teach to goal, the flagged item, the patient's
decision, reading too fast, and how a duration reads.

Pure functions over already-loaded rows, so every page computes progress from one query; where
the database must apply a rule to many sessions at once (lists, dashboards, analytics), the rule
is given here as a query expression too, next to its Python form.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db.models import Case, CharField, Exists, F, OuterRef, Q, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consent.models import Attempt, Question, Wording


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


# The flagged item: still wrong after the last re-teach, to discuss with the physician.


def attempt_flagged(attempt: Attempt, max_reteach: int) -> bool:
    """Whether this attempt leaves its question flagged (wrong, and no re-teach is left)."""
    return attempt.is_correct is False and attempt.round > max_reteach


def flagged_attempts_q(max_reteach: F | OuterRef | int) -> Q:
    """`attempt_flagged` as a filter on attempts; `max_reteach` refers to the session's field
    (`F("session__max_reteach")`, or `OuterRef("max_reteach")` in a subquery of sessions)."""
    return Q(is_correct=False, round__gt=max_reteach)


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
        return Outcome.FLAGGED if attempt_flagged(last, self.max_reteach) else Outcome.RETEACH

    @property
    def flagged(self) -> bool:
        return self.outcome == Outcome.FLAGGED

    @property
    def wording(self) -> Wording:
        """The wording of the latest attempt (the pack's own before any)."""
        return self.question.wording(self.last.variant if self.last else 0)

    @property
    def answer_display(self) -> str:
        """The latest answer as the patient gave it."""
        if self.last is None:
            return ""
        return answer_text(self.question.wording(self.last.variant), self.last.answer)

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS[self.outcome])

    @property
    def done(self) -> bool:
        return self.outcome in DONE

    @property
    def reteaches_left(self) -> int:
        return max(0, self.max_reteach + 1 - len(self.attempts))


def grade(question: Question | Wording, answer: Any) -> bool | None:
    """Say whether a (validated) answer is right; None for free text, which a person assesses."""
    if question.kind == Question.Kind.FREE_TEXT:
        return None
    if question.kind == Question.Kind.TRUE_FALSE:
        return answer is question.correct
    return sorted(answer) == sorted(question.correct or [])


def answer_is_valid(question: Question | Wording, answer: Any, *, max_text: int) -> bool:
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


def answer_text(question: Question | Wording, answer: Any) -> str:
    """Show an attempt's answer as the patient gave it: the chosen wording, or their text."""
    if question.kind == Question.Kind.FREE_TEXT:
        return str(answer)
    if question.kind == Question.Kind.TRUE_FALSE:
        return _("True") if answer else _("False")
    return "; ".join(question.choices[i] for i in answer if 0 <= i < len(question.choices))


# The patient's decision, as the records list and the record state it.


class Decision(StrEnum):
    CONSENTED = "consented"
    DECLINED = "declined"
    # Consent given, then withdrawn by an addendum under the finalized record.
    WITHDRAWN = "withdrawn"
    UNDECIDED = "undecided"


DECISIONS = [
    (Decision.CONSENTED.value, gettext_lazy("Consented")),
    (Decision.DECLINED.value, gettext_lazy("Declined")),
    (Decision.WITHDRAWN.value, gettext_lazy("Withdrawn after consenting")),
    (Decision.UNDECIDED.value, gettext_lazy("Not decided")),
]


def decision_of(*, consented: bool, declined: bool, withdrawn: bool = False) -> Decision:
    """The decision from the patient's signature and any withdrawal (which only ends a consent
    given, so it outranks the signature)."""
    if withdrawn:
        return Decision.WITHDRAWN
    if consented:
        return Decision.CONSENTED
    if declined:
        return Decision.DECLINED
    return Decision.UNDECIDED


def decision_case(*, consented: Q | Exists, declined: Q | Exists, withdrawn: Q | Exists) -> Case:
    """`decision_of` as a query expression over three boolean conditions of a session."""
    return Case(
        When(withdrawn, then=Value(Decision.WITHDRAWN.value)),
        When(consented, then=Value(Decision.CONSENTED.value)),
        When(declined, then=Value(Decision.DECLINED.value)),
        default=Value(Decision.UNDECIDED.value),
        output_field=CharField(),
    )


# Reading too fast

# Words a minute above which a section cannot have been read, only skimmed or skipped: adults
# read plain-language text at about 200 to 300 words a minute, and 500 is faster than careful
# reading of anything unfamiliar. No setting: it describes people, not a deployment.
READING_WORDS_PER_MINUTE_MAX = 500
# Below this a section was only passed through, however short its text.
READING_SECONDS_MIN = 3
# The kinds of section whose points a patient is asked to explain back in person.
VERBAL_TEACHBACK_KINDS = ("purpose", "benefits", "risks", "alternatives")

_WORD = re.compile("[^\\W_]+(?:['\u2019-][^\\W_]+)*")


def section_word_count(text: str) -> int:
    """Words in a section's Markdown body (markup characters are not words)."""
    return len(_WORD.findall(text))


def words_per_minute(words: int, seconds: float) -> int | None:
    return round(words * 60 / seconds) if seconds else None


def read_too_fast(words: int, seconds: float) -> bool:
    """Whether a section was passed far faster than its text can be read: under
    `READING_SECONDS_MIN` seconds, or more than `READING_WORDS_PER_MINUTE_MAX` words a minute."""
    if seconds < READING_SECONDS_MIN:
        return True
    return words * 60 > READING_WORDS_PER_MINUTE_MAX * seconds


# Durations


def duration_text(seconds: float | None) -> str:
    """Seconds as `1 h 05 min`, `4 min 05 s` or `45 s`; a dash for none."""
    if seconds is None:
        return "\u2014"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {rest:02d} s"
    return f"{rest} s"


# The right signer: the name the patient types must be the patient's


# Letters that Unicode decomposition leaves whole: folded by hand, like the accents NFKD drops.
_NAME_LETTERS = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "\u0131": "i"}
)
# Apostrophes, straight or curly (O'Brien), join a name's parts; other punctuation separates.
_NAME_JOINERS = re.compile("['\u2019\u02bc`\u00b4]")
_NAME_SEPARATORS = re.compile(r"[^\w]+|_")


def name_parts(name: str) -> list[str]:
    """A name as comparable parts: case, accents and punctuation folded away, in order.

    "LÓPEZ, María-José O'Neil" gives ["maria", "jose", "oneil", "lopez"]. A comma marks a
    name written family name first ("López, María"): the parts after it come first, so the
    family name is last either way.
    """
    family, comma, given = name.partition(",")
    ordered = f"{given} {family}" if comma else name
    folded = unicodedata.normalize("NFKD", ordered.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = _NAME_JOINERS.sub("", folded.translate(_NAME_LETTERS))
    return [part for part in _NAME_SEPARATORS.split(folded) if part]


def typed_name_matches(typed: str, registered: str) -> bool:
    """Whether a typed signature name is the registered patient's name, as people write it.

    The rule (docs: consent/README.md, "The right signer"):

    - case, accents, extra spaces, hyphens, apostrophes and dots do not matter ("maria
      lopez", "LÓPEZ, María", "Maria-Lopez" all match "María López");
    - the order does not matter ("Lopez Maria" matches "Maria Lopez");
    - the typed name must contain the registered first given name and the family name (the
      registered name's first and last parts);
    - every part typed must be a part of the registered name, each used once; a single
      letter may stand for a registered middle name it begins ("Maria E. Lopez" matches
      "Maria Elena Lopez");
    - so a middle name may be left out ("Maria Lopez" matches "Maria Elena Lopez"), but a
      name the registration does not know is refused ("Maria Elena Lopez" does not match
      "Maria Lopez"): nothing tells it apart from another person's name. The patient types
      the name as registered, or a legal representative signs as such.
    """
    registered_parts = name_parts(registered)
    typed_parts = name_parts(typed)
    if not registered_parts or not typed_parts:
        return False
    last = len(registered_parts) - 1
    # Registered parts not matched yet, by position; the first and the family name are taken
    # first where a typed part could be either (a family name repeated as a middle name).
    unused = dict(enumerate(registered_parts))
    initials = []
    for part in typed_parts:
        places = [i for i, known in unused.items() if known == part]
        if places:
            del unused[last if last in places else places[0]]
        elif len(part) == 1:
            initials.append(part)
        else:
            return False
    if 0 in unused or last in unused:
        return False
    # What is left are middle names: an initial stands for one it begins, once.
    for initial in initials:
        place = next((i for i, known in unused.items() if known.startswith(initial)), None)
        if place is None:
            return False
        del unused[place]
    return True
