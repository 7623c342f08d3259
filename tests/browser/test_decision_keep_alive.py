"""The decision page keeps a busy patient's session alive, and only a busy one (issue 12).

The idle time-out is cut to 8 seconds (the script then pings at most every 2 seconds): a
screen left alone (a mouse hovering over it is not input) sends no ping, so the time-out ends
the session, and the first tick after it shows the plain page, storing nothing; typing the
name a letter at a time and drawing, for longer than the time-out, the consent is signed.
(A decision posted after the time-out: tests/views/patient/test_keep_alive.py.)
"""

import itertools
import re
import time
from datetime import timedelta

import pytest
from playwright.sync_api import Page, Request, expect

from consent.models import ConsentSession, Signature
from tests import factories
from tests.browser import steps
from tests.browser.test_patient_decision import (
    DECISION_URL,
    NAME,
    open_decision,
    pad_box,
    tick_statements,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIME_OUT = timedelta(seconds=8)
INTERVAL_S = 2.0
PING = "/patient/keep-alive/"


def ping_times(page: Page) -> list[float]:
    """When each keep-alive request left the page (monotonic seconds), appended as they go."""
    times: list[float] = []

    def seen(request: Request) -> None:
        if request.url.endswith(PING):
            assert request.method == "POST"
            assert request.headers.get("x-csrftoken")
            times.append(time.monotonic())

    page.on("request", seen)
    return times


def stroke(page: Page, row: float) -> None:
    box = pad_box(page)
    y = box["y"] + box["height"] * row
    page.mouse.move(box["x"] + 20, y)
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(box["x"] + 20 + step * 30, y + (8 if step % 2 else -8))
    page.mouse.up()


def short_time_out(page: Page, settings) -> None:
    settings.PATIENT_IDLE_TIMEOUT = TIME_OUT
    page.reload()  # the page learns the shorter interval
    page.wait_for_url(DECISION_URL)
    script = page.locator("script[data-keep-alive-url]")
    expect(script).to_have_attribute("data-keep-alive-interval", str(int(INTERVAL_S * 1000)))


def test_typing_and_drawing_keep_the_session_and_idleness_still_ends_it(
    page, live_server, settings
):
    session = factories.attested_session()
    link_path = factories.issue_link(session)
    base = live_server.url
    pings = ping_times(page)

    # Idle: the page open, a mouse wandering over it, nothing typed or drawn.
    open_decision(page, base, link_path)
    short_time_out(page, settings)
    idle_until = time.monotonic() + TIME_OUT.total_seconds() + 2.5
    while time.monotonic() < idle_until:
        page.mouse.move(200, 300)
        page.mouse.move(400, 350)
        page.wait_for_timeout(500)
    assert pings == []
    # The first tick after the time-out: the ping finds the session over, and the page says
    # at once how to go on, before the patient signs in vain.
    page.get_by_role("checkbox").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You were away for a while.")
    assert len(pings) == 1
    pings.clear()
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.ATTESTED
    assert not Signature.objects.filter(session=session, kind=Signature.Kind.PATIENT_CONSENT)

    # Busy: the same link again, then typing and drawing for well past the time-out.
    steps.open_link(page, base, link_path)
    steps.enter_birth_date(page)
    page.wait_for_url(DECISION_URL)
    short_time_out(page, settings)
    started = time.monotonic()
    tick_statements(page)
    name_box = page.get_by_label("Your full name")
    name_box.click()
    for number, letter in enumerate(NAME):
        page.keyboard.type(letter)
        page.wait_for_timeout(700)
        if number % 6 == 5:
            stroke(page, row=0.3 + 0.1 * (number // 6))
    busy = time.monotonic() - started
    assert busy > TIME_OUT.total_seconds() + 3
    expect(name_box).to_have_value(NAME)
    page.get_by_role("button", name="Sign my consent").click()
    page.wait_for_url(DECISION_URL)
    expect(page.get_by_role("heading", name="You agreed to have the procedure.")).to_be_visible()
    signature = Signature.objects.get(session=session, kind=Signature.Kind.PATIENT_CONSENT)
    assert signature.printed_name == NAME
    assert signature.method == Signature.Method.DRAWN

    # It pinged while busy, never twice within the interval.
    assert len(pings) >= 3, pings
    gaps = [later - earlier for earlier, later in itertools.pairwise(pings)]
    assert all(gap >= INTERVAL_S - 0.2 for gap in gaps), gaps
    assert re.search(r"/patient/decision/", page.url)
