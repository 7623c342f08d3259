"""Free text is stored in NFC (consent/text.py): the same words typed on different keyboards
are stored, shown and hashed alike, and the audit chain still verifies."""

import json
import unicodedata

import pytest
from django.db import transaction

from consent.audit.chain import chain_verify
from consent.audit.events import audit_record
from consent.models import AuditEvent, PatientQuestion, Signature
from consent.services import signatures as signature_services
from tests.factories import (
    PASSWORD,
    consent_session,
    decided_session,
    fake_pdf_render,
    patient_client,
    physician,
)

pytestmark = pytest.mark.django_db

# "Hélène Dupré" as typed on a keyboard that sends combining accents.
DECOMPOSED = "He\u0301le\u0300ne Dupre\u0301"
COMPOSED = "Hélène Dupré"


def test_the_two_spellings_differ_before_storing():
    assert DECOMPOSED != COMPOSED
    assert unicodedata.normalize("NFC", DECOMPOSED) == COMPOSED


def test_a_patients_question_typed_with_combining_accents_is_stored_composed():
    session = consent_session()
    patient = patient_client(session)
    patient.post(
        "/patient/ask/",
        {
            "text": f"Can {DECOMPOSED} drive me home?",
            "form_id": "7d3c1a52-0000-4000-8000-00000000a001",
        },
    )
    assert PatientQuestion.objects.get(session=session).text == f"Can {COMPOSED} drive me home?"


def test_a_witness_name_is_stored_composed_and_the_record_holds_it_so():
    session = decided_session()
    signature_services.companion_sign(
        session=session, kind="witness", typed_name=DECOMPOSED, image=None
    )
    assert Signature.objects.get(session=session, kind="witness").printed_name == COMPOSED
    record = signature_services.session_finalize(
        session=session, physician=session.physician, password=PASSWORD, render_pdf=fake_pdf_render
    )
    names = [s["printed_name"] for s in json.loads(record.record_json)["signatures"]]
    assert COMPOSED in names
    assert DECOMPOSED not in record.record_json


def test_a_staff_members_name_is_stored_composed():
    doctor = physician(username="dr.dupre")
    doctor.first_name = DECOMPOSED
    doctor.save()
    doctor.refresh_from_db()
    assert doctor.first_name == COMPOSED


def test_an_audit_event_is_normalized_before_its_hash_is_taken():
    with transaction.atomic():
        event = audit_record(
            action="test.nfc",
            role="system",
            actor_label=DECOMPOSED,
            payload={"note": DECOMPOSED, DECOMPOSED: 1},
        )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_label == COMPOSED
    assert stored.payload == {"note": COMPOSED, COMPOSED: 1}
    assert chain_verify().intact
