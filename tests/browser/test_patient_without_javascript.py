"""Every patient step works with JavaScript switched off; "Read aloud" only appears with it."""

import re

import pytest
from playwright.sync_api import expect

from consent.models import Attempt
from tests.browser import steps

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_without_javascript_the_patient_confirms_reads_and_answers_and_read_aloud_stays_hidden(
    new_context, live_server, patient
):
    page = new_context(java_script_enabled=False).new_page()
    base = live_server.url
    steps.open_link(page, base, patient.link_path)
    steps.confirm_birth_date(page)
    read_aloud = page.locator("button[data-read-aloud]")
    expect(read_aloud).to_be_hidden()

    page.get_by_role("link", name="Start reading").click()
    expect(read_aloud).to_be_hidden()
    steps.next_section(page)
    page.wait_for_url(re.compile(r"/patient/section/2/$"))

    steps.skip_to_questions(page, base, patient.section_count)
    question = patient.questions()[0]
    steps.answer(page, question)
    expect(page.get_by_role("heading", name="That's right.")).to_be_visible()
    expect(read_aloud).to_be_hidden()
    assert Attempt.objects.filter(session=patient.session, is_correct=True).count() == 1


def test_with_javascript_the_read_aloud_button_is_shown(page, live_server, patient):
    steps.open_link(page, live_server.url, patient.link_path)
    steps.confirm_birth_date(page)
    expect(page.get_by_role("button", name="Read aloud")).to_be_visible()
    page.get_by_role("link", name="Start reading").click()
    expect(page.get_by_role("button", name="Read aloud")).to_be_visible()
