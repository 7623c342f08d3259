"""The audit log as a hash chain, in the spirit of Certificate Transparency (RFC 9162) without
the Merkle tree: each event carries its sequence number, the previous event's hash and its own
hash over a canonical serialization of its content. Changing, removing, reordering or inserting
any event breaks the chain at that event, and `chain_verify` says where and why.

Appends are serialized so the chain never forks: on PostgreSQL by a transaction-scoped advisory
lock, on SQLite because every transaction starts IMMEDIATE (one writer at a time, settings.py).
The unique `seq` column is the last line of defence.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection

from consent.canonical import canonical_bytes
from consent.models import AuditEvent

CHAIN_VERSION = b"consent-audit-chain-v1\n"
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


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(CHAIN_VERSION + canonical_bytes(event_fields(event))).hexdigest()


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
    for event in events:
        reason = ""
        if event.seq != expected_seq:
            reason = (
                f"sequence broken: expected event {expected_seq}, found {event.seq} "
                "(an event was removed or inserted)"
            )
        elif event.prev_hash != previous_hash:
            reason = "previous-hash link does not match the event before it (reordered or inserted)"
        elif event_hash(event) != event.hash:
            reason = "content does not match its hash (the event was altered)"
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
