"""Staff log-in in two steps: the password (throttled by django-axes), then the second factor.

- `/accounts/login/`: username and password. Too many wrong ones for an account from one
  address lock it there for the cool-off (`locked_out`, a plain page that says until when).
- `/accounts/second-factor/`: a code from the authenticator app, or one recovery code.
- `/accounts/second-factor/enrol/`: at the first log-in, scan the QR code (or type the secret),
  confirm a code; the recovery codes are shown once.
Staff pages refuse a log-in that has not passed the second factor (`access.second_factor_required`).
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from consent.audit.events import Origin
from consent.forms.auth import SecondFactorForm
from consent.services import accounts
from consent.views.access import (
    PUBLISH_PERMISSION,
    VIEW_PERMISSION,
    StaffRequest,
    second_factor_passed,
    second_factor_required,
)
from consent.views.staff.sessions import qr_code_svg


def _next(request: HttpRequest) -> str:
    """Where to go once logged in: a local `next`, or the dashboard."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return _landing(request)


def _landing(request: HttpRequest) -> str:
    """The first page after logging in: the dashboard; for a content editor, who sees no
    consent session, the workbench."""
    user = request.user
    if user.has_perm(PUBLISH_PERMISSION) and not user.has_perm(VIEW_PERMISSION):
        return reverse("authoring:draft_list")
    return reverse(settings.LOGIN_REDIRECT_URL)


def _with_next(name: str, target: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': target})}"


class StaffLoginView(auth_views.LoginView):
    """Django's log-in page; a right password leads on to the second factor."""

    def get_success_url(self) -> str:
        return _with_next("second_factor", super().get_success_url())

    def get_default_redirect_url(self) -> str:
        return _landing(self.request)


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
def second_factor(request: StaffRequest) -> HttpResponse:
    """Step two: a code from the authenticator app, or a recovery code (each good once)."""
    target = _next(request)
    if second_factor_passed(request):
        return redirect(target)
    if accounts.totp_device(request.user) is None:
        return redirect(_with_next("second_factor_enrol", target))
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = accounts.second_factor_verify(
            user=request.user, token=form.cleaned_data["code"], origin=Origin.of(request)
        )
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                _recovery_code_used(request)
            return HttpResponseRedirect(target)
        form.add_error("code", _("That code is not right. Type the code your app shows now."))
    return TemplateResponse(
        request, "registration/second_factor.html", {"form": form, "next": target}
    )


def _recovery_code_used(request: StaffRequest) -> None:
    from django.contrib import messages

    left = accounts.recovery_codes_left(request.user)
    messages.warning(
        request,
        ngettext(
            "You used a recovery code: %(left)d is left. Ask an administrator to reset your "
            "second factor if you lost your authenticator app.",
            "You used a recovery code: %(left)d are left. Ask an administrator to reset your "
            "second factor if you lost your authenticator app.",
            left,
        )
        % {"left": left},
    )


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
def second_factor_enrol(request: StaffRequest) -> HttpResponse:
    """First log-in: add this account to an authenticator app, confirm a code, keep the
    recovery codes (shown on this one response, never again)."""
    target = _next(request)
    if accounts.totp_device(request.user) is not None:
        return redirect(_with_next("second_factor", target))
    device = accounts.totp_enrolment_device(request.user)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = accounts.totp_enrol_confirm(
            user=request.user,
            device=device,
            token=form.cleaned_data["code"],
            origin=Origin.of(request),
        )
        if codes is not None:
            device.refresh_from_db()
            otp_login(request, device)
            return TemplateResponse(
                request, "registration/recovery_codes.html", {"codes": codes, "next": target}
            )
        form.add_error("code", _("That code is not right. Type the code your app shows now."))
    context: dict[str, Any] = {
        "form": form,
        "next": target,
        "qr": qr_code_svg(device.config_url),
        "secret": _grouped(accounts.totp_secret(device)),
    }
    return TemplateResponse(request, "registration/second_factor_enrol.html", context)


def _grouped(secret: str) -> SafeString | str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def locked_out(
    request: HttpRequest, original_response: Any = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """django-axes' lock-out response (`AXES_LOCKOUT_CALLABLE`): a plain page saying until when."""
    until = accounts.locked_until(request, credentials)
    # Rendered here: a middleware's response is not rendered later like a view's.
    return render(
        request,
        "registration/locked_out.html",
        {"try_again_at": accounts.try_again_at(until) if until is not None else ""},
        status=429,
    )


password_change = method_decorator([login_required, second_factor_required], name="dispatch")(
    auth_views.PasswordChangeView
).as_view()
password_change_done = method_decorator([login_required, second_factor_required], name="dispatch")(
    auth_views.PasswordChangeDoneView
).as_view()
