"""Each page in its reader's language; browser sessions end after a spell of inactivity.

`PageLanguageMiddleware`: every page speaks the institution's language (`LANGUAGE_CODE`),
whatever the browser asks for, except a patient's pages, which speak their consent session's
(the language of the procedure version it pins; `consent.views.access.in_language`).

Browser sessions end after a spell of inactivity: one mechanism, two kinds of visitor.

A browser session holds the time of its last request. A request that comes longer than the
idle time-out after it finds the session ended first:

- staff (`StaffIdleTimeoutMiddleware`, `STAFF_IDLE_TIMEOUT`, automatic log-off, HIPAA
  164.312(a)(2)(iii)): the user is logged out, and the request is served as if nobody were
  logged in, so a page that needs a log-in sends them to the log-in page, which says why;
- patients (`PatientIdleTimeoutMiddleware`, `PATIENT_IDLE_TIMEOUT`, 20 minutes by default): a
  browser that opened a patient link (a shared clinic tablet, a phone left on a table) gets a
  plain page saying how to go on, and its session is ended; everything the patient answered
  is stored already, and the same link, with the date of birth again, carries on. While the
  patient types or draws on a decision page, the page keeps the session alive with a ping
  (consent/views/patient/keep_alive.py); a ping that comes after the time-out gets 410.

The time is `consent.clock.now()` (tests travel in time with `consent.clock.using`), kept as
whole seconds since the epoch, and stamped after the view has run, so the request that logs
a user in or opens a link starts its idle clock too.
"""

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import ngettext

from consent import clock
from consent.views.access import SESSION_LINK, current_link

SESSION_LAST_ACTIVITY = "staff_last_activity"
DEFAULT_IDLE_TIMEOUT = timedelta(minutes=30)
PATIENT_LAST_ACTIVITY = "patient_last_activity"
DEFAULT_PATIENT_IDLE_TIMEOUT = timedelta(minutes=20)
# Seconds a stamp stays good before a request writes a new one (at most a quarter of the
# time-out): a session may end up to this much before its idle time-out is reached, never after.
STAMP_EVERY = 60


def idle_timeout() -> timedelta:
    return getattr(settings, "STAFF_IDLE_TIMEOUT", DEFAULT_IDLE_TIMEOUT)


def patient_idle_timeout() -> timedelta:
    return getattr(settings, "PATIENT_IDLE_TIMEOUT", DEFAULT_PATIENT_IDLE_TIMEOUT)


def idle_logout_message(timeout: timedelta) -> str:
    minutes = max(1, round(timeout.total_seconds() / 60))
    return ngettext(
        "You were logged out after %(minutes)d minute without activity. Log in again to carry on.",
        "You were logged out after %(minutes)d minutes without activity. Log in again to carry on.",
        minutes,
    ) % {"minutes": minutes}


class IdleTimeoutMiddleware:
    """End a watched browser session whose last request is older than its idle time-out.

    A subclass names the session key of its stamp and says whose sessions it watches, how
    long they may idle, and how one ends (`expire`: a response to give instead of the page,
    or None to serve the request as it now stands). Place it after the session,
    authentication and message middleware.
    """

    stamp_key: str

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def watched(self, request: HttpRequest) -> bool:
        raise NotImplementedError

    def timeout(self) -> timedelta:
        raise NotImplementedError

    def expire(self, request: HttpRequest, timeout: timedelta) -> HttpResponse | None:
        raise NotImplementedError

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.watched(request):
            last = request.session.get(self.stamp_key)
            timeout = self.timeout()
            # A session without a stamp (made before this middleware ran) starts its clock now.
            if isinstance(last, int | float) and _seconds_now() - last > timeout.total_seconds():
                ended = self.expire(request, timeout)
                if ended is not None:
                    return ended
        response = self.get_response(request)
        # Only while the session is still watched (opening a patient link flushes a staff
        # member's session; leaving ends a patient's). Restamped at most once a minute (or every
        # quarter of a shorter time-out): a stamp is a write of the whole session row, which
        # most pages would not make otherwise.
        if self.watched(request):
            now = _seconds_now()
            last = request.session.get(self.stamp_key)
            every = min(STAMP_EVERY, self.timeout().total_seconds() / 4)
            if not isinstance(last, int | float) or not 0 <= now - last < every:
                request.session[self.stamp_key] = now
        return response


class PageLanguageMiddleware:
    """Every page in the institution's language (`LANGUAGE_CODE`), whatever the browser asks
    for; a patient's pages then switch to their consent session's language themselves
    (`consent.views.access.in_language`), which knows it from the link the view reads anyway.
    The language never comes from the URL or the browser's Accept-Language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = settings.LANGUAGE_CODE
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


def _seconds_now() -> int:
    return int(clock.now().timestamp())


class StaffIdleTimeoutMiddleware(IdleTimeoutMiddleware):
    """Log out an authenticated user whose last request is older than `STAFF_IDLE_TIMEOUT`."""

    stamp_key = SESSION_LAST_ACTIVITY

    def watched(self, request: HttpRequest) -> bool:
        return request.user.is_authenticated and SESSION_KEY in request.session

    def timeout(self) -> timedelta:
        return idle_timeout()

    def expire(self, request: HttpRequest, timeout: timedelta) -> None:
        logout(request)
        messages.warning(request, idle_logout_message(timeout))


class PatientIdleTimeoutMiddleware(IdleTimeoutMiddleware):
    """End a patient's browser session left idle longer than `PATIENT_IDLE_TIMEOUT`, with a
    plain page that says how to go on. Nothing the patient stored is touched: the link is
    still valid, and opening it again (and the date of birth) resumes where they stopped."""

    stamp_key = PATIENT_LAST_ACTIVITY

    def watched(self, request: HttpRequest) -> bool:
        return SESSION_LINK in request.session

    def timeout(self) -> timedelta:
        return patient_idle_timeout()

    def expire(self, request: HttpRequest, timeout: timedelta) -> HttpResponse | None:
        if _view_name(request) == "patient:link":
            return None  # opening a link starts a fresh session anyway: no detour
        if _view_name(request) == "patient:keep_alive":
            # The decision page's ping (consent/views/patient/keep_alive.py) came too late:
            # it neither revives the session nor ends it here, where no one would read the
            # page. Its script then opens the page again, which shows how to go on.
            return HttpResponse(status=410)
        link = current_link(request)
        language = link.session.language if link is not None else translation.get_language()
        # Ended like "Save and leave": a new, empty session (and a new cookie key).
        request.session.flush()
        with translation.override(language):
            response = render(request, "consent/patient/idle.html")
        add_never_cache_headers(response)
        return response


def _view_name(request: HttpRequest) -> str:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return ""
