"""The audit log as a hash chain, in the spirit of Certificate Transparency (RFC 9162) without
the Merkle tree: each event carries its sequence number, the previous event's hash and its own
hash over a canonical serialization of its content. Changing, removing, reordering or inserting
any event breaks the chain at that event, and `chain_verify` says where and why.

Appends are serialized so the chain never forks: on PostgreSQL by a transaction-scoped advisory
lock, on SQLite because every transaction starts IMMEDIATE (one writer at a time, settings.py).
The unique `seq` column is the last line of defence.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consent.canonical import SERIALIZERS
from consent.models import Addendum, AuditEvent, ConsentRecord, Signature

# Each version's prefix, newest first. An event is hashed over its version's prefix and its
# fields in that version's canonical form (consent/canonical.py): version 2 is RFC 8785, version
# 1 the `json.dumps` form of the events written before it. New events are always version 2, and
# along the chain a version never goes back (`chain_verify`).
CHAIN_PREFIXES = {2: b"consent-audit-chain-v2\n", 1: b"consent-audit-chain-v1\n"}
CURRENT_CHAIN_VERSION = 2
CHAIN_VERSION = CHAIN_PREFIXES[CURRENT_CHAIN_VERSION]
GENESIS_HASH = "0" * 64
# An arbitrary constant naming this lock among the database's advisory locks.
ADVISORY_LOCK_KEY = 0x636F6E73656E74  # "consent"


def event_fields(event: AuditEvent) -> dict[str, Any]:
    """Everything an event says, as plain data (the hash covers all of it)."""
    return {
        "seq": event.seq,
        "prev_hash": event.prev_hash,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "role": event.role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "session": event.session_id,
        "address": event.address,
        "client": event.client,
        "payload": event.payload,
    }


def event_hash(event: AuditEvent, version: int = CURRENT_CHAIN_VERSION) -> str:
    fields = SERIALIZERS[version](event_fields(event))
    return hashlib.sha256(CHAIN_PREFIXES[version] + fields).hexdigest()


def event_version(event: AuditEvent) -> int | None:
    """The chain version whose hash the event carries, or None when none matches."""
    for version in CHAIN_PREFIXES:
        if event_hash(event, version) == event.hash:
            return version
    return None


def chain_lock() -> None:
    """Serialize appends until the end of the current transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])


def chain_link(event: AuditEvent) -> AuditEvent:
    """Give an unsaved event its place in the chain; call inside the appending transaction."""
    chain_lock()
    head = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    event.seq = head["seq"] + 1 if head else 1
    event.prev_hash = head["hash"] if head else GENESIS_HASH
    event.hash = event_hash(event)
    return event


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain: how many events, the head, and the first break."""

    count: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


def chain_verify(events: Iterable[AuditEvent] | None = None) -> ChainReport:
    """Walk the chain from the first event and name the first one that does not fit."""
    if events is None:
        events = AuditEvent.objects.order_by("seq", "pk").iterator(chunk_size=2000)
    count, expected_seq, previous_hash = 0, 1, GENESIS_HASH
    newest_version = min(CHAIN_PREFIXES)
    for event in events:
        reason = ""
        if event.seq != expected_seq:
            reason = _(
                "sequence broken: expected event %(expected)s, found %(found)s "
                "(an event was removed or inserted)"
            ) % {"expected": expected_seq, "found": event.seq}
        elif event.prev_hash != previous_hash:
            reason = _(
                "previous-hash link does not match the event before it (reordered or inserted)"
            )
        elif (version := event_version(event)) is None:
            reason = _("content does not match its hash (the event was altered)")
        elif version < newest_version:
            reason = _(
                "hashed in chain version %(version)s after an event of version "
                "%(newest)s (versions never go back: the event was rewritten)"
            ) % {"version": version, "newest": newest_version}
        else:
            newest_version = version
        if reason:
            return ChainReport(
                count=count,
                head_seq=expected_seq - 1,
                head_hash=previous_hash,
                broken_seq=expected_seq,
                broken_id=event.pk,
                reason=reason,
            )
        count += 1
        expected_seq += 1
        previous_hash = event.hash
    return ChainReport(count=count, head_seq=expected_seq - 1, head_hash=previous_hash)


def chain_head() -> tuple[int, str]:
    head = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    return (head["seq"], head["hash"]) if head else (0, GENESIS_HASH)


# What the chain pins: each finalized record, signature and addendum against its event.

# Actions whose events carry the hashes of what they are about (see services/signatures.py).
RECORD_FINALIZED = "record.finalized"
PRE_PINNING = gettext_lazy("made before content pinning")


@dataclass(frozen=True)
class Finding:
    """One thing `audit_verify` found: a `problem` fails the verification, a note does not."""

    subject: str
    message: str
    problem: bool = True


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _events_by_object(actions: list[str]) -> dict[str, AuditEvent]:
    """The latest event of each object among `actions`."""
    events = AuditEvent.objects.filter(action__in=actions).order_by("seq")
    return {event.object_id: event for event in events.iterator(chunk_size=2000)}


def _pinned(event: AuditEvent | None, key: str) -> str | None:
    payload = event.payload if event is not None and isinstance(event.payload, dict) else {}
    value = payload.get(key)
    return str(value) if value is not None else None


def json_chain_head(record_json: str) -> tuple[int, str]:
    """The chain head a stored record printed; ValueError when it names none."""
    try:
        stored = json.loads(record_json)
        return int(stored["audit_chain_head_seq"]), str(stored["audit_chain_head_hash"])
    except (KeyError, TypeError) as error:
        raise ValueError("the stored record names no audit chain head") from error


def _record_findings(
    record: ConsentRecord, event: AuditEvent | None, first_pinned: int | None
) -> list[Finding]:
    """A record's chain head and its hashes against the chain and its finalization event."""
    subject = _("record %(record_id)s") % {"record_id": record.record_id}
    findings: list[Finding] = []
    try:
        head_seq, head_hash = json_chain_head(record.record_json)
    except ValueError:
        return [Finding(subject, _("the stored record names no audit chain head"))]
    at_head = AuditEvent.objects.filter(seq=head_seq).values_list("hash", flat=True).first()
    if at_head is None:
        findings.append(
            Finding(
                subject,
                _("its chain head, event %(seq)s, is missing from the log") % {"seq": head_seq},
            )
        )
    elif at_head != head_hash:
        findings.append(
            Finding(
                subject,
                _("event %(seq)s no longer has the hash the record printed") % {"seq": head_seq},
            )
        )
    if sha256_hex(record.record_json.encode("utf-8")) != record.record_sha256:
        findings.append(Finding(subject, _("the stored record does not match its stored hash")))
    pdf_digest = _file_digest(record)
    if pdf_digest is None:
        findings.append(Finding(subject, _("its PDF file is missing")))
    elif pdf_digest != record.pdf_sha256:
        findings.append(Finding(subject, _("its PDF file does not match its stored hash")))
    if event is None:
        if first_pinned is not None and head_seq > first_pinned:
            findings.append(Finding(subject, _("its finalization event is missing from the log")))
        else:
            findings.append(Finding(subject, str(PRE_PINNING), problem=False))
        return findings
    for key, stored_value, label in (
        ("record_sha256", record.record_sha256, _("the record's hash")),
        ("pdf_sha256", record.pdf_sha256, _("the PDF's hash")),
        ("chain_head_hash", head_hash, _("the chain head")),
    ):
        if _pinned(event, key) != stored_value:
            findings.append(
                Finding(
                    subject,
                    _("%(what)s differs from its finalization event %(seq)s")
                    % {"what": label, "seq": event.seq},
                )
            )
    if pdf_digest is not None and _pinned(event, "pdf_sha256") != pdf_digest:
        findings.append(
            Finding(
                subject,
                _("the PDF file differs from its finalization event %(seq)s") % {"seq": event.seq},
            )
        )
    return findings


def _file_digest(record: ConsentRecord | Addendum) -> str | None:
    try:
        with record.pdf.open("rb") as handle:
            digest = hashlib.sha256()
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
            return digest.hexdigest()
    except (FileNotFoundError, OSError, ValueError):
        return None


def content_verify() -> list[Finding]:
    """Check that every record, signature and addendum matches the hashes its event pins."""
    findings: list[Finding] = []
    finalized = _events_by_object([RECORD_FINALIZED])
    first_pinned = min((event.seq for event in finalized.values()), default=None)
    for record in ConsentRecord.objects.order_by("pk").iterator(chunk_size=200):
        findings += _record_findings(record, finalized.get(str(record.pk)), first_pinned)
    signed = _events_by_object([f"signature.{kind}" for kind in Signature.Kind.values])
    for signature in Signature.objects.select_related("session").order_by("pk").iterator():
        subject = _("signature %(number)s (%(kind)s)") % {
            "number": signature.pk,
            "kind": signature.kind,
        }
        event = signed.get(str(signature.pk))
        if event is None or event.action != f"signature.{signature.kind}":
            findings.append(Finding(subject, _("its signature event is missing from the log")))
            continue
        evidence = _pinned(event, "evidence_sha256")
        if evidence is None:
            findings.append(Finding(subject, str(PRE_PINNING), problem=False))
            continue
        if evidence != signature.snapshot_hash:
            findings.append(
                Finding(
                    subject, _("its evidence hash differs from event %(seq)s") % {"seq": event.seq}
                )
            )
        image = bytes(signature.image) if signature.image else None
        if _pinned(event, "image_sha256") != (sha256_hex(image) if image else None):
            findings.append(
                Finding(
                    subject, _("its drawn image differs from event %(seq)s") % {"seq": event.seq}
                )
            )
    added = _events_by_object([f"addendum.{kind}" for kind in Addendum.Kind.values])
    for addendum in Addendum.objects.order_by("pk").iterator():
        subject = _addendum_subject(addendum)
        event = added.get(str(addendum.pk))
        if event is None:
            findings.append(Finding(subject, _("its addendum event is missing from the log")))
            continue
        text_hash = _pinned(event, "text_sha256")
        if text_hash is None:
            findings.append(Finding(subject, str(PRE_PINNING), problem=False))
            continue
        if text_hash != sha256_hex(addendum.text.encode("utf-8")):
            findings.append(
                Finding(subject, _("its text differs from event %(seq)s") % {"seq": event.seq})
            )
        findings += _addendum_document_findings(addendum, event)
    return findings


def _addendum_subject(addendum: Addendum) -> str:
    """`addendum 7 (withdrawal, CR-2026-000123-A1)`; without its id when made before sealing."""
    if addendum.addendum_id:
        return _("addendum %(number)s (%(kind)s, %(addendum_id)s)") % {
            "number": addendum.pk,
            "kind": addendum.kind,
            "addendum_id": addendum.addendum_id,
        }
    return _("addendum %(number)s (%(kind)s)") % {"number": addendum.pk, "kind": addendum.kind}


def _addendum_document_findings(addendum: Addendum, event: AuditEvent) -> list[Finding]:
    """A sealed addendum's JSON, PDF and patient drawing against the hashes its event pins."""
    pinned_json = _pinned(event, "json_sha256")
    if pinned_json is None:
        return []  # an addendum made before addenda were sealed: its text is all it has
    subject = _addendum_subject(addendum)
    findings: list[Finding] = []
    stored_json = sha256_hex(addendum.addendum_json.encode("utf-8"))
    if stored_json != addendum.addendum_sha256 or stored_json != pinned_json:
        findings.append(
            Finding(subject, _("its JSON differs from event %(seq)s") % {"seq": event.seq})
        )
    pdf_digest = _file_digest(addendum) if addendum.pdf else None
    if pdf_digest is None:
        findings.append(Finding(subject, _("its PDF file is missing")))
    elif pdf_digest != _pinned(event, "pdf_sha256") or addendum.pdf_sha256 != pdf_digest:
        findings.append(
            Finding(subject, _("its PDF file differs from event %(seq)s") % {"seq": event.seq})
        )
    image = bytes(addendum.patient_signature_image) if addendum.patient_signature_image else None
    if _pinned(event, "image_sha256") != (sha256_hex(image) if image else None):
        findings.append(
            Finding(
                subject,
                _("the patient's drawn signature differs from event %(seq)s") % {"seq": event.seq},
            )
        )
    return findings


@dataclass(frozen=True)
class AuditVerification:
    """The whole audit: the chain, the content it pins, and the checkpoints that anchor it."""

    chain: ChainReport
    findings: list[Finding]
    checkpoints: list[Any]  # consent.audit.checkpoint.CheckpointCheck

    @property
    def problems(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.problem]

    @property
    def notes(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.problem]

    @property
    def bad_checkpoints(self) -> list[Any]:
        return [check for check in self.checkpoints if not check.ok]

    @property
    def pre_pinning(self) -> int:
        return sum(1 for finding in self.notes if finding.message == PRE_PINNING)

    @property
    def intact(self) -> bool:
        return self.chain.intact and not self.problems and not self.bad_checkpoints


def audit_verify() -> AuditVerification:
    """Walk the chain, check the content it pins and every checkpoint (verify_audit, the page)."""
    from consent.audit.checkpoint import checkpoints_verify

    return AuditVerification(
        chain=chain_verify(), findings=content_verify(), checkpoints=checkpoints_verify()
    )
