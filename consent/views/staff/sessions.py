"""Staff pages: the dashboard of consent sessions, creating one, and its patient links.

The review, attestation and signing views are in consent/views/staff/review.py.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast
from uuid import UUID

import segno
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consent import lifecycle, services
from consent.audit.events import Origin
from consent.forms.staff import (
    CancelForm,
    ConsentSessionForm,
    DashboardFilterForm,
    LinkIssueForm,
)
from consent.languages import language_label
from consent.lifecycle import Action, Turn
from consent.models import ConsentSession, PatientLink
from consent.selectors.content import with_cached_versions
from consent.selectors.dashboard import (
    DashboardAnnotations,
    consent_sessions_dashboard_ids,
    consent_sessions_dashboard_rows,
    session_links_recent,
    session_visible_exists,
)
from consent.selectors.journey import journey_get, patient_questions_list
from consent.services import links, sessions
from consent.views.access import (
    StaffRequest,
    access_record,
    sessions_change_required,
    sessions_create_required,
    sessions_view_required,
    viewed_session_or_404,
    visible_session_or_404,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# The links made by this staff member's last requests, each under its consent session's public
# id until that session's page shows it once (only the link's hash is stored anywhere else).
SESSION_NEW_LINKS = "staff_new_patient_links"
SESSIONS_PER_PAGE = 50


@require_GET
@sessions_view_required
def session_list(request: StaffRequest) -> HttpResponse:
    """The dashboard: the user's sessions with progress, first-try score and what is open."""
    form = DashboardFilterForm(request.GET)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    ids = consent_sessions_dashboard_ids(user=request.user, status=status)
    page = Paginator(ids, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    sessions = consent_sessions_dashboard_rows(user=request.user, ids=list(page.object_list))
    access_record(
        request,
        action="sessions.listed",
        payload={"status": status, "page": page.number, "results": page.paginator.count},
    )
    return TemplateResponse(
        request,
        "consent/staff/session_list.html",
        {
            "page": page,
            "rows": _dashboard_rows(sessions),
            "filter_form": form,
            "status": status,
            "show_physician": request.user.has_perm("consent.view_all_sessions"),
        },
    )


# Whose move it is, as the colour of a session's status badge: amber for the physician, green
# when done, pale when closed.
TURN_BADGE_CLASSES = {
    Turn.PHYSICIAN: "text-bg-warning",
    Turn.DONE: "text-bg-success",
    Turn.CLOSED: "text-bg-light border",
    Turn.PATIENT: "text-bg-secondary",
}


@dataclass(frozen=True)
class DashboardRow:
    """One session as the dashboard shows it, every figure already worded.

    The page shows each row twice (a table on wide screens, a card on phones): wording the
    figures once here keeps the template to plain variables instead of two sets of translation
    tags, includes and filters per row.
    """

    url: str
    patient_name: str
    patient_record_number: str
    status: str
    status_label: str
    badge_class: str
    sections: str
    answered: str
    # "" when no first try has been graded yet (the page shows a dash).
    right_first_time: str
    flagged: int
    questions_open: int
    physician: str
    procedure: str
    language: str
    clinically_reviewed: bool
    created: str


def _dashboard_rows(
    sessions: "list[WithAnnotations[ConsentSession, DashboardAnnotations]]",
) -> list[DashboardRow]:
    """The page's sessions as rows, with whose move it is in their badge's colour."""
    rows = []
    for cached in with_cached_versions(sessions):
        session = cast("WithAnnotations[ConsentSession, DashboardAnnotations]", cached)
        version = session.procedure_version
        rows.append(
            DashboardRow(
                url=reverse("staff:session_detail", args=[session.public_id]),
                patient_name=session.patient_name,
                patient_record_number=session.patient_record_number,
                status=session.status,
                status_label=session.get_status_display(),
                badge_class=TURN_BADGE_CLASSES[lifecycle.turn(session)],
                sections=_("%(read)s of %(total)s")
                % {"read": session.sections_read, "total": session.sections_total},
                answered=_("%(answered)s of %(total)s")
                % {"answered": session.questions_answered, "total": session.questions_total},
                right_first_time=(
                    _("%(right)s of %(graded)s")
                    % {"right": session.first_try_correct, "graded": session.first_try_graded}
                    if session.first_try_graded
                    else ""
                ),
                flagged=session.flagged,
                questions_open=session.patient_questions_open,
                physician=session.physician.get_full_name() or session.physician.username,
                procedure=f"{version.slug} {version.version}",
                language=version.language,
                clinically_reviewed=version.clinically_reviewed,
                created=date_format(localtime(session.created_at), "Y-m-d H:i"),
            )
        )
    return rows


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
@sessions_create_required
def session_create(request: StaffRequest) -> HttpResponse:
    form = ConsentSessionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            session = sessions.consent_session_create(
                **form.cleaned_data, created_by=request.user, origin=Origin.of(request)
            )
        except sessions.LanguageUnavailable as error:  # a translation withdrawn meanwhile
            form.add_error("language", str(error))
        except services.ServiceError as error:  # e.g. content not clinically reviewed
            form.add_error("procedure_version", str(error))
        else:
            return _session_created(request, session)
    return TemplateResponse(
        request,
        "consent/staff/session_create.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


def _session_created(request: StaffRequest, session: ConsentSession) -> HttpResponse:
    """The new session's page with its first link; a colleague's session is theirs to link."""
    if not session_visible_exists(user=request.user, session_id=session.pk):
        # Its page is not this user's to open: no link is made that nobody could be shown.
        name = session.physician.get_full_name() or session.physician.get_username()
        messages.success(
            request,
            _(
                "Consent session created for %(physician)s. It is theirs: they make the "
                "patient's link on its page."
            )
            % {"physician": name},
        )
        return redirect("staff:session_list")
    _link, token = links.patient_link_issue(
        session=session, issued_by=request.user, origin=Origin.of(request)
    )
    _new_link_keep(request, session, token)
    messages.success(request, _("Consent session created. Give the patient the link below."))
    return redirect("staff:session_detail", public_id=session.public_id)


@require_GET
@sessions_view_required
def session_detail(request: StaffRequest, public_id: UUID) -> HttpResponse:
    session = viewed_session_or_404(request, public_id, page="detail")
    recent = session_links_recent(session=session)
    patient_url = _new_patient_url(request, session, recent)
    return TemplateResponse(
        request,
        "consent/staff/session_detail.html",
        {
            "session": session,
            "journey": journey_get(session=session),
            "patient_url": patient_url,
            "patient_qr": qr_code_svg(patient_url) if patient_url else None,
            "links": recent,
            "patient_questions": patient_questions_list(session=session),
            "patient_language": language_label(session.language),
            "cancel_form": CancelForm(),
            "link_form": LinkIssueForm(),
            # After the attestation, a new link needs a reason (consent/services/links.py).
            "link_reason_required": session.attested_at is not None,
            **_session_flags(request, session),
        },
    )


def _new_link_keep(request: StaffRequest, session: ConsentSession, token: str) -> None:
    """Keep a link just made until its own session's page shows it (a newer one replaces it)."""
    kept = request.session.get(SESSION_NEW_LINKS)
    kept = dict(kept) if isinstance(kept, dict) else {}
    kept[str(session.public_id)] = token
    request.session[SESSION_NEW_LINKS] = kept


def _new_patient_url(
    request: StaffRequest, session: ConsentSession, recent: list[PatientLink]
) -> str | None:
    """The link made for this session by an earlier request, shown once and only here (other
    tabs' links wait for their own sessions' pages), and only while it is the session's
    usable link: one revoked or replaced since is not shown."""
    kept = request.session.get(SESSION_NEW_LINKS)
    if not isinstance(kept, dict) or str(session.public_id) not in kept:
        return None
    kept = dict(kept)
    token = kept.pop(str(session.public_id))
    request.session[SESSION_NEW_LINKS] = kept
    current = recent[0] if recent else None
    if not isinstance(token, str) or not links.patient_link_usable(current):
        return None
    if current is None or current.token_hash != links.token_hash(token):
        return None
    return request.build_absolute_uri(reverse("patient:link", kwargs={"token": token}))


def _session_flags(request: StaffRequest, session: ConsentSession) -> dict[str, bool]:
    """What the page offers: the state machine's answer, for users who may change sessions."""
    can_change = request.user.has_perm("consent.change_consentsession")
    allowed = lifecycle.flags(session, Action.LINK_ISSUE, Action.CANCEL, Action.ATTEST)
    return {"can_change": can_change, **{name: can_change and ok for name, ok in allowed.items()}}


@require_POST
@sessions_change_required
def link_issue(request: StaffRequest, public_id: UUID) -> HttpResponse:
    session = visible_session_or_404(request, public_id)
    form = LinkIssueForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        _link, token = links.patient_link_issue(
            session=session, issued_by=request.user, origin=Origin.of(request), reason=reason
        )
    except services.ServiceError as error:
        messages.error(request, str(error))
    else:
        _new_link_keep(request, session, token)
        messages.success(request, _("A new patient link was made; earlier links no longer work."))
    return redirect("staff:session_detail", public_id=session.public_id)


@require_POST
@sessions_change_required
def link_revoke(request: StaffRequest, public_id: UUID) -> HttpResponse:
    session = visible_session_or_404(request, public_id)
    count = links.patient_link_revoke(
        session=session, revoked_by=request.user, origin=Origin.of(request)
    )
    messages.success(
        request, _("The patient link was revoked.") if count else _("There was no active link.")
    )
    return redirect("staff:session_detail", public_id=session.public_id)


@require_POST
@sessions_change_required
def session_cancel(request: StaffRequest, public_id: UUID) -> HttpResponse:
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
        messages.success(request, _("The consent session was cancelled."))
    return redirect("staff:session_detail", public_id=session.public_id)
