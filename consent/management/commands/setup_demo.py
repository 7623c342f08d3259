"""python manage.py setup_demo: demo staff accounts and one consent session with a fresh link.

For a developer's machine only: the passwords are printed and known to everyone.
"""

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse

from consent.models import ConsentSession, ProcedureVersion
from consent.roles import AUDITOR, PHYSICIAN, roles_ensure
from consent.services.links import patient_link_issue
from consent.services.sessions import consent_session_create

DEMO_ACCOUNTS = (
    # username, password, first name, last name, role
    ("dr.martin", "demo-physician-pass", "Alex", "Martin", PHYSICIAN),
    ("auditor", "demo-auditor-pass", "Sam", "Lee", AUDITOR),
)
DEMO_PATIENT = {
    "patient_name": "Jeanne Demo",
    "patient_birth_date": date(1948, 3, 27),
    "patient_record_number": "DEMO-0001",
}


class Command(BaseCommand):
    help = "Create demo staff accounts and a demo consent session, and print a patient link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--procedure", default="mitraclip")

    def handle(self, *args: Any, base_url: str, procedure: str, **options: Any) -> None:
        version = ProcedureVersion.objects.filter(slug=procedure).order_by("-imported_at").first()
        if version is None:
            raise CommandError(f'No "{procedure}" content pack is imported; run import_pack.')
        roles_ensure()
        users = {}
        with transaction.atomic():
            for username, password, first, last, role in DEMO_ACCOUNTS:
                user, _created = get_user_model().objects.get_or_create(username=username)
                user.first_name, user.last_name = first, last
                user.set_password(password)
                user.save()
                user.groups.set([Group.objects.get(name=role)])
                users[role] = user
        physician = users[PHYSICIAN]
        session = (
            ConsentSession.objects.filter(
                physician=physician,
                procedure_version=version,
                patient_record_number=DEMO_PATIENT["patient_record_number"],
                status__in=[
                    ConsentSession.Status.CREATED,
                    ConsentSession.Status.REVIEWING,
                    ConsentSession.Status.READY_FOR_DISCUSSION,
                ],
            )
            .order_by("-created_at")
            .first()
        )
        if session is None:
            session = consent_session_create(
                **DEMO_PATIENT, procedure_version=version, physician=physician, created_by=physician
            )
        _link, token = patient_link_issue(session=session, issued_by=physician)
        link = base_url.rstrip("/") + reverse("patient:link", kwargs={"token": token})
        birth = DEMO_PATIENT["patient_birth_date"]
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Demo accounts (log in at " + base_url.rstrip("/") + "/accounts/login/):",
                    *(
                        f"  {role:<10} user {username:<10} password {password}"
                        for username, password, _f, _l, role in DEMO_ACCOUNTS
                    ),
                    "",
                    f"Demo patient: {DEMO_PATIENT['patient_name']}, "
                    f"born {birth.day} {birth.month} {birth.year} (day month year).",
                    "Patient link (open it in another browser or a private window):",
                    f"  {link}",
                    "",
                ]
            )
        )
