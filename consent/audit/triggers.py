"""Database triggers that refuse to rewrite history, whatever code or SQL tries.

The audit log, signatures, finalized records and their addenda are append-only: UPDATE and
DELETE (and TRUNCATE on PostgreSQL) are refused by the database itself. A finalized consent
session can no longer be updated or deleted, and neither can any row that is evidence of it
(attempts, section views, the patient's questions and their answers, the physician's reviews,
the discussion): no such row may be inserted, changed or deleted once the session is
finalized, and no signature may be added to it. The patient's attempts freeze earlier, when
the answers lock (the session has left `reviewing`), and a session never goes back to a status
in which they were open. The model layer refuses the same changes
first, with clearer messages; these triggers hold when the ORM is bypassed.

A trigger stops mistakes and code paths, not a database superuser: on PostgreSQL the real
control is an application role without the rights to change these tables or drop their
triggers (`grant_app_role`, docs/deployment-postgresql.md).
"""

from dataclasses import dataclass
from typing import Any

APPEND_ONLY_TABLES = (
    "consent_auditevent",
    "consent_signature",
    "consent_consentrecord",
    "consent_addendum",
)
SESSION_TABLE = "consent_consentsession"
FINALIZED = "finalized"
# The statuses in which the patient's attempts may still be written: the lifecycle's ANSWER
# row (consent/lifecycle.py) allows no other.
ANSWERS_OPEN = ("created", "reviewing")


@dataclass(frozen=True)
class Evidence:
    """A table whose rows belong to one consent session and freeze with it."""

    table: str
    # True: frozen once the answers lock; False: frozen once the session is finalized.
    with_answers: bool = False
    # The statements checked row by row (UPDATE and DELETE of a signature are always refused).
    operations: tuple[str, ...] = ("INSERT", "UPDATE", "DELETE")

    @property
    def reason(self) -> str:
        return "the answers are locked" if self.with_answers else "the session is finalized"

    def frozen(self, status: str) -> str:
        """SQL that is true when a session with this `status` expression no longer accepts it."""
        if self.with_answers:
            return f"{status} NOT IN ({_sql_list(ANSWERS_OPEN)})"
        return f"{status} = '{FINALIZED}'"


SESSION_EVIDENCE = (
    Evidence("consent_attempt", with_answers=True),
    # Reading time is counted until the answers lock (the lifecycle's READ row).
    Evidence("consent_sectionview", with_answers=True),
    Evidence("consent_patientquestion"),
    Evidence("consent_questionreview"),
    Evidence("consent_discussion"),
    Evidence("consent_signature", operations=("INSERT",)),
)


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _status_of(row: str) -> str:
    return f"(SELECT status FROM {SESSION_TABLE} WHERE id = {row}.session_id)"  # noqa: S608


# SQLite


def _sqlite_evidence_triggers() -> list[tuple[str, str]]:
    """(name, CREATE statement) for each guarded statement on each evidence table."""
    triggers = []
    for evidence in SESSION_EVIDENCE:
        for operation in evidence.operations:
            rows = {"INSERT": ("NEW",), "UPDATE": ("OLD", "NEW"), "DELETE": ("OLD",)}[operation]
            when = " OR ".join(evidence.frozen(_status_of(row)) for row in rows)
            name = f"{evidence.table}_frozen_{operation.lower()}"
            triggers.append(
                (
                    name,
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {evidence.table} WHEN {when} "
                    f"BEGIN SELECT RAISE(ABORT, '{evidence.table}: {operation} refused, "
                    f"{evidence.reason}'); END",
                )
            )
    return triggers


_SQLITE_ANSWERS_STAY_LOCKED = (
    f"CREATE TRIGGER {SESSION_TABLE}_answers_stay_locked BEFORE UPDATE OF status "
    f"ON {SESSION_TABLE} WHEN OLD.status NOT IN ({_sql_list(ANSWERS_OPEN)}) "
    f"AND NEW.status IN ({_sql_list(ANSWERS_OPEN)}) "
    "BEGIN SELECT RAISE(ABORT, 'a consent session never reopens the answers'); END"
)


def _sqlite_create() -> list[str]:
    statements = []
    for table in APPEND_ONLY_TABLES:
        for event in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {event} refused'); END"
            )
    for event in ("UPDATE", "DELETE"):
        statements.append(
            f"CREATE TRIGGER {SESSION_TABLE}_finalized_no_{event.lower()} BEFORE {event} "
            f"ON {SESSION_TABLE} WHEN OLD.status = '{FINALIZED}' "
            f"BEGIN SELECT RAISE(ABORT, 'a finalized consent session is immutable'); END"
        )
    statements.append(_SQLITE_ANSWERS_STAY_LOCKED)
    statements += [statement for _name, statement in _sqlite_evidence_triggers()]
    return statements


def _sqlite_drop() -> list[str]:
    names = [f"{t}_no_{e}" for t in APPEND_ONLY_TABLES for e in ("update", "delete")]
    names += [f"{SESSION_TABLE}_finalized_no_{e}" for e in ("update", "delete")]
    names.append(f"{SESSION_TABLE}_answers_stay_locked")
    names += [name for name, _statement in _sqlite_evidence_triggers()]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


# PostgreSQL

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION consent_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: % refused, this history is append-only', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

_PG_ANSWERS_STAY_LOCKED_FUNCTION = """
CREATE OR REPLACE FUNCTION consent_refuse_reopening() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a consent session never reopens the answers'
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _pg_function_name(evidence: Evidence) -> str:
    return "consent_refuse_after_answers" if evidence.with_answers else "consent_refuse_after_final"


def _pg_evidence_function(evidence: Evidence) -> str:
    # FOR SHARE: a write racing the session's change of status (finalization, the answers
    # locking) waits for it and then sees the new status, or makes it wait.
    check = """
        SELECT s.status INTO session_status FROM {session} s
            WHERE s.id = {row}.session_id FOR SHARE;
        IF {frozen} THEN
            RAISE EXCEPTION '%: % refused, {reason}', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END IF;"""

    def guard(row: str) -> str:
        return check.format(
            session=SESSION_TABLE,
            row=row,
            frozen=evidence.frozen("session_status"),
            reason=evidence.reason,
        )

    return f"""
CREATE OR REPLACE FUNCTION {_pg_function_name(evidence)}() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    session_status text;
BEGIN
    IF TG_OP <> 'INSERT' THEN{guard("OLD")}
    END IF;
    IF TG_OP <> 'DELETE' THEN{guard("NEW")}
        RETURN NEW;
    END IF;
    RETURN OLD;
END
$$
"""


def _pg_evidence_functions() -> list[str]:
    seen: dict[str, str] = {}
    for evidence in SESSION_EVIDENCE:
        seen.setdefault(_pg_function_name(evidence), _pg_evidence_function(evidence))
    return list(seen.values())


def _pg_truncate_guarded() -> list[str]:
    tables = [*APPEND_ONLY_TABLES, SESSION_TABLE]
    return tables + [e.table for e in SESSION_EVIDENCE if e.table not in tables]


def _postgresql_create() -> list[str]:
    statements = [_PG_FUNCTION, _PG_ANSWERS_STAY_LOCKED_FUNCTION, *_pg_evidence_functions()]
    for table in APPEND_ONLY_TABLES:
        statements.append(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION consent_refuse_change()"
        )
    statements.append(
        f"CREATE TRIGGER {SESSION_TABLE}_finalized BEFORE UPDATE OR DELETE ON {SESSION_TABLE} "
        f"FOR EACH ROW WHEN (OLD.status = '{FINALIZED}') "
        "EXECUTE FUNCTION consent_refuse_change()"
    )
    statements.append(
        f"CREATE TRIGGER {SESSION_TABLE}_answers_stay_locked BEFORE UPDATE OF status "
        f"ON {SESSION_TABLE} FOR EACH ROW "
        f"WHEN (OLD.status NOT IN ({_sql_list(ANSWERS_OPEN)}) "
        f"AND NEW.status IN ({_sql_list(ANSWERS_OPEN)})) "
        "EXECUTE FUNCTION consent_refuse_reopening()"
    )
    for evidence in SESSION_EVIDENCE:
        statements.append(
            f"CREATE TRIGGER {evidence.table}_frozen BEFORE {' OR '.join(evidence.operations)} "
            f"ON {evidence.table} FOR EACH ROW "
            f"EXECUTE FUNCTION {_pg_function_name(evidence)}()"
        )
    # TRUNCATE empties a table without looking at rows: refused on every guarded table.
    for table in _pg_truncate_guarded():
        statements.append(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION consent_refuse_change()"
        )
    return statements


def _postgresql_drop() -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in APPEND_ONLY_TABLES
    ]
    statements.append(f"DROP TRIGGER IF EXISTS {SESSION_TABLE}_finalized ON {SESSION_TABLE}")
    statements.append(
        f"DROP TRIGGER IF EXISTS {SESSION_TABLE}_answers_stay_locked ON {SESSION_TABLE}"
    )
    statements += [
        f"DROP TRIGGER IF EXISTS {e.table}_frozen ON {e.table}" for e in SESSION_EVIDENCE
    ]
    statements += [
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}" for table in _pg_truncate_guarded()
    ]
    return statements


def create_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return _sqlite_create()
    if vendor == "postgresql":
        return _postgresql_create()
    raise NotImplementedError(f"no history triggers for {vendor}")


def drop_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return _sqlite_drop()
    if vendor == "postgresql":
        return _postgresql_drop()
    raise NotImplementedError(f"no history triggers for {vendor}")


def triggers_install(connection: Any) -> None:
    """(Re)install every history trigger; safe to run any number of times.

    Run after every `migrate`: on SQLite, altering a table rebuilds it, and a rebuilt table has
    lost its triggers.
    """
    if connection.vendor not in ("sqlite", "postgresql"):
        return
    with connection.cursor() as cursor:
        for statement in [*drop_sql(connection.vendor), *create_sql(connection.vendor)]:
            cursor.execute(statement)
