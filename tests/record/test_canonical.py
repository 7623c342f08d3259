"""The canonical record is a public format (docs/record-format.md): its bytes are pinned.

A fixed session, made through the real services on a stopped clock, must give exactly the same
canonical JSON and evidence hash whatever the code that gathers it: records and signatures
already stored are checked against these bytes. The serialization is RFC 8785: the document's
test vectors, and a real record, are recomputed by an independent implementation (the
JavaScript `canonicalize` package, installed by `make install-dev`, run by Node.js).
"""

import hashlib
import json
import re
import shutil
import subprocess
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings

from consent.audit import chain
from consent.canonical import SERIALIZERS, canonical_bytes, canonical_bytes_v1, nfc
from consent.content import packs
from consent.models import ConsentSession
from consent.record import canonical
from consent.record.canonical import (
    record_document,
    record_json_of,
    snapshot_hash,
    snapshot_hashes,
)
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

# Version 2 (RFC 8785) bytes of the fixed session's record and evidence snapshot.
RECORD_SHA256 = "de31ebdc45446abf00803ca036d9bf0788c372fa584ae7deb7c92f4abd758f5b"
SNAPSHOT_SHA256 = "530d00938b2569e25e8192adb2dd328d6adecc3685d250bc04a67fc190cab6e0"
# The same data in version 1 (`json.dumps`) form: the new form changed the serializer, not the
# data. Re-pinned (all four) when attempts gained the order shown, the wording and its seed, and
# questions their fact: with the pack as it was and those fields left out, the bytes were the
# earlier pins exactly (ac2367b8..., 462987df...). Re-pinned (all four) again when the MitraClip
# pack became version 2026.2 (the snapshot: 4c2dd1d5..., 987e06d0...) and signatures gained the
# signer's browser, address, client, staff flag and legal representative, and the record the
# links made after the attestation: with those fields left out, the record's bytes are the
# 2026.2 pack's exactly (59d1deb4..., 3a97d820...). The record's two re-pinned again when it
# gained `content_review` (outside the snapshot, whose pins stay): b4af145e..., 21e9baa8... before.
# Re-pinned (all four) when the 2026.2 pack gained its facts and rewritten questions (issue 11
# items 2, 3) and each risk its honest picture (`highlighted` 0.5 for "fewer than 1 in 100",
# `picture_complement`, `group`): 995dd00e..., 4c2dd1d5..., e2d4217a..., 987e06d0... before
# (92194e30..., 221255fb..., 20f0963b..., 8ee25ded... while "why-for-you" came second).
# The record's two re-pinned when it gained `language` (issue 14; outside the snapshot, whose
# pins stay): with it left out, the bytes are 679f7adb..., 4dd9c76f... exactly, as before.
RECORD_V1_SHA256 = "48362b12c35b9b7a010816b86a7d145d77167ab954d5e526386bd4fc66d51a86"
SNAPSHOT_V1_SHA256 = "e6f0281a2e91b260848a09babd670257b39fe372982c1d64e21c949ae28b1835"

ROOT = Path(settings.BASE_DIR)
NODE = shutil.which("node")
CANONICALIZE = ROOT / "node_modules/canonicalize/lib/canonicalize.js"
needs_node = pytest.mark.skipif(
    NODE is None or not CANONICALIZE.exists(),
    reason="Node.js and node_modules/canonicalize (make install-dev) are needed",
)


def fixed_session() -> ConsentSession:
    """A declined session with a flagged item, a patient's question, a review, a discussion,
    a drawn signature, a witness and a reading time, every time at MOMENT."""
    # The session's secret orders the choices it shows (consent/choice_order.py): fixed too.
    with (
        mock.patch("django.utils.timezone.now", return_value=MOMENT),
        mock.patch("consent.models.secrets.token_hex", return_value="5" * 64),
    ):
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


def fixed_record_data():
    session = fixed_session()
    data = record_data_get(session=session)
    events = [
        replace(e, actor_label=LINK.sub("(link 1)", e.actor_label)) for e in data.audit_events
    ]
    return session, replace(data, audit_chain_head_hash=HEAD, audit_events=events)


def test_the_canonical_record_and_the_evidence_hash_keep_their_bytes():
    session, data = fixed_record_data()
    assert hashlib.sha256(record_json_of(data, RECORD_ID)).hexdigest() == RECORD_SHA256
    assert snapshot_hash(session) == SNAPSHOT_SHA256


def test_version_2_changes_the_serialization_not_the_data():
    """The version 1 form of the same document still gives the bytes pinned before RFC 8785,
    and a signature made then (holding the version 1 hash) still vouches for the evidence."""
    session, data = fixed_record_data()
    document = {**record_document(data, RECORD_ID), "format_version": 1}
    assert hashlib.sha256(canonical_bytes_v1(document)).hexdigest() == RECORD_V1_SHA256
    assert snapshot_hashes(session) == [SNAPSHOT_SHA256, SNAPSHOT_V1_SHA256]


def test_one_canonical_serialization_for_records_packs_and_the_audit_chain():
    value = {"b": [1.0, "é"], "a": {"z": None, "y": 1.5}}
    assert canonical_bytes(value) == '{"a":{"y":1.5,"z":null},"b":[1,"é"]}'.encode()
    assert packs.canonical_bytes is canonical.canonical_bytes is canonical_bytes
    assert chain.SERIALIZERS is canonical.SERIALIZERS is SERIALIZERS
    assert SERIALIZERS[2] is canonical_bytes


def documented_vectors() -> list[dict[str, Any]]:
    text = (ROOT / "docs/record-format.md").read_text(encoding="utf-8")
    block = text.split("```jsonl\n", 1)[1].split("```", 1)[0]
    return [json.loads(line) for line in block.splitlines() if line.strip()]


def test_the_documented_vectors_cover_what_differs_from_plain_json():
    names = [vector["name"] for vector in documented_vectors()]
    assert len(names) >= 5
    assert any("UTF-16" in name for name in names)
    assert any("numbers" in name for name in names)
    assert any(vector["nfc"] for vector in documented_vectors())


@pytest.mark.parametrize("vector", documented_vectors(), ids=lambda vector: vector["name"])
def test_the_documented_vectors_hold(vector):
    value = nfc(vector["input"]) if vector["nfc"] else vector["input"]
    output = canonical_bytes(value)
    assert output.decode("utf-8") == vector["canonical"]
    assert hashlib.sha256(output).hexdigest() == vector["sha256"]


NODE_SCRIPT = """
const canonicalize = require(process.argv[1]);
const crypto = require("crypto");
const nfc = (value) => JSON.parse(JSON.stringify(value), (key, item) =>
  typeof item === "string" ? item.normalize("NFC") : item);
let text = "";
process.stdin.on("data", (chunk) => { text += chunk; });
process.stdin.on("end", () => {
  const results = JSON.parse(text).map((vector) => {
    const output = canonicalize(vector.nfc ? nfc(vector.input) : vector.input);
    return crypto.createHash("sha256").update(output, "utf8").digest("hex");
  });
  process.stdout.write(JSON.stringify(results));
});
"""


def independent_hashes(vectors_json: str) -> list[str]:
    """SHA-256 of each vector's canonical form, computed by Node.js and `canonicalize`.

    The vectors go as JSON text, so the other side parses numbers itself (`1.0` arrives as the
    number 1, as any JSON reader sees it) and normalizes strings itself where asked."""
    done = subprocess.run(  # noqa: S603 (our own script, run by the Node.js found on PATH)
        [NODE, "-e", NODE_SCRIPT, str(CANONICALIZE)],
        input=vectors_json,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


@needs_node
def test_an_independent_implementation_agrees_with_the_documented_vectors():
    text = (ROOT / "docs/record-format.md").read_text(encoding="utf-8")
    block = text.split("```jsonl\n", 1)[1].split("```", 1)[0]
    # The raw lines, as a JSON array: the other side reads the numbers as written.
    vectors_json = "[" + ",".join(line for line in block.splitlines() if line.strip()) + "]"
    assert independent_hashes(vectors_json) == [v["sha256"] for v in documented_vectors()]


@needs_node
def test_an_independent_implementation_recomputes_a_stored_record_hash():
    """A finalized record's stored JSON, read back and canonicalized by another implementation
    in another language, hashes to the record's stored `record_sha256`."""
    from tests.factories import finalized_record

    record = finalized_record()
    assert json.loads(record.record_json)["format_version"] == 2
    vector = '{"nfc": false, "input": ' + record.record_json + "}"
    assert independent_hashes("[" + vector + "]") == [record.record_sha256]


@needs_node
def test_the_fixed_record_with_awkward_numbers_and_text_hashes_alike_elsewhere():
    """The fixed session's record, with a fractional risk figure and decomposed text: both
    implementations agree on bytes that plain `json.dumps` would write differently."""
    _session, data = fixed_record_data()
    document = record_document(data, RECORD_ID)
    document["risks"][0]["max_per_100"] = 1.0
    document["patient"]["name"] = "Jose\u0301 Garci\u0301a"
    stored = nfc(document)
    assert canonical_bytes(stored) != canonical_bytes_v1(stored)
    vector = json.dumps({"nfc": True, "input": document}, ensure_ascii=True)
    assert independent_hashes("[" + vector + "]") == [
        hashlib.sha256(canonical_bytes(stored)).hexdigest()
    ]
