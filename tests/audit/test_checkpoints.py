"""Sealed checkpoints anchor the chain: rewrites, tail deletions and truncations are named, and
a forged, cut, unsealed or foreign checkpoint gets its own verdict."""

import asyncio
import base64
import json
import logging
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from pyhanko.sign import signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from consent.audit.chain import audit_verify, chain_head
from consent.audit.checkpoint import (
    SEAL_SUFFIX,
    Kind,
    Verdict,
    checkpoint_names,
    checkpoint_read,
    checkpoint_storage,
    checkpoint_write,
    checkpoints_verify,
)
from consent.audit.events import audit_record
from consent.models import AuditEvent, ConsentRecord
from consent.record.seal import seal_key_create, seal_signer
from tests.audit.tampering import delete_tail, rewrite_chain, sql, truncate_log, without_triggers
from tests.factories import finalized_record

pytestmark = pytest.mark.django_db


def append(count: int) -> None:
    with transaction.atomic():
        for n in range(count):
            audit_record(action="test.event", role="system", actor_label="tester", payload={"n": n})


def path_of(name: str) -> Path:
    return Path(checkpoint_storage().path(name))


def verify_audit_fails() -> str:
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    return str(failure.value)


@pytest.fixture
def anchored():
    """Twenty events, sealed in a checkpoint, then five more."""
    append(20)
    call_command("audit_checkpoint", "--quiet")
    append(5)
    (name,) = checkpoint_names()
    return name


def test_the_command_writes_a_sealed_checkpoint_outside_the_database(settings, tmp_path):
    append(3)
    call_command("audit_checkpoint")
    (name,) = checkpoint_names()
    assert path_of(name).parent == tmp_path / "audit-checkpoints"  # beside MEDIA_ROOT
    content = json.loads(path_of(name).read_bytes())
    assert (content["head_seq"], content["head_hash"]) == chain_head()
    assert content["event_count"] == 3
    assert content["written_at"]
    check = checkpoint_read(name)
    assert (check.verdict, check.timestamped_at) == (Verdict.SEALED, None)
    assert AuditEvent.objects.count() == 3  # nothing of it in the database


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl here")
def test_a_checkpoint_verifies_with_openssl(anchored, tmp_path):
    signing_cert = seal_signer().signing_cert
    assert signing_cert is not None
    certificate = tmp_path / "seal.pem"
    certificate.write_text(
        "-----BEGIN CERTIFICATE-----\n"
        + base64.encodebytes(signing_cert.dump()).decode()
        + "-----END CERTIFICATE-----\n"
    )
    command = [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER",
        "-in", str(path_of(anchored + SEAL_SUFFIX)), "-content", str(path_of(anchored)),
        "-CAfile", str(certificate), "-partial_chain", "-purpose", "any",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, check=False)  # noqa: S603
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["event_count"] == 20


def test_a_checkpoint_carries_a_timestamp_when_an_authority_is_set(monkeypatch):
    signer = seal_signer()
    stamper = DummyTimeStamper(tsa_cert=signer.signing_cert, tsa_key=signer.signing_key)
    monkeypatch.setattr("consent.record.seal.seal_timestamper", lambda: stamper)
    append(2)
    check = checkpoint_read(checkpoint_write())
    assert check.verdict == Verdict.SEALED
    assert check.timestamped_at is not None


def test_a_checkpoint_is_sealed_where_an_event_loop_runs():
    """An async server, or a test driving a browser, has a running loop in the thread: the
    seal is still made (asyncio.run alone would refuse, and the checkpoint would be lost)."""
    from asn1crypto import cms

    from consent.audit import checkpoint

    async def from_inside_a_loop() -> bytes:
        return checkpoint._seal(b"head 42")

    seal = asyncio.run(from_inside_a_loop())
    signed = cms.ContentInfo.load(seal)["content"]
    assert signed["signer_infos"][0]["signature"].native
    assert signed["encap_content_info"]["content"].native is None  # detached


def test_verify_audit_reports_the_checkpoints_it_checked(anchored, capsys):
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert f"checkpoint {anchored} [ok]: event 20 has the hash sealed on" in out


def test_no_checkpoint_is_said(capsys):
    append(2)
    call_command("verify_audit")
    assert "no checkpoint found" in capsys.readouterr().out


# The attacks on the chain


def test_a_chain_rewritten_with_recomputed_hashes_is_named(anchored):
    without_triggers()
    sql("UPDATE consent_auditevent SET actor_label = %s WHERE seq = 7", ["someone else"])
    rewrite_chain()
    audit = audit_verify()
    assert audit.chain.intact  # the chain alone cannot see it
    assert [c.kind for c in audit.checkpoints] == [Kind.REWRITTEN]
    assert "the chain was rewritten: event 20 no longer has the hash sealed" in verify_audit_fails()


def test_events_deleted_from_the_tail_are_named(anchored):
    without_triggers()
    delete_tail(8)  # the 5 after the checkpoint and 3 it sealed
    audit = audit_verify()
    assert audit.chain.intact
    assert [c.kind for c in audit.checkpoints] == [Kind.TAIL_DELETED]
    message = verify_audit_fails()
    assert "events were deleted from the tail: the log ends at event 17" in message
    assert "it reached event 20" in message


def test_a_truncated_log_is_named(anchored):
    without_triggers()
    truncate_log()
    assert [c.kind for c in audit_verify().checkpoints] == [Kind.LOG_TRUNCATED]
    assert "the log was truncated: it holds no events" in verify_audit_fails()


def test_the_command_refuses_to_anchor_a_cut_chain(anchored):
    without_triggers()
    delete_tail(8)
    with pytest.raises(CommandError, match="disagrees with the chain"):
        call_command("audit_checkpoint")
    assert len(checkpoint_names()) == 1


# The attacks on the checkpoints


def test_a_forged_checkpoint_is_named(anchored):
    path = path_of(anchored)
    content = json.loads(path.read_bytes())
    content["head_seq"], content["event_count"] = 25, 25
    content["head_hash"] = AuditEvent.objects.get(seq=25).hash
    path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")
    (check,) = checkpoints_verify()
    assert check.verdict == Verdict.FORGED
    assert "the checkpoint was forged or edited" in verify_audit_fails()


def test_a_cut_checkpoint_is_named(anchored):
    path = path_of(anchored)
    path.write_bytes(path.read_bytes()[:40])
    (check,) = checkpoints_verify()
    assert check.verdict == Verdict.TRUNCATED
    assert "the file is cut or damaged" in verify_audit_fails()


def test_a_cut_seal_is_named(anchored):
    path = path_of(anchored + SEAL_SUFFIX)
    path.write_bytes(path.read_bytes()[:200])
    (check,) = checkpoints_verify()
    assert check.verdict == Verdict.SEAL_DAMAGED
    assert "its seal file is cut or damaged" in verify_audit_fails()


def test_an_unsealed_checkpoint_is_named(anchored):
    path_of(anchored + SEAL_SUFFIX).unlink()
    (check,) = checkpoints_verify()
    assert check.verdict == Verdict.UNSEALED
    assert "it has no seal file" in verify_audit_fails()


def test_a_checkpoint_sealed_by_another_key_is_named(anchored, tmp_path):
    key = tmp_path / "other.p12"
    seal_key_create(key, passphrase=b"other", common_name="Another Hospital")
    other = signers.SimpleSigner.load_pkcs12(pfx_file=str(key), passphrase=b"other")
    assert other is not None
    data = path_of(anchored).read_bytes()
    seal = asyncio.run(other.async_sign_general_data(data, "sha256", detached=True))
    path_of(anchored + SEAL_SUFFIX).write_bytes(seal.dump())
    (check,) = checkpoints_verify()
    assert check.verdict == Verdict.FOREIGN
    assert "Another Hospital" in check.message
    assert "sealed by a key that is not the institution's" in verify_audit_fails()


# Finalization anchors the chain too


def test_finalization_writes_a_checkpoint_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record = finalized_record()
    (name,) = checkpoint_names()
    check = checkpoint_read(name)
    assert check.content["trigger"] == "finalization"
    assert check.content["head_seq"] == chain_head()[0]
    assert AuditEvent.objects.filter(seq=check.content["head_seq"], object_id=str(record.pk))


def test_one_transaction_of_many_finalizations_writes_one_checkpoint(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first = finalized_record()
        finalized_record(patient_name="Paul Second", doctor=first.finalized_by)
    (name,) = checkpoint_names()
    assert checkpoint_read(name).content["head_seq"] == chain_head()[0]


def test_a_checkpoint_that_cannot_be_written_loses_no_finalization(
    django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def broken(**_kwargs):
        raise OSError("disk full for Marie Curieuse")

    monkeypatch.setattr("consent.audit.checkpoint.checkpoint_write", broken)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        record = finalized_record(patient_name="Marie Curieuse")
    assert ConsentRecord.objects.filter(pk=record.pk).exists()
    assert checkpoint_names() == []
    assert "audit checkpoint not written after finalization: OSError" in caplog.text
    assert "Marie" not in caplog.text


# The whole-log verification page reports what verify_audit reports


def test_the_page_names_a_rewritten_chain(anchored, client):
    from tests.factories import auditor, logged_in

    without_triggers()
    sql("UPDATE consent_auditevent SET actor_label = %s WHERE seq = 7", ["someone else"])
    rewrite_chain()
    body = logged_in(auditor()).post("/audit/log/").content.decode()
    assert "The audit log is intact." not in body
    assert "the chain was rewritten: event 20 no longer has the hash sealed" in body
    assert "fails 1 check of what it pins or of its checkpoints" in body
    event = AuditEvent.objects.filter(action="audit_log.verified").get()
    assert (event.payload["intact"], event.payload["bad_checkpoints"]) == (False, 1)


def test_the_page_reports_sealed_checkpoints(anchored, client):
    from tests.factories import auditor, logged_in

    body = logged_in(auditor()).post("/audit/log/").content.decode()
    assert "The audit log is intact." in body
    assert "1 sealed checkpoint checked outside the database." in body
    assert "event 20 has the hash sealed on" in body
