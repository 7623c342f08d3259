"""Attacks on the evidence of a consent session: the database refuses each of them.

Every statement is raw SQL through `connection.cursor()`, as someone bypassing the ORM would
write it: as the schema owner (SQLite and PostgreSQL), and on PostgreSQL as the restricted
application role of `grant_app_role`.
"""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from consent.audit import triggers
from consent.lifecycle import TRANSITIONS, Action
from consent.models import (
    ANSWERS_OPEN,
    Attempt,
    ConsentRecord,
    ConsentSession,
    PatientQuestion,
    QuestionReview,
    SectionView,
)
from tests import factories

pytestmark = pytest.mark.django_db

POSTGRESQL = connection.vendor == "postgresql"
APP_ROLE = "consent_app_frozen_test"

# Each evidence table, a column an attacker would rewrite, and a value to write there.
EVIDENCE = {
    "consent_attempt": ("is_correct", True),
    "consent_sectionview": ("seconds", 999),
    "consent_patientquestion": ("answer", "Nothing was said."),
    "consent_questionreview": ("note", "Rewritten later."),
    "consent_discussion": ("alternatives_notes", "Rewritten later."),
    "consent_signature": ("printed_name", "Someone Else"),
}
# Rows that belong to the session through its record.
RECORD_EVIDENCE = {
    "consent_consentrecord": ("pdf_sha256", "0" * 64, "id"),
    "consent_addendum": ("text", "Rewritten later.", "record_id"),
}


def refusal(statement: str, params: list, *, role: str | None = None) -> str | None:
    """Run one statement in its own savepoint; the database's refusal, or None if it passed."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if role:
                cursor.execute(f"SET LOCAL ROLE {role}")
            cursor.execute(statement, params)
    except DatabaseError as error:
        return str(error)
    return None


def copy_row(table: str) -> str:
    """INSERT of a copy of one of the session's rows: a new row of that session."""
    with connection.cursor() as cursor:
        columns = [
            c.name
            for c in connection.introspection.get_table_description(cursor, table)
            if c.name != "id"
        ]
    names = ", ".join(columns)
    return (
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {table} "  # noqa: S608
        "WHERE session_id = %s LIMIT 1"
    )


@pytest.fixture
def record() -> ConsentRecord:
    """A finalized record with evidence in every table, and a correction added to it."""
    record = factories.finalized_record(read_through=True)
    factories.addendum_added(
        record=record, kind="correction", text="A note.", author=record.finalized_by
    )
    session = record.session
    for table in EVIDENCE:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {table} WHERE session_id = %s",  # noqa: S608
                [session.pk],
            )
            assert cursor.fetchone()[0] > 0, f"the fixture has no {table} row to attack"
    return record


def snapshot(session_id: int) -> dict[str, list]:
    snap = {}
    with connection.cursor() as cursor:
        for table in EVIDENCE:
            cursor.execute(
                f"SELECT * FROM {table} WHERE session_id = %s ORDER BY id",  # noqa: S608
                [session_id],
            )
            snap[table] = cursor.fetchall()
    return snap


def attacks(record: ConsentRecord) -> list[tuple[str, str, str, list]]:
    """(table, kind, statement, params) for every statement tried on a finalized session."""
    session_id = record.session_id
    tried = []
    for table, (column, value) in EVIDENCE.items():
        where = "WHERE session_id = %s"
        tried.append(
            (table, "UPDATE", f"UPDATE {table} SET {column} = %s {where}", [value, session_id])  # noqa: S608
        )
        tried.append((table, "DELETE", f"DELETE FROM {table} {where}", [session_id]))  # noqa: S608
        tried.append((table, "INSERT", copy_row(table), [session_id]))
    for table, (column, value, key) in RECORD_EVIDENCE.items():
        where = f"WHERE {key} = %s"
        tried.append(
            (table, "UPDATE", f"UPDATE {table} SET {column} = %s {where}", [value, record.pk])  # noqa: S608
        )
        tried.append((table, "DELETE", f"DELETE FROM {table} {where}", [record.pk]))  # noqa: S608
    tried.append(
        (
            "consent_consentsession",
            "UPDATE",
            "UPDATE consent_consentsession SET status = %s WHERE id = %s",
            ["signed", session_id],
        )
    )
    tried.append(
        (
            "consent_consentsession",
            "DELETE",
            "DELETE FROM consent_consentsession WHERE id = %s",
            [session_id],
        )
    )
    return tried


def test_every_statement_on_a_finalized_sessions_evidence_is_refused(record):
    before = snapshot(record.session_id)
    passed = []
    for table, kind, statement, params in attacks(record):
        error = refusal(statement, params)
        if error is None:
            passed.append((table, kind))
        else:
            # Refused by a trigger, not by a unique key or a foreign key that was in the way.
            assert "refused" in error or "immutable" in error, (table, kind, error)
    assert passed == []
    assert snapshot(record.session_id) == before
    assert ConsentRecord.objects.get().pdf_sha256 == record.pdf_sha256
    assert record.addenda.get().text == "A note."


@pytest.mark.parametrize("table", list(EVIDENCE))
def test_each_evidence_table_names_the_refusal(record, table):
    column, value = EVIDENCE[table]
    sid = record.session_id
    for statement, params in [
        (f"UPDATE {table} SET {column} = %s WHERE session_id = %s", [value, sid]),  # noqa: S608
        (f"DELETE FROM {table} WHERE session_id = %s", [sid]),  # noqa: S608
        (copy_row(table), [sid]),
    ]:
        error = refusal(statement, params)
        assert error is not None and table in error and "refused" in error, (statement, error)


def test_a_row_cannot_be_moved_into_or_out_of_a_finalized_session(record):
    ready = factories.ready_session(read_through=True, doctor=record.session.physician)
    for table in ("consent_sectionview", "consent_patientquestion"):
        moved_in = f"UPDATE {table} SET session_id = %s WHERE session_id = %s"  # noqa: S608
        assert refusal(moved_in, [record.session_id, ready.pk]) is not None, table
        assert refusal(moved_in, [ready.pk, record.session_id]) is not None, table


def test_a_session_never_reopens_the_answers():
    ready = factories.ready_session()
    for status in ANSWERS_OPEN:
        error = refusal(
            "UPDATE consent_consentsession SET status = %s WHERE id = %s", [status, ready.pk]
        )
        assert error is not None and "reopens" in error
    ready.refresh_from_db()
    assert ready.status == ConsentSession.Status.READY_FOR_DISCUSSION


def test_attempts_freeze_when_the_answers_lock():
    ready = factories.ready_session(wrong_key="purpose")
    sid = ready.pk
    for statement, params in [
        ("UPDATE consent_attempt SET is_correct = %s WHERE session_id = %s", [True, sid]),
        ("DELETE FROM consent_attempt WHERE session_id = %s", [sid]),
        (copy_row("consent_attempt"), [sid]),
    ]:
        error = refusal(statement, params)
        assert error is not None and "answers are locked" in error, (statement, error)
    assert not Attempt.objects.filter(session=ready, question__key="purpose", is_correct=True)


def test_the_lifecycle_opens_attempts_only_where_the_database_does():
    assert TRANSITIONS[Action.ANSWER].allowed <= set(triggers.ANSWERS_OPEN)
    assert set(triggers.ANSWERS_OPEN) == set(ANSWERS_OPEN)


def test_rows_of_an_unfinished_session_can_still_be_written_where_the_flow_needs_it():
    reviewing = factories.consent_session()
    reviewing.status = ConsentSession.Status.REVIEWING
    reviewing.save(update_fields=["status"])
    question = reviewing.procedure_version.questions.order_by("position")[0]
    assert Attempt.objects.create(session=reviewing, question=question, round=1, answer=[0])
    assert refusal("UPDATE consent_attempt SET is_correct = %s", [False]) is None

    section = reviewing.procedure_version.sections.order_by("position")[0]
    assert SectionView.objects.create(session=reviewing, section=section, seconds=5, visits=1)
    column, value = EVIDENCE["consent_sectionview"]
    reading = f"UPDATE consent_sectionview SET {column} = %s WHERE session_id = %s"  # noqa: S608
    assert refusal(reading, [value, reviewing.pk]) is None

    ready = factories.ready_session(read_through=True, doctor=reviewing.physician)
    sid = ready.pk
    # Reading times freeze with the answers; the patient's questions stay open until the end.
    assert refusal(reading, [value, sid]) is not None
    column, value = EVIDENCE["consent_patientquestion"]
    statement = f"UPDATE consent_patientquestion SET {column} = %s WHERE session_id = %s"  # noqa: S608
    assert refusal(statement, [value, sid]) is None
    reviewed = factories.reviewed_session(wrong_key="purpose", doctor=reviewing.physician)
    assert (
        refusal(
            "UPDATE consent_questionreview SET note = %s WHERE session_id = %s", ["ok", reviewed.pk]
        )
        is None
    )
    assert set(QuestionReview.objects.filter(session=reviewed).values_list("note", flat=True)) == {
        "ok"
    }
    assert PatientQuestion.objects.filter(session=ready).exists()
    assert SectionView.objects.filter(session=ready).exists()


@pytest.mark.skipif(not POSTGRESQL, reason="TRUNCATE is PostgreSQL's")
def test_every_evidence_table_refuses_truncate(record):
    for table in [*EVIDENCE, *RECORD_EVIDENCE]:
        assert refusal(f"TRUNCATE {table} CASCADE", []) is not None, table


# The restricted application role on PostgreSQL


@pytest.fixture
def app_role() -> str:
    # Roles belong to the whole cluster: another test worker may have made it already.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE])
        exists = cursor.fetchone()
    if not exists:
        refusal(f"CREATE ROLE {APP_ROLE} NOLOGIN", [])
    call_command("grant_app_role", APP_ROLE)
    return APP_ROLE


@pytest.mark.skipif(not POSTGRESQL, reason="roles are PostgreSQL's")
def test_the_app_role_is_refused_every_statement_on_a_finalized_sessions_evidence(record, app_role):
    before = snapshot(record.session_id)
    passed = [
        (table, kind)
        for table, kind, statement, params in attacks(record)
        if refusal(statement, params, role=app_role) is None
    ]
    assert passed == []
    for table in [*EVIDENCE, *RECORD_EVIDENCE, "consent_consentsession"]:
        assert refusal(f"TRUNCATE {table} CASCADE", [], role=app_role) is not None, table
    for statement in triggers.drop_sql("postgresql"):
        assert refusal(statement, [], role=app_role) is not None, statement
    assert snapshot(record.session_id) == before


@pytest.mark.skipif(not POSTGRESQL, reason="roles are PostgreSQL's")
def test_the_app_role_cannot_rewrite_what_the_flow_only_appends(app_role):
    ready = factories.ready_session(read_through=True)
    appended_only = (
        "consent_attempt",
        "consent_signature",
        "consent_auditevent",
        "auth_permission",
    )
    for table in appended_only:
        error = refusal(f"UPDATE {table} SET id = id", [], role=app_role)  # noqa: S608
        assert error is not None and "permission denied" in error, table
    for table in (*appended_only, "consent_sectionview", "consent_patientquestion"):
        error = refusal(f"DELETE FROM {table}", [], role=app_role)  # noqa: S608
        assert error is not None and "permission denied" in error, table
    # Reading time is still counted while the patient reviews (the flow updates it then).
    reviewing = factories.consent_session(doctor=ready.physician)
    reviewing.status = ConsentSession.Status.REVIEWING
    reviewing.save(update_fields=["status"])
    section = reviewing.procedure_version.sections.order_by("position")[0]
    SectionView.objects.create(session=reviewing, section=section, seconds=5, visits=1)
    assert (
        refusal(
            "UPDATE consent_sectionview SET seconds = seconds WHERE session_id = %s",
            [reviewing.pk],
            role=app_role,
        )
        is None
    )
