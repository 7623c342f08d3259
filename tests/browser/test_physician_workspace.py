"""The physician's workspace in a real browser: every page has no WCAG A or AA violation (axe) at
desktop and phone width, and no Content-Security-Policy complaint. With SCREENSHOTS=1 each page
is saved at both widths (dashboard, new link with its QR code, review, attested, finalized)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from consent.models import ConsentSession
from tests.browser.steps import DESKTOP, PHONE, staff_signed_in
from tests.factories import (
    addendum_added,
    attested_session,
    auditor,
    consent_session,
    finalized_session,
    physician,
    ready_session,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_A_AND_AA = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"],
    },
    "resultTypes": ["violations"],
}
AXE = Axe()


class Checker:
    """Runs axe at both widths, saves the screenshots, keeps every violation found."""

    def __init__(self, page: Page, screenshot) -> None:
        self.page, self.screenshot, self.reports = page, screenshot, []

    def __call__(self, name: str) -> None:
        for size in (DESKTOP, PHONE):
            self.page.set_viewport_size(size)
            results = AXE.run(self.page, options=WCAG_A_AND_AA)
            if results.violations_count:
                self.reports.append(f"== {name} at {size['width']} px\n{results.generate_report()}")
            # Nothing may stick out sideways at phone width except inside a scrolling table.
            overflow = self.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} is {overflow} px too wide at {size['width']} px"
            self.screenshot(self.page, f"staff-{name}")
        self.page.set_viewport_size(DESKTOP)


def test_physician_pages_pass_axe_at_desktop_and_phone_width(live_server, new_context, screenshot):
    doctor = physician(username="dr.martin")
    ready = ready_session(read_through=True, doctor=doctor)
    attested = attested_session(read_through=True, doctor=doctor, patient_name="Marc Attested")
    finalized = finalized_session(
        read_through=True, drawn=False, doctor=doctor, patient_name="Lucie Finalized"
    )
    waiting = consent_session(doctor=doctor, version=ready.procedure_version)
    ConsentSession.objects.filter(pk=waiting.pk).update(patient_name="Paul Waiting")
    addendum_added(
        record=finalized.record,
        kind="correction",
        text="The record number is MRN-124, not MRN-123.",
        author=doctor,
    )

    page = new_context().new_page()
    check = Checker(page, screenshot)
    base = live_server.url
    staff_signed_in(page, base, doctor.username)
    check("dashboard")

    page.get_by_label("Status").select_option("ready_for_discussion")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("link", name="Paul Waiting")).to_have_count(0)
    check("dashboard-filtered")

    page.goto(f"{base}/staff/sessions/{waiting.public_id}/")
    page.get_by_role("button", name="Make a link").click()
    expect(page.locator(".patient-link-qr svg")).to_be_visible()
    check("new-link")

    page.goto(f"{base}/staff/sessions/{ready.public_id}/review/")
    expect(page.get_by_role("heading", name="Flagged for discussion")).to_be_visible()
    check("review")

    # A form sent with a mistake shows the page again with the message by the field.
    flagged = page.locator("#flagged form").first
    flagged.get_by_label("How it was resolved").fill("   ")  # passes the browser's check only
    flagged.get_by_role("button", name="Save how it was resolved").click()
    problem = page.get_by_text("Write how this item was resolved with the patient.")
    expect(problem).to_be_visible()
    # The form's address ends in its own anchor: the page opens where the message is.
    expect(problem).to_be_in_viewport()
    check("review-error")

    page.goto(f"{base}/staff/sessions/{attested.public_id}/review/")
    check("attested")
    page.goto(f"{base}/staff/sessions/{finalized.public_id}/review/")
    expect(page.get_by_role("link", name="Download the record (PDF)")).to_be_visible()
    check("finalized")

    page.goto(f"{base}/staff/sessions/{finalized.public_id}/")
    check("session-finalized")

    auditor_page = new_context().new_page()
    staff_signed_in(auditor_page, base, auditor().username)
    Checker(auditor_page, screenshot)("auditor-dashboard")
    assert re.search(r"Lucie Finalized", auditor_page.content())

    assert not check.reports, "\n".join(check.reports)
