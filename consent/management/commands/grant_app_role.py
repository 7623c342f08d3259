"""python manage.py grant_app_role ROLE: give PostgreSQL's application role exactly what it needs.

Run it as the schema owner after every `migrate`. The application connects as ROLE, which may
read everywhere and append where the flow appends, UPDATE only the tables the flow changes in
place, DELETE only what Django's sessions, the account admin, log-in throttling, the second
factor and pruned background tasks remove, and never TRUNCATE.
Evidence is never updated or deleted by the application: the audit log, signatures, records,
addenda and the patient's attempts are only appended; the rows it does change (reading time,
answers to questions, reviews, the discussion, the session itself) are frozen by the triggers
once the session is finalized. Only privileges stop someone who can drop a trigger; the
application role cannot (it owns nothing).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

# Tables the application changes in place (consent.services, Django's sessions, sign-in's
# last_login, the account admin). Every other table is append-only for the application.
UPDATED_TABLES = (
    "consent_consentsession",
    "consent_patientlink",
    "consent_sectionview",
    "consent_patientquestion",
    "consent_questionreview",
    "consent_discussion",
    # A draft content pack is marked published once (consent/services/authoring.py).
    "consent_packdraft",
    "auth_user",
    "auth_group",
    "django_session",
    # Log-in throttling (django-axes counts failures on one row per account and address),
    # the second factor (django-otp keeps each device's last code and failure count), and the
    # background tasks (django-tasks' worker claims a task, then records its outcome).
    "axes_accessattempt",
    "axes_accessattemptexpiration",
    "axes_accesslog",
    "otp_totp_totpdevice",
    "otp_static_staticdevice",
    "django_tasks_database_dbtaskresult",
)
# Tables the application deletes from: sessions (sign-out, a new key at sign-in, the patient's
# exit), accounts, their memberships and permissions, edited in the admin (deleting an
# account removes its admin log entries with it), and the log-in and task bookkeeping below.
# Consent data is never deleted.
DELETED_TABLES = (
    "django_session",
    "auth_user",
    "auth_user_groups",
    "auth_user_user_permissions",
    "auth_group",
    "auth_group_permissions",
    "django_admin_log",
    # A successful log-in or the cool-off clears the account's failed attempts; a reset of the
    # second factor removes its devices; a recovery code is used up; old tasks are pruned.
    "axes_accessattempt",
    "axes_accessattemptexpiration",
    "axes_accessfailurelog",
    "axes_accesslog",
    "otp_totp_totpdevice",
    "otp_static_staticdevice",
    "otp_static_statictoken",
    "django_tasks_database_dbtaskresult",
)
# Written by `migrate` only, which runs as the owner.
OWNER_ONLY_TABLES = ("django_migrations",)


def grant_statements(role: str, tables: list[str]) -> list[str]:
    quote = connection.ops.quote_name
    quoted = quote(role)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
    ]
    for privilege, names in [
        ("INSERT", [t for t in tables if t not in OWNER_ONLY_TABLES]),
        ("UPDATE", [t for t in tables if t in UPDATED_TABLES]),
        ("DELETE", [t for t in tables if t in DELETED_TABLES]),
    ]:
        if names:
            statements.append(
                f"GRANT {privilege} ON {', '.join(quote(t) for t in names)} TO {quoted}"
            )
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
        updated = [t for t in tables if t in UPDATED_TABLES]
        deleted = [t for t in tables if t in DELETED_TABLES]
        self.stdout.write(
            f"{role}: SELECT on {len(tables)} tables, INSERT on "
            f"{len([t for t in tables if t not in OWNER_ONLY_TABLES])}; UPDATE only on "
            f"{', '.join(updated)}; DELETE only on {', '.join(deleted)}; no TRUNCATE anywhere."
        )
