"""Read aloud sits at the top of every patient page and reads the page's main content; where the
device cannot speak (no speech synthesis, no voice, a speech error) it says so plainly."""

import re

import pytest
from playwright.sync_api import Page, expect

from consent.models import Section
from tests.browser import steps

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CANNOT_SPEAK = "This device cannot read aloud. Your device's own screen reader can read this page."

# A speech synthesis that records what it is asked to say (and says it at once).
RECORDING_SPEECH = """
window.__spoken = [];
(function () {
  function Utterance(text) { this.text = text; }
  var synth = {
    speaking: false,
    getVoices: function () { return [{ lang: "en", name: "Test voice" }]; },
    addEventListener: function () {},
    cancel: function () {},
    speak: function (utterance) {
      window.__spoken.push(utterance.text);
      setTimeout(function () { if (utterance.onend) { utterance.onend({}); } }, 0);
    },
  };
  Object.defineProperty(window, "speechSynthesis", { value: synth, configurable: true });
  Object.defineProperty(
    window, "SpeechSynthesisUtterance", { value: Utterance, configurable: true }
  );
})();
"""
NO_SPEECH = "delete window.speechSynthesis; delete window.SpeechSynthesisUtterance;"
NO_VOICE = RECORDING_SPEECH.replace('return [{ lang: "en", name: "Test voice" }];', "return [];")
SPEECH_ERROR = RECORDING_SPEECH.replace(
    "if (utterance.onend) { utterance.onend({}); }",
    'if (utterance.onerror) { utterance.onerror({ error: "synthesis-failed" }); }',
)


def _page_with(new_context, script: str) -> Page:
    context = new_context()
    context.add_init_script(script)
    return context.new_page()


def _read_aloud(page: Page):
    return page.get_by_role("button", name="Read aloud")


def _assert_at_the_top(page: Page) -> None:
    """The button shows its label, sits above the main content and is the first thing the
    keyboard reaches after the skip link."""
    button = _read_aloud(page)
    expect(button).to_be_visible()
    expect(button).to_have_text(re.compile(r"^\s*Read aloud\s*$"))
    button_box = button.bounding_box()
    main_box = page.locator("main").bounding_box()
    assert button_box is not None and main_box is not None
    assert button_box["y"] + button_box["height"] <= main_box["y"]
    page.locator("body").focus()
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    expect(button).to_be_focused()


def test_read_aloud_is_at_the_top_of_each_kind_of_patient_page(page, live_server, patient):
    base = live_server.url
    steps.open_link(page, base, patient.link_path)
    _assert_at_the_top(page)  # the date-of-birth check
    steps.confirm_birth_date(page)
    _assert_at_the_top(page)  # start
    page.get_by_role("link", name="Start reading").click()
    page.wait_for_url(re.compile(r"/patient/section/1/$"))
    _assert_at_the_top(page)  # a section
    steps.skip_to_questions(page, base, patient.section_count)
    _assert_at_the_top(page)  # a question
    questions = patient.questions()
    steps.answer(page, questions[0])
    _assert_at_the_top(page)  # a result
    page.goto(base + "/patient/ask/")
    _assert_at_the_top(page)  # asking the doctor
    for question in questions:
        page.goto(f"{base}/patient/question/{question.position}/")
        if page.url.endswith(f"/question/{question.position}/"):
            steps.answer(page, question)
    page.goto(base + "/patient/summary/")
    expect(page.get_by_role("heading", name="Thank you. Here is your summary.")).to_be_visible()
    _assert_at_the_top(page)  # the summary


def test_clicking_read_aloud_reads_the_main_content_of_the_page(new_context, live_server, patient):
    page = _page_with(new_context, RECORDING_SPEECH)
    steps.open_link(page, live_server.url, patient.link_path)
    steps.confirm_birth_date(page)
    page.get_by_role("link", name="Start reading").click()
    page.wait_for_url(re.compile(r"/patient/section/1/$"))
    section = Section.objects.get(version=patient.session.procedure_version, position=1)
    _read_aloud(page).click()
    page.wait_for_function("window.__spoken.length > 2")
    spoken = page.evaluate("window.__spoken")
    # The shipped text is not clinically reviewed: that is said first, then the page.
    assert spoken[0] == "Not clinically reviewed: for demonstration only"
    assert spoken[2].startswith("Section 1 of")
    assert section.title in spoken
    first_paragraph = section.body.strip().split("\n\n")[0]
    assert " ".join(first_paragraph.split()) in spoken
    # Only the main content: not the button, nor the page's header.
    assert not any("Read aloud" in text or "Save and leave" in text for text in spoken)
    expect(page.locator("#read-aloud-status")).to_have_text("")
    # Once read, the button is back to "Read aloud".
    expect(_read_aloud(page)).to_have_attribute("aria-pressed", "false")


@pytest.mark.parametrize(
    "script",
    [NO_SPEECH, NO_VOICE, SPEECH_ERROR],
    ids=["no speech synthesis", "no voice", "speech error"],
)
def test_where_the_device_cannot_speak_the_button_says_so(
    new_context, live_server, patient, script, screenshot
):
    page = _page_with(new_context, script)
    steps.open_link(page, live_server.url, patient.link_path)
    steps.confirm_birth_date(page)
    if script == NO_SPEECH:
        assert page.evaluate("'speechSynthesis' in window") is False
    # An aria-live region (not role="status": the page's own status messages keep that role).
    status = page.locator("#read-aloud-status[aria-live=polite]")
    expect(status).to_have_text("")
    _read_aloud(page).click()
    expect(status).to_have_text(CANNOT_SPEAK)
    expect(status).to_be_visible()
    screenshot(page, "read-aloud-cannot-speak")
    # The button stays usable (and labelled): another try says the same.
    expect(_read_aloud(page)).to_be_enabled()
