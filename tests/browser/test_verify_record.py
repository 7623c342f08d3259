"""Verifying a record in a real browser: a physician opens a record's verification URL (what
its QR code holds), then uploads the genuine PDF and an altered copy, and reads the verdicts.
The pages pass axe (WCAG A and AA). With SCREENSHOTS=1 the pages are saved."""

import threading

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connection
from playwright.sync_api import expect

from tests.browser.conftest import SLOW_STEP_MS
from tests.browser.steps import DESKTOP, staff_signed_in
from tests.factories import finalized_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_A_AND_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def sealed_record():
    """A record rendered and sealed for real. pyHanko signs through asyncio.run, which cannot
    run in this thread while Playwright's event loop does: so it signs in a thread of its own."""
    made = []

    def work():
        try:
            made.append(finalized_record(real_pdf=True))
        finally:
            connection.close()  # this thread's own connection: leave none open at teardown

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    return made[0]


def test_a_physician_verifies_the_stored_record_and_uploaded_copies(
    live_server, new_context, screenshot, tmp_path
):
    record = sealed_record()
    page = new_context(viewport=DESKTOP).new_page()
    staff_signed_in(page, live_server.url, record.session.physician.get_username())

    # Verifying a sealed PDF (signature, certificates, digests) is a slow step on a busy machine.
    page.goto(f"{live_server.url}/staff/records/{record.record_id}/verify/", timeout=SLOW_STEP_MS)
    expect(
        page.get_by_role("heading", name=f"Authentic: this is record {record.record_id}")
    ).to_be_visible(timeout=SLOW_STEP_MS)
    expect(page.get_by_text("✓ Passed")).to_have_count(5)
    results = Axe().run(page, options=WCAG_A_AND_AA)
    assert results.violations_count == 0, results.generate_report()
    screenshot(page, "verify-stored")

    genuine = tmp_path / "record.pdf"
    genuine.write_bytes(record.pdf.open("rb").read())
    page.get_by_label("The PDF to check").set_input_files(genuine)
    page.get_by_role("button", name="Check the file").click(timeout=SLOW_STEP_MS)
    expect(
        page.get_by_role("heading", name=f"Authentic: this is record {record.record_id}")
    ).to_be_visible(timeout=SLOW_STEP_MS)

    altered = tmp_path / "altered.pdf"
    altered.write_bytes(genuine.read_bytes() + b"\n% appended\n")
    page.get_by_label("The PDF to check").set_input_files(altered)
    page.get_by_role("button", name="Check the file").click(timeout=SLOW_STEP_MS)
    expect(page.get_by_role("heading", name="Not authentic")).to_be_visible(timeout=SLOW_STEP_MS)
    expect(page.get_by_text("This file differs from the stored record")).to_be_visible()
    assert Axe().run(page, options=WCAG_A_AND_AA).violations_count == 0
    screenshot(page, "verify-altered")

    foreign = tmp_path / "letter.txt"
    foreign.write_text("Dear doctor, ...")
    page.get_by_label("The PDF to check").set_input_files(foreign)
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="This file is not a PDF.")).to_be_visible()

    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose a PDF file to check.")
