"""Mistakes in the browser get a plain message and change nothing."""

import re

import pytest
from playwright.sync_api import expect

from consent.models import Attempt, PatientLink
from tests.browser import steps
from tests.factories import BIRTH_DATE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_wrong_date_of_birth_says_so_and_how_many_tries_are_left(page, live_server, patient):
    steps.open_link(page, live_server.url, patient.link_path)
    steps.enter_birth_date(page, BIRTH_DATE.replace(year=1949))

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("That date of birth does not match our records.")
    expect(alert).to_contain_text("You have 4 more tries before this link is locked.")
    expect(page).to_have_url(re.compile(r"/patient/identity/$"))
    assert PatientLink.objects.get(session=patient.session).failed_birth_date_tries == 1

    steps.confirm_birth_date(page)


def test_sending_a_question_without_an_answer_asks_for_one_and_stores_nothing(
    page, live_server, patient
):
    steps.open_link(page, live_server.url, patient.link_path)
    steps.confirm_birth_date(page)
    steps.skip_to_questions(page, live_server.url, patient.section_count)

    page.get_by_role("button", name="Check my answer").click()

    expect(page.get_by_role("alert")).to_contain_text("Choose an answer.")
    expect(page).to_have_url(re.compile(r"/patient/question/1/$"))
    assert not Attempt.objects.filter(session=patient.session).exists()
