"""The FHIR export says the language the patient read and signed in (docs/fhir-export.md)."""

import pytest
from django.utils import translation

from consent.models import Addendum
from tests.factories import addendum_added, finalized_record, translated_version
from tests.record.test_fhir import assert_valid_r4, export, resource

pytestmark = pytest.mark.django_db


@pytest.fixture
def french_bundle():
    record = finalized_record(version=translated_version())
    addendum_added(record=record, kind=Addendum.Kind.CORRECTION, text="A correction.")
    return export(record)


def test_a_french_records_bundle_validates_and_carries_french(french_bundle):
    assert_valid_r4(french_bundle)
    communication = resource(french_bundle, "Patient")["communication"]
    assert communication == [
        {
            "language": {
                "coding": [
                    {"system": "urn:ietf:bcp:47", "code": "fr", "display": "French (Français)"}
                ],
                "text": "French (Français)",
            },
            "preferred": True,
        }
    ]
    assert resource(french_bundle, "Consent")["sourceAttachment"]["language"] == "fr"
    documents = [
        entry["resource"]
        for entry in french_bundle["entry"]
        if entry["resource"]["resourceType"] == "DocumentReference"
    ]
    assert len(documents) == 2  # the record and its addendum
    assert [d["content"][0]["attachment"]["language"] for d in documents] == ["fr", "fr"]
    assert resource(french_bundle, "QuestionnaireResponse")["language"] == "fr"
    assert resource(french_bundle, "Questionnaire")["language"] == "fr"


def test_the_words_of_the_export_stay_the_institutions(french_bundle):
    for resource_type in ("Consent", "DocumentReference"):
        assert resource(french_bundle, resource_type)["language"] == "en"
    narrative = resource(french_bundle, "QuestionnaireResponse")["text"]["div"]
    assert narrative.startswith(
        '<div xmlns="http://www.w3.org/1999/xhtml" lang="en" xml:lang="en">'
    )


def test_an_english_records_bundle_says_english_in_any_request_language():
    record = finalized_record()
    with translation.override("fr"):
        bundle = export(record)
    assert_valid_r4(bundle)
    assert resource(bundle, "Consent")["sourceAttachment"]["language"] == "en"
    language = resource(bundle, "Patient")["communication"][0]["language"]
    assert language["coding"][0]["display"] == "English"
