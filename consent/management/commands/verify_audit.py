"""python manage.py verify_audit: walk the whole audit chain, check what it pins (each record's
chain head, the record's and PDF's hashes, signatures, addenda) and the sealed checkpoints that
anchor it outside the database; exit non-zero naming everything that does not fit."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from consent.audit.chain import PRE_PINNING, AuditVerification, audit_verify


class Command(BaseCommand):
    help = (
        "Verify the audit log: the hash chain, the records, signatures and addenda it pins, "
        "and the sealed checkpoints; exit non-zero naming each problem."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        audit = audit_verify()
        lines = audit_lines(audit)
        if not audit.intact:
            raise CommandError("\n".join(lines))
        self.stdout.write("\n".join(lines))


def audit_lines(audit: AuditVerification) -> list[str]:
    """The verification in plain lines: the chain first, then each problem, then the notes."""
    report = audit.chain
    if report.intact:
        lines = [
            f"audit chain intact: {report.count} events, head {report.head_seq} "
            f"sha256 {report.head_hash}"
        ]
    else:
        lines = [
            f"audit chain broken at event {report.broken_seq} (row id {report.broken_id}): "
            f"{report.reason}. {report.count} events before it are intact; "
            f"the last good hash is {report.head_hash}."
        ]
    lines += [f"{finding.subject}: {finding.message}" for finding in audit.problems]
    for check in audit.checkpoints:
        lines.append(f"checkpoint {check.name} [{check.state}]: {check.message}")
    if not audit.checkpoints:
        lines.append("no checkpoint found: the chain is not anchored outside the database")
    if audit.pre_pinning:
        lines.append(
            f"{audit.pre_pinning} records, signatures or addenda were {PRE_PINNING}: "
            "verified as part of the chain only"
        )
    return lines
