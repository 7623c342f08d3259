"""Who may open which page: one decorator per kind of visitor, so every view says it once.

- `patient_entry`: the patient's pages before identification (each checks the link itself);
- `patient_required`: a browser that opened a usable link and confirmed the date of birth;
  the view gets the consent session as its second argument.
- `staff_required(permission)`: a logged-in user with that permission whose log-in passed the
  second factor (strangers go to the log-in page, a log-in without the second factor to the
  code page, users without the permission get 403); `sessions_view_required`,
  `sessions_change_required`, `sessions_create_required`, `auditor_required` and
  `content_editor_required` name the ones in use. Whether a given session is visible to the
  user is `visible_session_or_404`.

Every page behind these decorators is never cached: they show health data.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from uuid import UUID

from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import SimpleTemplateResponse, TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache

from consent.audit.events import Origin, staff_access_record
from consent.models import AuditEvent, ConsentSession, PatientLink
from consent.selectors.dashboard import session_visible_or_none
from consent.selectors.journey import patient_link_session
from consent.services import links

View = Callable[..., HttpResponseBase]


class StaffRequest(HttpRequest):
    """A request that passed a staff decorator: its user is logged in (for the type checker)."""

    user: User


# The browser session's keys: the link it opened, and the link whose date of birth it confirmed.
SESSION_LINK = "patient_link"
SESSION_IDENTIFIED = "patient_identified"
NO_REFERRER = {"Referrer-Policy": "no-referrer"}

VIEW_PERMISSION = "consent.view_consentsession"
CHANGE_PERMISSION = "consent.change_consentsession"
CREATE_PERMISSION = "consent.add_consentsession"
# The auditor role reads everything and changes nothing (consent/roles.py); superusers too.
AUDIT_PERMISSION = "consent.view_auditevent"
# The content editor role uploads, previews and publishes content packs (consent/roles.py).
PUBLISH_PERMISSION = "consent.publish_procedureversion"


def link_unusable(request: HttpRequest) -> HttpResponse:
    """One plain page for every link that cannot be used: it says nothing about anyone."""
    return TemplateResponse(
        request, "consent/patient/link_unusable.html", status=404, headers=NO_REFERRER
    )


def current_link(request: HttpRequest) -> PatientLink | None:
    """The link this browser opened, read afresh, if it may still be used."""
    link_id = request.session.get(SESSION_LINK)
    if not isinstance(link_id, int):
        return None
    link = patient_link_session(link_id=link_id)
    return link if links.patient_link_usable(link) else None


def patient_required(view: View) -> View:
    """Let in only a browser that opened a usable link and confirmed the date of birth."""

    @wraps(view)
    @never_cache
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        link = current_link(request)
        if link is None:
            request.session.pop(SESSION_LINK, None)
            request.session.pop(SESSION_IDENTIFIED, None)
            return link_unusable(request)
        if request.session.get(SESSION_IDENTIFIED) != link.pk:
            return redirect("patient:identity")
        # For the context processor that gives every patient page its flags.
        request.consent_session = link.session  # type: ignore[attr-defined]
        return in_language(
            link.session.language, lambda: view(request, link.session, *args, **kwargs)
        )

    return wrapper


Response = TypeVar("Response", bound=HttpResponseBase)


def in_language(language: str, respond: Callable[[], Response]) -> Response:
    """The response of `respond()`, made and rendered in `language` (a patient's page in their
    consent session's). A TemplateResponse renders only after the view has returned, outside
    any language the view chose: it is rendered here, inside it."""
    with translation.override(language):
        response = respond()
        if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
            response.render()
    response.headers["Content-Language"] = language
    return response


def patient_entry(view: View) -> View:
    """The pages before the patient is identified (the link, the date of birth, leaving).

    Open to anyone: each checks the link itself. Never cached, like every patient page.
    """
    return never_cache(view)


def second_factor_passed(request: HttpRequest) -> bool:
    """This browser's log-in passed the second factor (django-otp's session mark).

    Every staff account needs it: physicians, auditors and administrators alike.
    """
    user: Any = request.user
    return bool(user.is_authenticated and user.is_verified())


def second_factor_required(view: View) -> View:
    """A log-in whose second factor is not done yet goes to the code page, then comes back.

    The one place that says so: `staff_required` below, the password change pages and the
    admin site (`consent/admin.py`) all ask it.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not second_factor_passed(request):
            return redirect_to_login(request.get_full_path(), reverse("second_factor"))
        return view(request, *args, **kwargs)

    return wrapped


def staff_required(permission: str) -> Callable[[View], View]:
    """Logged-in users holding `permission` whose log-in passed the second factor; others get
    403, strangers the log-in page, a log-in without its second factor the code page."""

    def decorator(view: View) -> View:
        @wraps(view)
        @never_cache
        @login_required
        @second_factor_required
        @permission_required(permission, raise_exception=True)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


sessions_view_required = staff_required(VIEW_PERMISSION)
sessions_change_required = staff_required(CHANGE_PERMISSION)
sessions_create_required = staff_required(CREATE_PERMISSION)
auditor_required = staff_required(AUDIT_PERMISSION)
content_editor_required = staff_required(PUBLISH_PERMISSION)


def visible_session_or_404(request: StaffRequest, public_id: UUID | str) -> ConsentSession:
    """The session if this user may see it; 404 otherwise, so nothing tells whether it exists."""
    session = session_visible_or_none(user=request.user, public_id=public_id)
    if session is None:
        raise Http404
    return session


def access_record(request: StaffRequest, *, action: str, **fields: Any) -> AuditEvent:
    """Note that this staff member looked at health data, before the page is shown."""
    return staff_access_record(
        user=request.user, origin=Origin.of(request), action=action, **fields
    )


def viewed_session_or_404(
    request: StaffRequest, public_id: UUID | str, *, page: str
) -> ConsentSession:
    """`visible_session_or_404`, with the look at it recorded (`session.viewed`, which page)."""
    session = visible_session_or_404(request, public_id)
    access_record(
        request, action="session.viewed", obj=session, session=session, payload={"page": page}
    )
    return session
