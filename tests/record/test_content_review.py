"""The record carries the clinical review of the text the patient was shown: in its canonical
JSON (`content_review`, docs/record-format.md) and on page one of the PDF."""

import io

import pytest
from pypdf import PdfReader

from consent.record import pdf
from consent.record.canonical import evidence_snapshot
from consent.selectors.session import ContentReviewData, record_data_get
from tests.factories import consent_session, physician
from tests.services.test_content_review import reviewed_version

pytestmark = pytest.mark.django_db

NOTICE = "Not clinically reviewed: for demonstration only"


def page_one_text(session) -> str:
    document = pdf.record_document_pdf(session, "CR-TEST")
    return " ".join(PdfReader(io.BytesIO(document)).pages[0].extract_text().split())


def test_an_unreviewed_text_is_said_in_the_record_and_on_page_one():
    session = consent_session()
    data = record_data_get(session=session)
    assert data.content_review == ContentReviewData(
        reviewed=False, reviewed_by="", reviewed_on=None
    )
    assert data.as_dict()["content_review"] == {
        "reviewed": False,
        "reviewed_by": "",
        "reviewed_on": None,
    }
    # Not part of what signers vouch for: the review is in the content the procedure hash pins.
    assert "content_review" not in evidence_snapshot(data)
    text = page_one_text(session)
    assert text.count(NOTICE) == 2  # the masthead and the "Clinical review" row


def test_a_reviewed_text_names_who_reviewed_it_and_when():
    session = consent_session(version=reviewed_version(), doctor=physician())
    data = record_data_get(session=session)
    assert data.as_dict()["content_review"] == {
        "reviewed": True,
        "reviewed_by": "Dr Test Reviewer, cardiology",
        "reviewed_on": "2026-03-01",
    }
    text = page_one_text(session)
    assert "Reviewed by Dr Test Reviewer, cardiology on 1 Mar 2026" in text
    assert NOTICE not in text
