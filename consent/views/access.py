"""Who may open which staff page: one decorator per workspace, so every view says it once."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

View = Callable[..., HttpResponse]


class StaffRequest(HttpRequest):
    """A request that passed a staff decorator: its user is logged in (for the type checker)."""

    user: User


# The auditor role reads everything and changes nothing (consent/roles.py); superusers too.
AUDIT_PERMISSION = "consent.view_auditevent"


def auditor_required(view: View) -> View:
    """Logged-in users holding the auditor's permission; others get 403, strangers the log-in.

    Pages are never cached: they show health data.
    """

    @wraps(view)
    @never_cache
    @login_required
    @permission_required(AUDIT_PERMISSION, raise_exception=True)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(request, *args, **kwargs)

    return wrapped
