"""Staff log-in: the throttle (django-axes), the second factor (django-otp) and their audit."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from consent.models import AuditEvent
from tests.factories import (
    PASSWORD,
    auditor,
    logged_in,
    physician,
    second_factor_device,
    totp_code,
)

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
CODE = "/accounts/second-factor/"
ENROL = "/accounts/second-factor/enrol/"
WRONG = "not-the-password"


@pytest.fixture
def travel(monkeypatch):
    """Move axes' clock (when attempts are made and counted) forward by a timedelta."""
    import axes.attempts
    import axes.handlers.proxy

    real_now = timezone.now

    def to(offset: timedelta) -> None:
        monkeypatch.setattr(axes.handlers.proxy, "now", lambda: real_now() + offset)
        monkeypatch.setattr(axes.attempts, "now", lambda: real_now() + offset)

    return to


def log_in(client: Client, user: User, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": user.get_username(), "password": password}, **extra)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def text(response) -> str:
    return " ".join(response.content.decode().split())


# The throttle


def test_five_wrong_passwords_lock_the_account_at_that_address_then_the_cool_off_ends_it(
    settings, travel
):
    doctor = physician()
    client = Client()
    for _ in range(4):
        response = log_in(client, doctor, WRONG)
        assert response.status_code == 200
        assert "Please enter a correct username and password" in text(response)
    locked = log_in(client, doctor, WRONG)
    assert locked.status_code == 429
    page = text(locked)
    assert "Log-in locked for now" in page
    assert "too many wrong passwords for this account from this computer" in page
    assert "Try again after " in page and "(UTC)" in page
    attempt = AccessAttempt.objects.get()
    until = timezone.localtime(attempt.attempt_time + settings.AXES_COOLOFF_TIME)
    assert f"Try again after {until:%H:%M} (UTC)." in page

    # The right password is refused while locked, and does not push the end further.
    refused = log_in(client, doctor)
    assert refused.status_code == 429
    assert f"Try again after {until:%H:%M} (UTC)." in text(refused)
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get().attempt_time == attempt.attempt_time

    # Another address is not locked (per account AND address), nor another account here.
    assert log_in(Client(), doctor, REMOTE_ADDR="10.0.0.9").status_code == 302
    assert log_in(Client(), auditor()).status_code == 302

    travel(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))
    accepted = log_in(client, doctor)
    assert accepted.status_code == 302
    assert accepted["Location"].startswith(CODE)
    assert not AccessAttempt.objects.exists()  # a log-in resets the count


def test_the_failures_and_the_lock_out_are_audited_without_the_password():
    doctor = physician()
    client = Client()
    for _ in range(5):
        log_in(client, doctor, WRONG, HTTP_USER_AGENT="attacker/1.0")
    log_in(client, doctor)  # the right one, while locked
    failed = events("account.login_failed")
    assert [e.payload["reason"] for e in failed] == ["wrong password"] * 5 + ["locked out"]
    assert {e.payload["username"] for e in failed} == {doctor.username}
    assert all(e.actor is None and e.role == "staff" for e in failed)
    assert failed[0].address == "127.0.0.1" and failed[0].client == "attacker/1.0"
    (lock,) = events("account.locked_out")
    assert lock.payload == {"username": doctor.username, "during": "log-in", "minutes": 15}
    assert lock.seq > failed[4].seq  # after the failure that caused it
    stored = [str(e.payload) for e in AuditEvent.objects.all()]
    stored += [a.post_data + a.get_data for a in AccessAttempt.objects.all()]
    assert not any(WRONG in s or PASSWORD in s for s in stored)


def test_a_long_attempted_username_is_cut_short_and_still_counted():
    client = Client()
    for _ in range(5):
        response = client.post(LOGIN, {"username": "x" * 300, "password": WRONG})
    assert response.status_code == 429
    failed = events("account.login_failed")
    assert {e.payload["username"] for e in failed} == {"x" * 40}
    assert AccessAttempt.objects.get().username == "x" * 150


def test_log_in_and_log_out_are_audited():
    doctor = physician()
    client = Client()
    log_in(client, doctor)
    (logged,) = events("account.logged_in")
    assert logged.actor == doctor and logged.role == "physician"
    client.post("/accounts/logout/")
    (out,) = events("account.logged_out")
    assert out.actor == doctor and out.payload == {"how": "log-out"}


# The second factor


def test_a_right_password_without_the_code_opens_no_staff_page():
    doctor = physician()
    second_factor_device(doctor)
    client = Client()
    response = log_in(client, doctor)
    assert response["Location"] == f"{CODE}?next=%2Fstaff%2F"
    for url in ("/staff/", "/staff/sessions/new/", "/staff/verify/", "/accounts/password/"):
        refused = client.get(url)
        assert refused.status_code == 302, url
        assert refused["Location"].startswith(f"{CODE}?next="), url
    watcher = auditor()
    second_factor_device(watcher)
    other = Client()
    log_in(other, watcher)
    assert other.get("/audit/")["Location"] == f"{CODE}?next=/audit/"
    page = client.get(CODE)
    assert "Type the code from your authenticator app" in text(page)


def test_the_code_page_logs_in_and_goes_where_the_user_was_going():
    doctor = physician()
    second_factor_device(doctor)
    client = Client()
    log_in(client, doctor)
    response = client.post(CODE, {"code": totp_code(doctor), "next": "/staff/verify/"})
    assert response["Location"] == "/staff/verify/"
    assert client.get("/staff/verify/").status_code == 200
    (passed,) = events("account.second_factor_passed")
    assert passed.actor == doctor and passed.payload == {"method": "totp"}


def test_a_wrong_code_is_refused_with_a_message_and_audited():
    doctor = physician()
    second_factor_device(doctor)
    client = Client()
    log_in(client, doctor)
    response = client.post(CODE, {"code": "000000"})
    assert response.status_code == 200
    assert "That code is not right." in text(response)
    assert client.get("/staff/").status_code == 302
    (failed,) = events("account.second_factor_failed")
    assert failed.actor == doctor and failed.payload == {"during": "log-in"}
    # Empty or nonsense: a clear message, nothing else.
    assert "Type the code to log in." in text(client.post(CODE, {"code": " "}))
    assert "a code has 6 digits" in text(client.post(CODE, {"code": "1" * 40}))


def test_a_code_is_good_once():
    doctor = physician()
    second_factor_device(doctor)
    first, second = Client(), Client()
    log_in(first, doctor)
    log_in(second, doctor)
    device = TOTPDevice.objects.get(user=doctor)
    totp = TOTP(device.bin_key)
    code = f"{totp.token():06d}"
    assert first.post(CODE, {"code": code}).status_code == 302
    # django-otp throttles the device after a failure; the replay itself is refused.
    assert second.post(CODE, {"code": code}).status_code == 200
    assert second.get("/staff/").status_code == 302


def test_a_recovery_code_works_once():
    doctor = physician()
    second_factor_device(doctor)
    client = Client()
    log_in(client, doctor)
    enrolled = enrol(doctor)
    code = enrolled[0]
    response = client.post(CODE, {"code": code.upper()})
    assert response["Location"] == "/staff/"
    assert StaticToken.objects.filter(device__user=doctor).count() == 9
    (passed,) = events("account.second_factor_passed")
    assert passed.payload == {"method": "recovery code", "recovery_codes_left": 9}
    assert "You used a recovery code: 9 are left." in text(client.get("/staff/", follow=True))
    again = Client()
    log_in(again, doctor)
    TOTPDevice.objects.filter(user=doctor).update(throttling_failure_count=0)
    assert again.post(CODE, {"code": code}).status_code == 200
    assert again.get("/staff/").status_code == 302


def enrol(user: User) -> list[str]:
    """Enrol this user through the pages; return the recovery codes shown."""
    TOTPDevice.objects.filter(user=user).delete()
    client = Client()
    log_in(client, user)
    page = client.get(ENROL)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    shown = page.context["secret"].replace(" ", "")
    assert TOTP(device.bin_key) and shown
    response = client.post(ENROL, {"code": f"{TOTP(device.bin_key).token():06d}"})
    return list(response.context["codes"])


def test_enrolment_at_first_log_in_shows_the_secret_and_ten_recovery_codes_once():
    doctor = physician()
    client = Client()
    response = log_in(client, doctor)
    response = client.get(response["Location"])
    assert response["Location"] == f"{ENROL}?next=%2Fstaff%2F"
    page = client.get(response["Location"])
    html = text(page)
    assert "Set up your second factor" in html
    assert "<svg" in html  # the QR code, drawn inline
    device = TOTPDevice.objects.get(user=doctor)
    assert not device.confirmed
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    assert page.context["secret"].replace(" ", "") == secret
    assert f"secret={secret}" in device.config_url
    # Staff pages still refuse this log-in.
    assert client.get("/staff/")["Location"].startswith(CODE)
    # A wrong confirmation code: a message, nothing enrolled.
    wrong = client.post(ENROL, {"code": "000000", "next": "/staff/"})
    assert "That code is not right." in text(wrong)
    assert not TOTPDevice.objects.get(user=doctor).confirmed
    TOTPDevice.objects.filter(user=doctor).update(throttling_failure_count=0)

    done = client.post(ENROL, {"code": f"{TOTP(device.bin_key).token():06d}", "next": "/staff/"})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == len(set(codes)) == 10
    assert all(code in text(done) for code in codes)
    assert "shown only this once" in text(done)
    assert client.get("/staff/").status_code == 200
    # Never shown again: the enrolment page now sends to the code page.
    assert client.get(ENROL)["Location"].startswith(CODE)
    (enrolled,) = events("account.second_factor_enrolled")
    assert enrolled.actor == doctor
    assert enrolled.payload == {"device": "totp", "recovery_codes": 10}
    assert not any(code in str(e.payload) for e in AuditEvent.objects.all() for code in codes)


def test_the_reset_command_removes_the_factor_and_is_audited():
    doctor = physician()
    admin = User.objects.create_superuser(username="root", password=PASSWORD)
    enrol(doctor)
    call_command("reset_second_factor", doctor.username, "--by", "root")
    assert not TOTPDevice.objects.filter(user=doctor).exists()
    assert not StaticToken.objects.filter(device__user=doctor).exists()
    (reset,) = events("account.second_factor_reset")
    assert reset.actor == admin and reset.object_id == str(doctor.pk)
    assert reset.payload == {"username": doctor.username, "devices_removed": 2}
    # At the next log-in the user enrols again.
    client = Client()
    log_in(client, doctor)
    assert client.get(CODE)["Location"].startswith(ENROL)


def test_the_reset_command_refuses_an_unknown_account():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match='No account "nobody"'):
        call_command("reset_second_factor", "nobody")
    assert not events("account.second_factor_reset")


def test_the_admin_needs_the_second_factor_too():
    admin = User.objects.create_superuser(username="root", password=PASSWORD)
    client = Client()
    client.force_login(admin)
    assert client.get("/admin/").status_code == 302
    assert logged_in(admin).get("/admin/").status_code == 200


def test_the_test_helper_marks_the_session_verified():
    doctor = physician()
    assert logged_in(doctor).get("/staff/").status_code == 200
