"""A withdrawal in a real browser: the physician withdraws a finalized consent on the review
page, the patient signing on the pad, with the physician's password; the addendum is sealed;
then an auditor opens the record's verification page and reads "Consent withdrawn on"."""

import pytest
from playwright.sync_api import expect

from consent.models import Addendum
from tests.browser.conftest import SLOW_STEP_MS
from tests.browser.steps import DESKTOP, draw_signature, staff_signed_in
from tests.browser.test_verify_record import sealed_record
from tests.factories import PASSWORD, auditor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_physician_withdraws_with_the_patient_signing_and_the_auditor_sees_it(
    live_server, new_context, screenshot
):
    record = sealed_record()
    session = record.session
    page = new_context(viewport=DESKTOP).new_page()
    staff_signed_in(page, live_server.url, session.physician.get_username())
    page.goto(f"{live_server.url}/staff/sessions/{session.public_id}/review/#addendum-form")

    form = page.locator("#addendum-form")
    form.get_by_label("Withdrawal of consent").check()
    form.get_by_label("Text of the addendum").fill("The patient withdrew their consent today.")
    form.get_by_label("Patient's full name").fill("Jeanne Testpatient")
    draw_signature(page)
    # A wrong password first: refused, nothing stored, the text kept.
    form.get_by_label("Your password").fill("not-my-password")
    form.get_by_role("button", name="Sign and add the addendum").click()
    expect(page.get_by_text("That password is not right.")).to_be_visible()
    expect(page.locator("#addendum-form textarea")).to_have_value(
        "The patient withdrew their consent today."
    )
    assert not Addendum.objects.exists()

    form = page.locator("#addendum-form")
    form.get_by_label("Patient's full name").fill("Jeanne Testpatient")
    draw_signature(page)
    form.get_by_label("Your password").fill(PASSWORD)
    form.get_by_role("button", name="Sign and add the addendum").click()
    addendum_id = f"{record.record_id}-A1"
    expect(page.get_by_text(f"The addendum {addendum_id} was added and sealed.")).to_be_visible(
        timeout=SLOW_STEP_MS
    )
    expect(page.get_by_text("Signed by the patient: Jeanne Testpatient")).to_be_visible()
    screenshot(page, "withdrawal-review")
    (addendum,) = Addendum.objects.all()
    assert addendum.patient_signature_image and addendum.pdf_sha256

    audit = new_context(viewport=DESKTOP).new_page()
    auditor_user = auditor(username="audrey")
    staff_signed_in(audit, live_server.url, auditor_user.get_username())
    audit.goto(f"{live_server.url}/staff/records/{record.record_id}/verify/", timeout=SLOW_STEP_MS)
    expect(audit.get_by_role("heading", name="Consent withdrawn on")).to_be_visible(
        timeout=SLOW_STEP_MS
    )
    expect(audit.get_by_text(f"(addendum {addendum_id})")).to_be_visible()
    screenshot(audit, "withdrawal-verify")
