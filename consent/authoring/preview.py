"""A pack's pages as a patient sees them, built from its content without importing it.

The patient templates read model instances (a version, its sections, risks and questions) and
a journey (how many sections and questions). Here they are built unsaved by the importer's own
builder (consent/content/importing.py `content_instances`), so the preview shows exactly what
publishing would show: the same Markdown rendering, the same risk pictures, the same question
wordings. Nothing is stored and no consent session exists; the preview's answers live only in
the page that shows their result.

The rendered pages link to the patient's own URLs (`/patient/section/2/`); `preview_links`
points them at the preview's pages instead, so the preview can be walked like the real thing.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import Resolver404, resolve

from consent.choice_order import Presentation
from consent.content.importing import content_instances, version_unsaved
from consent.models import Alternative, Attempt, ProcedureVersion, Question, Risk, Section
from consent.record.icon_array import RiskPicture, risk_pictures
from consent.rules import QuestionProgress

# The patient pages the preview has; any other patient URL in a page leads to its start.
# (The decision page's keep-alive pings go to the preview's own, which answers 204 and writes
# nothing: the patient's would answer that there is no patient, and the page would reload.)
PREVIEW_PAGES = ("start", "section", "question", "result", "summary", "decision", "keep_alive")
PATIENT_URL = re.compile(
    r'(?P<attribute>href|action|data-keep-alive-url)="(?P<path>/patient/[^"?#]*)(?P<rest>[^"]*)"'
)


@dataclass
class PreviewContent:
    """A pack's content as unsaved model instances, in the pack's order."""

    version: ProcedureVersion
    sections: list[Section]
    risks: list[Risk]
    alternatives: list[Alternative]
    questions: list[Question]

    @property
    def section_count(self) -> int:
        return len(self.sections)

    @property
    def question_count(self) -> int:
        return len(self.questions)

    def section(self, number: int) -> Section | None:
        return self.sections[number - 1] if 1 <= number <= len(self.sections) else None

    def question(self, number: int) -> Question | None:
        return self.questions[number - 1] if 1 <= number <= len(self.questions) else None

    def risk_pictures(self, section: Section) -> list[RiskPicture]:
        """As `selectors.journey.section_risk_pictures`: the risks on a risks section only."""
        if section.kind != "risks":
            return []
        return risk_pictures(self.risks, self.version.content)


def preview_content(content: dict[str, Any]) -> PreviewContent:
    """Unsaved instances of a validated pack's content (never saved: no primary keys), built
    by the importer's own builder."""
    version = version_unsaved(content)
    rows = content_instances(version, content)
    return PreviewContent(
        version=version,
        sections=rows.sections,
        risks=rows.risks,
        alternatives=rows.alternatives,
        questions=rows.questions,
    )


def presentation(question: Question, variant: int = 0) -> Presentation:
    """The question in the pack's order of choices (a patient sees them shuffled)."""
    wording = question.wording(variant)
    order = list(range(len(wording.choices))) if wording.choices else []
    return Presentation(round=1, wording=wording, seed=None, order=order)


def progress(
    question: Question, number: int, attempts: list[Attempt] | None = None
) -> QuestionProgress:
    return QuestionProgress(
        question=question,
        number=number,
        max_reteach=settings.CONSENT_MAX_RETEACH,
        attempts=list(attempts or []),
    )


def attempt(question: Question, *, variant: int, answer: Any, is_correct: bool | None) -> Attempt:
    """An unsaved attempt, for the result page of one preview answer."""
    return Attempt(
        question=question,
        round=1,
        answer=answer,
        variant=variant,
        shown_order=[],
        is_correct=is_correct,
    )


def right_answer(question: Question) -> Any:
    """The pack's right answer in the shape an attempt stores (free text: the explanation)."""
    if question.kind == Question.Kind.FREE_TEXT:
        return question.explanation
    return question.correct


def all_right(content: PreviewContent) -> list[QuestionProgress]:
    """Every question answered right the first time: the summary a patient who understood
    everything reads."""
    from consent.rules import grade

    return [
        progress(
            question,
            number,
            [
                attempt(
                    question,
                    variant=0,
                    answer=right_answer(question),
                    is_correct=grade(question, right_answer(question)),
                )
            ],
        )
        for number, question in enumerate(content.questions, start=1)
    ]


def preview_links(html: str, url_for: Callable[[str, dict[str, Any]], str]) -> str:
    """Point the links and forms of a rendered patient page at the preview's pages.

    `url_for(name, kwargs)` gives the preview URL of a patient page; a patient page the
    preview does not have leads to the preview's start.
    """

    def replace(match: re.Match[str]) -> str:
        try:
            found = resolve(match.group("path"))
        except Resolver404:
            found = None
        if found is not None and found.namespace == "patient" and found.url_name in PREVIEW_PAGES:
            target = url_for(found.url_name, dict(found.kwargs))
        else:
            target = url_for("start", {})
        return f'{match.group("attribute")}="{target}"'

    return PATIENT_URL.sub(replace, html)
