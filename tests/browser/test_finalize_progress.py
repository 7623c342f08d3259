"""Finalization the physician can watch, in a real browser (issue 13, item 6): with the
database task backend, as deployed, the countersignature answers at once with "Sealing the
record" (no WCAG A/AA violation) while the task waits for the worker, and once the worker has
drawn and sealed the record the page lands on it by itself."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from consent.models import ConsentRecord
from tests import factories
from tests.browser.conftest import requests_in_flight
from tests.browser.steps import staff_signed_in
from tests.factories import DATABASE_TASKS, decided_session, tasks_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# However slow the machine: wait for the outcome, not a fixed time.
SLOW_STEP_MS = 180_000


@pytest.fixture
def database_tasks(settings) -> None:
    settings.TASKS = DATABASE_TASKS


def test_the_physician_watches_the_record_being_sealed_and_lands_on_it(
    live_server, page, database_tasks, fake_pdf_renderer, screenshot
):
    session = decided_session(read_through=True, drawn=False)
    staff_signed_in(page, live_server.url, session.physician.username)
    page.goto(f"{live_server.url}/staff/sessions/{session.public_id}/review/")
    countersign = page.locator("#finalize")
    countersign.get_by_label("Your password").fill(factories.PASSWORD)
    countersign.get_by_role("button", name="Countersign and finalize").click()

    # The request answers at once, nothing drawn yet: the waiting page, refreshing itself.
    expect(page.get_by_role("heading", name="Sealing the record")).to_be_visible(
        timeout=SLOW_STEP_MS
    )
    expect(page.get_by_role("status")).to_contain_text("Your countersignature was accepted.")
    screenshot(page, "staff-finalizing")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()

    page.reload()
    expect(page.get_by_role("heading", name="Sealing the record")).to_be_visible()
    assert not ConsentRecord.objects.filter(session=session).exists()

    # The worker draws and seals; the page, by itself, lands on the finalized record.
    # The worker's part, played by the test (`tasks_run`): on SQLite the live server shares
    # this thread's connection, so its requests are held (the page keeps polling) meanwhile.
    with requests_in_flight(live_server).held(timeout=SLOW_STEP_MS / 1000):
        assert tasks_run() == 1
    page.wait_for_url(re.compile(r"/review/#record$"), timeout=SLOW_STEP_MS)
    record = ConsentRecord.objects.get(session=session)
    expect(page.get_by_text(f"The record {record.record_id} is finalized.")).to_be_visible()
    expect(page.get_by_role("link", name="Download the record (PDF)")).to_be_visible()
