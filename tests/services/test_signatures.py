"""The signing flow's services: every transition, every refusal, and the frozen record."""

import threading

import pytest
from django.db import connection

from consent.audit.events import Origin
from consent.models import (
    Addendum,
    Attempt,
    AuditEvent,
    ConsentRecord,
    ConsentSession,
    PatientQuestion,
    RecordFinalized,
    Signature,
)
from consent.selectors.session import record_data_get
from consent.services import ServiceError
from consent.services import signatures as signature_services
from tests.factories import (
    PASSWORD,
    addendum_added,
    attested_session,
    physician,
    ready_session,
    reviewed_session,
    signature_png,
)

pytestmark = pytest.mark.django_db

PNG = signature_png()
Status = ConsentSession.Status


def fake_pdf(session, record_id):
    return f"%PDF-1.7 record {record_id}".encode()


def signed_session(**kwargs):
    session = attested_session(**kwargs)
    signature_services.patient_consent_sign(
        session=session, confirmed_statements=3, typed_name="Jeanne Testpatient", image=PNG
    )
    session.refresh_from_db()
    return session


def finalized(session=None):
    session = session or signed_session()
    return signature_services.session_finalize(
        session=session, physician=session.physician, password=PASSWORD, render_pdf=fake_pdf
    )


def test_attestation_is_refused_while_patient_questions_are_unanswered():
    session = ready_session(patient_question="Will it hurt?")
    with pytest.raises(ServiceError, match="Answer every question the patient asked"):
        signature_services.session_attest(
            session=session, physician=session.physician, password=PASSWORD
        )


def test_attestation_is_refused_until_flagged_items_are_resolved():
    session = ready_session(wrong_key="risk-common")
    assert str(
        signature_services.ERROR_FLAGS_UNRESOLVED
    ) in signature_services.attestation_blockers(record_data_get(session=session))


def test_attestation_is_refused_until_free_text_is_assessed():
    session = ready_session()
    assert signature_services.attestation_blockers(record_data_get(session=session)) == [
        str(signature_services.ERROR_FREE_TEXT_UNREVIEWED)
    ]


def test_attestation_with_password_stores_the_signature_manifestation():
    session = reviewed_session(wrong_key="risk-common", patient_question="Will it hurt?")
    signature = signature_services.session_attest(
        session=session, physician=session.physician, password=PASSWORD
    )
    session.refresh_from_db()
    assert session.status == Status.ATTESTED
    assert signature.printed_name == "Alex Martin"
    assert signature.meaning == str(signature_services.MEANINGS[Signature.Kind.ATTESTATION])
    assert signature.statement.startswith("I explained the procedure")
    assert signature.method == "password"
    assert signature.signed_at == session.attested_at


def test_wrong_password_is_refused_logged_and_changes_nothing():
    session = reviewed_session()
    with pytest.raises(ServiceError, match="password is not right"):
        signature_services.session_attest(
            session=session, physician=session.physician, password="nope"
        )
    session.refresh_from_db()
    assert session.status == Status.READY_FOR_DISCUSSION
    assert not Signature.objects.exists()
    refused = AuditEvent.objects.get(session=session, action="signature.refused")
    assert refused.payload == {"kind": "attestation", "reason": "wrong password"}


def test_another_physicians_password_cannot_attest():
    session = reviewed_session()
    other = physician(username="dr.other")
    with pytest.raises(ServiceError, match="Only the responsible physician"):
        signature_services.session_attest(session=session, physician=other, password=PASSWORD)


def test_attesting_twice_is_refused():
    session = attested_session()
    with pytest.raises(ServiceError, match="not possible now"):
        signature_services.session_attest(
            session=session, physician=session.physician, password=PASSWORD
        )
    assert Signature.objects.filter(kind="attestation").count() == 1


def test_patient_cannot_sign_before_attestation():
    session = reviewed_session()
    with pytest.raises(ServiceError, match="not possible now"):
        signature_services.patient_consent_sign(
            session=session, confirmed_statements=3, typed_name="Jeanne", image=None
        )


@pytest.mark.parametrize(
    ("statements", "name", "image", "message"),
    [
        (2, "Jeanne", None, "confirm each statement"),
        (3, "   ", None, "Type your full name"),
        (3, "Jeanne", b"GIF89a....", "could not be read"),
        (3, "Jeanne", b"\x89PNG\r\n\x1a\n" + b"0" * (600 * 1024), "could not be read"),
        (3, "Jeanne", b"\x89PNG\r\n\x1a\n" + b"not really a picture", "could not be read"),
    ],
)
def test_patient_signature_refusals(statements, name, image, message):
    session = attested_session()
    with pytest.raises(ServiceError, match=message):
        signature_services.patient_consent_sign(
            session=session, confirmed_statements=statements, typed_name=name, image=image
        )
    session.refresh_from_db()
    assert session.status == Status.ATTESTED


def test_typed_name_alone_is_a_valid_signature():
    session = attested_session()
    signature = signature_services.patient_consent_sign(
        session=session, confirmed_statements=3, typed_name=" Jeanne  Testpatient ", image=None
    )
    assert (signature.printed_name, signature.method) == ("Jeanne Testpatient", "typed")
    session.refresh_from_db()
    assert session.status == Status.SIGNED


def test_informed_refusal_is_recorded_with_its_reason():
    session = attested_session()
    signature = signature_services.patient_decline(
        session=session, typed_name="Jeanne Testpatient", reason="I prefer to wait.", image=PNG
    )
    session.refresh_from_db()
    assert session.status == Status.DECLINED
    assert session.decline_reason == "I prefer to wait."
    assert signature.kind == "patient_refusal"
    assert signature.method == "drawn"
    assert AuditEvent.objects.filter(session=session, action="session.declined").exists()


def test_interpreter_and_witness_sign_after_the_decision():
    session = signed_session()
    signature_services.companion_sign(
        session=session, kind=Signature.Kind.INTERPRETER, typed_name="Ana Ruiz", image=None
    )
    signature_services.companion_sign(
        session=session, kind=Signature.Kind.WITNESS, typed_name="Bo", image=PNG
    )
    assert set(session.signatures.values_list("kind", flat=True)) == {
        "attestation",
        "patient_consent",
        "interpreter",
        "witness",
    }


def test_finalization_countersigns_stores_the_pdf_and_freezes_the_session():
    session = signed_session()
    record = finalized(session)
    session.refresh_from_db()
    assert session.status == Status.FINALIZED
    assert record.record_id == f"CR-{record.finalized_at:%Y}-{session.pk:06d}"
    assert record.pdf.read() == fake_pdf(session, record.record_id)
    assert len(record.pdf_sha256) == 64
    assert session.signatures.get(kind="countersignature").printed_name == "Alex Martin"


def test_finalizing_twice_yields_one_record():
    session = signed_session()
    finalized(session)
    with pytest.raises(ServiceError, match="not possible now"):
        finalized(session)
    assert ConsentRecord.objects.count() == 1


def test_finalization_before_the_patient_decides_is_refused():
    session = attested_session()
    with pytest.raises(ServiceError):
        finalized(session)
    assert not ConsentRecord.objects.exists()


def test_a_failed_render_finalizes_nothing():
    session = signed_session()

    def broken(session, record_id):
        raise RuntimeError("renderer crashed")

    with pytest.raises(signature_services.RecordNotMade):
        signature_services.session_finalize(
            session=session, physician=session.physician, password=PASSWORD, render_pdf=broken
        )
    session.refresh_from_db()
    assert session.status == Status.SIGNED
    assert not ConsentRecord.objects.exists()
    assert not session.signatures.filter(kind="countersignature").exists()


def test_nothing_of_a_finalized_record_can_be_changed_through_the_models():
    record = finalized()
    session = ConsentSession.objects.get(pk=record.session_id)
    with pytest.raises(RecordFinalized):
        session.save()
    with pytest.raises(RecordFinalized):
        record.save()
    with pytest.raises(RecordFinalized):
        record.delete()
    attempt = Attempt.objects.filter(session=session).first()
    with pytest.raises(RecordFinalized):
        attempt.save()
    with pytest.raises(RecordFinalized):
        attempt.delete()
    with pytest.raises(RecordFinalized):
        PatientQuestion.objects.create(
            session=session, text="late", form_id=__import__("uuid").uuid4()
        )
    with pytest.raises(RecordFinalized):
        session.signatures.first().save()


def test_withdrawal_and_correction_are_addenda_never_edits():
    record = finalized()
    doctor = record.finalized_by
    addendum_added(
        record=record, kind="withdrawal", text="Patient withdrew consent by phone.", author=doctor
    )
    addendum_added(
        record=record, kind="correction", text="Record number is MRN-124.", author=doctor
    )
    assert list(record.addenda.values_list("kind", flat=True)) == ["withdrawal", "correction"]
    with pytest.raises(RecordFinalized):
        Addendum.objects.first().save()
    with pytest.raises(ServiceError, match="Write the text"):
        addendum_added(record=record, kind="correction", text=" ", author=doctor)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_browsers_finalizing_at_once_yield_exactly_one_record():
    session = signed_session()
    barrier = threading.Barrier(2)
    outcomes = []

    def finalize():
        barrier.wait()
        try:
            finalized(ConsentSession.objects.get(pk=session.pk))
            outcomes.append("finalized")
        except ServiceError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=finalize) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["finalized", "refused"]
    assert ConsentRecord.objects.count() == 1
    assert Signature.objects.filter(kind="countersignature").count() == 1


def test_no_new_written_question_after_attestation():
    import uuid

    from consent.services import journey as journey_services

    session = attested_session()
    with pytest.raises(ServiceError, match="ask this one in person"):
        journey_services.patient_question_ask(
            session=session,
            text="One more?",
            asked_from="/patient/decision/",
            form_id=uuid.uuid4(),
            origin=Origin(),
        )


def test_companion_signatures_are_audited_in_their_own_role():
    session = signed_session()
    signature_services.companion_sign(
        session=session, kind=Signature.Kind.INTERPRETER, typed_name="Ana Ruiz", image=None
    )
    event = AuditEvent.objects.get(session=session, action="signature.interpreter")
    assert event.role == "interpreter"


def test_a_failed_finalization_leaves_no_file_behind(settings, monkeypatch):
    session = signed_session()

    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ConsentRecord, "save", fail)
    with pytest.raises(RuntimeError):
        finalized(session)
    records = settings.MEDIA_ROOT / "records"
    assert not records.exists() or not any(p.is_file() for p in records.rglob("*"))


def test_every_signature_stores_the_hash_of_the_evidence_it_signed():
    from consent.record.canonical import snapshot_hash

    session = signed_session()
    current = snapshot_hash(session)
    assert set(session.signatures.values_list("snapshot_hash", flat=True)) == {current}


def test_evidence_changed_after_signing_voids_the_signature_and_finalization_refuses():
    from consent.models import QuestionReview

    session = signed_session(wrong_key="risk-common")
    QuestionReview.objects.filter(session=session).update(note="Quietly rewritten later.")
    with pytest.raises(ServiceError, match="changed after Alex Martin signed it"):
        finalized(session)
    session.refresh_from_db()
    assert session.status == Status.SIGNED
    assert AuditEvent.objects.filter(session=session, action="signature.voided").exists()


def test_re_reading_a_section_after_signing_counts_no_time_and_voids_nothing():
    from consent.models import SectionView
    from consent.services import journey as journey_services

    session = signed_session()
    section = session.procedure_version.sections.first()
    before = list(SectionView.objects.filter(session=session).values_list("seconds", flat=True))
    journey_services.section_leave(
        session=session, section=section, seconds=40, go_to=2, finished_reading=False
    )
    after = list(SectionView.objects.filter(session=session).values_list("seconds", flat=True))
    assert after == before
    assert finalized(session).session.status == Status.FINALIZED


def test_the_canonical_record_is_stored_with_its_hash():
    import hashlib
    import json

    record = finalized()
    document = json.loads(record.record_json)
    assert document["format"] == "consent-record"
    assert document["format_version"] == 2
    assert document["record_id"] == record.record_id
    assert document["patient"]["name"] == "Jeanne Testpatient"
    assert record.record_sha256 == hashlib.sha256(record.record_json.encode()).hexdigest()


def test_a_signature_made_before_rfc_8785_still_vouches_for_the_same_evidence():
    """A signature stored with the version 1 (`json.dumps`) hash of the evidence, as every
    signature made before the upgrade is, lets the session finalize (a hash of other evidence,
    in either form, is refused: test_evidence_changed_after_signing_...)."""
    from consent.record.canonical import snapshot_hashes
    from tests.audit.tampering import sql, without_triggers

    session = signed_session()
    current, version_1 = snapshot_hashes(session)
    assert current != version_1
    without_triggers()
    sql(
        "UPDATE consent_signature SET snapshot_hash = %s WHERE session_id = %s",
        [version_1, session.pk],
    )
    assert finalized(session).record_id
