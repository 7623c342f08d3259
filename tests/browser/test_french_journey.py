"""The whole consent in French, in real browsers (issue 14, done when): staff create a French
session, the patient opens the link, confirms the birth date, reads, answers (one wrong answer
re-taught) and signs, every page in French with no WCAG A or AA violation; the physician attests
and finalizes, and the PDF shows the French text under the institution's English labels."""

import io
import os
import re
import subprocess
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from consent.choice_order import choice_key
from consent.content.importing import pack_import
from consent.content.packs import load_pack
from consent.models import ConsentRecord, ConsentSession, Question, Signature
from tests import factories
from tests.browser import steps
from tests.browser.conftest import SCREENSHOT_DIR, SLOW_STEP_MS
from tests.browser.test_patient_accessibility import WCAG_A_AND_AA

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FRENCH_PACK = Path(settings.BASE_DIR) / "content" / "mitraclip.fr.toml"
PATIENT_NAME = "Jeanne Dupont"
AXE = Axe()
DECISION_URL = re.compile(r"/patient/decision/(#agree)?$")


class FrenchPages:
    """Each patient page: in French (lang="fr"), then checked by axe at desktop and phone width."""

    def __init__(self, page: Page, screenshot) -> None:
        self.page = page
        self.screenshot = screenshot
        self.checked: list[str] = []
        self.reports: list[str] = []

    def __call__(self, name: str) -> None:
        expect(self.page.locator("html")).to_have_attribute("lang", "fr")
        for size in (steps.DESKTOP, steps.PHONE):
            self.page.set_viewport_size(size)
            results = AXE.run(self.page, options=WCAG_A_AND_AA)
            if results.violations_count:
                where = f"{name} at {size['width']} px ({self.page.url})"
                self.reports.append(f"== {where}\n{results.generate_report()}")
            self.screenshot(self.page, f"fr-{name}")
        self.page.set_viewport_size(steps.DESKTOP)
        self.checked.append(name)


def answer(page: Page, question: Question, *, right: bool = True) -> None:
    """Answer the question on screen in the French wording, by the choices' own values (the
    labels are the pack's French words; the buttons are the catalogue's)."""
    wording = steps.wording_on_screen(page, question)
    form = page.locator("form:has(input[name=round])")
    if wording.kind == Question.Kind.FREE_TEXT:
        form.locator("textarea[name=answer]").fill(
            "Le clip rapproche les deux feuillets de la valve pour qu'elle fuie moins."
        )
    elif wording.kind == Question.Kind.TRUE_FALSE:
        value = wording.correct if right else not wording.correct
        form.locator(f"input[name=answer][value={'true' if value else 'false'}]").check()
    else:
        chosen = wording.correct if right else steps._wrong_choices(wording)
        for index in chosen:
            form.locator(f"input[value='{choice_key(wording.choices[index])}']").check()
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/patient/question/\d+/result/$"))


def go_on(page: Page) -> None:
    """The result page's one way forward: the question again, the next one, or the summary."""
    page.locator("#main a.btn-primary.btn-lg").first.click()


def test_the_whole_consent_in_french_with_a_french_pdf(
    new_context, live_server, reading_clock, screenshot, tmp_path
):
    base = live_server.url
    doctor = factories.physician()
    english = factories.mitraclip_version()
    french = pack_import(packs=[load_pack(FRENCH_PACK)])[0].version
    assert french.translation_of == english
    questions = list(french.questions.order_by("position"))
    own_words = next(q for q in questions if q.kind == Question.Kind.FREE_TEXT)
    staff = new_context().new_page()
    patient = new_context().new_page()
    check = FrenchPages(patient, screenshot)

    # 1. Staff create the session in French: the form offers the procedure's two languages.
    steps.staff_signed_in(staff, base, doctor.username)
    staff.get_by_role("link", name="New consent session").click()
    expect(staff.locator("html")).to_have_attribute("lang", "en")
    staff.get_by_label("Patient's full name").fill(PATIENT_NAME)
    staff.get_by_label("Date of birth").fill(factories.BIRTH_DATE.isoformat())
    language = staff.get_by_label("The patient's language")
    expect(language.locator("option[value=fr]")).to_have_text(
        "French (Français): not clinically reviewed, for demonstration only"
    )
    language.select_option("fr")
    staff.get_by_role("button", name="Create consent session").click()
    expect(staff.get_by_role("heading", name=PATIENT_NAME)).to_be_visible()
    link = staff.locator(".patient-link a").get_attribute("href")
    assert link
    session = ConsentSession.objects.get(patient_name=PATIENT_NAME)
    assert session.procedure_version == french

    # 2. The patient: the link, the birth date, the first page in French with the choice.
    patient.goto(link)
    patient.wait_for_url(re.compile(r"/patient/identity/$"))
    check("identity")
    patient.locator("input[name=day]").fill(str(factories.BIRTH_DATE.day))
    patient.locator("input[name=month]").fill(str(factories.BIRTH_DATE.month))
    patient.locator("input[name=year]").fill(str(factories.BIRTH_DATE.year))
    patient.locator("form button[type=submit]").last.click()
    patient.wait_for_url(re.compile(r"/patient/start/$"))
    expect(patient.get_by_role("heading", level=1)).to_have_text(french.title)
    expect(patient.get_by_role("button", name="English")).to_have_attribute("lang", "en")
    expect(patient.locator("[aria-current=true][lang=fr]")).to_have_text("✓ Français")
    check("start")

    # 3. Every section, in French.
    patient.locator("#main a[href$='/patient/section/1/']").click()
    sections = list(french.sections.order_by("position"))
    risks = next(s for s in sections if s.kind == "risks")
    for section in sections:
        patient.wait_for_url(re.compile(rf"/patient/section/{section.position}/$"))
        expect(patient.get_by_role("heading", level=1)).to_have_text(section.title)
        if section.position == 1:
            check("section")
        if section == risks:
            check("section-risks")
        patient.locator("button[name=go][value=next]").click()

    # 4. The questions: the first wrong once, re-taught, then right; the rest right.
    for question in questions:
        patient.wait_for_url(re.compile(rf"/patient/question/{question.position}/$"))
        if question.position == 1:
            check("question")
            answer(patient, question, right=False)
            check("result-reteach")
            expect(patient.get_by_text(question.explanation)).to_be_visible()
            go_on(patient)
            patient.wait_for_url(re.compile(r"/patient/question/1/$"))
            check("question-second-look")
        answer(patient, question)
        if question == own_words:
            check("result-own-words")
        elif question.position == 1:
            check("result-right")
        go_on(patient)
    patient.wait_for_url(re.compile(r"/patient/summary/$"))
    check("summary")

    # 5. The physician, in English, reviews the own words and attests; French text marked.
    staff.goto(f"{base}/staff/sessions/{session.public_id}/review/")
    expect(staff.locator("html")).to_have_attribute("lang", "en")
    words = staff.locator(f"#question-{own_words.pk}")
    expect(words.locator(".own-words-answer")).to_have_attribute("lang", "fr")
    for point in own_words.key_points[:2]:
        words.get_by_role("checkbox", name=point).check()
    words.get_by_role("button", name="Save the review").click()
    expect(staff.locator(".messages")).to_contain_text("was saved")
    attestation = staff.locator("#attestation")
    attestation.get_by_label("Your password").fill(factories.PASSWORD)
    attestation.get_by_role("button", name="Sign the attestation").click()
    expect(staff.locator(".messages")).to_contain_text("You signed the attestation.")

    # 6. The patient signs their consent, in French.
    patient.goto(base + "/patient/")
    patient.wait_for_url(DECISION_URL)
    check("decision")
    patient.locator("a[href='#agree']").click()
    agree = patient.locator("form[action$='#agree']")
    for statement in agree.locator("input[name=statements]").all():
        statement.check()
    agree.locator("input[name=typed_name]").fill(PATIENT_NAME)
    steps.draw_signature(patient)
    agree.locator("button[type=submit]").last.click()
    patient.wait_for_url(DECISION_URL)
    expect(patient.locator("#main")).to_contain_text("Merci. Votre décision est enregistrée.")
    check("decision-done")
    consent = Signature.objects.get(session=session, kind=Signature.Kind.PATIENT_CONSENT)
    # What the patient confirmed, stored in the words they read.
    assert consent.statement.startswith("J’ai lu les informations")

    # 7. The physician countersigns and finalizes; the PDF: French content, English labels.
    staff.reload()
    countersign = staff.locator("#finalize")
    countersign.get_by_label("Your password").fill(factories.PASSWORD)
    countersign.get_by_role("button", name="Countersign and finalize").click(timeout=SLOW_STEP_MS)
    staff.wait_for_url(re.compile(r"/review/#record$"), timeout=SLOW_STEP_MS)
    record_link = staff.get_by_role("link", name="Download the record (PDF)")
    expect(record_link).to_be_visible(timeout=SLOW_STEP_MS)
    with staff.expect_download() as download:
        record_link.click()
    path = download.value.path()
    assert path is not None
    pdf = Path(path).read_bytes()
    record = ConsentRecord.objects.get(session=session)
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for section in sections[:3]:
        assert " ".join(section.title.split()) in text, section.title
    assert " ".join(questions[1].prompt.split()) in text
    for label in ("Informed consent record", "Information shown to the patient", "Audit trail"):
        assert label in text, label
    assert "PATIENT'S LANGUAGE French (Français)" in text
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert record.pdf_sha256

    # To look at: its first two pages as pictures (kept in test-artifacts/ with SCREENSHOTS=1).
    folder = SCREENSHOT_DIR if os.environ.get("SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fr-record.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "60", "-l", "2", "-png", "fr-record.pdf", "fr-record"],  # noqa: S607
        cwd=folder,
        check=True,
    )
    assert len(list(folder.glob("fr-record-*.png"))) == 2

    assert not check.reports, "\n\n".join(check.reports)
    assert check.checked == [
        "identity",
        "start",
        "section",
        "section-risks",
        "question",
        "result-reteach",
        "question-second-look",
        "result-right",
        "result-own-words",
        "summary",
        "decision",
        "decision-done",
    ]
