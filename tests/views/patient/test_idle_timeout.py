"""The patient's browser session ends after PATIENT_IDLE_TIMEOUT without a request (issue 12
item 6): a plain page says how to go on, the answers stay, and the same link carries on.

Time travels with `consent.clock.using`: the test client serves each request in the test's
own context, so the middleware and the services read the travelling clock.
"""

import html
import importlib
import uuid
from datetime import timedelta

import pytest
from django.test import Client

from consent import clock
from consent.middleware import PATIENT_LAST_ACTIVITY, SESSION_LAST_ACTIVITY
from consent.models import Attempt, ConsentSession, PatientQuestion
from consent.selectors.journey import journey_get
from consent.services.links import patient_link_issue
from consent.views.access import SESSION_IDENTIFIED, SESSION_LINK
from tests.factories import (
    IDLE_PAGE,
    StandingClock,
    birth_date_post,
    consent_session,
    logged_in,
    read_all_sections,
    right_answer,
    submit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def travel():
    with clock.using(StandingClock()) as travelling:
        yield travelling


@pytest.fixture
def session() -> ConsentSession:
    return consent_session()


def opened(session: ConsentSession, client: Client | None = None) -> tuple[Client, str]:
    """A patient browser that opened a new link and confirmed the date of birth."""
    _link, token = patient_link_issue(session=session, issued_by=session.physician)
    client = client or Client()
    return identified(client, f"/link/{token}/"), f"/link/{token}/"


def identified(client: Client, path: str) -> Client:
    assert client.get(path)["Location"] == "/patient/identity/"
    assert client.post("/patient/identity/", birth_date_post())["Location"] == "/patient/"
    return client


def text(response) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


def is_idle_page(response) -> bool:
    body = text(response)
    return response.status_code == 200 and all(part in body for part in IDLE_PAGE)


def test_just_under_the_time_out_the_patient_carries_on(travel, session, settings):
    assert timedelta(minutes=20) == settings.PATIENT_IDLE_TIMEOUT
    patient, _path = opened(session)
    travel.wait(minutes=19, seconds=59)
    response = patient.get("/patient/start/")
    assert response.status_code == 200 and not is_idle_page(response)
    # Each request starts the idle clock again: another 19:59 still carries on.
    travel.wait(minutes=19, seconds=59)
    assert patient.get("/patient/section/1/").status_code == 200


def test_just_over_the_time_out_a_plain_page_and_the_session_is_ended(travel, session):
    patient, _path = opened(session)
    patient.get("/patient/start/")
    travel.wait(minutes=20, seconds=1)

    response = patient.get("/patient/section/1/")

    assert is_idle_page(response)
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert session.patient_name not in body and "Save and leave" not in body
    stored = patient.session
    assert SESSION_LINK not in stored and SESSION_IDENTIFIED not in stored
    # Ended: the next page no longer knows this browser.
    response = patient.get("/patient/section/1/")
    assert response.status_code == 404
    assert "This link cannot be opened" in text(response)


def test_answers_are_kept_and_the_same_link_goes_on_where_the_patient_stopped(travel, session):
    patient, path = opened(session)
    read_all_sections(patient, session)
    question = journey_get(session=session).progress[0].question
    submit(patient, 1, right_answer(question))
    patient.post(
        "/patient/ask/",
        {"text": "Will I need to stay overnight?", "form_id": str(uuid.uuid4())},
    )
    attempts = list(Attempt.objects.filter(session=session).values_list("pk", flat=True))
    asked = PatientQuestion.objects.filter(session=session).count()
    session.refresh_from_db()
    place = (session.current_section, session.sections_done)

    travel.wait(hours=3)
    # A POST after the time-out (an answer to the next question) stores nothing of its own
    # and gives the same page.
    assert is_idle_page(submit(patient, 2, {"choice": "0"}))
    assert list(Attempt.objects.filter(session=session).values_list("pk", flat=True)) == attempts
    assert PatientQuestion.objects.filter(session=session).count() == asked

    # The same link, opened again in the same browser, straight to the date of birth.
    identified(patient, path)
    response = patient.get("/patient/")
    assert response.status_code == 302
    assert response["Location"] == "/patient/question/2/"
    session.refresh_from_db()
    assert (session.current_section, session.sections_done) == place
    assert patient.get("/patient/question/2/").status_code == 200


def test_a_browser_that_opened_the_link_but_not_yet_identified_times_out_too(travel, session):
    _link, token = patient_link_issue(session=session, issued_by=session.physician)
    patient = Client()
    patient.get(f"/link/{token}/")
    travel.wait(minutes=21)
    assert is_idle_page(patient.get("/patient/identity/"))
    # Opening the link again works at once, and the date of birth leads in.
    identified(patient, f"/link/{token}/")


def test_opening_the_link_after_the_time_out_is_no_detour(travel, session):
    patient, path = opened(session)
    travel.wait(hours=1)
    assert patient.get(path)["Location"] == "/patient/identity/"
    assert patient.post("/patient/identity/", birth_date_post())["Location"] == "/patient/"


def test_a_stamp_set_back_behind_the_apps_back_ends_the_session(session):
    """Attack: a session row edited to look idle; no clock at all, only the stored stamp."""
    patient, _path = opened(session)
    stored = patient.session
    stored[PATIENT_LAST_ACTIVITY] = stored[PATIENT_LAST_ACTIVITY] - 20 * 60 - 1
    stored.save()
    assert is_idle_page(patient.get("/patient/start/"))


def test_staff_sessions_follow_their_own_time_out_not_the_patients(travel, session, settings):
    settings.STAFF_IDLE_TIMEOUT = timedelta(minutes=30)
    staff = logged_in(session.physician)
    assert staff.get("/staff/").status_code == 200
    assert PATIENT_LAST_ACTIVITY not in staff.session
    travel.wait(minutes=25)
    assert staff.get("/staff/").status_code == 200
    travel.wait(minutes=30, seconds=1)
    assert staff.get("/staff/")["Location"].startswith("/accounts/login/")
    assert SESSION_LAST_ACTIVITY not in staff.session


def test_a_shorter_setting_is_obeyed(travel, session, settings):
    settings.PATIENT_IDLE_TIMEOUT = timedelta(minutes=5)
    patient, _path = opened(session)
    travel.wait(minutes=4, seconds=59)
    assert patient.get("/patient/start/").status_code == 200
    travel.wait(minutes=5, seconds=1)
    assert is_idle_page(patient.get("/patient/start/"))


def test_the_time_out_is_configured_by_the_environment(monkeypatch):
    import consent_site.settings as site_settings

    monkeypatch.setenv("PATIENT_IDLE_TIMEOUT_MINUTES", "45")
    configured = importlib.reload(site_settings).PATIENT_IDLE_TIMEOUT
    monkeypatch.delenv("PATIENT_IDLE_TIMEOUT_MINUTES")
    default = importlib.reload(site_settings).PATIENT_IDLE_TIMEOUT
    assert (configured, default) == (timedelta(minutes=45), timedelta(minutes=20))
