"""Every page says its language: a patient's pages their consent session's, staff and auditor
pages the institution's, and patient-language text on a staff page marked as such."""

import re

import pytest
from django.test import Client

from tests.factories import (
    FRENCH_PROMPT,
    FRENCH_SECTION_TITLE,
    FRENCH_TITLE,
    auditor,
    consent_session,
    issue_link,
    logged_in,
    patient_client,
    ready_session,
    translated_version,
)

pytestmark = pytest.mark.django_db

# Browsers that ask for French: they must not move a staff page out of the institution's
# language, nor a patient's page out of their session's.
ASKS_FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}
ASKS_ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}


@pytest.fixture(autouse=True)
def _two_languages(settings):
    settings.LANGUAGES = [("en", "English"), ("fr", "French")]


def page_language(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "the page has no <html lang>"
    return match.group(1)


@pytest.fixture
def french_session():
    return consent_session(version=translated_version())


def test_a_french_sessions_patient_pages_are_french_whatever_the_browser_asks(french_session):
    client = Client(**ASKS_ENGLISH)
    response = client.get(issue_link(french_session), follow=True)
    assert response.redirect_chain[-1][0] == "/patient/identity/"
    assert page_language(response) == "fr"
    patient = patient_client(french_session, client)
    for path in ("/patient/start/", "/patient/section/1/", "/patient/section/2/"):
        response = patient.get(path)
        assert response.status_code == 200, path
        assert page_language(response) == "fr", path
        assert response["Content-Language"] == "fr"
    assert FRENCH_SECTION_TITLE in patient.get("/patient/section/1/").content.decode()


def test_save_and_leave_says_goodbye_in_the_patients_language(french_session):
    patient = patient_client(french_session)
    response = patient.post("/patient/leave/")
    assert page_language(response) == "fr"
    assert response["Content-Language"] == "fr"


def test_an_english_sessions_patient_pages_are_english_in_a_french_browser():
    patient = patient_client(consent_session(), Client(**ASKS_FRENCH))
    assert page_language(patient.get("/patient/start/")) == "en"
    assert page_language(patient.get("/patient/section/2/")) == "en"


def test_a_made_up_link_is_answered_in_the_institutions_language():
    response = Client(**ASKS_FRENCH).get("/link/not-a-real-token/")
    assert response.status_code == 404
    assert page_language(response) == "en"


def test_staff_pages_are_in_the_institutions_language_in_a_french_browser(french_session):
    staff = logged_in(french_session.physician)
    staff.defaults.update(ASKS_FRENCH)
    for path in (
        "/staff/",
        "/staff/sessions/new/",
        f"/staff/sessions/{french_session.public_id}/",
    ):
        response = staff.get(path)
        assert response.status_code == 200, path
        assert page_language(response) == "en", path
        assert response["Content-Language"] == "en"
    assert page_language(Client(**ASKS_FRENCH).get("/accounts/login/")) == "en"


def test_auditor_pages_are_in_the_institutions_language_in_a_french_browser(french_session):
    client = logged_in(auditor())
    client.defaults.update(ASKS_FRENCH)
    for path in ("/audit/", "/audit/analytics/", f"/audit/sessions/{french_session.public_id}/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert page_language(response) == "en", path


def test_a_patients_browser_reads_the_staff_log_in_page_in_the_institutions_language(
    french_session,
):
    client = patient_client(french_session)
    assert page_language(client.get("/patient/start/")) == "fr"
    assert page_language(client.get("/accounts/login/")) == "en"


def test_the_review_page_marks_the_patients_french_text_as_french():
    session = ready_session(version=translated_version())
    response = logged_in(session.physician).get(f"/staff/sessions/{session.public_id}/review/")
    body = response.content.decode()
    assert page_language(response) == "en"
    assert f'<span lang="fr">{FRENCH_TITLE}</span>' in body
    assert f'<span lang="fr">{FRENCH_PROMPT}</span>' in body
    assert f'<span lang="fr">{FRENCH_SECTION_TITLE}</span>' in body
    # The staff labels around them stay unmarked, in the page's own language.
    assert re.search(r"<h2[^>]*>Every question and attempt</h2>", body)
    assert 'lang="fr" class="attempt-answer"' in body
    # The choices shown to the patient in French, the staff's note on them in English.
    assert re.search(r'<li lang="fr"[^>]*>[^<]+ <span class="badge[^"]*" lang="en">chosen', body)


def test_auditor_pages_mark_the_french_text_they_show():
    session = ready_session(version=translated_version())
    client = logged_in(auditor())
    analytics = client.get("/audit/analytics/", {"version": session.procedure_version.pk})
    body = analytics.content.decode()
    assert page_language(analytics) == "en"
    assert f'<span lang="fr">{FRENCH_TITLE}</span>' in body
    assert f'<span class="analytics-prompt" lang="fr">{FRENCH_PROMPT}</span>' in body
    detail = client.get(f"/audit/sessions/{session.public_id}/").content.decode()
    assert f'<span lang="fr">{FRENCH_TITLE}</span>' in detail
