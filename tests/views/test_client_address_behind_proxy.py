"""The client's address behind a TLS proxy (issue 12): one function (`client_address`) gives
the address that django-axes locks out and that the audit log records.

With TRUSTED_PROXY_COUNT = 0 (the default) X-Forwarded-For is ignored: a client can write
anything there. Behind N proxies the client is the N-th entry from the right, never the
left-most, which the client controls. The addresses below are documentation ranges
(RFC 5737): PROXY is the proxy that speaks to the application.
"""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client, RequestFactory

from consent.audit.events import Origin, client_address
from consent.models import AuditEvent, ConsentSession, Signature
from tests.factories import PASSWORD, consent_session, issue_link, logged_in, physician

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
WRONG = "not-the-password"
PROXY = "10.0.0.1"
ALICE = "203.0.113.5"
BOB = "198.51.100.7"


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def log_in(client: Client, user: User, password: str, *, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": PROXY}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(LOGIN, {"username": user.get_username(), "password": password}, **headers)


# The one function


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        # No trust: the header is the client's own words.
        (0, "192.0.2.9", None, "192.0.2.9"),
        (0, "192.0.2.9", "203.0.113.5", "192.0.2.9"),
        (0, "192.0.2.9", "203.0.113.5, 198.51.100.7", "192.0.2.9"),
        # One proxy: it appended the address that reached it, the right-most entry.
        (1, PROXY, "203.0.113.5", "203.0.113.5"),
        (1, PROXY, "1.1.1.1, 203.0.113.5", "203.0.113.5"),
        (1, PROXY, "1.1.1.1, 8.8.8.8, 203.0.113.5", "203.0.113.5"),
        (1, PROXY, "not-an-address, 203.0.113.5", "203.0.113.5"),
        (1, PROXY, "203.0.113.5:52100", "203.0.113.5"),
        (1, PROXY, "2001:db8::5", "2001:db8::5"),
        (1, PROXY, "1.1.1.1, [2001:db8::5]:443", "2001:db8::5"),
        # Two proxies (a load balancer, then nginx): the second entry from the right.
        (2, PROXY, "1.1.1.1, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, PROXY, "203.0.113.5, 10.0.0.2", "203.0.113.5"),
        # Nothing the proxies vouch for: the proxy itself, never a client's word.
        (1, PROXY, None, PROXY),
        (1, PROXY, "", PROXY),
        (1, PROXY, "garbage", PROXY),
        (1, PROXY, '"1.1.1.1, 203.0.113.5', PROXY),
        (2, PROXY, "203.0.113.5", PROXY),
    ],
)
def test_client_address(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = request_from(remote, forwarded)
    assert client_address(request) == expected
    assert Origin.of(request).ip == expected


def test_axes_and_the_audit_ask_the_same_function(settings):
    from axes.helpers import get_client_ip_address

    settings.TRUSTED_PROXY_COUNT = 1
    request = request_from(PROXY, "1.1.1.1, 203.0.113.5")
    assert get_client_ip_address(request) == ALICE == Origin.of(request).ip


def test_the_setting_comes_from_the_environment_and_defaults_to_no_trust(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import consent_site.settings as site_settings

    try:
        monkeypatch.setenv("TRUSTED_PROXY_COUNT", "2")
        assert importlib.reload(site_settings).TRUSTED_PROXY_COUNT == 2
        monkeypatch.setenv("TRUSTED_PROXY_COUNT", "-1")
        with pytest.raises(ImproperlyConfigured, match="0 or more"):
            importlib.reload(site_settings)
        monkeypatch.delenv("TRUSTED_PROXY_COUNT")
        assert importlib.reload(site_settings).TRUSTED_PROXY_COUNT == 0
    finally:
        monkeypatch.delenv("TRUSTED_PROXY_COUNT", raising=False)
        importlib.reload(site_settings)


# Attack: no proxy trusted, a client writes X-Forwarded-For


def test_without_trust_a_forged_header_changes_neither_the_lock_out_nor_the_audit(settings):
    assert settings.TRUSTED_PROXY_COUNT == 0
    doctor = physician()
    attacker = Client()
    for n in range(5):
        log_in(attacker, doctor, WRONG, forwarded=f"192.0.2.{n + 1}")
    # Locked at the one address the application sees, whatever the header said.
    refused = log_in(attacker, doctor, PASSWORD, forwarded="192.0.2.77")
    assert refused.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {PROXY}
    failed = AuditEvent.objects.filter(action="account.login_failed")
    assert failed.count() == 6
    assert set(failed.values_list("address", flat=True)) == {PROXY}


# Behind one proxy


def test_two_clients_behind_one_proxy_do_not_lock_each_other_out(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    doctor = physician()
    alice = Client()
    for _ in range(5):
        log_in(alice, doctor, WRONG, forwarded=ALICE)
    assert log_in(alice, doctor, PASSWORD, forwarded=ALICE).status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [ALICE]

    # Bob comes through the same proxy: his log-in goes on to the second factor.
    bob = log_in(Client(), doctor, PASSWORD, forwarded=BOB)
    assert bob.status_code == 302
    assert bob["Location"].startswith("/accounts/second-factor/")


def test_a_forged_left_most_entry_does_not_escape_the_lock_out(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    doctor = physician()
    attacker = Client()
    for n in range(5):
        log_in(attacker, doctor, WRONG, forwarded=f"192.0.2.{n + 1}, {ALICE}")
    # A new made-up address each time, even the right password: still locked, as ALICE.
    for n in range(3):
        response = log_in(attacker, doctor, PASSWORD, forwarded=f"192.0.2.{n + 50}, {ALICE}")
        assert response.status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [ALICE]
    # A header that hides the real entry inside a quote falls back to the proxy's address:
    # that too is counted and locks, it is never the client's choice.
    for _ in range(5):
        log_in(attacker, doctor, WRONG, forwarded=f'"192.0.2.99, {ALICE}')
    assert log_in(attacker, doctor, PASSWORD, forwarded=f'"192.0.2.98, {ALICE}').status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ALICE, PROXY}


def test_the_audit_records_the_clients_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    session = consent_session()
    doctor = session.physician
    log_in(Client(), doctor, WRONG, forwarded=f"192.0.2.1, {ALICE}")
    log_in(Client(), doctor, PASSWORD, forwarded=BOB)
    (failed,) = AuditEvent.objects.filter(action="account.login_failed")
    (logged,) = AuditEvent.objects.filter(action="account.logged_in")
    assert (failed.address, logged.address) == (ALICE, BOB)

    # A patient's action, through the same function.
    patient = Client()
    patient.get(issue_link(session), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"1.1.1.1, {BOB}")
    (opened,) = AuditEvent.objects.filter(action="link.opened")
    assert opened.address == BOB


def test_a_lock_out_on_the_log_in_page_refuses_signing_from_that_client_only(settings):
    """The password re-entry (attest) is counted under the same client address as the log-in
    page, behind the proxy too."""
    from tests.factories import reviewed_session

    settings.TRUSTED_PROXY_COUNT = 1
    session: ConsentSession = reviewed_session()
    doctor = session.physician
    for _ in range(5):
        log_in(Client(), doctor, WRONG, forwarded=ALICE)
    staff = logged_in(doctor)
    attest = f"/staff/sessions/{session.public_id}/attest/"
    refused = staff.post(
        attest,
        {"attest-password": PASSWORD},
        follow=True,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=ALICE,
    )
    assert "locked on this computer" in " ".join(refused.content.decode().split())
    assert not Signature.objects.exists()
    signed = staff.post(
        attest, {"attest-password": PASSWORD}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=BOB
    )
    assert signed.status_code == 302
    assert Signature.objects.count() == 1
    assert AuditEvent.objects.get(action="session.attested").address == BOB
