"""A plain staff page: create consent sessions and manage their patient links.

The physician's full workspace (review, attestation, signing) builds on these views.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consent import services
from consent.forms import CancelForm, ConsentSessionForm
from consent.models import ConsentSession
from consent.selectors import consent_sessions_visible, journey_get

SESSION_NEW_TOKEN = "staff_new_patient_link"  # noqa: S105 (a session key, not a secret)


def _visible_session(request: HttpRequest, public_id: str) -> ConsentSession:
    """The session if this user may see it; 404 otherwise, so nothing tells whether it exists."""
    session = consent_sessions_visible(user=request.user).filter(public_id=public_id).first()
    if session is None:
        raise Http404
    return session


@require_GET
@never_cache
@login_required
@permission_required("consent.view_consentsession", raise_exception=True)
def session_list(request: HttpRequest) -> HttpResponse:
    sessions = consent_sessions_visible(user=request.user)[:200]
    return TemplateResponse(request, "consent/staff/session_list.html", {"sessions": sessions})


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
@permission_required("consent.add_consentsession", raise_exception=True)
def session_create(request: HttpRequest) -> HttpResponse:
    form = ConsentSessionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        session = services.consent_session_create(
            **form.cleaned_data, created_by=request.user, request=request
        )
        _link, token = services.patient_link_issue(
            session=session, issued_by=request.user, request=request
        )
        request.session[SESSION_NEW_TOKEN] = token
        messages.success(request, "Consent session created. Give the patient the link below.")
        return redirect("staff:session_detail", public_id=session.public_id)
    return TemplateResponse(
        request,
        "consent/staff/session_create.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


@require_GET
@never_cache
@login_required
@permission_required("consent.view_consentsession", raise_exception=True)
def session_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    session = _visible_session(request, public_id)
    token = request.session.pop(SESSION_NEW_TOKEN, None)
    patient_url = (
        request.build_absolute_uri(reverse("patient:link", kwargs={"token": token}))
        if token
        else None
    )
    return TemplateResponse(
        request,
        "consent/staff/session_detail.html",
        {
            "session": session,
            "journey": journey_get(session=session),
            "patient_url": patient_url,
            "links": session.links.all()[:10],
            "patient_questions": session.patient_questions.all(),
            "cancel_form": CancelForm(),
            "can_change": request.user.has_perm("consent.change_consentsession"),
        },
    )


@require_POST
@login_required
@permission_required("consent.change_consentsession", raise_exception=True)
def link_issue(request: HttpRequest, public_id: str) -> HttpResponse:
    session = _visible_session(request, public_id)
    try:
        _link, token = services.patient_link_issue(
            session=session, issued_by=request.user, request=request
        )
    except services.ServiceError as error:
        messages.error(request, str(error))
    else:
        request.session[SESSION_NEW_TOKEN] = token
        messages.success(request, "A new patient link was made; earlier links no longer work.")
    return redirect("staff:session_detail", public_id=session.public_id)


@require_POST
@login_required
@permission_required("consent.change_consentsession", raise_exception=True)
def link_revoke(request: HttpRequest, public_id: str) -> HttpResponse:
    session = _visible_session(request, public_id)
    count = services.patient_link_revoke(session=session, revoked_by=request.user, request=request)
    messages.success(
        request, "The patient link was revoked." if count else "There was no active link."
    )
    return redirect("staff:session_detail", public_id=session.public_id)


@require_POST
@login_required
@permission_required("consent.change_consentsession", raise_exception=True)
def session_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    session = _visible_session(request, public_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(services.ERROR_REASON_REQUIRED))
        return redirect("staff:session_detail", public_id=session.public_id)
    try:
        services.session_cancel(
            session=session,
            cancelled_by=request.user,
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except services.ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The consent session was cancelled.")
    return redirect("staff:session_detail", public_id=session.public_id)
