"""A draft's pages exactly as a patient sees them: the patient templates, in the pack's
language, rendered from the draft without importing it (consent/authoring/preview.py), framed
by a banner that says it is a preview. Nothing is stored but the audit event of each look."""

from dataclasses import dataclass, field
from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consent.audit.events import Origin
from consent.authoring import preview as pages
from consent.forms.patient import AnswerForm, ConsentForm
from consent.languages import language_label
from consent.models import PackDraft, Question
from consent.rules import Outcome, grade
from consent.selectors.authoring import DraftAnalysis, draft_analysis, draft_or_none
from consent.selectors.journey import answer_feedback
from consent.selectors.recap import RecapAlternative, recap_build
from consent.services.authoring import pack_draft_previewed
from consent.views.access import StaffRequest, content_editor_required

FRAME_TEMPLATE = "consent/authoring/preview_page.html"


@dataclass
class PageLink:
    label: str
    url: str
    current: bool = False
    # The language of the page it leads to, where it is one of the previewed languages.
    language: str = ""


@dataclass
class PreviewFrame:
    """What the banner around a previewed page shows, in the editor's own language."""

    draft: PackDraft
    language: str
    editor_language: str
    content: pages.PreviewContent
    page: str
    languages: list[PageLink] = field(default_factory=list)
    pages: list[PageLink] = field(default_factory=list)
    previous_url: str = ""
    next_url: str = ""
    note: str = ""
    # A question's wordings (the pack's own, then each variant), on a question page.
    wordings: list[PageLink] = field(default_factory=list)


@dataclass
class Preview:
    draft: PackDraft
    analysis: DraftAnalysis
    language: str
    content: pages.PreviewContent


def _preview_or_404(draft_id: int, language: str) -> Preview:
    draft = draft_or_none(draft_id=draft_id)
    if draft is None:
        raise Http404
    analysis = draft_analysis(draft=draft)
    source = analysis.preview_source(language)
    if source is None:
        raise Http404
    return Preview(draft, analysis, language, pages.preview_content(source))


def _url(preview: Preview, name: str, **kwargs: Any) -> str:
    return reverse(
        f"authoring:preview_{name}",
        kwargs={"draft_id": preview.draft.pk, "language": preview.language, **kwargs},
    )


def _patient_url(preview: Preview) -> Any:
    def url_for(name: str, kwargs: dict[str, Any]) -> str:
        if name == "result":
            name = "question"
        return _url(preview, name, **kwargs)

    return url_for


def _same_page(preview: Preview, language: str, page: str) -> str:
    """This page in another language (a translation has the same sections and questions), or
    that language's start page when it has no such page."""
    name, _slash, number = page.partition("/")
    kwargs: dict[str, Any] = {"draft_id": preview.draft.pk, "language": language}
    if number:
        content = preview.analysis.preview_source(language) or {}
        entries = content.get("sections" if name == "section" else "questions") or []
        if int(number) > len(entries):
            name = "start"
        else:
            kwargs["number"] = int(number)
    return reverse(f"authoring:preview_{name}", kwargs=kwargs)


def _frame(
    preview: Preview, page: str, editor_language: str, note: str, wordings: list[PageLink]
) -> PreviewFrame:
    content = preview.content
    links = [PageLink(_("Start page"), _url(preview, "start"), page == "start")]
    links += [
        PageLink(
            _("Section %(number)d: %(title)s") % {"number": n, "title": s.title},
            _url(preview, "section", number=n),
            page == f"section/{n}",
        )
        for n, s in enumerate(content.sections, start=1)
    ]
    links += [
        PageLink(
            _("Question %(number)d: %(prompt)s") % {"number": n, "prompt": q.prompt},
            _url(preview, "question", number=n),
            page == f"question/{n}",
        )
        for n, q in enumerate(content.questions, start=1)
    ]
    links.append(PageLink(_("Summary"), _url(preview, "summary"), page == "summary"))
    links.append(PageLink(_("Decision page"), _url(preview, "decision"), page == "decision"))
    here = next((i for i, link in enumerate(links) if link.current), 0)
    languages = [
        PageLink(
            language_label(language),
            _same_page(preview, language, page),
            language == preview.language,
            language,
        )
        for language in preview.analysis.languages
    ]
    return PreviewFrame(
        draft=preview.draft,
        language=preview.language,
        editor_language=editor_language,
        content=content,
        page=page,
        languages=languages,
        pages=links,
        previous_url=links[here - 1].url if here > 0 else "",
        next_url=links[here + 1].url if here + 1 < len(links) else "",
        note=note,
        wordings=wordings,
    )


def _render(
    request: StaffRequest,
    preview: Preview,
    *,
    page: str,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    note: str = "",
    wordings: list[PageLink] | None = None,
) -> HttpResponse:
    """Render a patient template in the pack's language inside the preview frame."""
    if request.method == "GET":
        pack_draft_previewed(
            draft=preview.draft,
            language=preview.language,
            page=page,
            user=request.user,
            origin=Origin.of(request),
        )
    # The frame speaks the editor's language; the page inside it, the pack's.
    frame = _frame(preview, page, translation.get_language(), note, wordings or [])
    with translation.override(preview.language):
        response = TemplateResponse(
            request,
            FRAME_TEMPLATE,
            {
                **context,
                "patient_template": template,
                "preview": frame,
                "journey": preview.content,
                "version": preview.content.version,
                "content_unreviewed": not preview.content.version.reviewed_by,
            },
            status=status,
        )
        response.render()
    response.content = pages.preview_links(response.content.decode(), _patient_url(preview))
    return response


@require_http_methods(["GET", "POST"])
@content_editor_required
def preview_start(request: StaffRequest, draft_id: int, language: str) -> HttpResponse:
    preview = _preview_or_404(draft_id, language)
    if request.method == "POST":
        # A patient button the preview has no page for ("Save and leave"): back to the start.
        return redirect(_url(preview, "start"))
    return _render(
        request, preview, page="start", template="consent/patient/start.html", context={}
    )


@require_http_methods(["GET", "POST"])
@content_editor_required
def preview_section(
    request: StaffRequest, draft_id: int, language: str, number: int
) -> HttpResponse:
    preview = _preview_or_404(draft_id, language)
    shown = preview.content.section(number)
    if shown is None:
        raise Http404
    if request.method == "POST":
        # The patient's Back and Next, without counting any time.
        count = preview.content.section_count
        if request.POST.get("go") == "back":
            target = _url(preview, "section", number=number - 1) if number > 1 else None
            return redirect(target or _url(preview, "start"))
        if number < count:
            return redirect(_url(preview, "section", number=number + 1))
        return redirect(_url(preview, "question", number=1))
    return _render(
        request,
        preview,
        page=f"section/{number}",
        template="consent/patient/section.html",
        context={
            "section": shown,
            "number": number,
            "is_last": number == preview.content.section_count,
            "risk_pictures": preview.content.risk_pictures(shown),
        },
    )


def _variant(request: StaffRequest, question_variants: int) -> int:
    try:
        variant = int(request.GET.get("variant", "0"))
    except ValueError:
        return 0
    return variant if 0 <= variant <= question_variants else 0


@require_http_methods(["GET", "POST"])
@content_editor_required
def preview_question(
    request: StaffRequest, draft_id: int, language: str, number: int
) -> HttpResponse:
    """The question as asked (any of its wordings, `?variant=`); an answer sent shows its
    result page as the patient would see it, and nothing is kept."""
    preview = _preview_or_404(draft_id, language)
    question = preview.content.question(number)
    if question is None:
        raise Http404
    variant = _variant(request, len(question.variants or []))
    with translation.override(preview.language):
        shown = pages.presentation(question, variant)
        form = AnswerForm(
            request.POST if request.method == "POST" else None,
            presentation=shown,
            initial={"round": 1},
        )
        valid = form.is_valid()
    if valid:
        return _question_result(request, preview, question, number, variant, form)
    return _question_asked(request, preview, question, number, variant, form)


def _question_asked(
    request: StaffRequest,
    preview: Preview,
    question: Question,
    number: int,
    variant: int,
    form: AnswerForm,
) -> HttpResponse:
    count = question.wording_count
    wordings = [
        PageLink(
            _("Wording %(number)d") % {"number": n + 1},
            _url(preview, "question", number=number) + (f"?variant={n}" if n else ""),
            n == variant,
        )
        for n in range(count)
    ]
    note = _("Wording %(shown)d of %(count)d: a re-ask after a re-teach shows the next one.") % {
        "shown": variant + 1,
        "count": count,
    }
    return _render(
        request,
        preview,
        page=f"question/{number}",
        template="consent/patient/question.html",
        context={
            "progress": pages.progress(question, number),
            "form": form,
            "wording": form.presentation.wording,
        },
        status=400 if form.is_bound else 200,
        note=note if count > 1 else "",
        wordings=wordings if count > 1 else [],
    )


def _question_result(
    request: StaffRequest,
    preview: Preview,
    question: Question,
    number: int,
    variant: int,
    form: AnswerForm,
) -> HttpResponse:
    """The result page of one answer: right, or the explanation and the section again."""
    answer = form.cleaned_data["answer"]
    wording = form.presentation.wording
    attempt = pages.attempt(
        question, variant=variant, answer=answer, is_correct=grade(wording, answer)
    )
    progress = pages.progress(question, number, [attempt])
    reteach = progress.outcome == Outcome.RETEACH
    return _render(
        request,
        preview,
        page=f"question/{number}",
        template="consent/patient/result.html",
        context={
            "progress": progress,
            "feedback": answer_feedback(question=question, attempt=attempt),
            "outcome": progress.outcome.value,
            "reteach_section": question.section,
            "risk_pictures": preview.content.risk_pictures(question.section) if reteach else [],
            "next_number": number + 1 if number < preview.content.question_count else None,
        },
        note=_("The result of this answer, as the patient would see it. Nothing is stored."),
    )


@require_GET
@content_editor_required
def preview_summary(request: StaffRequest, draft_id: int, language: str) -> HttpResponse:
    preview = _preview_or_404(draft_id, language)
    progress = pages.all_right(preview.content)
    return _render(
        request,
        preview,
        page="summary",
        template="consent/patient/summary.html",
        context={
            "understood": [
                p
                for p in progress
                if p.outcome in (Outcome.CORRECT_FIRST, Outcome.CORRECT_AFTER_RETEACH)
            ],
            "to_discuss": [],
            "own_words": [p for p in progress if p.outcome == Outcome.ANSWERED],
            "asked": [],
        },
        note=_("Shown as for a patient who answered every question right the first time."),
    )


@dataclass
class _PreviewSession:
    """What the decision page reads of a consent session: only its procedure version."""

    procedure_version: Any


@require_http_methods(["GET", "POST"])
@content_editor_required
def preview_decision(request: StaffRequest, draft_id: int, language: str) -> HttpResponse:
    """The decision page's text: the recap of the pack, the statements and the signing form.
    Nothing can be signed here: a form sent shows the page again."""
    preview = _preview_or_404(draft_id, language)
    if request.method == "POST":
        return redirect(_url(preview, "decision"))
    content = preview.content
    recap = recap_build(
        title=content.version.title,
        content=content.version.content,
        sections=content.sections,
        risks=content.risks,
        alternatives=[RecapAlternative(a.name, a.description) for a in content.alternatives],
        questions=[],
    )
    with translation.override(preview.language):
        form = ConsentForm()
    return _render(
        request,
        preview,
        page="decision",
        template="consent/patient/decision.html",
        context={
            "session": _PreviewSession(procedure_version=content.version),
            "form": form,
            "attestation": None,
            "recap": recap,
        },
        note=_(
            "Shown once the physician has attested, as for a patient who wrote no question. "
            "Nothing can be signed in a preview."
        ),
    )


@require_POST
@content_editor_required
def preview_keep_alive(request: StaffRequest, draft_id: int, language: str) -> HttpResponse:
    """The decision page's keep-alive pings, in a preview: nothing to keep alive, 204."""
    return HttpResponse(status=204)
