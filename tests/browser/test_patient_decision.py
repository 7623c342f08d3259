"""The patient's decision in a real browser: statements ticked, the name typed and the signature
drawn with the mouse or a finger; the typed name alone without JavaScript; an informed refusal;
an interpreter or a witness; axe (WCAG A and AA) on every decision page at 1280 and 375 px.
With SCREENSHOTS=1 each page is also saved at both widths."""

import io
import itertools
import re
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from consent.models import ConsentSession, Signature
from consent.services import signatures as signature_services
from tests import factories
from tests.browser import steps
from tests.browser.steps import PHONE
from tests.browser.test_patient_accessibility import PageChecker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "Jeanne Testpatient"
# After the consent form is sent, the browser keeps the form's "#agree" through the redirect.
DECISION_URL = re.compile(r"/patient/decision/(#agree)?$")
Kind = Signature.Kind


@pytest.fixture
def attested(transactional_db: None) -> tuple[ConsentSession, str]:
    """A session the physician has attested, and a fresh link for the patient's device."""
    session = factories.attested_session()
    assert session.patient_name == NAME
    return session, factories.issue_link(session)


def finalize(session: ConsentSession) -> None:
    signature_services.session_finalize(
        session=session,
        physician=session.physician,
        password=factories.PASSWORD,
        render_pdf=factories.fake_pdf_render,
    )


def open_decision(page: Page, base: str, link_path: str) -> None:
    steps.open_link(page, base, link_path)
    steps.enter_birth_date(page)
    page.wait_for_url(DECISION_URL)


def tick_statements(page: Page) -> None:
    for statement in signature_services.PATIENT_CONSENT_STATEMENTS:
        page.get_by_role("checkbox", name=str(statement)).check()


def pad_box(page: Page) -> dict[str, Any]:
    canvas = page.locator("[data-signature-pad] canvas")
    expect(canvas).to_be_visible()
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    # signature.js sizes the canvas from its whole CSS pixels (offsetWidth, offsetHeight).
    box["css"] = canvas.evaluate("c => [c.offsetWidth, c.offsetHeight]")
    return box


def zigzag(box: dict[str, float]) -> list[tuple[float, float]]:
    """A scribble across the middle of the pad, in page coordinates."""
    left, top, width, height = box["x"], box["y"], box["width"], box["height"]
    return [
        (left + width * (0.1 + 0.08 * i), top + height * (0.35 if i % 2 else 0.65))
        for i in range(10)
    ]


def draw_with_mouse(page: Page) -> dict[str, Any]:
    box = pad_box(page)
    points = zigzag(box)
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y, steps=5)
    page.mouse.up()
    return box


def draw_with_finger(page: Page) -> dict[str, Any]:
    """Touch events through the DevTools protocol: Playwright itself only taps."""
    box = pad_box(page)
    points = zigzag(box)
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, point: tuple[float, float] | None) -> None:
        touch_points = [{"x": point[0], "y": point[1]}] if point else []
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": touch_points})

    touch("touchStart", points[0])
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        for step in range(1, 6):
            touch("touchMove", (x0 + (x1 - x0) * step / 5, y0 + (y1 - y0) * step / 5))
    touch("touchEnd", None)
    return box


def dark_pixels(image: bytes) -> int:
    picture = Image.open(io.BytesIO(image)).convert("L")
    return sum(picture.histogram()[:128])


PAD_CANVAS = "[data-signature-pad] canvas"
INK_JS = """canvas => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) { if (data[i] < 128) return true; }
    return false;
}"""


def canvas_has_ink(page: Page) -> bool:
    return page.locator(PAD_CANVAS).evaluate(INK_JS)


def test_the_patient_ticks_types_draws_with_the_mouse_and_signs(new_context, live_server, attested):
    session, link_path = attested
    page = new_context().new_page()
    open_decision(page, live_server.url, link_path)
    expect(page.get_by_role("heading", name="Your decision", exact=True)).to_be_visible()
    expect(page.get_by_text("Alex Martin signed on")).to_be_visible()

    page.get_by_role("link", name="Agree and sign").click()
    tick_statements(page)
    page.get_by_label("Your full name").fill(NAME)
    box = draw_with_mouse(page)
    page.get_by_role("button", name="Sign my consent").click()
    page.wait_for_url(DECISION_URL)
    expect(page.get_by_role("heading", name="You agreed to have the procedure.")).to_be_visible()
    expect(page.get_by_role("img", name="Your drawn signature")).to_be_visible()
    signature = Signature.objects.get(session=session, kind=Kind.PATIENT_CONSENT)
    assert signature.method == Signature.Method.DRAWN
    assert signature.printed_name == NAME
    image = bytes(signature.image)
    assert image.startswith(b"\x89PNG")
    # The canvas has as many pixels as its CSS size times the device pixel ratio (1 here).
    assert Image.open(io.BytesIO(image)).size == tuple(box["css"])
    assert dark_pixels(image) > 100
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.SIGNED


def test_on_a_phone_the_patient_draws_with_a_finger_and_turns_the_phone(
    new_context, live_server, attested
):
    session, link_path = attested
    page = new_context(
        viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True
    ).new_page()
    open_decision(page, live_server.url, link_path)
    tick_statements(page)
    page.get_by_label("Your full name").fill(NAME)
    box = draw_with_finger(page)
    assert box["width"] < PHONE["width"]
    assert canvas_has_ink(page)
    # Turned sideways: the pad takes the new width and keeps what was drawn.
    page.set_viewport_size({"width": PHONE["height"], "height": PHONE["width"]})
    page.wait_for_function(
        f"() => document.querySelector('{PAD_CANVAS}').width === "
        f"document.querySelector('{PAD_CANVAS}').offsetWidth * 3"
    )
    turned = pad_box(page)
    assert turned["css"][0] > box["css"][0]
    assert canvas_has_ink(page)
    page.get_by_role("button", name="Sign my consent").click()
    page.wait_for_url(DECISION_URL)
    signature = Signature.objects.get(session=session, kind=Kind.PATIENT_CONSENT)
    image = bytes(signature.image)
    assert image.startswith(b"\x89PNG")
    width, height = turned["css"]
    assert Image.open(io.BytesIO(image)).size == (width * 3, height * 3)
    assert dark_pixels(image) > 100


def test_a_drawing_survives_a_missing_statement_and_clear_empties_the_pad(
    new_context, live_server, attested
):
    session, link_path = attested
    page = new_context().new_page()
    open_decision(page, live_server.url, link_path)
    page.get_by_label("Your full name").fill(NAME)
    draw_with_mouse(page)
    page.get_by_role("button", name="Sign my consent").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Please confirm each statement before signing."
    )
    expect(page.get_by_label("Your full name")).to_have_value(NAME)
    # The accepted drawing is drawn again on the pad (from the page, asynchronously).
    page.wait_for_function(f"() => ({INK_JS})(document.querySelector('{PAD_CANVAS}'))")

    page.get_by_role("button", name="Clear the drawing").click()
    expect(page.get_by_role("status").last).to_have_text("The drawing was cleared.")
    assert not canvas_has_ink(page)
    tick_statements(page)
    page.get_by_role("button", name="Sign my consent").click()
    page.wait_for_url(DECISION_URL)
    signature = Signature.objects.get(session=session, kind=Kind.PATIENT_CONSENT)
    assert signature.method == Signature.Method.TYPED
    assert signature.image is None


def test_without_javascript_the_typed_name_alone_signs(new_context, live_server, attested):
    session, link_path = attested
    page = new_context(java_script_enabled=False).new_page()
    open_decision(page, live_server.url, link_path)
    expect(page.locator("[data-signature-pad]")).to_be_hidden()
    expect(page.get_by_role("button", name="Clear the drawing")).to_be_hidden()
    tick_statements(page)
    page.get_by_label("Your full name").fill(NAME)
    page.get_by_role("button", name="Sign my consent").click()
    page.wait_for_url(DECISION_URL)
    expect(page.get_by_role("heading", name="You agreed to have the procedure.")).to_be_visible()
    signature = Signature.objects.get(session=session, kind=Kind.PATIENT_CONSENT)
    assert signature.method == Signature.Method.TYPED
    assert signature.image is None


def test_every_decision_page_has_no_wcag_a_or_aa_violations(
    page, live_server, attested, screenshot
):
    session, link_path = attested
    check = PageChecker(page, screenshot)
    open_decision(page, live_server.url, link_path)
    check("decision")
    page.get_by_role("button", name="Sign my consent").click()
    expect(page.get_by_role("alert")).to_contain_text("Type your full name to sign.")
    check("decision-error")

    page.get_by_role("link", name="Decline the procedure").click()
    expect(page.get_by_role("heading", name="Decline the procedure")).to_be_visible()
    check("decline")
    page.get_by_role("button", name="Sign my decision").click()
    expect(page.get_by_role("alert")).to_contain_text("Type your full name to sign.")
    check("decline-error")
    page.get_by_role("link", name="Go back").click()

    page.goto(f"{live_server.url}/patient/summary/")
    check("summary-attested")
    page.get_by_role("link", name="Go to your decision").click()
    tick_statements(page)
    page.get_by_label("Your full name").fill(NAME)
    draw_with_mouse(page)
    page.get_by_role("button", name="Sign my consent").click()
    expect(page.get_by_role("heading", name="You agreed to have the procedure.")).to_be_visible()
    check("done")

    page.get_by_role("link", name="An interpreter or a witness signs").click()
    check("companion")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Choose whether you sign as")
    check("companion-error")
    page.get_by_role("radio", name=re.compile("^Interpreter")).check()
    page.get_by_label("Your full name").fill("Ana Lopes")
    draw_with_mouse(page)
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_text("Interpreter: Ana Lopes")).to_be_visible()
    check("done-companion")

    finalize(session)
    page.reload()
    expect(page.get_by_role("link", name="Download your copy (PDF)")).to_be_visible()
    check("done-finalized")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download your copy (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")
    page.goto(f"{live_server.url}/patient/summary/")
    expect(page.get_by_text("You agreed to have the procedure.")).to_be_visible()
    check("summary-finalized")

    assert not check.reports, "\n\n".join(check.reports)


def test_an_informed_refusal_with_a_reason_and_a_drawing(page, live_server, attested, screenshot):
    session, link_path = attested
    check = PageChecker(page, screenshot)
    open_decision(page, live_server.url, link_path)
    page.get_by_role("link", name="Decline the procedure").click()
    page.get_by_label("Your reason (if you want to give one)").fill("I want to wait.")
    page.get_by_label("Your full name").fill(NAME)
    draw_with_mouse(page)
    page.get_by_role("button", name="Sign my decision").click()
    expect(
        page.get_by_role("heading", name="You decided not to have the procedure.")
    ).to_be_visible()
    check("done-declined")
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.DECLINED
    assert session.decline_reason == "I want to wait."
    signature = Signature.objects.get(session=session, kind=Kind.PATIENT_REFUSAL)
    assert signature.method == Signature.Method.DRAWN
    assert bytes(signature.image).startswith(b"\x89PNG")
    assert not check.reports, "\n\n".join(check.reports)
