"""The database itself refuses to rewrite history, even when the ORM is bypassed."""

import pytest
from django.db import DatabaseError, connection, transaction

from consent.audit import triggers
from consent.models import AuditEvent, ConsentRecord, ConsentSession, Signature
from consent.services import signatures as signature_services
from tests.factories import PASSWORD, addendum_added, attested_session, consent_session

pytestmark = pytest.mark.django_db


def refused(statement: str, params: list) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    except DatabaseError:
        return True
    return False


@pytest.fixture
def record():
    session = attested_session()
    signature_services.patient_consent_sign(
        session=session, confirmed_statements=3, typed_name="Jeanne Testpatient", image=None
    )
    record = signature_services.session_finalize(
        session=session,
        physician=session.physician,
        password=PASSWORD,
        render_pdf=lambda session, record_id: b"%PDF-1.7 test",
    )
    addendum_added(record=record, kind="correction", text="A note.", author=record.finalized_by)
    return record


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("consent_auditevent", "action"),
        ("consent_signature", "printed_name"),
        ("consent_consentrecord", "pdf_sha256"),
        ("consent_addendum", "text"),
    ],
)
def test_history_rows_refuse_update_and_delete(record, table, column):
    assert refused(f"UPDATE {table} SET {column} = %s", ["rewritten"])  # noqa: S608
    assert refused(f"DELETE FROM {table}", [])  # noqa: S608
    assert AuditEvent.objects.exists() and Signature.objects.exists()
    assert ConsentRecord.objects.get().pdf_sha256 == record.pdf_sha256


def test_a_finalized_session_refuses_update_and_delete(record):
    assert refused("UPDATE consent_consentsession SET patient_name = %s", ["Someone Else"])
    assert refused("DELETE FROM consent_consentsession WHERE id = %s", [record.session_id])
    assert ConsentSession.objects.get().patient_name == "Jeanne Testpatient"


def test_an_unfinished_session_can_still_change():
    session = consent_session()
    assert not refused(
        "UPDATE consent_consentsession SET current_section = 3 WHERE id = %s", [session.pk]
    )


def test_audit_events_can_still_be_appended(record):
    before = AuditEvent.objects.count()
    addendum_added(record=record, kind="withdrawal", text="Withdrawn.", author=record.finalized_by)
    assert AuditEvent.objects.count() == before + 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_history_tables_refuse_truncate(record):
    assert refused("TRUNCATE consent_auditevent CASCADE", [])
    assert refused("TRUNCATE consent_consentsession CASCADE", [])


def installed_trigger_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return {row[0] for row in cursor.fetchall()}


def test_every_history_trigger_is_installed_after_migrations():
    # On SQLite a migration that alters a table rebuilds it without its triggers: they are
    # reinstalled after every migrate (consent/apps.py).
    expected = set()
    for statement in triggers.create_sql(connection.vendor):
        if statement.startswith("CREATE TRIGGER"):
            expected.add(statement.split()[2])
    assert expected
    assert expected <= installed_trigger_names()
