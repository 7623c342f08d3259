"""Comprehension analytics for one procedure version: what patients understood, aggregated.

This is how a clinical team learns which part of a procedure's text to rewrite: the questions
patients get wrong, what re-teaching achieves, and the sections read far faster than their text
allows. Only aggregates leave this module, never a patient's answers or identity.

Every figure is computed in a fixed number of queries however many consent sessions there are,
and by the database: counts by aggregation, medians by window functions that send back only the
middle rows (the same SQL on SQLite and PostgreSQL).

A consent session counts for a question only once its patient reached that question (answered it
at least once), and for a section only once its patient opened that section: a question nobody
reached is not "missed".
"""

import statistics
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from consent.languages import language_label
from consent.models import (
    Addendum,
    Attempt,
    ConsentSession,
    ProcedureVersion,
    Question,
    QuestionReview,
    Section,
    SectionView,
)
from consent.rules import (
    duration_text,
    flagged_attempts_q,
    read_too_fast,
    section_word_count,
    words_per_minute,
)

# The figures


@dataclass
class StatusCount:
    status: str
    label: str
    sessions: int


@dataclass
class QuestionOutcomes:
    """What the patients who reached one teach-back question made of it.

    Each of them is in exactly one outcome: right first time, right after re-teaching, flagged
    (still wrong after the last re-teach), answered in their own words (free text, which the
    physician assesses) or, for a patient still answering, being re-taught.
    """

    number: int
    key: str
    prompt: str
    section_title: str
    free_text: bool
    reached: int = 0
    right_first: int = 0
    right_after_reteach: int = 0
    flagged: int = 0
    own_words: int = 0
    # Wrong on the first try: the measure of how often a question is missed.
    missed_first: int = 0
    # Answers in the patient's own words that the physician has assessed, and the key points
    # those answers covered out of the key points they could have covered.
    assessed: int = 0
    key_points_covered: int = 0
    key_points_possible: int = 0

    @property
    def label(self) -> str:
        return f"{self.number}. {self.key}"

    @property
    def being_retaught(self) -> int:
        settled = self.right_first + self.right_after_reteach + self.flagged + self.own_words
        return self.reached - settled

    @property
    def graded(self) -> int:
        """First tries that were graded right or wrong (answers in own words are not)."""
        return self.reached - self.own_words

    @property
    def missed_percent(self) -> int:
        return round(100 * self.missed_first / self.graded) if self.graded else 0

    @property
    def key_points_percent(self) -> int | None:
        if not self.key_points_possible:
            return None
        return round(100 * self.key_points_covered / self.key_points_possible)


@dataclass
class SectionReadingTime:
    """How long the patients who opened one section spent on it (the median of their times)."""

    number: int
    title: str
    words: int
    readers: int = 0
    median_seconds: float | None = None

    @property
    def label(self) -> str:
        return f"{self.number}. {self.title}"

    @property
    def median_display(self) -> str:
        return "" if self.median_seconds is None else duration_text(self.median_seconds)

    @property
    def words_per_minute(self) -> int | None:
        """The reading speed of the median patient (faster than the median time means faster)."""
        return words_per_minute(self.words, self.median_seconds or 0)

    @property
    def too_fast(self) -> bool:
        """Half the patients or more passed the section faster than anyone can read it."""
        return self.median_seconds is not None and read_too_fast(self.words, self.median_seconds)


@dataclass
class FirstTry:
    """First tries at one question in one language: how many were graded, how many right."""

    graded: int = 0
    right: int = 0

    @property
    def percent(self) -> int | None:
        return round(100 * self.right / self.graded) if self.graded else None


@dataclass
class LanguageColumn:
    """One language a procedure was shown in, with its number of consent sessions."""

    code: str
    name: str
    sessions: int


@dataclass
class QuestionByLanguage:
    number: int
    key: str
    prompt: str
    # Parallel to `LanguageSplit.languages`.
    first_tries: list[FirstTry]

    @property
    def label(self) -> str:
        return f"{self.number}. {self.key}"


@dataclass
class LanguageSplit:
    """The comprehension figures of a procedure by the language its patients were shown: its
    source text and every translation of it (they share the questions' keys)."""

    languages: list[LanguageColumn]
    questions: list[QuestionByLanguage]

    @property
    def several(self) -> bool:
        return len(self.languages) > 1


@dataclass
class VersionAnalytics:
    version: ProcedureVersion
    statuses: list[StatusCount]
    questions: list[QuestionOutcomes]
    sections: list[SectionReadingTime]
    # Finalized consents later withdrawn by an addendum (a withdrawal is not a status).
    withdrawals: int = 0
    by_language: LanguageSplit | None = None

    @property
    def session_count(self) -> int:
        return sum(s.sessions for s in self.statuses)

    @property
    def flagged_count(self) -> int:
        """Answers still wrong after the last re-teach, over every question and session."""
        return sum(q.flagged for q in self.questions)

    @property
    def questions_reached(self) -> bool:
        return any(q.reached for q in self.questions)

    @property
    def sections_opened(self) -> bool:
        return any(s.readers for s in self.sections)

    @property
    def most_missed(self) -> list[QuestionOutcomes]:
        """Questions missed on the first try at least once, the most often missed first."""
        missed = [q for q in self.questions if q.missed_first]
        return sorted(missed, key=lambda q: (-q.missed_percent, -q.missed_first, q.number))

    @property
    def own_words_questions(self) -> list[QuestionOutcomes]:
        return [q for q in self.questions if q.free_text]

    @property
    def too_fast(self) -> list[SectionReadingTime]:
        return [s for s in self.sections if s.too_fast]


@dataclass
class VersionChoice:
    version: ProcedureVersion
    sessions: int


def procedure_versions_with_sessions() -> list[VersionChoice]:
    """Every procedure version with its number of consent sessions, in one query."""
    versions = ProcedureVersion.objects.annotate(sessions=Count("consent_sessions")).order_by(
        "slug", "language", "-imported_at"
    )
    return [VersionChoice(version=v, sessions=v.sessions) for v in versions]


def default_version(choices: list[VersionChoice]) -> ProcedureVersion | None:
    """The most recently imported version that has consent sessions, if any has."""
    used = [c.version for c in choices if c.sessions]
    return max(used, key=lambda v: (v.imported_at, v.pk)) if used else None


def version_analytics(*, version: ProcedureVersion) -> VersionAnalytics:
    """Every figure of the analytics page for one procedure version, in ten queries."""
    return VersionAnalytics(
        version=version,
        statuses=_status_counts(version),
        questions=_question_outcomes(version),
        sections=_section_reading_times(version),
        withdrawals=_withdrawals(version),
        by_language=language_split(version=version),
    )


def language_split(*, version: ProcedureVersion) -> LanguageSplit:
    """The first-try right rate of each question, and the consent sessions, per language the
    procedure was shown in: `version`'s source text and its translations, in four queries.

    Translations share their source's question keys (import checks it), so a question is one
    row whatever its wording; a session counts in the language of the version it pinned."""
    source = version.translation_of or version
    source_id = source.pk
    family = Q(procedure_version_id=source_id) | Q(procedure_version__translation_of_id=source_id)
    sessions = dict(
        ConsentSession.objects.filter(family)
        .order_by()
        .values("procedure_version__language")
        .annotate(n=Count("pk"))
        .values_list("procedure_version__language", "n")
    )
    source_language = source.language
    codes = sorted(sessions, key=lambda code: (code != source_language, code))
    languages = [
        LanguageColumn(code=code, name=language_label(code), sessions=sessions[code])
        for code in codes
    ]
    questions = list(
        Question.objects.filter(version_id=source_id)
        .order_by("position")
        .values_list("key", "prompt")
    )
    counts = {
        (row["question__key"], row["session__procedure_version__language"]): FirstTry(
            graded=row["graded"], right=row["right"]
        )
        for row in Attempt.objects.filter(round=1)
        .filter(
            Q(session__procedure_version_id=source_id)
            | Q(session__procedure_version__translation_of_id=source_id)
        )
        .order_by()
        .values("question__key", "session__procedure_version__language")
        .annotate(
            graded=Count("pk", filter=Q(is_correct__isnull=False)),
            right=Count("pk", filter=Q(is_correct=True)),
        )
    }
    return LanguageSplit(
        languages=languages,
        questions=[
            QuestionByLanguage(
                number=number,
                key=key,
                prompt=prompt,
                first_tries=[counts.get((key, code), FirstTry()) for code in codes],
            )
            for number, (key, prompt) in enumerate(questions, start=1)
        ],
    )


def _withdrawals(version: ProcedureVersion) -> int:
    """Records of this version with a withdrawal addendum (each record counts once)."""
    return (
        Addendum.objects.filter(
            record__session__procedure_version=version, kind=Addendum.Kind.WITHDRAWAL
        )
        .values("record")
        .distinct()
        .count()
    )


def _status_counts(version: ProcedureVersion) -> list[StatusCount]:
    counts = dict(
        ConsentSession.objects.filter(procedure_version=version)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return [
        StatusCount(status=value, label=str(label), sessions=counts.get(value, 0))
        for value, label in ConsentSession.Status.choices
    ]


def _question_outcomes(version: ProcedureVersion) -> list[QuestionOutcomes]:
    questions = list(
        Question.objects.filter(version=version).select_related("section").order_by("position")
    )
    outcomes = {
        q.pk: QuestionOutcomes(
            number=number,
            key=q.key,
            prompt=q.prompt,
            section_title=q.section.title,
            free_text=q.kind == Question.Kind.FREE_TEXT,
        )
        for number, q in enumerate(questions, start=1)
    }
    # A question has at most one settling attempt per session (nothing is asked after it) and
    # exactly one first attempt, so counting attempts counts sessions.
    rows = (
        Attempt.objects.filter(session__procedure_version=version)
        .order_by()  # the default ordering would split the groups
        .values("question_id")
        .annotate(
            reached=Count("pk", filter=Q(round=1)),
            right_first=Count("pk", filter=Q(round=1, is_correct=True)),
            missed_first=Count("pk", filter=Q(round=1, is_correct=False)),
            right_after_reteach=Count("pk", filter=Q(round__gt=1, is_correct=True)),
            flagged=Count("pk", filter=flagged_attempts_q(F("session__max_reteach"))),
            own_words=Count("pk", filter=Q(is_correct__isnull=True)),
        )
    )
    for row in rows:
        outcome = outcomes[row["question_id"]]
        for name, value in row.items():
            if name != "question_id":
                setattr(outcome, name, value)
    key_points = {q.pk: len(q.key_points) for q in questions}
    reviews = QuestionReview.objects.filter(
        session__procedure_version=version, question__kind=Question.Kind.FREE_TEXT
    ).values_list("question_id", "covered_key_points")
    for question_id, covered in reviews:
        outcome = outcomes[question_id]
        outcome.assessed += 1
        outcome.key_points_covered += len(covered)
        outcome.key_points_possible += key_points[question_id]
    return list(outcomes.values())


def _section_reading_times(version: ProcedureVersion) -> list[SectionReadingTime]:
    sections = list(Section.objects.filter(version=version).order_by("position"))
    middle = _median_rows(
        SectionView.objects.filter(session__procedure_version=version, visits__gt=0),
        group="section_id",
        value="seconds",
    )
    readings = []
    for number, section in enumerate(sections, start=1):
        readers, times = middle.get(section.pk, (0, []))
        readings.append(
            SectionReadingTime(
                number=number,
                title=section.title,
                words=section_word_count(section.body),
                readers=readers,
                median_seconds=statistics.mean(times) if times else None,
            )
        )
    return readings


def _median_rows(rows: QuerySet, *, group: str, value: str) -> dict[int, tuple[int, list[int]]]:
    """The middle value (or two middle values) of each group, with the group's size.

    Window functions number each group's rows in order, and only the one or two rows in the
    middle leave the database, however many there are (SQLite and PostgreSQL alike). For n rows
    they are ranks (n + 1) / 2 to (n + 2) / 2 in integer division: the median is their mean.
    """
    ranked = (
        rows.order_by()
        .annotate(
            rank=Window(RowNumber(), partition_by=[F(group)], order_by=[F(value), F("pk")]),
            size=Window(Count("pk"), partition_by=[F(group)]),
        )
        .filter(rank__gte=(F("size") + 1) / 2, rank__lte=(F("size") + 2) / 2)
        .values_list(group, "size", value)
    )
    middle: dict[int, tuple[int, list[int]]] = {}
    for key, size, number in ranked:
        middle.setdefault(key, (size, []))[1].append(number)
    return middle
