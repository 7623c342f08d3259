"""Password re-entries for signing count toward the log-in's lock-out (django-axes), and the
other way round: one counter, one limit, one cool-off."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from consent.audit.events import Origin
from consent.lifecycle import Status
from consent.models import AuditEvent, Signature
from consent.services import ServiceError
from consent.services import signatures as signature_services
from tests.factories import PASSWORD, reviewed_session

pytestmark = pytest.mark.django_db

HERE = Origin(ip="10.1.2.3", user_agent="ward-pc")
LOCKED = "Too many wrong passwords: this account is locked on this computer until"


@pytest.fixture
def travel(monkeypatch):
    import axes.attempts
    import axes.handlers.proxy

    real_now = timezone.now

    def to(offset: timedelta) -> None:
        monkeypatch.setattr(axes.handlers.proxy, "now", lambda: real_now() + offset)
        monkeypatch.setattr(axes.attempts, "now", lambda: real_now() + offset)

    return to


def attest(session, password: str, origin: Origin = HERE):
    return signature_services.session_attest(
        session=session, physician=session.physician, password=password, origin=origin
    )


def test_five_wrong_re_entries_lock_signing_then_the_cool_off_ends_it(settings, travel):
    session = reviewed_session()
    for _ in range(4):
        with pytest.raises(ServiceError, match="password is not right"):
            attest(session, "nope")
    with pytest.raises(ServiceError, match=LOCKED):
        attest(session, "nope")
    # The right password is refused while locked; nothing is signed.
    with pytest.raises(ServiceError, match=LOCKED) as refused:
        attest(session, PASSWORD)
    assert "Nothing was signed." in str(refused.value)
    assert not Signature.objects.exists()
    reasons = [
        e.payload["reason"]
        for e in AuditEvent.objects.filter(action="signature.refused").order_by("seq")
    ]
    assert reasons == ["wrong password"] * 5 + ["locked out"]
    (lock,) = AuditEvent.objects.filter(action="account.locked_out")
    assert lock.actor == session.physician and lock.address == "10.1.2.3"
    assert lock.payload["during"] == "password re-entry"
    # The re-entries are not recorded twice as failed log-ins.
    assert not AuditEvent.objects.filter(action="account.login_failed").exists()
    # Another computer is not locked.
    other = Origin(ip="10.9.9.9", user_agent="ward-pc-2")
    travel(timedelta(0))
    attest(session, PASSWORD, origin=other)
    session.refresh_from_db()
    assert session.status == Status.ATTESTED


def test_after_the_cool_off_the_right_password_signs(settings, travel):
    session = reviewed_session()
    for _ in range(5):
        with pytest.raises(ServiceError):
            attest(session, "nope")
    travel(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))
    attest(session, PASSWORD)
    session.refresh_from_db()
    assert session.status == Status.ATTESTED


def test_re_entries_and_log_ins_share_one_counter():
    session = reviewed_session()
    doctor = session.physician
    local = Origin(ip="127.0.0.1", user_agent="browser")
    client = Client()
    for _ in range(3):
        client.post("/accounts/login/", {"username": doctor.username, "password": "nope"})
    for _ in range(2):
        with pytest.raises(ServiceError):
            attest(session, "nope", origin=local)
    # One row per browser, counted together per account and address.
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == 5
    # Locked for the log-in page too, at that address.
    response = client.post("/accounts/login/", {"username": doctor.username, "password": PASSWORD})
    assert response.status_code == 429
    with pytest.raises(ServiceError, match=LOCKED):
        attest(session, PASSWORD, origin=local)


def test_one_wrong_re_entry_is_refused_as_before():
    session = reviewed_session()
    with pytest.raises(ServiceError, match="password is not right"):
        attest(session, "nope")
    assert AccessAttempt.objects.get().failures_since_start == 1
    attest(session, PASSWORD)
    session.refresh_from_db()
    assert session.status == Status.ATTESTED
