"""The content editors' workbench: upload a pack, read its problems, readability and changes,
and publish it (consent/services/authoring.py does the writing)."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consent.audit.events import Origin
from consent.content.readability import FK_TARGET, KM_TARGET, SMOG_TARGET
from consent.forms.authoring import PackUploadForm, PublishForm
from consent.models import PackDraft
from consent.selectors.authoring import DraftAnalysis, draft_analysis, draft_or_none, drafts_list
from consent.services import ServiceError, authoring
from consent.views.access import StaffRequest, content_editor_required

# How many recent drafts the workbench's first page lists.
DRAFTS_SHOWN = 50


def _draft_or_404(draft_id: int) -> PackDraft:
    draft = draft_or_none(draft_id=draft_id)
    if draft is None:
        raise Http404
    return draft


def _draft_page(
    request: StaffRequest,
    analysis: DraftAnalysis,
    *,
    publish_form: PublishForm | None = None,
    status: int = 200,
) -> TemplateResponse:
    draft = analysis.draft
    return TemplateResponse(
        request,
        "consent/authoring/draft_detail.html",
        {
            "draft": draft,
            "analysis": analysis,
            "tab": "overview",
            "upload_form": PackUploadForm(),
            "publish_form": publish_form or PublishForm(initial={"publish_key": draft.publish_key}),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@content_editor_required
def draft_list(request: StaffRequest) -> HttpResponse:
    """The drafts, and the form that uploads a new one (kept whatever it holds)."""
    form = PackUploadForm(request.POST, request.FILES) if request.method == "POST" else None
    if form is not None and form.is_valid():
        data, name = form.data_and_name()
        draft = authoring.pack_draft_upload(
            data=data, file_name=name, user=request.user, origin=Origin.of(request)
        )
        return redirect("authoring:draft_detail", draft_id=draft.pk)
    return TemplateResponse(
        request,
        "consent/authoring/draft_list.html",
        {"form": form or PackUploadForm(), "drafts": drafts_list()[:DRAFTS_SHOWN]},
        status=400 if form is not None else 200,
    )


@require_GET
@content_editor_required
def draft_detail(request: StaffRequest, draft_id: int) -> HttpResponse:
    """The draft's problems with their lines, its warnings, and publishing."""
    return _draft_page(request, draft_analysis(draft=_draft_or_404(draft_id)))


@require_GET
@content_editor_required
def draft_readability(request: StaffRequest, draft_id: int) -> HttpResponse:
    analysis = draft_analysis(draft=_draft_or_404(draft_id))
    return TemplateResponse(
        request,
        "consent/authoring/draft_readability.html",
        {
            "draft": analysis.draft,
            "analysis": analysis,
            "tab": "readability",
            "targets": {
                "fk": f"{FK_TARGET:g}",
                "smog": f"{SMOG_TARGET:g}",
                "km": f"{KM_TARGET:g}",
            },
        },
    )


@require_GET
@content_editor_required
def draft_changes(request: StaffRequest, draft_id: int) -> HttpResponse:
    analysis = draft_analysis(draft=_draft_or_404(draft_id))
    comparison = analysis.comparison
    titles = {
        "sections": _("Sections"),
        "risks": _("Risks"),
        "alternatives": _("Alternatives"),
        "questions": _("Questions"),
        "facts": _("Decision-critical facts"),
    }
    parts = [
        {"name": name, "title": title, "entries": comparison.part(name) if comparison else []}
        for name, title in titles.items()
    ]
    return TemplateResponse(
        request,
        "consent/authoring/draft_changes.html",
        {"draft": analysis.draft, "analysis": analysis, "tab": "changes", "parts": parts},
    )


@require_POST
@content_editor_required
def draft_publish(request: StaffRequest, draft_id: int) -> HttpResponse:
    """Publish the draft once; a refusal shows the draft again with the reason."""
    draft = _draft_or_404(draft_id)
    form = PublishForm(request.POST)
    if not form.is_valid():
        form.add_error(None, authoring.ERROR_STALE_FORM)
        return _draft_page(request, draft_analysis(draft=draft), publish_form=form, status=400)
    try:
        result = authoring.pack_draft_publish(
            draft_id=draft.pk,
            publish_key=form.cleaned_data["publish_key"],
            unreviewed_acknowledged=form.cleaned_data["unreviewed"],
            user=request.user,
            origin=Origin.of(request),
        )
    except ServiceError as error:
        form.add_error(None, str(error))
        return _draft_page(request, draft_analysis(draft=draft), publish_form=form, status=400)
    version = result.version
    if result.replayed:
        messages.info(request, _("This draft was already published; nothing more was done."))
    else:
        messages.success(
            request,
            _("Published: %(title)s (%(language)s), version %(version)s.")
            % {"title": version.title, "language": version.language, "version": version.version},
        )
    return redirect("authoring:draft_detail", draft_id=draft.pk)
