"""The chain pins content: each record's and PDF's hash, each signature's evidence and drawing,
each addendum's text; `verify_audit` names a record whose head or event is missing or differs,
and data made before content pinning still verifies."""

import hashlib
import json

import pytest
from django.core.management import CommandError, call_command

from consent.audit.chain import PRE_PINNING, RECORD_FINALIZED, audit_verify
from consent.models import AuditEvent, ConsentRecord
from consent.services import addenda
from consent.services import signatures as signature_services
from tests.audit.tampering import delete_tail, rewrite_chain, sql, without_triggers
from tests.factories import addendum_added, finalized_record

pytestmark = pytest.mark.django_db


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def record() -> ConsentRecord:
    record = finalized_record()
    addendum_added(
        record=record,
        kind="correction",
        text="Date of the procedure moved.",
        author=record.finalized_by,
    )
    return record


def problems() -> list[str]:
    return [f"{f.subject}: {f.message}" for f in audit_verify().problems]


def test_the_finalization_event_pins_the_record_and_its_pdf(record):
    event = AuditEvent.objects.get(action=RECORD_FINALIZED, object_id=str(record.pk))
    head = json.loads(record.record_json)
    assert event.payload["record_sha256"] == record.record_sha256
    assert event.payload["record_sha256"] == sha256(record.record_json.encode())
    assert event.payload["pdf_sha256"] == record.pdf_sha256 == sha256(record.pdf.read())
    assert event.payload["chain_head_seq"] == head["audit_chain_head_seq"] < event.seq
    assert event.payload["chain_head_hash"] == head["audit_chain_head_hash"]


def test_signature_and_addendum_events_pin_what_was_signed_and_written(record):
    for signature in record.session.signatures.all():
        event = AuditEvent.objects.get(action=f"signature.{signature.kind}", object_id=signature.pk)
        assert event.payload["evidence_sha256"] == signature.snapshot_hash
        image = bytes(signature.image) if signature.image else None
        assert event.payload["image_sha256"] == (sha256(image) if image else None)
    assert record.session.signatures.filter(image__isnull=False).exists()
    (addendum,) = record.addenda.all()
    event = AuditEvent.objects.get(action="addendum.correction", object_id=addendum.pk)
    assert event.payload["text_sha256"] == sha256(b"Date of the procedure moved.")


def test_an_untouched_log_verifies_with_its_content(record, capsys):
    audit = audit_verify()
    assert audit.intact, problems()
    assert audit.pre_pinning == 0
    call_command("verify_audit")
    assert "audit chain intact" in capsys.readouterr().out


def test_a_rewritten_record_is_named(record):
    without_triggers()
    document = record.record_json.replace('"audit_chain_head_seq"', ' "audit_chain_head_seq"', 1)
    sql(
        "UPDATE consent_consentrecord SET record_json = %s, record_sha256 = %s WHERE id = %s",
        [document, sha256(document.encode()), record.pk],
    )
    assert problems() == [
        f"record {record.record_id}: the record's hash differs from its finalization event "
        f"{AuditEvent.objects.get(action=RECORD_FINALIZED).seq}"
    ]


def test_a_replaced_pdf_is_named(record):
    path = record.pdf.path
    with open(path, "wb") as handle:
        handle.write(b"%PDF-1.7\n% another document\n")
    found = problems()
    assert f"record {record.record_id}: its PDF file does not match its stored hash" in found
    assert any("the PDF file differs from its finalization event" in p for p in found)


def test_a_record_whose_chain_head_is_gone_is_named(record):
    without_triggers()
    head = json.loads(record.record_json)["audit_chain_head_seq"]
    delete_tail(AuditEvent.objects.filter(seq__gte=head).count())
    found = problems()
    assert (
        f"record {record.record_id}: its chain head, event {head}, is missing from the log" in found
    )


def test_a_record_whose_head_differs_after_a_rewrite_is_named(record):
    without_triggers()
    sql("UPDATE consent_auditevent SET actor_label = %s WHERE seq = 2", ["someone else"])
    rewrite_chain()
    head = json.loads(record.record_json)["audit_chain_head_seq"]
    audit = audit_verify()
    assert audit.chain.intact
    assert f"record {record.record_id}: event {head} no longer has the hash the record printed" in (
        problems()
    )
    with pytest.raises(CommandError, match="no longer has the hash the record printed"):
        call_command("verify_audit")


def test_a_redrawn_signature_and_an_edited_addendum_are_named(record):
    drawn = record.session.signatures.get(image__isnull=False)
    (addendum,) = record.addenda.all()
    without_triggers()
    sql("UPDATE consent_signature SET image = %s WHERE id = %s", [b"\x89PNG other", drawn.pk])
    sql("UPDATE consent_addendum SET text = %s WHERE id = %s", ["Nothing happened.", addendum.pk])
    found = problems()
    assert any(
        p.startswith(f"signature {drawn.pk} (") and "drawn image differs" in p for p in found
    )
    assert any(p.startswith(f"addendum {addendum.pk} (") and "text differs" in p for p in found)


def test_a_missing_finalization_event_is_named_once_pinning_began(record):
    later = finalized_record(patient_name="Paul Second", doctor=record.finalized_by)
    without_triggers()
    sql(
        "DELETE FROM consent_auditevent WHERE action = %s AND object_id = %s",
        [RECORD_FINALIZED, str(later.pk)],
    )
    rewrite_chain()
    assert f"record {later.record_id}: its finalization event is missing from the log" in problems()


def test_data_made_before_content_pinning_still_verifies(monkeypatch, capsys):
    """Events written as before this change: no record event, no hashes in the payloads."""
    real = signature_services.audit_record
    new_keys = ("evidence_sha256", "image_sha256", "text_sha256", "json_sha256", "pdf_sha256")

    def as_before(**kwargs):
        if kwargs["action"] == RECORD_FINALIZED:
            return None
        kwargs["payload"] = {
            k: v for k, v in (kwargs.get("payload") or {}).items() if k not in new_keys
        }
        return real(**kwargs)

    monkeypatch.setattr(signature_services, "audit_record", as_before)
    monkeypatch.setattr(addenda, "audit_record", as_before)
    record = finalized_record()
    addendum_added(record=record, kind="withdrawal", text="No.", author=record.finalized_by)
    monkeypatch.undo()
    audit = audit_verify()
    assert audit.intact, problems()
    assert audit.pre_pinning == 1 + record.session.signatures.count() + 1
    assert {f.message for f in audit.notes} == {PRE_PINNING}
    call_command("verify_audit")
    assert f"were {PRE_PINNING}: verified as part of the chain only" in capsys.readouterr().out
