"""Staff see that a procedure text is not clinically reviewed (dashboard rows, session page,
review page, session form); with DEBUG off the form offers only reviewed texts unless
CONSENT_ALLOW_UNREVIEWED_CONTENT allows them."""

import pytest

from consent.models import ConsentSession
from tests.factories import consent_session, logged_in, mitraclip_version, physician, ready_session
from tests.services.test_content_review import reviewed_version

pytestmark = pytest.mark.django_db

NOTICE = "Not clinically reviewed: for demonstration only"
NEW = "/staff/sessions/new/"


def form_data(version, doctor) -> dict[str, object]:
    return {
        "patient_name": "Paula Keep",
        "patient_birth_date": "1950-06-01",
        "patient_record_number": "MRN-9",
        "procedure_version": version.pk,
        "physician": doctor.pk,
    }


@pytest.fixture
def strict(settings):
    settings.DEBUG = False
    settings.CONSENT_ALLOW_UNREVIEWED_CONTENT = False
    return settings


def option_values(body: str) -> list[str]:
    select = body.split('name="procedure_version"')[1].split("</select>")[0]
    return [part.split('"')[0] for part in select.split('<option value="')[1:]]


def test_with_debug_off_the_form_offers_only_reviewed_texts_and_refuses_another(strict):
    doctor = physician()
    unreviewed, reviewed = mitraclip_version(), reviewed_version()
    client = logged_in(doctor)
    body = client.get(NEW).content.decode()
    assert option_values(body) == ["", str(reviewed.pk)]
    assert "Only clinically reviewed procedure texts can be used here" in body

    response = client.post(NEW, form_data(unreviewed, doctor))
    body = response.content.decode()
    assert response.status_code == 400
    assert "Select a valid choice" in body
    assert 'value="Paula Keep"' in body  # nothing typed is lost
    assert not ConsentSession.objects.exists()

    response = client.post(NEW, form_data(reviewed, doctor))
    assert response.status_code == 302
    assert ConsentSession.objects.get().procedure_version == reviewed


@pytest.mark.parametrize("allow", ["debug", "setting"])
def test_where_unreviewed_texts_are_allowed_the_form_marks_them_and_creates(strict, allow):
    if allow == "debug":
        strict.DEBUG = True
    else:
        strict.CONSENT_ALLOW_UNREVIEWED_CONTENT = True
    doctor = physician()
    unreviewed, reviewed = mitraclip_version(), reviewed_version()
    client = logged_in(doctor)
    body = client.get(NEW).content.decode()
    assert sorted(option_values(body)) == sorted(["", str(unreviewed.pk), str(reviewed.pk)])
    assert f"{unreviewed}: not clinically reviewed, for demonstration only</option>" in body
    assert f"{reviewed}</option>" in body

    response = client.post(NEW, form_data(unreviewed, doctor))
    assert response.status_code == 302
    assert ConsentSession.objects.get().procedure_version == unreviewed


def test_the_service_refusal_is_shown_on_the_form_and_nothing_is_made(strict, monkeypatch):
    """Should the form ever offer an unreviewed text (a stale list), the service still refuses."""
    from consent.forms import staff as staff_forms
    from consent.models import ProcedureVersion

    monkeypatch.setattr(staff_forms, "procedure_sources_offered", ProcedureVersion.objects.all)
    doctor = physician()
    version = mitraclip_version()
    response = logged_in(doctor).post(NEW, form_data(version, doctor))
    body = response.content.decode()
    assert response.status_code == 400
    assert "has not been clinically reviewed" in body
    assert 'value="Paula Keep"' in body
    assert not ConsentSession.objects.exists()


def test_dashboard_session_page_and_review_page_say_a_text_is_not_reviewed():
    session = ready_session()
    client = logged_in(session.physician)
    for url in (
        "/staff/",
        f"/staff/sessions/{session.public_id}/",
        f"/staff/sessions/{session.public_id}/review/",
    ):
        assert NOTICE in client.get(url).content.decode(), url


def test_a_reviewed_text_carries_no_notice():
    doctor = physician()
    session = consent_session(version=reviewed_version(), doctor=doctor)
    client = logged_in(doctor)
    for url in (
        "/staff/",
        f"/staff/sessions/{session.public_id}/",
        f"/staff/sessions/{session.public_id}/review/",
    ):
        assert NOTICE not in client.get(url).content.decode(), url
