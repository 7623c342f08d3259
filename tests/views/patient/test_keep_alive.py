"""The decision page's keep-alive (issue 12): while the patient types or draws, the page
posts to /patient/keep-alive/ now and then, so the idle time-out does not end the session
under their hands; without it the time-out still ends an idle session, and a decision sent
after the time-out gets the plain page and stores nothing.

The browser side (only real input pings, never an idle screen) is tests/browser/
test_decision_keep_alive.py; here the endpoint through the test client, with a travelling
clock (`consent.clock.using`).
"""

import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.forms.models import model_to_dict
from django.test import Client

from consent import clock
from consent.models import AuditEvent, ConsentSession, Signature
from consent.views.access import SESSION_IDENTIFIED, SESSION_LINK
from tests.factories import (
    IDLE_PAGE,
    StandingClock,
    attested_session,
    auditor,
    issue_link,
    logged_in,
    patient_client,
    physician,
)

pytestmark = pytest.mark.django_db

PING = "/patient/keep-alive/"
DECISION = "/patient/decision/"
DECLINE = "/patient/decision/decline/"
NAME = "Jeanne Testpatient"


@pytest.fixture
def travel():
    with clock.using(StandingClock()) as travelling:
        yield travelling


@pytest.fixture
def session() -> ConsentSession:
    return attested_session()


@pytest.fixture
def patient(session) -> Client:
    return patient_client(session)


def text(response) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


def is_idle_page(response) -> bool:
    body = text(response)
    return response.status_code == 200 and all(part in body for part in IDLE_PAGE)


def test_a_ping_answers_204_with_nothing_and_writes_nothing(session, patient):
    assert patient.get(DECISION).status_code == 200
    events = AuditEvent.objects.count()
    signatures = Signature.objects.filter(session=session).count()
    before = model_to_dict(ConsentSession.objects.get(pk=session.pk))

    response = patient.post(PING)

    assert response.status_code == 204
    assert response.content == b""
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.count() == events
    assert model_to_dict(ConsentSession.objects.get(pk=session.pk)) == before
    assert Signature.objects.filter(session=session).count() == signatures


def test_pings_keep_a_busy_patient_past_the_time_out(travel, patient, settings):
    assert timedelta(minutes=20) == settings.PATIENT_IDLE_TIMEOUT
    assert patient.get(DECISION).status_code == 200
    # Forty minutes of signing, with a ping every fifteen: the page still answers.
    for _ in range(3):
        travel.wait(minutes=15)
        assert patient.post(PING).status_code == 204
    travel.wait(minutes=15)
    response = patient.get(DECISION)
    assert response.status_code == 200 and not is_idle_page(response)


def test_without_pings_the_time_out_still_ends_the_session(travel, patient):
    assert patient.get(DECISION).status_code == 200
    travel.wait(minutes=20, seconds=1)
    assert is_idle_page(patient.get(DECISION))


def test_a_ping_after_the_time_out_does_not_bring_the_session_back(travel, patient):
    assert patient.get(DECISION).status_code == 200
    travel.wait(minutes=21)
    # 410, and the page opens itself again: that request gets the plain page.
    assert patient.post(PING).status_code == 410
    travel.wait(seconds=5)
    assert patient.post(PING).status_code == 410
    assert is_idle_page(patient.get(DECISION))
    stored = patient.session
    assert SESSION_LINK not in stored and SESSION_IDENTIFIED not in stored
    assert patient.post(PING).status_code == 404


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (DECISION, {"statements": ["0", "1", "2"], "typed_name": NAME, "signature": ""}),
        (DECLINE, {"typed_name": NAME, "reason": "", "signature": ""}),
    ],
)
def test_a_decision_sent_after_the_time_out_gets_the_plain_page_and_stores_nothing(
    travel, session, patient, path, data
):
    assert patient.get(path).status_code == 200
    events = AuditEvent.objects.count()
    signed = list(Signature.objects.filter(session=session).values_list("kind", flat=True))
    assert signed == [Signature.Kind.ATTESTATION]
    travel.wait(minutes=20, seconds=1)

    response = patient.post(path, data)

    assert is_idle_page(response)
    assert "no-store" in response["Cache-Control"]
    assert NAME not in text(response)
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.ATTESTED
    assert list(Signature.objects.filter(session=session).values_list("kind", flat=True)) == signed
    assert AuditEvent.objects.count() == events
    # The same decision, sent again in the ended session, still stores nothing.
    assert patient.post(path, data).status_code == 404
    assert Signature.objects.filter(session=session).count() == 1


# Who may ping


def test_only_an_identified_patient_gets_a_204(session):
    anonymous = Client()
    assert anonymous.post(PING).status_code == 404

    opened_only = Client()
    assert opened_only.get(issue_link(session)).status_code == 302
    response = opened_only.post(PING)
    assert response.status_code == 302 and response["Location"] == "/patient/identity/"

    staff_roles: dict[str, User] = {
        "physician": session.physician,
        "other_physician": physician(username="dr.other"),
        "auditor": auditor(),
    }
    for role, user in staff_roles.items():
        response = logged_in(user).post(PING)
        assert response.status_code == 404, role
        assert "This link cannot be opened" in text(response), role

    assert patient_client(session).post(PING).status_code == 204


def test_a_ping_is_a_post_with_the_csrf_token(session):
    patient = patient_client(session)
    patient.handler.enforce_csrf_checks = True
    assert patient.get(PING).status_code == 405
    assert patient.post(PING).status_code == 403
    page = patient.get(DECISION).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert patient.post(PING, HTTP_X_CSRFTOKEN=token).status_code == 204


# The page


@pytest.mark.parametrize(
    ("minutes", "interval_ms"), [(20, 300_000), (60, 300_000), (8, 120_000), (1, 15_000)]
)
def test_the_decision_pages_load_the_script_with_its_interval(
    session, patient, settings, minutes, interval_ms
):
    settings.PATIENT_IDLE_TIMEOUT = timedelta(minutes=minutes)
    page = patient.get(DECISION).content.decode()
    assert f'data-keep-alive-url="{PING}"' in page
    assert f'data-keep-alive-interval="{interval_ms}"' in page
    assert 'data-keep-alive-url="' in patient.get(DECLINE).content.decode()


def test_the_page_has_no_inline_script_under_its_content_security_policy(patient):
    response = patient.get(DECISION)
    assert "script-src 'self'" in response["Content-Security-Policy"]
    scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert scripts and all(" src=" in tag for tag in scripts)
    assert any("consent/keep-alive" in tag for tag in scripts)


def test_the_staff_review_page_does_not_keep_anything_alive(session):
    review = logged_in(session.physician).get(f"/staff/sessions/{session.public_id}/review/")
    assert review.status_code == 200
    assert "data-keep-alive-url" not in review.content.decode()
