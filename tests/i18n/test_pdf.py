"""The record's PDF in French, page margins included (CSS cannot translate: the template writes
the margins' words, tests below), and a translation can never break out of the margins' CSS."""

import io

import pytest
from django.template import Context, Template
from pypdf import PdfReader

from consent.templatetags.pdf_margins import css_string
from tests.factories import finalized_record

pytestmark = pytest.mark.django_db


def pages_of(record) -> list[str]:
    with record.pdf.open("rb") as stored:
        reader = PdfReader(io.BytesIO(stored.read()))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def test_a_record_printed_in_french_has_french_margins_on_every_page(settings):
    settings.LANGUAGE_CODE = "fr"  # the language the record is printed in today
    record = finalized_record(real_pdf=True)
    pages = pages_of(record)
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} sur {len(pages)}" in page, number
        assert f"Dossier {record.record_id}" in page, number
        assert "Jeanne Testpatient · né(e) le" in page, number
        assert "Dossier de consentement éclairé" in page, number
        assert "Page 1 of" not in page and " born " not in page
    text = " ".join(pages)
    assert "Questions de reformulation" in text
    assert "Attestation et signatures" in text


def test_margin_words_are_css_strings_that_nothing_in_a_translation_can_leave():
    assert css_string("Page ") == '"Page "'
    assert css_string('né(e) "x"') == '"né\\28 e\\29  \\22 x\\22 "'
    assert "</style>" not in css_string("</style><script>")
    assert "\\3c \\2f style\\3e " in css_string("</style>")


def test_the_margin_tag_puts_the_css_values_where_the_translation_puts_its_placeholders():
    template = Template(
        "{% load pdf_margins %}"
        '{% margin_content phrase page="counter(page)" pages="counter(pages)" %}'
    )
    rendered = template.render(Context({"phrase": "Seite %(page)s von %(pages)s"}))
    assert rendered == '"Seite " counter(page) " von " counter(pages)'
    reordered = template.render(Context({"phrase": "%(pages)s: %(page)s"}))
    assert reordered == 'counter(pages) "\\3a  " counter(page)'
