"""python manage.py verify_audit: walk the whole audit chain and say whether it is intact."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from consent.audit.chain import chain_verify


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log; exit non-zero naming the first broken event."

    def handle(self, *args: Any, **options: Any) -> None:
        report = chain_verify()
        if not report.intact:
            raise CommandError(
                f"audit chain broken at event {report.broken_seq} (row id {report.broken_id}): "
                f"{report.reason}. {report.count} events before it are intact; "
                f"the last good hash is {report.head_hash}."
            )
        self.stdout.write(
            f"audit chain intact: {report.count} events, head {report.head_seq} "
            f"sha256 {report.head_hash}"
        )
