"""The auditor verifies the whole log in a real browser and sees what each checkpoint's
timestamp is worth: a token spliced in from another checkpoint fails, one from an untrusted
authority is a warning. The page passes axe (WCAG A and AA). With SCREENSHOTS=1 it is saved."""

import pytest
from playwright.sync_api import expect

from tests.audit.test_checkpoints import SEAL_SUFFIX, path_of, stamped, token_of, token_put
from tests.browser.steps import staff_signed_in
from tests.browser.test_audit_workspace import accessible
from tests.factories import auditor
from tests.record.ca import TimestampServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_auditor_sees_a_spliced_and_an_untrusted_timestamp(
    live_server, new_context, screenshot, settings, timestamp_authority
):
    url, _requests, certificate = timestamp_authority
    settings.SEAL_TSA_URL = url
    settings.SEAL_TSA_TRUSTED_CERTS = [certificate]
    spliced = stamped(3)
    donor = stamped(1)
    token_put(spliced, token_of(donor))
    path_of(donor).unlink()
    path_of(donor + SEAL_SUFFIX).unlink()
    second = TimestampServer(name="Second Timestamp Authority")
    settings.SEAL_TSA_URL = second.url
    try:
        untrusted = stamped(1)
    finally:
        second.stop()
    auditor()

    page = new_context().new_page()
    staff_signed_in(page, live_server.url, "auditor")
    page.get_by_role("link", name="Audit workspace").click()
    page.get_by_role("link", name="Audit log").click()
    page.get_by_role("button", name="Verify the whole audit log").click()
    failing = page.get_by_role("alert")
    expect(failing).to_contain_text("fails 1 check of what it pins or of its checkpoints")
    expect(failing).to_contain_text(f"Checkpoint {spliced}:")
    expect(failing).to_contain_text("Timestamp does not cover this checkpoint")
    warning = page.locator(".alert-warning")
    expect(warning).to_contain_text("1 checkpoint anchors the chain, but its timestamp")
    expect(warning).to_contain_text(f"Checkpoint {untrusted}:")
    expect(warning).to_contain_text("Timestamp from an untrusted authority")
    expect(page.get_by_text("The audit log is intact.")).to_have_count(0)
    accessible(page)
    screenshot(page, "audit-log-checkpoint-timestamps")
