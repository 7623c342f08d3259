"""Every patient page of a session on a text without a clinical review says so plainly."""

import pytest

from tests.factories import consent_session, patient_client, physician
from tests.services.test_content_review import reviewed_version

pytestmark = pytest.mark.django_db

NOTICE = "Not clinically reviewed: for demonstration only"
PAGES = [
    "/patient/start/",
    "/patient/section/1/",
    "/patient/question/1/",
    "/patient/ask/",
    "/patient/summary/",
]


def test_every_patient_page_says_the_text_is_not_clinically_reviewed():
    client = patient_client(consent_session())
    for url in PAGES:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        assert response.content.decode().count(NOTICE) == 1, url


def test_a_reviewed_text_shows_no_notice_to_the_patient():
    client = patient_client(consent_session(version=reviewed_version(), doctor=physician()))
    for url in PAGES:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        assert NOTICE not in response.content.decode(), url


def test_pages_before_the_patient_is_identified_say_nothing_about_the_session():
    client = patient_client(consent_session())
    client.post("/patient/leave/")
    response = client.get("/patient/start/", follow=True)
    assert NOTICE not in response.content.decode()
