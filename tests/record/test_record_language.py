"""The record states the language the patient was shown, shows what they saw in it, and keeps
its own labels in the institution's language (issue 14, item 2)."""

import io
import json
import re

import pytest
from django.utils import translation
from pypdf import PdfReader

from consent.models import Addendum
from consent.record.addendum import addendum_document, addendum_html
from consent.record.canonical import record_json, snapshot_hash
from consent.record.pdf import record_html
from consent.selectors.session import record_data_get
from tests.factories import (
    FRENCH_PROMPT,
    FRENCH_RISK_NAME,
    FRENCH_SECTION_TITLE,
    FRENCH_TITLE,
    addendum_added,
    finalized_record,
    ready_session,
    reviewed_session,
    translated_version,
)

pytestmark = pytest.mark.django_db

FRENCH = {"code": "fr", "name": "French (Français)"}


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_french_record_says_french_shows_french_content_and_english_labels():
    record = finalized_record(version=translated_version(), real_pdf=True)
    document = json.loads(record.record_json)
    assert document["language"] == FRENCH
    assert document["procedure"]["language"] == "fr"
    with record.pdf.open("rb") as stored:
        reader = PdfReader(io.BytesIO(stored.read()))
    text = flat(" ".join(page.extract_text() for page in reader.pages))
    assert "PATIENT'S LANGUAGE French (Français)" in text  # the labels in capitals (pdf.css)
    assert FRENCH_SECTION_TITLE in text
    assert FRENCH_RISK_NAME in text
    assert FRENCH_PROMPT in text
    # The staff parts in the institution's language, and so the document's own language.
    for label in ("Information shown to the patient", "Teach-back questions", "Audit trail"):
        assert label in text
    assert reader.trailer["/Root"]["/Lang"] == "en"


def test_the_records_html_marks_each_patient_language_part():
    session = reviewed_session(version=translated_version())
    data = record_data_get(session=session)
    html = record_html(data, "CR-TEST-1")
    assert '<html lang="en">' in html
    assert f'<p class="procedure-title" lang="fr">{FRENCH_TITLE}</p>' in html
    assert f'<td lang="fr">{FRENCH_SECTION_TITLE}</td>' in html
    assert '<div class="risk" lang="fr">' in html
    assert f'<span lang="fr">{FRENCH_PROMPT}</span>' in html
    assert re.search(r'<p class="attempt result-\w+">Round 1 · <span lang="fr">', html)
    assert '<td colspan="3" class="patient-language">French (Français)</td>' in html
    # Staff headings are not marked: they are in the page's language.
    assert '<h2><span class="num">1</span>Information shown to the patient</h2>' in html


def test_the_patients_statement_is_marked_in_their_language_the_physicians_in_the_institutions():
    record = finalized_record(version=translated_version())
    html = record_html(record_data_get(session=record.session), record.record_id)
    statements = html.split('class="statement" lang="')[1:]
    languages = {part.split('"')[0] for part in statements}
    assert languages == {"fr", "en"}
    attestation = html.split('class="statement" lang="en"')
    assert len(attestation) == 3  # the physician's attestation and countersignature


def test_the_record_is_the_same_whatever_language_the_request_speaks():
    """Taken on the patient's French page or the physician's English one, the evidence is the
    same: otherwise a patient's signature would no longer hold at finalization."""
    session = ready_session(version=translated_version())
    with translation.override("fr"):
        french_page = record_json(session, "CR-TEST-2"), snapshot_hash(session)
    with translation.override("en"):
        english_page = record_json(session, "CR-TEST-2"), snapshot_hash(session)
    assert french_page == english_page
    assert json.loads(french_page[0])["language"] == FRENCH


def test_an_english_record_says_english():
    record = finalized_record()
    assert json.loads(record.record_json)["language"] == {"code": "en", "name": "English"}


def test_the_addendum_states_the_language_of_the_record_it_amends():
    record = finalized_record(version=translated_version())
    addendum = addendum_added(
        record=record,
        kind=Addendum.Kind.WITHDRAWAL,
        text="The patient withdraws.",
        patient_name=record.session.patient_name,
    )
    document = json.loads(addendum.addendum_json)
    assert document["language"] == FRENCH
    html = addendum_html(document, "0" * 64)
    assert '<td colspan="3" class="patient-language">French (Français)</td>' in html
    assert '<td lang="fr">' in html  # the meaning of the patient's signature


def test_an_addendum_to_a_record_made_before_the_language_was_stated_names_the_procedures():
    record = finalized_record(version=translated_version())
    stored = json.loads(record.record_json)
    del stored["language"]
    record.record_json = json.dumps(stored).encode()
    document = addendum_document(
        record=record,
        addendum_id=f"{record.record_id}-A1",
        kind=Addendum.Kind.CORRECTION,
        text="A correction.",
        author_name="Alex Martin",
        author_username="dr.martin",
        created_at=record.finalized_at,
    )
    assert document["language"] == FRENCH


def test_a_record_in_the_pages_own_language_marks_nothing_it_need_not():
    """The patient read English, the page is English: no span per text (each is an element
    WeasyPrint styles and lays out; an attribute on an element already there costs nothing),
    and the texts are all there."""
    session = reviewed_session()
    data = record_data_get(session=session)
    html = record_html(data, "CR-TEST-2")
    assert '<html lang="en">' in html
    assert "<span lang=" not in html
    first = data.questions[0]
    assert f"{first.prompt}" in html
    assert re.search(r'<p class="attempt result-\w+">Round 1 · ', html)
