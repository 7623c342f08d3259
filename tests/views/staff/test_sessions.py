"""The plain staff page: who may see and change what, creating sessions, managing links."""

import pytest
from django.test import Client

from consent.models import AuditEvent, ConsentSession, PatientLink
from tests.factories import (
    PASSWORD,
    auditor,
    consent_session,
    issue_link,
    logged_in,
    mitraclip_version,
    patient_client,
    physician,
    second_factor_device,
    totp_code,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def session():
    return consent_session(doctor=physician(username="dr.own"))


def clients(session):
    """Every role a request can come from, with the status each page must give it."""
    return {
        "anonymous": Client(),
        "patient": patient_client(session),
        "other_physician": logged_in(physician(username="dr.other")),
        "physician": logged_in(session.physician),
        "auditor": logged_in(auditor()),
    }


def detail(session, suffix=""):
    return f"/staff/sessions/{session.public_id}/{suffix}"


# role -> expected status; 302 to the log-in page for anyone not logged in.
READ_ACCESS = {
    "anonymous": 302,
    "patient": 302,
    "other_physician": 404,
    "physician": 200,
    "auditor": 200,
}
WRITE_ACCESS = {
    "anonymous": 302,
    "patient": 302,
    "other_physician": 404,
    "physician": 302,
    "auditor": 403,
}


def test_session_list_access_for_each_role(session):
    expected = {
        "anonymous": 302,
        "patient": 302,
        "other_physician": 200,
        "physician": 200,
        "auditor": 200,
    }
    for role, client in clients(session).items():
        response = client.get("/staff/")
        assert response.status_code == expected[role], role
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")


def test_session_list_shows_a_physician_only_their_own_sessions(session):
    other = logged_in(physician(username="dr.other")).get("/staff/")
    assert other.status_code == 200
    # The other physician's dashboard, only without this session.
    assert ">Consent sessions</h1>" in other.content.decode()
    assert session.patient_name not in other.content.decode()
    assert session.patient_name in logged_in(session.physician).get("/staff/").content.decode()
    assert session.patient_name in logged_in(auditor()).get("/staff/").content.decode()


def test_session_detail_access_for_each_role(session):
    for role, client in clients(session).items():
        assert client.get(detail(session)).status_code == READ_ACCESS[role], role


def test_unknown_session_is_404_just_like_another_physicians(session):
    client = logged_in(session.physician)
    assert client.get("/staff/sessions/00000000-0000-0000-0000-000000000000/").status_code == 404


@pytest.mark.parametrize("action", ["link/", "link/revoke/", "cancel/"])
def test_changing_actions_access_for_each_role(session, action):
    # The responsible physician goes last: the others must have changed nothing before.
    for role, client in sorted(clients(session).items(), key=lambda item: item[0] == "physician"):
        response = client.post(detail(session, action), {"reason": "Patient changed hospital"})
        assert response.status_code == WRITE_ACCESS[role], (role, action)
        session.refresh_from_db()
        if role != "physician":
            assert session.status != ConsentSession.Status.CANCELLED


def test_create_page_access_for_each_role(session):
    expected = {
        "anonymous": 302,
        "patient": 302,
        "other_physician": 200,
        "physician": 200,
        "auditor": 403,
    }
    for role, client in clients(session).items():
        assert client.get("/staff/sessions/new/").status_code == expected[role], role


def test_physician_creates_a_session_and_sees_the_patient_link_once():
    doctor = physician()
    version = mitraclip_version()
    client = logged_in(doctor)
    response = client.post(
        "/staff/sessions/new/",
        {
            "patient_name": "Paul Nouveau",
            "patient_birth_date": "1950-06-01",
            "patient_record_number": "MRN-9",
            "procedure_version": version.pk,
            "physician": doctor.pk,
        },
    )
    created = ConsentSession.objects.get(patient_name="Paul Nouveau")
    assert response["Location"] == detail(created)
    assert created.procedure_version == version
    assert created.max_reteach == 2
    page = client.get(detail(created)).content.decode()
    assert "http://testserver/link/" in page
    token = page.split("http://testserver/link/")[1].split("/")[0]
    assert Client().get(f"/link/{token}/").status_code == 302
    assert "http://testserver/link/" not in client.get(detail(created)).content.decode()
    assert AuditEvent.objects.filter(session=created, action="session.created").count() == 1


def test_create_form_with_bad_input_keeps_what_was_typed_and_says_what_is_wrong():
    doctor = physician()
    mitraclip_version()
    client = logged_in(doctor)
    response = client.post(
        "/staff/sessions/new/",
        {"patient_name": "Paula Keep", "patient_birth_date": "2999-01-01", "physician": doctor.pk},
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "The date of birth cannot be in the future." in body
    assert "This field is required." in body
    assert 'value="Paula Keep"' in body
    assert not ConsentSession.objects.filter(patient_name="Paula Keep").exists()


def test_reissuing_a_link_revokes_the_earlier_one(session):
    client = logged_in(session.physician)
    client.post(detail(session, "link/"))
    client.post(detail(session, "link/"))
    links = PatientLink.objects.filter(session=session)
    assert links.count() == 2
    assert links.filter(revoked_at__isnull=True).count() == 1


def test_revoke_stops_every_link(session):
    client = logged_in(session.physician)
    client.post(detail(session, "link/"))
    client.post(detail(session, "link/revoke/"))
    assert not PatientLink.objects.filter(session=session, revoked_at__isnull=True).exists()


def test_cancel_needs_a_reason_and_then_closes_the_patient_link(session):
    patient = patient_client(session)
    client = logged_in(session.physician)
    response = client.post(detail(session, "cancel/"), {"reason": ""}, follow=True)
    assert "Give a reason for cancelling." in response.content.decode()
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.REVIEWING
    client.post(detail(session, "cancel/"), {"reason": "Procedure postponed"})
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.CANCELLED
    assert session.cancel_reason == "Procedure postponed"
    assert patient.get("/patient/").status_code == 404


def test_log_in_and_log_out(session):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": session.physician.username, "password": PASSWORD}
    )
    # The password leads on to the second factor (tests/views/test_auth.py), then the dashboard.
    assert response["Location"] == "/accounts/second-factor/?next=%2Fstaff%2F"
    second_factor_device(session.physician)
    response = client.post(response["Location"], {"code": totp_code(session.physician)})
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/staff/").status_code == 302


def test_opening_a_patient_link_logs_staff_out_of_that_browser(session):
    client = logged_in(session.physician)
    client.get(issue_link(session))
    assert client.get("/staff/").status_code == 302
