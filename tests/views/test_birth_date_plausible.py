"""A date of birth must be plausible (issue 12): staff could create a session for a patient
born on 0001-01-01, a date the patient could never type back. Both forms now refuse the same
dates, from 1 January 1900 up to today, with a message that says what to fix, and store
nothing (the patient's refused date is not a wrong try either)."""

import html
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from consent.models import AuditEvent, ConsentSession
from tests.factories import consent_session, issue_link, logged_in, mitraclip_version, physician

pytestmark = pytest.mark.django_db

EARLY = "The date of birth cannot be before 1 January 1900."
FUTURE = "The date of birth cannot be in the future."
NEW = "/staff/sessions/new/"


def text(response) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


def create(birth_date: str, name: str = "Paula Plausible"):
    doctor = physician()
    version = mitraclip_version()
    return logged_in(doctor).post(
        NEW,
        {
            "patient_name": name,
            "patient_birth_date": birth_date,
            "patient_record_number": "MRN-77",
            "procedure_version": version.pk,
            "physician": doctor.pk,
        },
    )


@pytest.mark.parametrize("birth_date", ["0001-01-01", "1000-06-15", "1899-12-31"])
def test_staff_form_refuses_a_birth_date_before_1900(birth_date):
    response = create(birth_date)
    assert response.status_code == 400
    page = text(response)
    assert EARLY in page
    assert "Check the year: it is written with four digits, for example 1950." in page
    # What was typed stays in the form; nothing is stored or audited.
    assert 'value="Paula Plausible"' in response.content.decode()
    assert not ConsentSession.objects.exists()
    assert not AuditEvent.objects.filter(action="session.created").exists()


def test_staff_form_refuses_tomorrow():
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = create(tomorrow.isoformat())
    assert response.status_code == 400
    assert FUTURE in text(response)
    assert not ConsentSession.objects.exists()


@pytest.mark.parametrize("birth_date", ["1900-01-01", "today"])
def test_staff_form_accepts_the_edges(birth_date):
    if birth_date == "today":
        birth_date = timezone.localdate().isoformat()
    response = create(birth_date)
    assert response.status_code == 302
    assert ConsentSession.objects.get().patient_birth_date == date.fromisoformat(birth_date)


# The patient's side: the same dates, typed in three boxes


def identity_post(session: ConsentSession, day: int, month: int, year: int):
    client = Client()
    assert client.get(issue_link(session)).status_code == 302
    return client.post("/patient/identity/", {"day": day, "month": month, "year": year})


def test_patient_form_refuses_a_date_in_the_future_and_does_not_count_a_try():
    session = consent_session()
    future = timezone.localdate() + timedelta(days=1)
    response = identity_post(session, future.day, future.month, future.year)
    assert response.status_code == 200
    assert "That date is in the future. Check the year." in text(response)
    assert session.links.get().failed_birth_date_tries == 0
    assert not AuditEvent.objects.filter(action="patient.birth_date_refused").exists()


def test_patient_form_refuses_a_year_before_1900_with_the_range_in_the_message():
    session = consent_session()
    response = identity_post(session, 31, 12, 1899)
    assert response.status_code == 200
    assert "Enter the year with four digits, for example 1950 (from 1900 to this year)." in text(
        response
    )
    assert session.links.get().failed_birth_date_tries == 0


def test_a_session_created_on_1_january_1900_can_be_opened_by_its_patient():
    """The earliest date staff may enter is one the patient can type back."""
    response = create("1900-01-01", name="Ada Early")
    assert response.status_code == 302
    session = ConsentSession.objects.get()
    confirmed = identity_post(session, 1, 1, 1900)
    assert confirmed.status_code == 302 and confirmed["Location"] == "/patient/"
