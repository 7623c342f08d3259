"""A physician creates a consent session in a real browser and hands the link to a patient."""

import re

import pytest
from playwright.sync_api import expect

from consent.models import ConsentSession
from tests.browser.steps import enter_second_factor
from tests.factories import PASSWORD, mitraclip_version, physician, second_factor_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_physician_logs_in_creates_a_session_and_the_patient_opens_its_link(
    live_server, new_context, screenshot
):
    doctor = physician()
    mitraclip_version()
    staff = new_context().new_page()
    staff.goto(live_server.url + "/staff/")
    staff.get_by_label("Username").fill(doctor.username)
    staff.get_by_label("Password").fill(PASSWORD)
    second_factor_device(doctor)  # enrolled already (tests/browser/test_staff_log_in.py enrols)
    staff.get_by_role("button", name="Log in").click()
    enter_second_factor(staff, doctor)
    expect(staff.get_by_role("heading", name="Consent sessions")).to_be_visible()

    staff.get_by_role("link", name="New consent session").click()
    staff.get_by_label("Patient's full name").fill("Louise Browser")
    staff.get_by_label("Date of birth").fill("1951-04-09")
    staff.get_by_label("Record number").fill("MRN-77")
    screenshot(staff, "staff-create")
    staff.get_by_role("button", name="Create consent session").click()
    expect(staff.get_by_role("heading", name="Louise Browser")).to_be_visible()
    screenshot(staff, "staff-detail")
    link = staff.locator(".patient-link a").get_attribute("href")
    assert re.search(r"/link/[A-Za-z0-9_-]{43}/$", link)
    session = ConsentSession.objects.get(patient_name="Louise Browser")
    assert session.physician == doctor

    patient = new_context().new_page()
    patient.goto(link)
    patient.wait_for_url(re.compile(r"/patient/identity/$"))
    patient.get_by_label("Day").fill("9")
    patient.get_by_label("Month").fill("4")
    patient.get_by_label("Year").fill("1951")
    patient.get_by_role("button", name="Continue").click()
    expect(patient.get_by_role("link", name="Start reading")).to_be_visible()

    staff.reload()
    expect(staff.locator(".session-status")).to_have_text("Patient reviewing")
    # The link is shown once: a reload no longer carries it.
    expect(staff.locator(".patient-link")).to_have_count(0)
