"""Another physician uploads a colleague's genuine record in a real browser: the page says
authentic and that only the verdict is shown, nothing of the record (issue 12 item 7). The
page passes axe (WCAG A and AA). With SCREENSHOTS=1 it is saved."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import SLOW_STEP_MS
from tests.browser.steps import DESKTOP, PHONE, staff_signed_in
from tests.browser.test_verify_record import WCAG_A_AND_AA, sealed_record
from tests.factories import physician

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_another_physician_is_told_authentic_and_nothing_more(
    live_server, new_context, screenshot, tmp_path
):
    record = sealed_record()
    other = physician(username="dr.other")
    page = new_context(viewport=DESKTOP).new_page()
    staff_signed_in(page, live_server.url, other.get_username())
    genuine = tmp_path / "from-a-colleague.pdf"
    genuine.write_bytes(record.pdf.open("rb").read())

    page.goto(f"{live_server.url}/staff/verify/")
    page.get_by_label("The PDF to check").set_input_files(genuine)
    page.get_by_role("button", name="Check the file").click()

    verdict = page.locator("section.verification")
    expect(
        verdict.get_by_role(
            "heading", name="Authentic: this file is a document issued by this system, unchanged."
        )
    ).to_be_visible(timeout=SLOW_STEP_MS)
    expect(verdict).to_contain_text("Only the verdict is shown")
    for hidden in (
        record.record_id,
        record.session.patient_name,
        f"{record.finalized_at:%Y-%m-%d}",
    ):
        expect(page.locator("body")).not_to_contain_text(hidden)
    expect(page.locator("table.checks")).to_have_count(0)
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        results = Axe().run(page, options=WCAG_A_AND_AA)
        assert results.violations_count == 0, results.generate_report()
    screenshot(page, "verify-withheld")
