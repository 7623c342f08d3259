"""Staff accounts: log-in throttling, the second factor, and the audit of every log-in.

- Throttling is django-axes' (settings: `AXES_*`): after `AXES_FAILURE_LIMIT` wrong passwords
  for one account from one address (the client's, behind trusted proxies too:
  `consent.audit.events.client_address`), that account is locked at that address for
  `AXES_COOLOFF_TIME`. The password a physician re-enters to attest, finalize or add an addendum
  (`password_reentry_check`) is counted by the same axes records, and refused while locked.
- The second factor is django-otp's: a TOTP device (an authenticator app) and a static device
  holding `STAFF_RECOVERY_CODES` recovery codes, each good once. Every staff account needs it.
- Every log-in, log-out, failure and lock-out is an audit event (`account.*`), written by the
  receivers below for Django's and axes' signals. The attempted password is never stored; the
  attempted username of a failure is cut to `USERNAME_MAX` characters.
"""

from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from consent import clock
from consent.audit.events import Origin, audit_record
from consent.models import AuditEvent
from consent.roles import role_of

USERNAME_MAX = 40
TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
# The path axes files a password re-entry under (no such page: the services make the request).
REENTRY_PATH = "/staff/password-re-entry"
STAFF = AuditEvent.Role.STAFF


def _record(
    action: str,
    *,
    request: HttpRequest | None,
    user: User | AnonymousUser | None = None,
    payload: dict[str, Any] | None = None,
    origin: Origin | None = None,
    actor_label: str = "",
) -> None:
    account = user if isinstance(user, User) else None
    with transaction.atomic():
        audit_record(
            action=action,
            role=role_of(account) if account is not None else STAFF,
            actor=account,
            actor_label=actor_label,
            origin=origin or (Origin.of(request) if request is not None else None),
            payload=payload,
        )


def attempted_username(credentials: dict[str, Any] | None) -> str:
    """The username a failed attempt gave, cut short (it is a claim, and may be anything)."""
    name = (credentials or {}).get("username") or ""
    return str(name)[:USERNAME_MAX]


# Throttling

# Longest username axes stores (its column holds 255; Django's usernames are at most 150).
AXES_USERNAME_MAX = 150


def axes_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The username axes counts failures under (`AXES_USERNAME_CALLABLE`): as axes reads it,
    cut to `AXES_USERNAME_MAX`, so a long made-up name is counted, not a server error."""
    if credentials:
        name = credentials.get("username")
    else:
        name = request.POST.get("username") if request is not None else None
    return None if name is None else str(name)[:AXES_USERNAME_MAX]


def _reentry_request(user: AbstractBaseUser, origin: Origin | None) -> HttpRequest:
    """The request axes sees for a password re-entry: the signer's address and browser.

    The address is the client's as `client_address` found it (behind proxies too), so it
    goes in as `REMOTE_ADDR` with no forwarded header: axes counts it under the same address
    as the log-in page."""
    request = HttpRequest()
    request.method = "POST"
    request.path = request.path_info = REENTRY_PATH
    origin = origin or Origin()
    if origin.ip:
        request.META["REMOTE_ADDR"] = origin.ip
    request.META["HTTP_USER_AGENT"] = origin.user_agent
    request.password_reentry = True  # type: ignore[attr-defined]
    request.user = user  # type: ignore[assignment]
    return request


def locked_until(request: HttpRequest, credentials: dict[str, Any] | None) -> datetime | None:
    """When the lock-out on these credentials from this address ends (None: not locked)."""
    if AxesProxyHandler.is_allowed(request, credentials):
        return None
    handler: Any = AxesProxyHandler.get_implementation()
    last = max(
        (
            attempts.aggregate(last=Max("attempt_time"))["last"]
            for attempts in handler.get_user_attempts(request, credentials)
        ),
        default=None,
        key=lambda when: when or datetime.min.replace(tzinfo=clock.now().tzinfo),
    )
    cool_off = get_cool_off(request)
    if last is None or cool_off is None:
        return None
    return last + cool_off


@dataclass(frozen=True)
class PasswordCheck:
    """The outcome of a password re-entry: right, or refused (wrong, or tried while locked out);
    `locked_until` when the account is locked at this address now."""

    ok: bool
    locked_until: datetime | None = None
    tried_while_locked: bool = False


def try_again_at(until: datetime) -> str:
    """The time a lock-out ends, as the page says it: '14:35 (UTC)'."""
    return f"{timezone.localtime(until):%H:%M} ({timezone.get_current_timezone_name()})"


def locked_out_message(until: datetime) -> str:
    return gettext(
        "Too many wrong passwords: this account is locked on this computer until %(time)s. "
        "Nothing was signed. Try again after that time."
    ) % {"time": try_again_at(until)}


def password_reentry_check(
    *, user: User, password: str, origin: Origin | None = None
) -> PasswordCheck:
    """Check a re-entered password under the log-in's throttle (same counter, same lock-out).

    While the account is locked at this address, even the right password is refused. A wrong
    one is a failed log-in for axes (Django's `user_login_failed`), so five wrong re-entries lock
    the log-in page too, and five wrong log-ins lock signing.
    """
    request = _reentry_request(user, origin)
    credentials = {"username": user.get_username()}
    until = locked_until(request, credentials)
    if until is not None:
        return PasswordCheck(ok=False, locked_until=until, tried_while_locked=True)
    if user.check_password(password):
        return PasswordCheck(ok=True)
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    return PasswordCheck(ok=False, locked_until=locked_until(request, credentials))


# The audit of log-ins, log-outs, failures and lock-outs (connected in consent/apps.py)


def on_logged_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    _record("account.logged_in", request=request, user=user)


def on_logged_out(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is None:
        return
    match = getattr(request, "resolver_match", None)
    how = "log-out" if match is not None and match.url_name == "logout" else "idle time-out"
    _record("account.logged_out", request=request, user=user, payload={"how": how})


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """A wrong password or a try while locked out; runs before axes counts it."""
    if request is None or getattr(request, "password_reentry", False):
        # Re-entries are recorded as the refused signature they are (services/signatures.py).
        return
    # Refused while locked: axes' backend marked the request and its handler did not count
    # it (whether or not that handler ran already).
    locked = bool(getattr(request, "axes_locked_out", False)) and (
        getattr(request, "axes_failures_since_start", None) is None
    )
    if locked:
        request.lockout_audited = True  # type: ignore[attr-defined]
    _record(
        "account.login_failed",
        request=request,
        actor_label="unknown",
        payload={
            "username": attempted_username(credentials),
            "reason": "locked out" if locked else "wrong password",
        },
    )


def on_locked_out(
    sender: Any, request: HttpRequest, username: str | None = None, **kwargs: Any
) -> None:
    """axes locked an account at an address (once per lock-out, not for each try after)."""
    if getattr(request, "lockout_audited", False):
        return
    request.lockout_audited = True  # type: ignore[attr-defined]
    reentry = getattr(request, "password_reentry", False)
    user = getattr(request, "user", None) if reentry else None
    _record(
        "account.locked_out",
        request=request,
        user=user,
        actor_label="" if user is not None else "unknown",
        payload={
            "username": (username or "")[:USERNAME_MAX],
            "during": "password re-entry" if reentry else "log-in",
            "minutes": int(get_cool_off(request).total_seconds() // 60)
            if get_cool_off(request)
            else None,
        },
    )


def receivers_connect() -> None:
    """Connect the audit receivers. A failure is recorded before axes counts it (axes' receiver
    is moved after ours), so the lock-out it may cause comes after it in the log."""
    from axes import signals as axes_signals

    user_logged_in.connect(on_logged_in, dispatch_uid="consent-audit-logged-in")
    user_logged_out.connect(on_logged_out, dispatch_uid="consent-audit-logged-out")
    user_login_failed.disconnect(axes_signals.handle_user_login_failed)
    user_login_failed.connect(on_login_failed, dispatch_uid="consent-audit-login-failed")
    user_login_failed.connect(axes_signals.handle_user_login_failed)
    axes_signals.user_locked_out.connect(on_locked_out, dispatch_uid="consent-audit-locked-out")


# The second factor


def totp_device(user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if enrolled."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def totp_secret(device: TOTPDevice) -> str:
    """The device's key as the base32 text an authenticator app takes."""
    return b32encode(device.bin_key).decode("ascii").rstrip("=")


def totp_enrolment_device(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled (one per user, made on first look)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_NAME).count()


def totp_enrol_confirm(
    *, user: User, device: TOTPDevice, token: str, origin: Origin
) -> list[str] | None:
    """Confirm enrolment with a code from the app; return the new recovery codes (shown once).

    None when the code is wrong (recorded as a second-factor failure).
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
        if device.confirmed or not device.verify_token(token):
            _second_factor_failed(user, origin, during="enrolment")
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_replace(user)
        _record(
            "account.second_factor_enrolled",
            request=None,
            user=user,
            origin=origin,
            payload={"device": "totp", "recovery_codes": len(codes)},
        )
    return codes


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.STAFF_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    return codes


def second_factor_verify(
    *, user: User, token: str, origin: Origin
) -> TOTPDevice | StaticDevice | None:
    """The device that accepts this code (a recovery code is used up), or None.

    django-otp throttles each device: after a wrong code the next try waits 1, 2, 4 ... s.
    """
    token = "".join(token.split()).lower()
    with transaction.atomic():
        device: TOTPDevice | StaticDevice | None = None
        for candidate in (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first(),
            StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first(),
        ):
            if candidate is not None and candidate.verify_token(token):
                device = candidate
                break
        if device is None:
            _second_factor_failed(user, origin, during="log-in")
            return None
        method = "totp" if isinstance(device, TOTPDevice) else "recovery code"
        payload: dict[str, Any] = {"method": method}
        if isinstance(device, StaticDevice):
            payload["recovery_codes_left"] = recovery_codes_left(user)
        _record(
            "account.second_factor_passed", request=None, user=user, origin=origin, payload=payload
        )
    return device


def _second_factor_failed(user: User, origin: Origin, *, during: str) -> None:
    # Its own transaction: the failure stays recorded whatever happens next.
    _record(
        "account.second_factor_failed",
        request=None,
        user=user,
        origin=origin,
        payload={"during": during},
    )


def second_factor_reset(*, user: User, by: User | None, origin: Origin | None = None) -> int:
    """Remove the user's authenticator app and recovery codes: they enrol again at next log-in.

    `by` is the administrator (None: from the command line). Returns how many devices went.
    """
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[1].get(
            TOTPDevice._meta.label, 0
        ) + StaticDevice.objects.filter(user=user).delete()[1].get(StaticDevice._meta.label, 0)
        audit_record(
            action="account.second_factor_reset",
            role=role_of(by) if by is not None else AuditEvent.Role.SYSTEM,
            actor=by,
            actor_label="" if by is not None else "manage.py reset_second_factor",
            origin=origin,
            obj=user,
            payload={"username": user.get_username(), "devices_removed": removed},
        )
    return removed
