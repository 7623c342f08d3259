"""The right signer, at the services: the patient's typed name is checked against the patient's
(or a legal representative says who they are), each signature keeps the browser it came from,
a patient's signature beside a staff log-in is flagged, and a link made after the attestation
needs a reason."""

import hashlib

import pytest
from django.db import DatabaseError, connection, transaction

from consent.audit.events import Origin
from consent.models import AuditEvent, ConsentSession, PatientLink, Signature
from consent.selectors.session import record_data_get
from consent.services import ServiceError, links
from consent.services import signatures as signature_services
from tests.factories import attested_session, physician, reviewed_session

pytestmark = pytest.mark.django_db

Status = ConsentSession.Status
MICKEY = "Mickey Mouse"
TABLET = Origin(ip="10.0.0.7", user_agent="Mozilla/5.0 (clinic tablet)")


def consent(session, typed_name, **kwargs):
    return signature_services.patient_consent_sign(
        session=session, confirmed_statements=3, typed_name=typed_name, image=None, **kwargs
    )


def test_a_name_that_is_not_the_patients_is_refused_and_nothing_is_stored():
    session = attested_session(patient_name="Maria Lopez")
    events = AuditEvent.objects.count()

    with pytest.raises(signature_services.NameMismatch) as refused:
        consent(session, MICKEY)

    assert str(refused.value) == (
        "The name you typed, 'Mickey Mouse', does not match the patient's name. Type the "
        "patient's name, or sign as their legal representative."
    )
    session.refresh_from_db()
    assert session.status == Status.ATTESTED
    assert not Signature.objects.filter(session=session, kind="patient_consent").exists()
    assert AuditEvent.objects.count() == events


def test_a_refusal_with_a_name_that_is_not_the_patients_is_refused_too():
    session = attested_session(patient_name="Maria Lopez")
    with pytest.raises(signature_services.NameMismatch):
        signature_services.patient_decline(
            session=session, typed_name=MICKEY, reason="", image=None
        )
    session.refresh_from_db()
    assert session.status == Status.ATTESTED


@pytest.mark.parametrize("typed", ["maria lopez", "LÓPEZ, María", "Lopez Maria"])
def test_the_patients_name_as_people_write_it_signs(typed):
    session = attested_session(patient_name="María López")
    signature = consent(session, typed)
    assert signature.printed_name == typed.strip()
    assert (signature.representative_name, signature.representative_relationship) == ("", "")


def test_a_legal_representative_signs_with_their_name_and_relationship():
    session = attested_session(patient_name="Maria Lopez")

    signature = consent(session, MICKEY, relationship="  legal   guardian ")

    assert signature.printed_name == MICKEY
    assert signature.representative_name == MICKEY
    assert signature.representative_relationship == "legal guardian"
    event = AuditEvent.objects.get(action="signature.patient_consent")
    assert event.actor_label == "legal representative"
    assert event.payload["by_representative"] is True
    decided = AuditEvent.objects.get(action="session.signed")
    assert decided.actor_label == "legal representative"
    data = record_data_get(session=session).signature("patient_consent")
    assert data is not None
    assert (data.representative_name, data.representative_relationship) == (
        MICKEY,
        "legal guardian",
    )


def test_a_representative_must_say_how_they_are_related():
    session = attested_session(patient_name="Maria Lopez")
    with pytest.raises(ServiceError, match="Say how you are related to the patient"):
        consent(session, MICKEY, relationship="   ")
    session.refresh_from_db()
    assert session.status == Status.ATTESTED


def test_an_already_made_decision_says_so_whatever_name_is_typed():
    session = attested_session(patient_name="Maria Lopez")
    consent(session, "Maria Lopez")
    with pytest.raises(ServiceError, match="not possible now") as refused:
        consent(session, MICKEY)
    assert not isinstance(refused.value, signature_services.NameMismatch)


def test_the_signature_keeps_its_browser_session_hash_address_and_client_never_the_key():
    session = attested_session(patient_name="Maria Lopez")
    key = "abcdefghijklmnopqrstuvwxyz012345"
    browser = signature_services.Browser.of_session_key(key, None)

    signature = consent(session, "Maria Lopez", origin=TABLET, browser=browser)

    signature.refresh_from_db()
    assert signature.browser_session_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert (signature.address, signature.client) == ("10.0.0.7", "Mozilla/5.0 (clinic tablet)")
    assert not signature.staff_browser
    assert key not in str(Signature.objects.filter(pk=signature.pk).values().get())
    event = AuditEvent.objects.get(action="signature.patient_consent")
    assert key not in str(event.payload)
    assert event.payload["browser_session_sha256"] == signature.browser_session_sha256


def test_a_patient_signature_beside_a_staff_log_in_is_flagged_with_the_account():
    session = attested_session(patient_name="Maria Lopez")
    doctor = session.physician
    browser = signature_services.Browser.of_session_key("k" * 32, doctor)

    signature = consent(session, "Maria Lopez", browser=browser)

    assert signature.staff_browser
    assert signature.staff_browser_user == doctor
    assert AuditEvent.objects.get(action="signature.patient_consent").payload["staff_browser"]
    data = record_data_get(session=session).signature("patient_consent")
    assert data is not None
    assert data.staff_browser
    assert data.staff_browser_user == "Alex Martin"


def test_a_witness_beside_a_staff_log_in_is_not_flagged_as_the_patient():
    session = attested_session(patient_name="Maria Lopez")
    consent(session, "Maria Lopez")
    browser = signature_services.Browser.of_session_key("k" * 32, session.physician)
    witness = signature_services.companion_sign(
        session=session, kind="witness", typed_name="Paul Durand", image=None, browser=browser
    )
    assert not witness.staff_browser
    assert witness.browser_session_sha256


# A new link after the attestation


def test_a_link_before_the_attestation_needs_no_reason():
    session = reviewed_session()
    link, _token = links.patient_link_issue(session=session, issued_by=session.physician)
    assert (link.issue_reason, link.after_attestation) == ("", False)
    assert record_data_get(session=session).links_after_attestation == []


def test_a_link_after_the_attestation_without_a_reason_is_refused_and_nothing_changes():
    session = attested_session()
    before = list(PatientLink.objects.filter(session=session).values_list("pk", "revoked_at"))
    events = AuditEvent.objects.count()

    with pytest.raises(ServiceError, match="Give the reason for the new link"):
        links.patient_link_issue(session=session, issued_by=session.physician, reason="  ")

    after = list(PatientLink.objects.filter(session=session).values_list("pk", "revoked_at"))
    assert after == before
    assert AuditEvent.objects.count() == events


def test_a_link_after_the_attestation_keeps_its_reason_audited_and_in_the_record():
    session = attested_session()
    nurse = physician(username="dr.other")

    link, _token = links.patient_link_issue(
        session=session, issued_by=nurse, reason=" The patient's phone died. ", origin=TABLET
    )

    assert (link.issue_reason, link.after_attestation) == ("The patient's phone died.", True)
    event = AuditEvent.objects.filter(action="link.reissued").latest("seq")
    assert event.payload["after_attestation"] is True
    assert event.payload["reason"] == "The patient's phone died."
    (reissue,) = record_data_get(session=session).links_after_attestation
    assert (reissue.issued_by, reissue.reason) == ("Alex Martin", "The patient's phone died.")
    assert reissue.issued_at is not None


# Attacks: rewriting the signature behind the application's back


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("staff_browser", False),
        ("staff_browser_user_id", None),
        ("representative_name", ""),
        ("representative_relationship", ""),
        ("browser_session_sha256", "0" * 64),
        ("address", "10.9.9.9"),
    ],
)
def test_the_database_refuses_to_wipe_the_flag_or_the_representative(column, value):
    """Signatures are append-only in the database itself (consent/audit/triggers.py): a flag
    or a representative cannot be quietly removed before the physician reviews it."""
    session = attested_session(patient_name="Maria Lopez")
    browser = signature_services.Browser.of_session_key("k" * 32, session.physician)
    signature = consent(session, MICKEY, relationship="Son", browser=browser, origin=TABLET)

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE consent_signature SET {column} = %s WHERE id = %s",  # noqa: S608
            [value, signature.pk],
        )

    signature.refresh_from_db()
    assert signature.staff_browser
    assert (signature.representative_name, signature.representative_relationship) == (
        MICKEY,
        "Son",
    )
