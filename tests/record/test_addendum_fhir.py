"""FHIR of a record with addenda: a withdrawn Consent is inactive, and each sealed addendum has
a DocumentReference to its PDF and a Provenance of the change, valid FHIR R4."""

import base64
import hashlib
from collections import Counter

import pytest

from consent.models import Addendum, ConsentRecord
from tests.factories import addendum_added, finalized_record, signature_png
from tests.record.test_fhir import assert_valid_r4, export, references

pytestmark = pytest.mark.django_db


def addendum_resources(bundle: dict, resource_type: str, addendum: Addendum) -> dict:
    (found,) = [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == resource_type
        and addendum.addendum_id in entry["resource"]["text"]["div"]
    ]
    return found


def test_a_withdrawal_signed_by_the_patient_is_provenance_and_a_document():
    record = finalized_record()
    image = signature_png()
    withdrawal = addendum_added(
        record=record,
        kind=Addendum.Kind.WITHDRAWAL,
        text="The patient withdrew their consent in clinic.",
        patient_name="Maria Keller",
        patient_image=image,
    )
    correction = addendum_added(record=record, kind=Addendum.Kind.CORRECTION, text="MRN 124.")
    bundle = export(ConsentRecord.objects.get(pk=record.pk))

    assert_valid_r4(bundle)
    types = Counter(entry["resource"]["resourceType"] for entry in bundle["entry"])
    assert types["Provenance"] == 3
    assert types["DocumentReference"] == 3
    assert set(references(bundle)) <= {entry["fullUrl"] for entry in bundle["entry"]}
    (consent,) = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Consent"
    ]
    assert consent["status"] == "inactive"

    provenance = addendum_resources(bundle, "Provenance", withdrawal)
    assert provenance["activity"]["coding"][0]["code"] == "NULLIFY"
    assert [s["sigFormat"] for s in provenance["signature"]] == ["application/json", "image/png"]
    assert base64.b64decode(provenance["signature"][1]["data"]) == image
    assert provenance["agent"][1]["who"]["display"] == "Maria Keller"
    document = addendum_resources(bundle, "DocumentReference", withdrawal)
    assert document["masterIdentifier"]["value"] == withdrawal.addendum_id
    assert document["identifier"][0]["value"] == withdrawal.pdf_sha256
    assert document["content"][0]["attachment"]["url"].endswith(f"/{withdrawal.addendum_id}.pdf")
    assert document["relatesTo"][0]["code"] == "appends"
    revised = addendum_resources(bundle, "Provenance", correction)
    assert revised["activity"]["coding"][0]["code"] == "UPDATE"


def test_a_rewritten_addendum_pdf_leaves_the_withdrawal_in_the_export():
    from tests.audit.tampering import sql, without_triggers

    record = finalized_record()
    withdrawal = addendum_added(record=record, kind=Addendum.Kind.WITHDRAWAL, text="Withdrawn.")
    without_triggers()
    sql(
        "UPDATE consent_addendum SET pdf_sha256 = %s WHERE id = %s",
        [hashlib.sha256(b"forged").hexdigest(), withdrawal.pk],
    )
    bundle = export(ConsentRecord.objects.get(pk=record.pk))
    (consent,) = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Consent"
    ]
    assert consent["status"] == "inactive"
    assert addendum_resources(bundle, "Provenance", withdrawal)
