"""python manage.py grant_app_role ROLE: give PostgreSQL's application role exactly what it needs.

Run it as the schema owner after every `migrate`. The application connects as ROLE, which may
read and append everywhere, change the working tables, and never UPDATE, DELETE or TRUNCATE
history (the audit log, signatures, records, addenda). Triggers guard the same tables, but only
privileges stop someone who can drop a trigger; the application role cannot (it owns nothing).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from consent.audit.triggers import APPEND_ONLY_TABLES


def grant_statements(role: str, tables: list[str]) -> list[str]:
    quoted = connection.ops.quote_name(role)
    working = [t for t in tables if t not in APPEND_ONLY_TABLES]
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
    ]
    if working:
        names = ", ".join(connection.ops.quote_name(t) for t in working)
        statements.append(f"GRANT UPDATE, DELETE ON {names} TO {quoted}")
    return statements


class Command(BaseCommand):
    help = "Grant a PostgreSQL application role rights that exclude rewriting history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role")

    def handle(self, *args: Any, role: str, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("grant_app_role is for PostgreSQL deployments")
        tables = connection.introspection.table_names()
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in grant_statements(role, tables):
                cursor.execute(statement)
        self.stdout.write(
            f"{role}: SELECT and INSERT on {len(tables)} tables; UPDATE and DELETE except on "
            f"{', '.join(APPEND_ONLY_TABLES)}; no TRUNCATE anywhere."
        )
