"""What a patient does in the browser, one step at a time, for the browser tests."""

import re
from datetime import date

from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import Page, Response, expect

from consent.models import Question, Wording
from tests import factories
from tests.factories import BIRTH_DATE, PASSWORD

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
# How long `staff_signed_in` waits for the page the log-in lands on.
FIRST_PAGE_MS = 30_000
SECOND_FACTOR_HEADING = "Type the code from your authenticator app"
FREE_TEXT_ANSWER = (
    "The clip holds the two flaps of my valve together so it leaks less. It goes in through "
    "a vein in the groin, because open-heart surgery is too risky for me."
)


def open_link(page: Page, base_url: str, link_path: str) -> Response:
    response = page.goto(base_url + link_path)
    assert response is not None
    return response


def enter_birth_date(page: Page, birth_date: date = BIRTH_DATE) -> None:
    page.get_by_label("Day").fill(str(birth_date.day))
    page.get_by_label("Month").fill(str(birth_date.month))
    page.get_by_label("Year").fill(str(birth_date.year))
    page.get_by_role("button", name="Continue").click()


def confirm_birth_date(page: Page, birth_date: date = BIRTH_DATE) -> None:
    enter_birth_date(page, birth_date)
    page.wait_for_url(re.compile(r"/patient/start/$"))


def next_section(page: Page) -> None:
    page.get_by_role("button", name=re.compile(r"^(Next|Go to the questions)$")).click()


def skip_to_questions(page: Page, base_url: str, section_count: int) -> None:
    """Open the last section directly and leave it forward: the reading part is then done."""
    page.goto(f"{base_url}/patient/section/{section_count}/")
    page.get_by_role("button", name="Go to the questions").click()
    page.wait_for_url(re.compile(r"/patient/question/1/$"))


def _wrong_choices(question: Question | Wording) -> list[int]:
    return [i for i in range(len(question.choices)) if i not in question.correct][:1]


def wording_on_screen(page: Page, question: Question) -> Wording:
    """The wording of the question on screen: a re-ask may show one of the pack's variants."""
    wordings = [question.wording(variant) for variant in range(question.wording_count)]
    legend = page.locator("legend")
    prompts = "|".join(re.escape(wording.prompt) for wording in wordings)
    expect(legend).to_have_text(re.compile(rf"^\s*({prompts})\s*$"))
    shown = legend.inner_text().strip()
    return next(wording for wording in wordings if wording.prompt == shown)


def choose(page: Page, question: Question, *, right: bool = True) -> None:
    """Fill in an answer to the question on screen, right or wrong, without sending it."""
    wording = wording_on_screen(page, question)
    if wording.kind == Question.Kind.FREE_TEXT:
        page.get_by_label("Write your answer in your own words").fill(FREE_TEXT_ANSWER)
    elif wording.kind == Question.Kind.TRUE_FALSE:
        value = wording.correct if right else not wording.correct
        page.get_by_role("radio", name="True" if value else "False", exact=True).check()
    else:
        role = "radio" if wording.kind == Question.Kind.SINGLE else "checkbox"
        for index in wording.correct if right else _wrong_choices(wording):
            page.get_by_role(role, name=wording.choices[index], exact=True).check()


def answer(page: Page, question: Question, *, right: bool = True) -> None:
    choose(page, question, right=right)
    page.get_by_role("button", name=re.compile(r"^(Check|Send) my answer$")).click()
    page.wait_for_url(re.compile(r"/patient/question/\d+/result/$"))


def continue_from_result(page: Page) -> None:
    page.get_by_role(
        "link", name=re.compile(r"^(Next question|See your summary|Try the question again)$")
    ).click()


def read_every_section(page: Page, section_count: int) -> None:
    """From the start page, read every section with Next, up to the first question."""
    page.get_by_role("link", name="Start reading").click()
    for number in range(1, section_count + 1):
        page.wait_for_url(re.compile(rf"/patient/section/{number}/$"))
        next_section(page)
    page.wait_for_url(re.compile(r"/patient/question/1/$"))


def staff_log_in(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """The whole staff log-in: the password, then the code of the account's authenticator app
    (its key is the tests' own, so the test computes the code: tests/factories.py)."""
    user = User.objects.get(username=username)
    factories.second_factor_device(user)
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    enter_second_factor(page, user)
    expect(page.get_by_role("heading", name="Consent sessions")).to_be_visible()


def staff_signed_in(page: Page, base_url: str, username: str) -> None:
    """A staff member already logged in (password and second factor), for tests whose subject
    comes after the log-in: the browser is given the session cookie of a session made the way
    the view tests make it (factories.logged_in: Django's force_login, then the key django-otp
    sets once the code is accepted), and opens the page the log-in lands on. The log-in pages
    themselves are driven by `staff_log_in` (tests/browser/test_staff_log_in.py,
    test_staff_session.py and the consent spine)."""
    user = User.objects.get(username=username)
    client = factories.logged_in(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": cookie.value,
                "url": base_url,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    # The first page a test's live server serves can take many seconds on a loaded machine
    # (the log-in's pages gave it two waits of 10 s): this one is given as long.
    page.goto(base_url + "/staff/", wait_until="commit", timeout=FIRST_PAGE_MS)
    expect(page.get_by_role("heading", name="Consent sessions")).to_be_visible()


def enter_second_factor(page: Page, user: User) -> None:
    """After the password: the code the user's authenticator app shows now."""
    expect(page.get_by_role("heading", name=SECOND_FACTOR_HEADING)).to_be_visible()
    page.get_by_label("Code").fill(factories.totp_code(user))
    page.get_by_role("button", name="Log in").click()


def draw_signature(page: Page) -> None:
    """Scribble across the signature pad with the mouse: press, a zigzag of moves, release."""
    canvas = page.locator("[data-signature-pad] canvas")
    expect(canvas).to_be_visible()
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    left, top, width, height = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(left + width * 0.1, top + height * 0.6)
    page.mouse.down()
    for i in range(1, 10):
        page.mouse.move(
            left + width * (0.1 + 0.09 * i), top + height * (0.35 if i % 2 else 0.65), steps=5
        )
    page.mouse.up()
