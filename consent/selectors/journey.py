"""Reads the views need, each with a fixed number of queries however much the patient answered."""

from dataclasses import dataclass
from functools import cached_property

from django.utils import translation

from consent import lifecycle
from consent.choice_order import Presentation, presentation_of, presentation_stored
from consent.languages import language_own_name
from consent.lifecycle import Action
from consent.models import (
    ANSWERS_OPEN,
    Attempt,
    ConsentRecord,
    ConsentSession,
    PatientLink,
    PatientQuestion,
    Question,
    Section,
    SectionView,
    Signature,
    Wording,
)
from consent.record.icon_array import RiskPicture, risk_pictures
from consent.rules import Outcome, QuestionProgress
from consent.selectors.content import VersionContent, version_content
from consent.selectors.rows import row_with_parent
from consent.services.sessions import language_pinned, procedure_languages

Kind = Signature.Kind
# The people who may sign beside the patient once the patient has decided.
COMPANIONS = (Kind.INTERPRETER, Kind.WITNESS)


class Journey:
    """Everything the patient pages need about one consent session.

    The sections and questions come from the process's content cache; the attempts, the only
    part that changes, are read in one query the first time a page asks about progress (a
    section page never does), and kept for the rest of the request.
    """

    def __init__(self, session: ConsentSession, content: VersionContent) -> None:
        self.session = session
        self.sections = list(content.sections)
        self._questions = content.questions

    @cached_property
    def progress(self) -> list[QuestionProgress]:
        progress = [
            QuestionProgress(question=q, number=n, max_reteach=self.session.max_reteach)
            for n, q in enumerate(self._questions, start=1)
        ]
        by_question = {p.question.pk: p for p in progress}
        attempts = Attempt.objects.filter(session=self.session).order_by("question_id", "round")
        for attempt in attempts:
            by_question[attempt.question_id].attempts.append(attempt)
        return progress

    @property
    def section_count(self) -> int:
        return len(self.sections)

    @property
    def question_count(self) -> int:
        return len(self._questions)

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
    """The session's journey: the version's sections and questions from the process's content
    cache (`consent.selectors.content`), its attempts in one query when first needed."""
    return Journey(session, version_content(session.procedure_version_id))


def question_presentation(
    *, session: ConsentSession, progress: QuestionProgress, round_number: int | None = None
) -> Presentation:
    """The question as a round shows it: a stored attempt's wording and order, or, for the
    round to answer next (also for a round that is neither), the order its seed draws."""
    if round_number is not None and 1 <= round_number <= len(progress.attempts):
        attempt = progress.attempts[round_number - 1]
        return presentation_stored(progress.question, attempt)
    return presentation_of(session, progress.question, progress.next_round, progress.attempts)


@dataclass(frozen=True)
class ChoiceFeedback:
    text: str
    # Why this choice is wrong, in the pack's words; empty where the pack says nothing.
    why: str


@dataclass(frozen=True)
class AnswerFeedback:
    """What the result page says about an attempt: the wording asked, the wrong choices the
    patient picked with why each is wrong, the right choices they left out, and the fact."""

    wording: Wording
    wrong_chosen: list[ChoiceFeedback]
    right_missed: list[str]

    @property
    def reasons(self) -> list[ChoiceFeedback]:
        return [choice for choice in self.wrong_chosen if choice.why]


def answer_feedback(*, question: Question, attempt: Attempt | None) -> AnswerFeedback | None:
    if attempt is None:
        return None
    wording = question.wording(attempt.variant)
    if not isinstance(attempt.answer, list) or not isinstance(wording.correct, list):
        return AnswerFeedback(wording=wording, wrong_chosen=[], right_missed=[])
    chosen = [i for i in attempt.answer if 0 <= i < len(wording.choices)]
    return AnswerFeedback(
        wording=wording,
        wrong_chosen=[
            ChoiceFeedback(text=wording.choices[i], why=wording.feedback_for(i))
            for i in chosen
            if i not in wording.correct
        ],
        right_missed=[wording.choices[i] for i in wording.correct if i not in chosen],
    )


def patient_link_session(*, link_id: int) -> PatientLink | None:
    """The link with its session, in one query whose SQL is written once per process
    (`consent.selectors.rows`); the session's procedure version comes from the content cache
    (`consent.selectors.content`), not read and decoded on every page."""
    link = row_with_parent(PatientLink, "session", link_id)
    if not isinstance(link, PatientLink):
        return None
    link.session.procedure_version = version_content(link.session.procedure_version_id).version
    return link


def patient_languages(*, session: ConsentSession) -> list[tuple[str, str]]:
    """The languages the patient may switch to on the first page, each by its own name
    ("Français"), the session's first: none once they have seen a section or answered, or
    where the procedure has one language."""
    if session.content_shown_at is not None or session.status not in ANSWERS_OPEN:
        return []
    languages = procedure_languages(session.procedure_version)
    if len(languages) < 2 or language_pinned(session):
        return []
    codes = sorted(languages, key=lambda code: (code != session.language, code))
    return [(code, language_own_name(code)) for code in codes]


def consent_session_reread(*, session: ConsentSession) -> ConsentSession:
    """The session as stored now (another request may have moved it on)."""
    return ConsentSession.objects.select_related("procedure_version").get(pk=session.pk)


def section_views_exist(*, session: ConsentSession) -> bool:
    """Whether the patient has left any section page yet (the start page comes first)."""
    return SectionView.objects.filter(session=session).exists()


def section_risk_pictures(*, session: ConsentSession, section: Section) -> list[RiskPicture]:
    """The risks of a risks section, each with its picture of 100 people, one picture for a
    group the source gives one figure for (none for a risk without a figure); none for a
    section of another kind. Built once per version and language (`consent.selectors.content`)."""
    if section.kind != "risks":
        return []
    content = version_content(session.procedure_version_id)
    key = ("risk_pictures", translation.get_language())
    return list(content.derive(key, lambda: risk_pictures(content.risks, content.content)))


def patient_questions_list(*, session: ConsentSession) -> list[PatientQuestion]:
    """The questions the patient wrote for the physician, oldest first."""
    return list(PatientQuestion.objects.filter(session=session))


def consent_record_or_none(*, session: ConsentSession) -> ConsentRecord | None:
    """The session's finalized record, for the patient's copy; None before finalization."""
    if not lifecycle.can(session, Action.RECORD_COPY):
        return None
    return ConsentRecord.objects.filter(session=session).first()


def session_signed_by(*, session: ConsentSession, kind: str) -> bool:
    return Signature.objects.filter(session=session, kind=kind).exists()


@dataclass(frozen=True)
class PatientDecision:
    """The signatures of a session by kind, and its record once finalized: the decision pages."""

    session: ConsentSession
    signatures: dict[str, Signature]
    record: ConsentRecord | None

    @property
    def decision(self) -> Signature | None:
        """The patient's consent or informed refusal, once made."""
        return self.signatures.get(Kind.PATIENT_CONSENT) or self.signatures.get(
            Kind.PATIENT_REFUSAL
        )

    @property
    def consented(self) -> bool:
        return Kind.PATIENT_CONSENT in self.signatures

    @property
    def attestation(self) -> Signature | None:
        return self.signatures.get(Kind.ATTESTATION)

    @property
    def companions(self) -> list[Signature]:
        return [self.signatures[kind] for kind in COMPANIONS if kind in self.signatures]

    @property
    def open_roles(self) -> list[str]:
        """The companions who can still sign: only between the decision and finalization."""
        if not lifecycle.can(self.session, Action.COMPANION_SIGN):
            return []
        return [kind for kind in COMPANIONS if kind not in self.signatures]


def patient_decision_get(*, session: ConsentSession) -> PatientDecision:
    signatures = {s.kind: s for s in Signature.objects.filter(session=session)}
    return PatientDecision(
        session=session, signatures=signatures, record=consent_record_or_none(session=session)
    )


# The physician's workspace


def question_progress_get(*, session: ConsentSession, question_id: int) -> QuestionProgress | None:
    """A teach-back question of the session's procedure version with its attempts, or None."""
    journey = journey_get(session=session)
    return next((p for p in journey.progress if p.question.pk == question_id), None)
