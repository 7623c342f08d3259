"""The staff log-in in a real browser: enrolment at the first log-in (the secret read off the
page, a code computed from it, the recovery codes shown once), a later log-in with a recovery
code, and the lock-out page. Each page is axe-clean at desktop and phone width."""

from base64 import b32decode

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from consent.models import AuditEvent
from tests.browser.steps import DESKTOP, PHONE, SECOND_FACTOR_HEADING
from tests.factories import PASSWORD, physician

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Axe()
WCAG_A_AND_AA = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"],
    }
}


def axe_clean(page: Page, screenshot, name: str) -> None:
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        results = AXE.run(page, options=WCAG_A_AND_AA)
        assert results.violations_count == 0, results.generate_report()
        screenshot(page, f"{name}-{size['width']}")
    page.set_viewport_size(DESKTOP)


def password(page: Page, base_url: str, username: str, secret: str = PASSWORD) -> None:
    page.goto(base_url + "/staff/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(secret)
    page.get_by_role("button", name="Log in").click()


def test_first_log_in_enrols_then_a_recovery_code_logs_in_once(
    live_server, new_context, screenshot
):
    doctor = physician()
    page = new_context(viewport=DESKTOP).new_page()
    password(page, live_server.url, doctor.username)
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    axe_clean(page, screenshot, "second-factor-enrol")
    expect(page.locator("svg.qr-code")).to_be_visible()
    secret = page.locator("[data-totp-secret]").inner_text().replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    # A wrong code first: a message, still enrolling.
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("That code is not right.")).to_be_visible()
    page.wait_for_timeout(1100)  # django-otp throttles: one second after a wrong code
    page.get_by_label("Code").fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator(".recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    axe_clean(page, screenshot, "second-factor-recovery-codes")
    page.get_by_role("link", name="I have kept my recovery codes: continue").click()
    expect(page.get_by_role("heading", name="Consent sessions")).to_be_visible()

    # Log out; log in again with a recovery code instead of the app.
    page.get_by_role("button", name="Log out").click()
    password(page, live_server.url, doctor.username)
    expect(page.get_by_role("heading", name=SECOND_FACTOR_HEADING)).to_be_visible()
    axe_clean(page, screenshot, "second-factor-code")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Consent sessions")).to_be_visible()
    expect(page.get_by_text("You used a recovery code: 9 are left.")).to_be_visible()

    # The same code a second time is refused.
    other = new_context(viewport=DESKTOP).new_page()
    password(other, live_server.url, doctor.username)
    other.get_by_label("Code").fill(codes[0])
    other.get_by_role("button", name="Log in").click()
    expect(other.get_by_text("That code is not right.")).to_be_visible()
    actions = list(AuditEvent.objects.filter(actor=doctor).values_list("action", flat=True))
    assert actions.count("account.logged_in") == 3
    assert "account.second_factor_enrolled" in actions
    assert actions.count("account.second_factor_passed") == 1
    assert "account.logged_out" in actions


def test_five_wrong_passwords_show_the_lock_out_page(live_server, new_context, screenshot):
    doctor = physician()
    page = new_context(viewport=DESKTOP).new_page()
    for _ in range(4):
        password(page, live_server.url, doctor.username, "wrong-password")
        expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    password(page, live_server.url, doctor.username, "wrong-password")
    expect(page.get_by_role("heading", name="Log-in locked for now")).to_be_visible()
    expect(page.get_by_text("Try again after")).to_be_visible()
    axe_clean(page, screenshot, "log-in-locked")
    password(page, live_server.url, doctor.username)
    expect(page.get_by_role("heading", name="Log-in locked for now")).to_be_visible()
