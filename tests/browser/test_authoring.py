"""The authoring workbench in a real browser: a content editor logs in, uploads a changed
MitraClip pack with two errors, sees them with their lines, uploads the fixed file, previews a
section and a question as a patient sees them, sees what changed (a figure, an added question)
and publishes it; a physician then makes a consent session on the new version. Every workbench
page passes axe (WCAG A and AA). With SCREENSHOTS=1 the pages are saved."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from playwright.sync_api import Page, expect

from consent.models import AuditEvent, ConsentSession, ProcedureVersion
from tests.browser.steps import FIRST_PAGE_MS, enter_second_factor, staff_signed_in
from tests.factories import (
    MITRACLIP_PATH,
    PASSWORD,
    logged_in,
    mitraclip_version,
    physician,
    second_factor_device,
)
from tests.workbench import (
    ADDED_QUESTION_PROMPT,
    NEW_VERSION,
    changed_pack,
    content_editor,
    line_of,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FRENCH_PATH = MITRACLIP_PATH.with_name("mitraclip.fr.toml")
WCAG_A_AND_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def accessible(page: Page) -> None:
    results = Axe().run(page, options=WCAG_A_AND_AA)
    assert results.violations_count == 0, results.generate_report()


def editor_signed_in(page: Page, base_url: str, editor) -> None:
    """The editor's browser given a logged-in session (as `steps.staff_signed_in` does)."""
    cookie = logged_in(editor).cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base_url}]
    )
    page.goto(base_url + "/authoring/", wait_until="commit", timeout=FIRST_PAGE_MS)
    expect(page.get_by_role("heading", name="Content packs", exact=True)).to_be_visible()


def upload(page: Page, path, button: str) -> None:
    page.get_by_label("Content pack (TOML file)").set_input_files(path)
    page.get_by_role("button", name=button, exact=True).click()


def test_a_content_editor_fixes_previews_compares_and_publishes_a_changed_pack(
    live_server, new_context, screenshot, tmp_path
):
    in_use = mitraclip_version()
    editor = content_editor()
    second_factor_device(editor)
    page = new_context().new_page()

    # Logging in lands on the workbench.
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(editor.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    enter_second_factor(page, editor)
    expect(page.get_by_role("heading", name="Content packs", exact=True)).to_be_visible()
    accessible(page)
    screenshot(page, "authoring-list")

    # A changed pack with two errors: each shown with its line and the lines around it.
    broken_text = changed_pack(errors=True)
    broken = tmp_path / "mitraclip.en.toml"
    broken.write_text(broken_text, encoding="utf-8")
    upload(page, broken, "Upload and check")
    expect(page.get_by_role("heading", name="2 errors to fix")).to_be_visible()
    problems = page.locator(".problem")
    expect(problems).to_have_count(2)
    figure_line = line_of(broken_text, 'max_per_100 = "2"')
    section_line = line_of(broken_text, 'section = "risk"', after='key = "stroke-figure"')
    expect(problems.nth(0).locator(".problem-line")).to_have_text(f"Line {figure_line}")
    expect(problems.nth(0).locator(".problem-message")).to_contain_text(
        'field "max_per_100" must be a number, not text'
    )
    expect(problems.nth(0).locator(".offending")).to_have_text(f'{figure_line} max_per_100 = "2"')
    expect(problems.nth(1).locator(".problem-line")).to_have_text(f"Line {section_line}")
    expect(problems.nth(1).locator(".offending")).to_have_text(f'{section_line} section = "risk"')
    accessible(page)
    screenshot(page, "authoring-errors")

    # The fixed file, uploaded again: no errors.
    fixed = tmp_path / "fixed" / "mitraclip.en.toml"
    fixed.parent.mkdir()
    fixed.write_text(changed_pack(), encoding="utf-8")
    upload(page, fixed, "Upload and check again")
    expect(page.get_by_text("No errors: this pack follows the format.")).to_be_visible()
    expect(page.locator(".problem-line")).to_have_count(0)
    accessible(page)
    screenshot(page, "authoring-draft")

    page.get_by_role("link", name="Reading level", exact=True).click()
    expect(page.get_by_role("heading", name="Reading level, section by section")).to_be_visible()
    accessible(page)
    screenshot(page, "authoring-readability")

    # The preview: the risks section with its pictures, then the added question, answered wrong.
    page.get_by_role("link", name="Preview (en)", exact=True).click()
    expect(
        page.get_by_role("heading", name="Preview: this is what a patient will see")
    ).to_be_visible()
    expect(page.get_by_role("heading", name=in_use.title)).to_be_visible()
    accessible(page)
    screenshot(page, "authoring-preview-start")
    page.get_by_text("All pages").click()
    page.get_by_role("link", name=re.compile(r"^Section 8: ")).click()
    expect(page.get_by_role("heading", name="The risks, one by one")).to_be_visible()
    expect(page.locator(".risk-frequency", has_text="up to 2 in 100 people")).to_be_visible()
    accessible(page)
    screenshot(page, "authoring-preview-section")
    page.get_by_text("All pages").click()
    page.get_by_role("link", name=f"Question 17: {ADDED_QUESTION_PROMPT}").click()
    expect(page.locator("legend")).to_have_text(ADDED_QUESTION_PROMPT)
    accessible(page)
    screenshot(page, "authoring-preview-question")
    page.get_by_role("radio", name="False", exact=True).check()
    page.get_by_role("button", name="Check my answer").click()
    expect(page.get_by_role("heading", name="Not quite. Let's look at this again.")).to_be_visible()
    accessible(page)
    page.get_by_role("link", name="Try the question again").click()
    expect(page.locator("legend")).to_have_text(ADDED_QUESTION_PROMPT)
    assert not ConsentSession.objects.exists()
    page.get_by_role("link", name="Back to the draft").click()

    # What changed from the version in use.
    page.get_by_role("link", name="Changes", exact=True).click()
    expect(
        page.get_by_role("heading", name=re.compile(r"What changes from version 2026\.2"))
    ).to_be_visible()
    stroke = page.locator(".change-entry", has_text="Stroke")
    expect(stroke.locator(".field-change", has_text="max_per_100")).to_contain_text("1 → 2")
    expect(stroke.locator("ins")).to_have_text(["up to 2"])
    added = page.locator(".change-added")
    expect(added).to_have_count(1)
    expect(added).to_contain_text(ADDED_QUESTION_PROMPT)
    accessible(page)
    screenshot(page, "authoring-changes")

    # Publishing: unreviewed, so only with the box ticked.
    page.get_by_role("link", name="Check and publish", exact=True).click()
    publish = page.get_by_role("button", name=f"Publish version {NEW_VERSION}")
    publish.click()
    expect(page.get_by_text("This pack names no clinical reviewer. Tick the box")).to_be_visible()
    assert not ProcedureVersion.objects.filter(version=NEW_VERSION).exists()
    page.get_by_label(re.compile("I publish this text as “not clinically reviewed”")).check()
    publish.click()
    expect(
        page.get_by_text(re.compile(rf"Published: .* \(en\), version {NEW_VERSION}\."))
    ).to_be_visible()
    accessible(page)
    screenshot(page, "authoring-published")
    version = ProcedureVersion.objects.get(version=NEW_VERSION)
    assert (
        AuditEvent.objects.filter(action="pack.published", object_id=str(version.pk)).count() == 1
    )

    # A physician makes a consent session on the new version.
    doctor = physician()
    staff = new_context().new_page()
    staff_signed_in(staff, live_server.url, doctor.username)
    staff.goto(live_server.url + "/staff/sessions/new/")
    staff.get_by_label("Patient's full name").fill("Nora Newversion")
    staff.get_by_label("Date of birth").fill("1950-02-03")
    staff.get_by_label("Procedure (language, version)").select_option(str(version.pk))
    staff.get_by_role("button", name="Create consent session").click()
    expect(staff.get_by_role("heading", name="Nora Newversion")).to_be_visible()
    session = ConsentSession.objects.get(patient_name="Nora Newversion")
    assert session.procedure_version == version
    assert session.procedure_version.risks.get(key="stroke").max_per_100 == 2


def test_a_french_translation_is_previewed_in_french_beside_its_source(
    live_server, new_context, screenshot, tmp_path
):
    mitraclip_version()
    editor = content_editor()
    page = new_context().new_page()
    editor_signed_in(page, live_server.url, editor)
    french = tmp_path / "mitraclip.fr.toml"
    french.write_text(FRENCH_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    upload(page, french, "Upload and check")
    expect(page.get_by_text("No errors: this pack follows the format.")).to_be_visible()
    page.get_by_role("link", name="Preview (fr)", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    # The frame speaks the editor's language, the page the pack's.
    expect(
        page.get_by_role("heading", name="Preview: this is what a patient will see")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Commencer la lecture")).to_be_visible()
    accessible(page)
    screenshot(page, "authoring-preview-fr")
    page.get_by_role("link", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Start reading")).to_be_visible()
