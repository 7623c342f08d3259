"""TODO docstring."""

import re
from dataclasses import dataclass

from consent.models import (
    Addendum,
    Alternative,
    Attempt,
    ConsentRecord,
    ConsentSession,
    Discussion,
    PatientQuestion,
    Question,
    QuestionReview,
    Section,
    SectionView,
    Signature,
)
from consent.rules import Outcome, QuestionProgress, answer_text
from consent.selectors.journey import Journey, journey_get

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


@dataclass
class SectionReading:
    """How long the patient spent on one section, and whether that was long enough to read it.

    A section counts as read far faster than its text allows when the patient spent under
    `READING_SECONDS_MIN` seconds on it, or when its words divided by the minutes spent exceed
    `READING_WORDS_PER_MINUTE_MAX`. A section never opened is pointed out separately.
    """

    number: int
    section: Section
    words: int
    seconds: int
    visits: int

    @property
    def opened(self) -> bool:
        return self.visits > 0

    @property
    def words_per_minute(self) -> int | None:
        return round(self.words * 60 / self.seconds) if self.seconds else None

    @property
    def too_fast(self) -> bool:
        if not self.opened:
            return False
        if self.seconds < READING_SECONDS_MIN:
            return True
        return self.words * 60 > READING_WORDS_PER_MINUTE_MAX * self.seconds

    @property
    def time_display(self) -> str:
        minutes, seconds = divmod(self.seconds, 60)
        return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


@dataclass
class AnswerShown:
    """One attempt with its answer as the patient gave it."""

    attempt: Attempt
    text: str


@dataclass
class KeyPoint:
    index: int
    text: str
    covered: bool


@dataclass
class ReviewedQuestion:
    """A teach-back question with every attempt and the physician's review of it, if any."""

    progress: QuestionProgress
    answers: list[AnswerShown]
    review: QuestionReview | None

    @property
    def question(self) -> Question:
        return self.progress.question

    @property
    def flagged(self) -> bool:
        return self.progress.outcome == Outcome.FLAGGED

    @property
    def in_own_words(self) -> bool:
        return self.progress.outcome == Outcome.ANSWERED

    @property
    def right_answer(self) -> str:
        """The right answer in the words the patient saw; empty for free text."""
        if self.question.correct is None:
            return ""
        return answer_text(self.question, self.question.correct)

    @property
    def key_points(self) -> list[KeyPoint]:
        covered = set(self.review.covered_key_points) if self.review else set()
        return [
            KeyPoint(index=i, text=text, covered=i in covered)
            for i, text in enumerate(self.question.key_points)
        ]


@dataclass
class SessionReview:
    """Everything the physician's review page shows about one session, in a fixed few queries."""

    session: ConsentSession
    journey: Journey
    questions: list[ReviewedQuestion]
    readings: list[SectionReading]
    patient_questions: list[PatientQuestion]
    discussion: Discussion | None
    teachback_sections: list[Section]
    alternatives: list[Alternative]
    signatures: list[Signature]
    record: ConsentRecord | None
    addenda: list[Addendum]

    @property
    def flagged(self) -> list[ReviewedQuestion]:
        return [q for q in self.questions if q.flagged]

    @property
    def own_words(self) -> list[ReviewedQuestion]:
        return [q for q in self.questions if q.in_own_words]

    @property
    def too_fast(self) -> list[SectionReading]:
        return [r for r in self.readings if r.too_fast]

    @property
    def first_try_graded(self) -> int:
        return sum(
            1 for q in self.questions if q.answers and q.answers[0].attempt.is_correct is not None
        )

    @property
    def first_try_correct(self) -> int:
        return sum(1 for q in self.questions if q.answers and q.answers[0].attempt.is_correct)

    @property
    def questions_answered(self) -> int:
        return sum(1 for q in self.questions if q.progress.done)

    @property
    def patient_questions_open(self) -> list[PatientQuestion]:
        return [q for q in self.patient_questions if not q.answer]

    @property
    def not_opened(self) -> list[SectionReading]:
        return [r for r in self.readings if not r.opened]

    def signature(self, kind: str) -> Signature | None:
        return next((s for s in self.signatures if s.kind == kind), None)

    @property
    def attestation(self) -> Signature | None:
        return self.signature(Signature.Kind.ATTESTATION)

    @property
    def countersignature(self) -> Signature | None:
        return self.signature(Signature.Kind.COUNTERSIGNATURE)

    @property
    def patient_signatures(self) -> list[Signature]:
        physician_kinds = (Signature.Kind.ATTESTATION, Signature.Kind.COUNTERSIGNATURE)
        return [s for s in self.signatures if s.kind not in physician_kinds]


def session_review_get(*, session: ConsentSession) -> SessionReview:
    journey = journey_get(session=session)
    reviews = {
        r.question_id: r
        for r in QuestionReview.objects.filter(session=session).select_related("reviewed_by")
    }
    questions = [
        ReviewedQuestion(
            progress=p,
            answers=[
                AnswerShown(attempt=a, text=answer_text(p.question, a.answer)) for a in p.attempts
            ],
            review=reviews.get(p.question.pk),
        )
        for p in journey.progress
    ]
    views = {v.section_id: v for v in SectionView.objects.filter(session=session)}
    readings = []
    for number, section in enumerate(journey.sections, start=1):
        view = views.get(section.pk)
        readings.append(
            SectionReading(
                number=number,
                section=section,
                words=section_word_count(section.body),
                seconds=view.seconds if view else 0,
                visits=view.visits if view else 0,
            )
        )
    record = ConsentRecord.objects.filter(session=session).select_related("finalized_by").first()
    return SessionReview(
        session=session,
        journey=journey,
        questions=questions,
        readings=readings,
        patient_questions=list(
            PatientQuestion.objects.filter(session=session).select_related("answered_by")
        ),
        discussion=Discussion.objects.filter(session=session).select_related("updated_by").first(),
        teachback_sections=[s for s in journey.sections if s.kind in VERBAL_TEACHBACK_KINDS],
        alternatives=list(Alternative.objects.filter(version_id=session.procedure_version_id)),
        signatures=list(Signature.objects.filter(session=session).select_related("signer")),
        record=record,
        addenda=list(record.addenda.select_related("created_by")) if record else [],
    )


def discussion_options_get(*, session: ConsentSession) -> tuple[list[Section], list[Alternative]]:
    """The sections a verbal teach-back covers and the alternatives that can be discussed."""
    version_id = session.procedure_version_id
    return (
        list(Section.objects.filter(version_id=version_id, kind__in=VERBAL_TEACHBACK_KINDS)),
        list(Alternative.objects.filter(version_id=version_id)),
    )


def session_patient_question_get(
    *, session: ConsentSession, question_id: int
) -> PatientQuestion | None:
    """One of the patient's questions in this session, or None."""
    return PatientQuestion.objects.filter(pk=question_id, session=session).first()


def session_record_get(*, session: ConsentSession) -> ConsentRecord | None:
    return ConsentRecord.objects.filter(session=session).first()
