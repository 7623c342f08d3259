"""The comprehension analytics page in a real browser: an auditor sees every chart drawn (with its
colours, under the site's Content-Security-Policy) beside the table of its numbers, and axe finds
no WCAG A or AA violation at desktop or phone width. With SCREENSHOTS=1 the page is saved at
both widths (test-artifacts/screenshots/audit-analytics-*.png)."""

import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import Page, expect

from consent.models import Question
from consent.services import journey as journey_services
from consent.services import links
from consent.services import review as review_services
from consent.views.audit.charts import FLAGGED, RIGHT_FIRST
from tests.browser.steps import DESKTOP, PHONE, staff_signed_in
from tests.factories import (
    BIRTH_DATE,
    ORIGIN,
    auditor,
    consent_session,
    physician,
    ready_session,
    wrong_value,
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
# This page's own content: the staff header belongs to base_staff.html and the staff pages' tests.
OUTSIDE_HEADER = {"exclude": [[".site-header"]]}
URL = "/audit/analytics/"
# The elements that reach past the right edge of the window, to name them when a page is too wide.
WIDEST = """() => [...document.querySelectorAll("main *")]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(0, 5).map(e => e.tagName + "." + e.className).join(", ")"""
# Who answered what: the question each patient got wrong in every round (flagged).
FLAGGED_KEYS = ["purpose", "risk-stroke-per-100", "purpose", "fasting", None, "purpose"]


def _reading(*, pace: int, sections: int = 20) -> list[tuple[int, int]]:
    """Each section read, before answering, in a time that grows with its position and pace."""
    return [
        # The sixth section is only passed through: the page points it out.
        (number, 2 if number == 6 else 20 + 7 * ((number * pace) % 11))
        for number in range(1, sections + 1)
    ]


def _patients() -> None:
    """Six patients who answered everything (one answer in own words assessed), one who got
    the first question right after a re-teach and is being re-taught the second, one who has
    not started."""
    doctor = physician(username="dr.analytics")
    for index, key in enumerate(FLAGGED_KEYS):
        session = ready_session(
            wrong_key=key,
            doctor=doctor,
            patient_name=f"Patient {index}",
            reading=_reading(pace=index + 1),
        )
    assessed = session
    started = consent_session(doctor=doctor, patient_name="Patient started")
    link, _token = links.patient_link_issue(session=started, issued_by=doctor)
    links.patient_identity_confirm(link=link, birth_date=BIRTH_DATE, origin=ORIGIN)
    questions = started.procedure_version.questions
    purpose, how = questions.get(key="purpose"), questions.get(key="how-it-works")
    for question, answer, round_number in [
        (purpose, wrong_value(purpose), 1),
        (purpose, purpose.correct, 2),
        (how, wrong_value(how), 1),
    ]:
        journey_services.answer_submit(
            session=started,
            question=question,
            answer=answer,
            round_number=round_number,
            origin=ORIGIN,
        )
    consent_session(doctor=doctor, patient_name="Patient waiting")
    review_services.question_review_save(
        session=assessed,
        question=assessed.procedure_version.questions.get(key="own-words"),
        covered_key_points=[0, 1, 2],
        note="Explained the rest in person.",
        physician=doctor,
    )


def _share_of_colour(png: bytes, colour: str) -> float:
    """The share of an image's pixels drawn in a colour (give or take anti-aliasing)."""
    target = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = list(picture.get_flattened_data())
    near = sum(1 for p in pixels if all(abs(a - b) <= 12 for a, b in zip(p, target, strict=True)))
    return near / len(pixels)


def _axe(page: Page, screenshot, name: str) -> list[str]:
    reports = []
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        results = AXE.run(page, context=OUTSIDE_HEADER, options=WCAG_A_AND_AA)
        if results.violations_count:
            reports.append(f"== {name} at {size['width']} px\n{results.generate_report()}")
        # Nothing of the page's own content sticks out sideways, except inside a scrolling table.
        overflow = page.evaluate(
            "() => { const m = document.querySelector('main');"
            " return m.scrollWidth - m.clientWidth; }"
        )
        assert overflow <= 0, f"{name} is {overflow} px too wide at {size['width']} px: " + (
            page.evaluate(WIDEST)
        )
        screenshot(page, name)
    page.set_viewport_size(DESKTOP)
    return reports


def test_auditor_sees_every_chart_drawn_beside_its_numbers(live_server, page, screenshot):
    _patients()
    staff_signed_in(page, live_server.url, auditor().username)
    page.goto(live_server.url + URL)
    expect(page.get_by_role("heading", name="Comprehension analytics")).to_be_visible()
    expect(page.get_by_role("link", name="Comprehension analytics")).to_have_attribute(
        "aria-current", "page"
    )

    charts = page.locator("img.analytics-chart")
    expect(charts).to_have_count(4)
    for index in range(4):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        assert chart.evaluate("image => image.complete && image.naturalWidth > 0")
        assert len(chart.get_attribute("alt")) > 40
    # The stacked bars show their colours: mostly right first time, some flagged.
    outcomes = charts.nth(1).screenshot()
    assert _share_of_colour(outcomes, RIGHT_FIRST) > 0.05
    assert _share_of_colour(outcomes, FLAGGED) > 0.002

    statuses = page.get_by_role("table", name="Consent sessions by status")
    expect(statuses.get_by_role("row", name="Ready for discussion 6")).to_be_visible()
    expect(statuses.get_by_role("row", name="Patient reviewing 1")).to_be_visible()
    expect(statuses.get_by_role("row", name="All 8")).to_be_visible()
    missed = page.get_by_role("table", name="Questions missed on the first try")
    first = missed.get_by_role("row").nth(1)
    expect(first).to_contain_text("1. purpose")
    expect(first).to_contain_text("What MitraClip is and why it is offered")
    expect(first).to_contain_text("4 of 7 (57 %)")
    questions = page.get_by_role("table", name="Outcome of each question")
    cells = questions.get_by_role("row").filter(has_text="1. purpose").get_by_role("cell")
    expect(cells).to_have_text(["7", "3", "1", "3", "0", "0"])
    expect(page.get_by_role("table", name="Answers in the patient's own words")).to_contain_text(
        "3 of 4 (75 %)"
    )
    reading = page.get_by_role("table", name="Median time patients spent on each section")
    expect(reading.get_by_role("row").filter(has_text="too fast")).to_have_count(1)

    reports = _axe(page, screenshot, "audit-analytics")

    # On paper: the charts and tables, without the workspace's tabs and the version form.
    page.emulate_media(media="print")
    expect(charts.first).to_be_visible()
    expect(page.get_by_label("Procedure version")).to_be_hidden()
    screenshot(page, "audit-analytics-print")
    page.emulate_media(media="screen")

    page.get_by_label("Procedure version").select_option(index=0)
    page.get_by_role("button", name="Show").click()
    expect(page.locator("img.analytics-chart")).to_have_count(4)

    page.goto(live_server.url + URL + "?version=not-a-number")
    expect(page.get_by_role("alert")).to_contain_text("There is no such procedure version")
    reports += _axe(page, screenshot, "audit-analytics-bad-version")
    assert not reports, "\n".join(reports)


def test_auditor_without_sessions_sees_a_plain_message(live_server, page, screenshot):
    staff_signed_in(page, live_server.url, auditor().username)
    page.goto(live_server.url + URL)
    expect(page.get_by_text("No consent sessions yet")).to_be_visible()
    expect(page.locator("img")).to_have_count(0)
    assert Question.objects.count() == 0
    assert not _axe(page, screenshot, "audit-analytics-empty")
