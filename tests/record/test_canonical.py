"""The canonical record is a public format (docs/record-format.md): its bytes are pinned.

A fixed session, made through the real services on a stopped clock, must give exactly the same
canonical JSON and evidence hash whatever the code that gathers it: records and signatures
already stored are checked against these bytes.
"""

import hashlib
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from unittest import mock

import pytest

from consent.audit import chain
from consent.canonical import canonical_bytes
from consent.content import packs
from consent.models import ConsentSession
from consent.record import canonical
from consent.record.canonical import record_json_of, snapshot_hash
from consent.selectors.session import record_data_get
from consent.services import signatures as signature_services
from tests.factories import decided_session

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 3, 5, 14, 2, 11, tzinfo=UTC)
PUBLIC_ID = uuid.UUID("6f1c2a4e-0d3b-4c5a-9e8f-112233445566")
RECORD_ID = "CR-2026-000001"
# The chain head and the patient's link number are database ids, which differ between
# databases and runs: they are set to fixed values before the bytes are compared.
HEAD = "f" * 64
LINK = re.compile(r"\(link \d+\)")

# Pinned again when the fixed session's reading moved before its answers (reading time now
# counts only until the answers lock): the same serialization, one event earlier in the list.
RECORD_SHA256 = "e361bc2d4709ae678e09905ee99684b30c2fce505b5e69fb0b12a6749247ac44"
SNAPSHOT_SHA256 = "cac29b4e7f452043494da1285767a4d1a678f0a573a8ce95640164f58fe0dc0a"


def fixed_session() -> ConsentSession:
    """A declined session with a flagged item, a patient's question, a review, a discussion,
    a drawn signature, a witness and a reading time, every time at MOMENT."""
    with mock.patch("django.utils.timezone.now", return_value=MOMENT):
        session = decided_session(
            wrong_key="risk-common",
            patient_question="Can my daughter drive me home?",
            decline_reason="I prefer to wait.",
            reading=[(2, 75)],
        )
        ConsentSession.objects.filter(pk=session.pk).update(public_id=PUBLIC_ID)
        session.refresh_from_db()
        signature_services.companion_sign(
            session=session, kind="witness", typed_name="Marie Témoin", image=None
        )
    return session


def test_the_canonical_record_and_the_evidence_hash_keep_their_bytes():
    session = fixed_session()
    data = record_data_get(session=session)
    events = [
        replace(e, actor_label=LINK.sub("(link 1)", e.actor_label)) for e in data.audit_events
    ]
    data = replace(data, audit_chain_head_hash=HEAD, audit_events=events)
    assert hashlib.sha256(record_json_of(data, RECORD_ID)).hexdigest() == RECORD_SHA256
    assert snapshot_hash(session) == SNAPSHOT_SHA256


def test_one_canonical_serialization_for_records_packs_and_the_audit_chain():
    value = {"b": [1, "é"], "a": {"z": None, "y": 1.5}}
    expected = '{"a":{"y":1.5,"z":null},"b":[1,"é"]}'.encode()
    assert canonical_bytes(value) == expected
    assert packs.canonical_bytes is chain.canonical_bytes is canonical.canonical_bytes
    assert packs.canonical_bytes is canonical_bytes
