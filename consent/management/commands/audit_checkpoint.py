"""python manage.py audit_checkpoint: seal the audit chain's head and store it outside the
database (consent/audit/checkpoint.py). Run it from cron, e.g. every hour::

    17 * * * *  cd /srv/consent && .venv/bin/python manage.py audit_checkpoint --quiet
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.audit.chain import chain_verify
from consent.audit.checkpoint import (
    Kind,
    Verdict,
    checkpoint_against_chain,
    checkpoint_names,
    checkpoint_read,
    checkpoint_write,
)


class Command(BaseCommand):
    help = "Seal the audit chain's head (seq, hash, event count, time) into checkpoint storage."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="Print nothing on success.")

    def handle(self, *args: Any, **options: Any) -> None:
        # Anchoring a broken or cut chain would vouch for the damage: refuse instead.
        report = chain_verify()
        if not report.intact:
            raise CommandError(
                f"audit chain broken at event {report.broken_seq}: {report.reason}; "
                "no checkpoint written (run verify_audit)."
            )
        names = checkpoint_names()
        if names:
            latest = checkpoint_read(names[-1])
            if latest.verdict == Verdict.SEALED:
                latest = checkpoint_against_chain(latest)
                if latest.kind != Kind.AGREES:
                    raise CommandError(
                        f"the latest checkpoint {latest.name} disagrees with the chain: "
                        f"{latest.message} No checkpoint written (run verify_audit)."
                    )
        name = checkpoint_write(trigger="command")
        if not options["quiet"]:
            self.stdout.write(f"audit checkpoint written: {name} (head {report.head_seq})")
