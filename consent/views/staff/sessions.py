"""Staff pages: the dashboard of consent sessions, creating one, and its patient links.

The review, attestation and signing views are in consent/views/physician.py.
"""

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consent import services
from consent.audit.events import Origin, staff_access_record
from consent.forms.staff import CancelForm, ConsentSessionForm, DashboardFilterForm
from consent.models import ConsentSession
from consent.selectors.dashboard import consent_sessions_dashboard, consent_sessions_visible
from consent.selectors.journey import journey_get
from consent.services import links, sessions

SESSION_NEW_TOKEN = "staff_new_patient_link"  # noqa: S105 (a session key, not a secret)
SESSIONS_PER_PAGE = 50
Status = ConsentSession.Status
# What the services accept: links for open sessions, cancelling until the patient has decided.
CLOSED = (Status.CANCELLED, Status.EXPIRED, Status.FINALIZED)
CANCELLABLE = (Status.CREATED, Status.REVIEWING, Status.READY_FOR_DISCUSSION)


def visible_session_or_404(request: HttpRequest, public_id: str) -> ConsentSession:
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
    """The dashboard: the user's sessions with progress, first-try score and what is open."""
    form = DashboardFilterForm(request.GET)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    sessions = consent_sessions_dashboard(user=request.user, status=status)
    page = Paginator(sessions, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    staff_access_record(
        user=request.user,
        origin=Origin.of(request),
        action="sessions.listed",
        payload={"status": status, "page": page.number, "results": page.paginator.count},
    )
    return TemplateResponse(
        request,
        "consent/staff/session_list.html",
        {
            "page": page,
            "sessions": page.object_list,
            "filter_form": form,
            "status": status,
            "show_physician": request.user.has_perm("consent.view_all_sessions"),
        },
    )


def qr_code_svg(url: str) -> SafeString:
    """The patient link as an inline SVG QR code, for a clinic tablet's camera.

    Hidden from screen readers: the link printed beside it says the same thing.
    """
    svg = segno.make(url, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", svgclass="qr-code", lineclass=None
    )
    # segno writes the markup itself from the URL's encoded modules, with nothing of ours in it.
    return format_html(
        '<span class="d-inline-block" aria-hidden="true">{}</span>',
        mark_safe(svg),  # noqa: S308
    )


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
@permission_required("consent.add_consentsession", raise_exception=True)
def session_create(request: HttpRequest) -> HttpResponse:
    form = ConsentSessionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        session = sessions.consent_session_create(
            **form.cleaned_data, created_by=request.user, origin=Origin.of(request)
        )
        _link, token = links.patient_link_issue(
            session=session, issued_by=request.user, origin=Origin.of(request)
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
    session = visible_session_or_404(request, public_id)
    staff_access_record(
        user=request.user,
        origin=Origin.of(request),
        action="session.viewed",
        obj=session,
        session=session,
        payload={"page": "detail"},
    )
    can_change = request.user.has_perm("consent.change_consentsession")
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
            "patient_qr": qr_code_svg(patient_url) if patient_url else None,
            "links": session.links.all()[:10],
            "patient_questions": session.patient_questions.all(),
            "cancel_form": CancelForm(),
            "can_change": can_change,
            "can_link": can_change and session.status not in CLOSED,
            "can_cancel": can_change and session.status in CANCELLABLE,
        },
    )


@require_POST
@login_required
@permission_required("consent.change_consentsession", raise_exception=True)
def link_issue(request: HttpRequest, public_id: str) -> HttpResponse:
    session = visible_session_or_404(request, public_id)
    try:
        _link, token = links.patient_link_issue(
            session=session, issued_by=request.user, origin=Origin.of(request)
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
    session = visible_session_or_404(request, public_id)
    count = links.patient_link_revoke(
        session=session, revoked_by=request.user, origin=Origin.of(request)
    )
    messages.success(
        request, "The patient link was revoked." if count else "There was no active link."
    )
    return redirect("staff:session_detail", public_id=session.public_id)


@require_POST
@login_required
@permission_required("consent.change_consentsession", raise_exception=True)
def session_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    session = visible_session_or_404(request, public_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(sessions.ERROR_REASON_REQUIRED))
        return redirect("staff:session_detail", public_id=session.public_id)
    try:
        sessions.session_cancel(
            session=session,
            cancelled_by=request.user,
            reason=form.cleaned_data["reason"],
            origin=Origin.of(request),
        )
    except services.ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The consent session was cancelled.")
    return redirect("staff:session_detail", public_id=session.public_id)
