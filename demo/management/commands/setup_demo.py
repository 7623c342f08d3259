"""python manage.py setup_demo: demo staff accounts and one consent session with a fresh link.

For a developer's machine only: the passwords are printed and known to everyone.
"""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from consent import lifecycle
from consent.models import ConsentSession, ProcedureVersion
from consent.services.links import patient_link_issue
from consent.services.sessions import consent_session_create
from demo.accounts import (
    DEMO_ACCOUNTS,
    DEMO_PHYSICIAN,
    accounts_ensure,
    demo_second_factor_lines,
    refuse_in_production,
)

# The demo patient: fictitious.
PATIENT_NAME = "Jeanne Demo"
PATIENT_BIRTH_DATE = date(1948, 3, 27)
PATIENT_RECORD_NUMBER = "DEMO-0001"


class Command(BaseCommand):
    help = "Create demo staff accounts and a demo consent session, and print a patient link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--procedure", default="mitraclip")
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even though DEBUG is off (never in production)",
        )

    def handle(
        self, *args: Any, base_url: str, procedure: str, force: bool, **options: Any
    ) -> None:
        refuse_in_production(force=force)
        # The newest source text: make run imports its translations too (content/*.toml, the
        # French pack among them), which are newer but not the demo's language.
        version = (
            ProcedureVersion.objects.filter(slug=procedure, translation_of__isnull=True)
            .order_by("-imported_at")
            .first()
        )
        if version is None:
            raise CommandError(f'No "{procedure}" content pack is imported; run import_pack.')
        physician = accounts_ensure()[DEMO_PHYSICIAN]
        session = (
            ConsentSession.objects.filter(
                physician=physician,
                procedure_version=version,
                patient_record_number=PATIENT_RECORD_NUMBER,
                # Reuse a session nobody has signed yet; a later one is left as it is.
                status__in=lifecycle.OPEN,
            )
            .order_by("-created_at")
            .first()
        )
        if session is None:
            session = consent_session_create(
                patient_name=PATIENT_NAME,
                patient_birth_date=PATIENT_BIRTH_DATE,
                patient_record_number=PATIENT_RECORD_NUMBER,
                procedure_version=version,
                physician=physician,
                created_by=physician,
            )
        _link, token = patient_link_issue(session=session, issued_by=physician)
        link = base_url.rstrip("/") + reverse("patient:link", kwargs={"token": token})
        birth = PATIENT_BIRTH_DATE
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Demo accounts (log in at " + base_url.rstrip("/") + "/accounts/login/):",
                    *(
                        f"  {role:<14} user {username:<10} password {password}"
                        for username, password, _f, _l, role in DEMO_ACCOUNTS
                    ),
                    *demo_second_factor_lines(),
                    "",
                    f"Demo patient: {PATIENT_NAME}, "
                    f"born {birth.day} {birth.month} {birth.year} (day month year).",
                    "Patient link (open it in another browser or a private window):",
                    f"  {link}",
                    "",
                ]
            )
        )
