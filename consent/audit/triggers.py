"""Database triggers that refuse to rewrite history, whatever code or SQL tries.

The audit log, signatures, finalized records and their addenda are append-only: UPDATE and
DELETE (and TRUNCATE on PostgreSQL) are refused by the database itself. A finalized consent
session can no longer be updated or deleted. The model layer refuses the same changes first,
with clearer messages; these triggers hold when the ORM is bypassed.

A trigger stops mistakes and code paths, not a database superuser: on PostgreSQL the real
control is an application role without UPDATE, DELETE or TRUNCATE on these tables
(docs/deployment-postgresql.md).
"""

from typing import Any

APPEND_ONLY_TABLES = (
    "consent_auditevent",
    "consent_signature",
    "consent_consentrecord",
    "consent_addendum",
)
SESSION_TABLE = "consent_consentsession"
FINALIZED = "finalized"


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
    return statements


def _sqlite_drop() -> list[str]:
    names = [f"{t}_no_{e}" for t in APPEND_ONLY_TABLES for e in ("update", "delete")]
    names += [f"{SESSION_TABLE}_finalized_no_{e}" for e in ("update", "delete")]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION consent_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: % refused, this history is append-only', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _postgresql_create() -> list[str]:
    statements = [_PG_FUNCTION]
    for table in APPEND_ONLY_TABLES:
        statements.append(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION consent_refuse_change()"
        )
        statements.append(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION consent_refuse_change()"
        )
    statements.append(
        f"CREATE TRIGGER {SESSION_TABLE}_finalized BEFORE UPDATE OR DELETE ON {SESSION_TABLE} "
        f"FOR EACH ROW WHEN (OLD.status = '{FINALIZED}') "
        "EXECUTE FUNCTION consent_refuse_change()"
    )
    statements.append(
        f"CREATE TRIGGER {SESSION_TABLE}_no_truncate BEFORE TRUNCATE ON {SESSION_TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION consent_refuse_change()"
    )
    return statements


def _postgresql_drop() -> list[str]:
    statements = []
    for table in APPEND_ONLY_TABLES:
        statements.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        statements.append(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    statements.append(f"DROP TRIGGER IF EXISTS {SESSION_TABLE}_finalized ON {SESSION_TABLE}")
    statements.append(f"DROP TRIGGER IF EXISTS {SESSION_TABLE}_no_truncate ON {SESSION_TABLE}")
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
