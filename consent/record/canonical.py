"""The canonical record: a documented, versioned JSON form of a consent (docs/record-format.md).

Two uses:
- the **evidence snapshot**, what a signer vouched for: the patient's identity, the pinned
  procedure, every answer and attempt, the physician's review and the discussion. Each signature
  stores its SHA-256; if the evidence changes after a signature, finalization refuses.
- the **record document**, everything the PDF shows as data, stored with the finalized record,
  attached inside its PDF, and identified by its SHA-256.
"""

import hashlib
from typing import Any

from consent.canonical import SERIALIZERS, canonical_bytes
from consent.models import ConsentSession
from consent.selectors.session import RecordData, record_data_get

RECORD_FORMAT = "consent-record"
# 2: RFC 8785 canonical JSON (consent/canonical.py). Records of version 1 were serialized by
# `json.dumps`; their stored bytes and hashes verify as they are.
RECORD_FORMAT_VERSION = 2
# What every signer vouches for. Reading times are left out on purpose: a patient may re-read
# a page after the attestation without that voiding anyone's signature.
SNAPSHOT_KEYS = (
    "session_id",
    "patient",
    "procedure",
    "physician",
    "max_reteach",
    "risks",
    "alternatives",
    "questions",
    "patient_questions",
    "discussion",
)


def _plain(data: RecordData) -> dict[str, Any]:
    document = data.as_dict()
    for risk in document["risks"]:
        # The picture is drawn from max_per_100: the number is the record, not the markup.
        risk.pop("picture_svg", None)
    return document


def evidence_snapshot(data: RecordData) -> dict[str, Any]:
    """What a signer vouches for, taken from the session's read model."""
    document = _plain(data)
    return {key: document[key] for key in SNAPSHOT_KEYS}


def snapshot_hash_of(data: RecordData) -> str:
    return hashlib.sha256(canonical_bytes(evidence_snapshot(data))).hexdigest()


def snapshot_hash(session: ConsentSession) -> str:
    """The evidence hash of a session as it stands now."""
    return snapshot_hash_of(record_data_get(session=session))


def snapshot_hashes(session: ConsentSession) -> list[str]:
    """The evidence hash of a session as it stands now, in every canonical version, newest
    first: a signature made before an upgrade vouches for the same evidence with an older one."""
    snapshot = evidence_snapshot(record_data_get(session=session))
    return [hashlib.sha256(serialize(snapshot)).hexdigest() for serialize in SERIALIZERS.values()]


def record_document(data: RecordData, record_id: str) -> dict[str, Any]:
    return {
        "format": RECORD_FORMAT,
        "format_version": RECORD_FORMAT_VERSION,
        "record_id": record_id,
        **_plain(data),
    }


def record_json_of(data: RecordData, record_id: str) -> bytes:
    """The canonical record's bytes: the same data always gives the same bytes."""
    return canonical_bytes(record_document(data, record_id))


def record_json(session: ConsentSession, record_id: str) -> bytes:
    return record_json_of(record_data_get(session=session), record_id)
