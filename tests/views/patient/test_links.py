"""Patient links: opaque tokens, exchanged for a cookie, expiring, revocable, locked by bad DOBs."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from consent.logging import RedactPatientTokens
from consent.models import AuditEvent, ConsentSession, PatientLink
from consent.services.links import patient_link_issue, token_hash
from tests.factories import BIRTH_DATE, birth_date_post, consent_session, issue_link

pytestmark = pytest.mark.django_db

UNUSABLE = "This link cannot be opened"


def test_link_token_has_at_least_128_random_bits_and_only_its_hash_is_stored():
    session = consent_session()
    link, token = patient_link_issue(session=session, issued_by=session.physician)
    assert len(token) >= 22  # base64url: 6 bits a character, 128 bits = 22 characters
    assert link.token_hash == token_hash(token)
    assert token not in str(PatientLink.objects.filter(pk=link.pk).values().get())


def test_link_expires_after_fourteen_days_by_default():
    session = consent_session()
    link, _token = patient_link_issue(session=session, issued_by=session.physician)
    assert link.expires_at - link.created_at == pytest.approx(
        timedelta(days=14), abs=timedelta(seconds=5)
    )


def test_opening_link_swaps_token_for_cookie_and_redirects_to_token_free_url(client):
    path = issue_link(consent_session())
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/patient/identity/"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "sessionid" in response.cookies
    token = path.split("/")[2]
    assert token not in response["Location"]
    assert token not in str(dict(client.session))


def test_patient_must_confirm_birth_date_before_any_content(client):
    client.get(issue_link(consent_session()))
    for page in ("/patient/", "/patient/start/", "/patient/section/1/", "/patient/summary/"):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"] == "/patient/identity/"


def test_right_birth_date_starts_the_review(client):
    session = consent_session()
    client.get(issue_link(session))
    response = client.post("/patient/identity/", birth_date_post())
    assert response["Location"] == "/patient/"
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.REVIEWING
    assert AuditEvent.objects.filter(session=session, action="session.reviewing").count() == 1


def test_wrong_birth_date_says_how_many_tries_are_left(client):
    client.get(issue_link(consent_session()))
    response = client.post("/patient/identity/", birth_date_post(BIRTH_DATE.replace(day=28)))
    assert response.status_code == 200
    assert "does not match our records. You have 4 more tries" in response.content.decode()


def test_five_wrong_birth_dates_lock_the_link_even_with_the_right_date_after(client):
    session = consent_session()
    path = issue_link(session)
    client.get(path)
    wrong = birth_date_post(BIRTH_DATE.replace(year=1949))
    for _ in range(4):
        client.post("/patient/identity/", wrong)
    response = client.post("/patient/identity/", wrong)
    assert response.status_code == 404
    assert UNUSABLE in response.content.decode()
    assert PatientLink.objects.get(session=session).locked_at is not None
    assert client.post("/patient/identity/", birth_date_post()).status_code == 404
    assert client.get(path).status_code == 404
    assert AuditEvent.objects.filter(session=session, action="link.locked").count() == 1


def test_staff_reissue_unlocks_with_a_new_link_and_the_old_one_stops_working(client):
    session = consent_session()
    old_path = issue_link(session)
    PatientLink.objects.filter(session=session).update(locked_at=timezone.now())
    new_path = issue_link(session)
    assert client.get(old_path).status_code == 404
    assert client.get(new_path).status_code == 302
    assert AuditEvent.objects.filter(session=session, action="link.reissued").count() == 1


@pytest.mark.parametrize("state", ["expired", "revoked", "locked", "made-up", "cancelled"])
def test_unusable_links_all_show_one_plain_page_that_names_no_patient(client, state):
    session = consent_session(patient_name="Henriette Secretname")
    path = issue_link(session)
    links = PatientLink.objects.filter(session=session)
    if state == "expired":
        links.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif state == "revoked":
        links.update(revoked_at=timezone.now())
    elif state == "locked":
        links.update(locked_at=timezone.now())
    elif state == "cancelled":
        ConsentSession.objects.filter(pk=session.pk).update(status="cancelled")
    else:
        path = "/link/" + "A" * 43 + "/"
    response = client.get(path)
    assert response.status_code == 404
    body = response.content.decode()
    assert UNUSABLE in body
    assert "Henriette" not in body
    assert "MitraClip" not in body
    assert "sessionid" not in response.cookies


def test_revoking_a_link_ends_a_patient_session_already_in_progress(client):
    session = consent_session()
    client.get(issue_link(session))
    client.post("/patient/identity/", birth_date_post())
    assert client.get("/patient/start/").status_code == 200
    PatientLink.objects.filter(session=session).update(revoked_at=timezone.now())
    assert client.get("/patient/start/").status_code == 404


def test_link_can_be_opened_again_later_and_each_opening_is_audited(client):
    session = consent_session()
    path = issue_link(session)
    client.get(path)
    client.get(path)
    assert AuditEvent.objects.filter(session=session, action="link.opened").count() == 2


def test_patient_pages_are_not_cached(client):
    session = consent_session()
    client.get(issue_link(session))
    client.post("/patient/identity/", birth_date_post())
    response = client.get("/patient/start/")
    assert "no-store" in response["Cache-Control"]


def test_link_tokens_never_reach_the_log():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        "",
        0,
        '"%s" %s %s',
        ("GET /link/Zx9_secret-tok/ HTTP/1.1", 302, 0),
        None,
    )
    RedactPatientTokens().filter(record)
    assert record.getMessage() == '"GET /link/[redacted]/ HTTP/1.1" 302 0'


def test_runserver_log_is_wired_to_the_redacting_filter():
    handler = logging.getLogger("django.server").handlers[0]
    assert any(isinstance(f, RedactPatientTokens) for f in handler.filters)
