"""Staff sessions end after a spell of inactivity (automatic log-off, HIPAA 164.312(a)(2)(iii)).

A staff member's browser session holds the time of their last request. A request that comes
longer than `STAFF_IDLE_TIMEOUT` after it is served as if nobody were logged in: the user is
logged out first, so a page that needs a log-in sends them to the log-in page, which says why.
Patients have no account and are never affected; their link has rules of its own.
"""

import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext

SESSION_LAST_ACTIVITY = "staff_last_activity"
DEFAULT_IDLE_TIMEOUT = timedelta(minutes=30)


def idle_timeout() -> timedelta:
    return getattr(settings, "STAFF_IDLE_TIMEOUT", DEFAULT_IDLE_TIMEOUT)


def idle_logout_message(timeout: timedelta) -> str:
    minutes = max(1, round(timeout.total_seconds() / 60))
    return ngettext(
        "You were logged out after %(minutes)d minute without activity. Log in again to carry on.",
        "You were logged out after %(minutes)d minutes without activity. Log in again to carry on.",
        minutes,
    ) % {"minutes": minutes}


class StaffIdleTimeoutMiddleware:
    """Log out an authenticated user whose last request is older than the idle time-out.

    Place it after the authentication and message middleware. The time is stamped after the
    view has run, so the request that logs a user in starts their idle clock too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            last = request.session.get(SESSION_LAST_ACTIVITY)
            timeout = idle_timeout()
            # A session without a stamp (made before this middleware ran) starts its clock now.
            if isinstance(last, int | float) and time.time() - last > timeout.total_seconds():
                logout(request)
                messages.warning(request, idle_logout_message(timeout))
        response = self.get_response(request)
        # Only while the session still belongs to the user (opening a patient link flushes it).
        if request.user.is_authenticated and SESSION_KEY in request.session:
            request.session[SESSION_LAST_ACTIVITY] = int(time.time())
        return response
