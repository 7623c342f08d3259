"""python manage.py seed_demo: a year of realistic consent sessions, for demos and the auditor.

Every session goes through the services, the way the pages drive them, on a simulated clock
(demo/seeding.py): the audit chain stays intact and every finalized record has its real,
sealed PDF (about a second each). Patients are fictitious. For demonstration databases only:
the demo passwords are printed and known to everyone.

Run it on a freshly migrated database for a full year of history, before `make run` (which adds
events dated now): the audit log's times never go backwards, so on a database whose log already
reaches today the same history is told in the time since its last event. Running it again adds
more sessions; nothing is ever deleted.
"""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from consent.models import ConsentSession
from demo.accounts import (
    DEMO_ACCOUNTS,
    DEMO_PHYSICIAN,
    DEMO_PHYSICIAN_PASSWORD,
    DEMO_PHYSICIANS,
    refuse_in_production,
)
from demo.clock import SimulatedClock
from demo.seeding import Progress, SeedError, SeedReport, demo_history_seed, history_start

DEFAULT_SEED = 1948


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Add a realistic history of consent sessions (fictitious patients) through the "
        "services, spread over the last months. Demonstration databases only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sessions", type=_positive, default=200, help="sessions to add (default 200)"
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=(
                "the same seed tells the same story: the same patients, outcomes and answers; "
                f"give another seed for other patients (default {DEFAULT_SEED})"
            ),
        )
        parser.add_argument(
            "--days", type=_positive, default=365, help="how far back the history goes (365)"
        )
        parser.add_argument(
            "--progress-every",
            type=_positive,
            default=50,
            help="report progress after this many sessions (50)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even though DEBUG is off (never in production)",
        )

    def handle(
        self,
        *args: Any,
        sessions: int,
        seed: int,
        days: int,
        progress_every: int,
        force: bool,
        **options: Any,
    ) -> None:
        refuse_in_production(force=force)
        key = Path(settings.SEAL_P12_PATH)
        if not key.exists():
            self.stdout.write(f"No signing key at {key}: creating a development key.")
            call_command("create_seal_key", stdout=self.stdout)
        if not key.is_file():
            raise CommandError(f"No signing key at {key}: run create_seal_key.")
        self.stdout.write(
            f"Seeding {sessions} consent sessions over the last {days} days (seed {seed}); "
            "each finalized record renders and seals a real PDF."
        )
        # The history ends now and starts `days` ago, or after the audit log's last event.
        end = timezone.now()
        clock = SimulatedClock(start=history_start(days=days, end=end))
        try:
            report = demo_history_seed(
                sessions=sessions,
                seed=seed,
                clock=clock,
                days=days,
                end=end,
                progress=self._progress,
                progress_every=progress_every,
            )
        except SeedError as error:
            raise CommandError(str(error)) from error
        self._summary(report)
        if report.chain is not None and not report.chain.intact:
            raise CommandError(
                f"audit chain broken at event {report.chain.broken_seq}: {report.chain.reason}"
            )

    def _progress(self, progress: Progress) -> None:
        self.stdout.write(
            f"  {progress.begun}/{progress.total} sessions begun, {progress.records} records "
            f"sealed, {progress.seconds:.0f} s"
        )

    def _summary(self, report: SeedReport) -> None:
        """Counts only: no name, date of birth or record number is ever printed."""
        labels = dict(ConsentSession.Status.choices)
        statuses = ", ".join(
            f"{str(labels.get(status, status)).lower()} {count}"
            for status, count in sorted(report.statuses.items(), key=lambda item: -item[1])
        )
        first_try = (
            f"{100 * report.first_try_right / report.first_try_graded:.0f}%"
            if report.first_try_graded
            else "n/a"
        )
        per_record = (
            f", {report.record_seconds / report.records:.2f} s per sealed record"
            if report.records
            else ""
        )
        lines = [
            "",
            f"Added {report.sessions} consent sessions in {report.seconds:.1f} s "
            f"({report.seconds / max(report.sessions, 1):.2f} s per session{per_record}).",
            f"History from {report.window_start:%Y-%m-%d %H:%M} to "
            f"{report.window_end:%Y-%m-%d %H:%M} UTC.",
            f"By status: {statuses}.",
            f"Decisions: {report.consented} consented, {report.declined} declined; "
            f"{report.withdrawn} consents withdrawn and {report.corrected} corrections by "
            f"addendum; {report.records} finalized records with their PDF.",
            f"Teach-back: {report.attempts} attempts, {first_try} right at the first try, "
            f"{report.flagged} items flagged; {report.patient_questions} patient questions; "
            f"{report.interpreter_signatures} interpreter and {report.witness_signatures} "
            "witness signatures.",
            f"Audit log: {report.events} events added"
            + (
                f"; chain intact ({report.chain.count} events)."
                if report.chain is not None and report.chain.intact
                else "."
            ),
        ]
        if report.compressed:
            lines.append(
                "Note: the audit log already had events after the start of the requested "
                "period, and its times never go backwards: this history was placed after its "
                "last event. For a full history, seed a freshly migrated database first."
            )
        auditor = next(a for a in DEMO_ACCOUNTS if a[0] == "auditor")
        usernames = ", ".join([DEMO_PHYSICIAN, *(u for u, _f, _l in DEMO_PHYSICIANS)])
        lines += [
            "",
            f"Physicians: {usernames} (password {DEMO_PHYSICIAN_PASSWORD}).",
            f"Auditor: {auditor[0]} (password {auditor[1]}).",
        ]
        self.stdout.write("\n".join(lines))
