"""A patient away longer than the idle time-out: a plain page says how to go on, the answers
stay, and the same link carries on after the date of birth (issue 12 item 6)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import Page, expect

from consent.middleware import PATIENT_LAST_ACTIVITY
from consent.models import Attempt
from tests.browser import steps
from tests.browser.steps import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_A_AND_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}}


def away(page: Page, minutes: int) -> None:
    """The browser's last request, as its session remembers it, `minutes` further back."""
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    stored = SessionStore(session_key=cookie["value"])
    stored[PATIENT_LAST_ACTIVITY] = stored[PATIENT_LAST_ACTIVITY] - minutes * 60
    stored.save()


def test_after_twenty_minutes_away_the_patient_opens_the_link_again_and_goes_on(
    page, live_server, patient, screenshot
):
    base = live_server.url
    first = patient.questions()[0]
    steps.open_link(page, base, patient.link_path)
    steps.confirm_birth_date(page)
    steps.skip_to_questions(page, base, patient.section_count)
    steps.answer(page, first)
    steps.continue_from_result(page)
    page.wait_for_url(re.compile(r"/patient/question/2/$"))
    answered = Attempt.objects.filter(session=patient.session).count()

    # Just under the time-out, the page still answers.
    away(page, 19)
    page.reload()
    expect(page).to_have_url(re.compile(r"/patient/question/2/$"))
    expect(page.locator("legend")).to_be_visible()

    # Twenty minutes and more since the last request: the next one shows the plain page.
    away(page, 21)
    page.get_by_role("button", name="Check my answer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You were away for a while.")
    expect(page.locator("main")).to_contain_text(
        "To go on, open your link again and confirm your date of birth. Your answers are saved."
    )
    expect(page.get_by_role("button", name="Save and leave")).to_have_count(0)
    for size in (PHONE, steps.DESKTOP):
        page.set_viewport_size(size)
        results = Axe().run(page, options=WCAG_A_AND_AA)
        assert not results.violations_count, results.generate_report()
    screenshot(page, "patient-idle")
    assert Attempt.objects.filter(session=patient.session).count() == answered

    # Back is no way around it: the session is over.
    page.goto(f"{base}/patient/question/2/")
    expect(page.get_by_role("heading", name="This link cannot be opened")).to_be_visible()

    # The same link and the date of birth: on where the patient stopped.
    steps.open_link(page, base, patient.link_path)
    steps.enter_birth_date(page)
    page.wait_for_url(re.compile(r"/patient/question/2/$"))
    assert Attempt.objects.filter(session=patient.session).count() == answered
