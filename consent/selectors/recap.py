"""The recap that opens the patient's decision page: what the decision rests on, in short.

Everything comes from the session's pinned procedure version and the session's read model
(`record_data_get`), never from text written here:

- **Purpose and main benefit.** A pack that declares decision-critical `[[facts]]`
  (docs/content-packs.md) gives them as short sentences written for this: the critical facts of
  kind `purpose` and `benefit`, in the pack's order. A pack without facts has no such fields, so
  the recap shows its sections of kind `purpose` and `benefits` as the patient read them (the
  body rendered and sanitized at import): longer, but the pack's own words, never a summary
  made up here.
- **Risks.** Each risk's `frequency_text` exactly as the pack words it ("fewer than 1 in 100
  people" stays "fewer than"). Risks that share a `group` in the pack are the ones the source
  gives ONE figure for: one line names them all and says the figure once, so that nobody adds
  them up. A risk without a number says so.
- **Alternatives.** The pack's `[[alternatives]]`; the page adds that saying no is always
  allowed, a right the patient has whatever the pack says.
- **Questions.** Every question the patient wrote, with the physician's written answer and who
  gave it; the ones still without an answer are listed apart (`unanswered`): the patient cannot
  confirm "My questions have been answered" while there is one.
"""

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from consent.models import ConsentSession, Section
from consent.selectors.session import PatientQuestionData, record_data_get

# The section kinds shown when the pack declares no facts (docs/content-packs.md).
PURPOSE_KIND = "purpose"
BENEFITS_KIND = "benefits"
# The fact kinds of a pack that declares facts.
PURPOSE_FACT = "purpose"
BENEFIT_FACT = "benefit"


@dataclass(frozen=True)
class RecapPoint:
    """One thing the recap says: a fact's text, or a section's body (sanitized HTML)."""

    text: str = ""
    html: str = ""
    title: str = ""


@dataclass(frozen=True)
class RecapRisk:
    """One risk, or the risks of a group the source gives one figure for."""

    names: list[str]
    # The pack's `frequency_text`, as written.
    figure: str
    # False where the pack gives no number (the figure is words only).
    has_number: bool

    @property
    def grouped(self) -> bool:
        return len(self.names) > 1

    @property
    def names_text(self) -> str:
        """The names: one, or "A, B and C" for a group given one figure."""
        if len(self.names) == 1:
            return self.names[0]
        return _("%(first)s and %(last)s") % {
            "first": ", ".join(self.names[:-1]),
            "last": self.names[-1],
        }


@dataclass(frozen=True)
class RecapAlternative:
    name: str
    description: str


@dataclass(frozen=True)
class DecisionRecap:
    title: str
    # "facts" or "sections": where purpose and benefits come from (see the module's docstring).
    source: str
    purpose: list[RecapPoint]
    benefits: list[RecapPoint]
    risks: list[RecapRisk]
    alternatives: list[RecapAlternative]
    questions: list[PatientQuestionData]

    @property
    def unanswered(self) -> list[str]:
        """The patient's questions still without a written answer, in their words."""
        return [question.text for question in self.questions if not question.answer]


def decision_recap_get(*, session: ConsentSession) -> DecisionRecap:
    data = record_data_get(session=session)
    version = session.procedure_version
    content: dict[str, Any] = version.content if isinstance(version.content, dict) else {}
    has_facts = any(isinstance(fact, dict) for fact in content.get("facts") or [])
    return recap_build(
        title=data.procedure.title,
        content=content,
        sections=[]
        if has_facts
        else list(Section.objects.filter(version=version, kind__in=(PURPOSE_KIND, BENEFITS_KIND))),
        risks=data.risks,
        alternatives=[RecapAlternative(a.name, a.description) for a in data.alternatives],
        questions=data.patient_questions,
    )


def recap_build(
    *,
    title: str,
    content: dict[str, Any],
    sections: list[Section],
    risks: list[Any],
    alternatives: list[RecapAlternative],
    questions: list[PatientQuestionData],
) -> DecisionRecap:
    """The recap of a version's content (`sections`: its purpose and benefits sections, needed
    only for a pack without facts; `risks`: in the pack's order, each with key, name,
    frequency_text and max_per_100). The workbench's preview builds it from a draft."""
    facts = [fact for fact in content.get("facts") or [] if isinstance(fact, dict)]
    if facts:
        source = "facts"
        purpose = _fact_points(facts, PURPOSE_FACT)
        benefits = _fact_points(facts, BENEFIT_FACT)
    else:
        source = "sections"
        purpose = _section_points(sections, PURPOSE_KIND)
        benefits = _section_points(sections, BENEFITS_KIND)
    return DecisionRecap(
        title=title,
        source=source,
        purpose=purpose,
        benefits=benefits,
        risks=_risks(risks, content),
        alternatives=alternatives,
        questions=questions,
    )


def _fact_points(facts: list[dict[str, Any]], kind: str) -> list[RecapPoint]:
    return [
        RecapPoint(text=str(fact.get("text", "")))
        for fact in facts
        if fact.get("kind") == kind and fact.get("critical", True) is True
    ]


def _section_points(sections: list[Section], kind: str) -> list[RecapPoint]:
    return [
        RecapPoint(title=section.title, html=section.body_html)
        for section in sections
        if section.kind == kind
    ]


def _risks(risks: list[Any], content: dict[str, Any]) -> list[RecapRisk]:
    """The risks in the pack's order; a group (same `group` in the pack) at its first member."""
    groups = {
        str(risk.get("key")): str(risk.get("group") or "")
        for risk in content.get("risks") or []
        if isinstance(risk, dict)
    }
    lines: list[RecapRisk] = []
    line_of_group: dict[str, RecapRisk] = {}
    for risk in risks:
        group = groups.get(risk.key, "")
        if group and group in line_of_group:
            line_of_group[group].names.append(risk.name)
            continue
        line = RecapRisk(
            names=[risk.name],
            figure=risk.frequency_text,
            has_number=risk.max_per_100 is not None,
        )
        if group:
            line_of_group[group] = line
        lines.append(line)
    return lines
