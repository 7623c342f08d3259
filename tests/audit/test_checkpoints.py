"""Sealed checkpoints anchor the chain: rewrites, tail deletions and truncations are named, and
a forged, cut, unsealed or foreign checkpoint gets its own verdict. A checkpoint's timestamp
gives it a time only from a trusted authority (a real local one, tests/record/ca.py), and a
token that was swapped, cut or altered is named."""

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

from consent.audit.chain import audit_verify, chain_head
from consent.audit.checkpoint import (
    SEAL_SUFFIX,
    Kind,
    Verdict,
    checkpoint_names,
    checkpoint_read,
    checkpoint_storage,
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


# Timestamps: a checkpoint's time is believed only from a trusted authority

TRUSTED = "a trusted authority."
UNTRUSTED = "Timestamp from an untrusted authority (Second Timestamp Authority;"
NOT_COVERED = "Timestamp does not cover this checkpoint: the token was made for other content"
CUT = "Timestamp is cut or damaged: the token cannot be read."
ALTERED = "Timestamp is forged or altered: the token's own signature does not verify."


@pytest.fixture
def trusted_authority(settings, timestamp_authority):
    """Checkpoints are timestamped by the local authority, and its root is trusted."""
    url, requests_seen, certificate = timestamp_authority
    settings.SEAL_TSA_URL = url
    settings.SEAL_TSA_TRUSTED_CERTS = [certificate]
    return requests_seen


@pytest.fixture
def second_authority(settings, trusted_authority):
    """A second local authority, sound but not trusted (the first one stays the trusted root)."""
    from tests.record.ca import TimestampServer

    server = TimestampServer(name="Second Timestamp Authority")
    settings.SEAL_TSA_URL = server.url
    yield server
    server.stop()


def stamped(count: int = 20) -> str:
    """`count` events, sealed and timestamped in a checkpoint, then five more."""
    append(count)
    call_command("audit_checkpoint", "--quiet")
    append(5)
    return checkpoint_names()[-1]


def signer_info(name: str):
    from asn1crypto import cms

    return cms.ContentInfo.load(path_of(name + SEAL_SUFFIX).read_bytes())["content"][
        "signer_infos"
    ][0]


def token_of(name: str):
    """The checkpoint's RFC 3161 token (a cms.ContentInfo)."""
    (attribute,) = signer_info(name)["unsigned_attrs"]
    assert attribute["type"].native == "signature_time_stamp_token"
    return attribute["values"][0]


def token_put(name: str, token) -> None:
    """Replace the checkpoint's token, leaving its signature and signed attributes as they are
    (the unsigned attributes are outside the signature: anyone with the files can do this)."""
    from asn1crypto import cms

    content_info = cms.ContentInfo.load(path_of(name + SEAL_SUFFIX).read_bytes())
    content_info["content"]["signer_infos"][0]["unsigned_attrs"] = cms.CMSAttributes(
        [{"type": "signature_time_stamp_token", "values": [token]}]
    )
    path_of(name + SEAL_SUFFIX).write_bytes(content_info.dump())


def audit_page() -> str:
    from tests.factories import auditor, logged_in

    return logged_in(auditor()).post("/audit/log/").content.decode()


def test_a_checkpoint_timestamped_by_a_trusted_authority_gets_its_time(trusted_authority, capsys):
    from datetime import UTC, datetime, timedelta

    name = stamped()
    assert len(trusted_authority) >= 1  # the authority was asked
    check = checkpoint_read(name)
    assert check.verdict == Verdict.SEALED
    assert check.timestamp.stamp == "trusted"
    assert check.timestamped_at is not None
    assert abs(check.timestamped_at - datetime.now(UTC)) < timedelta(minutes=1)
    call_command("verify_audit")
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith(f"checkpoint {name}"))
    assert f"checkpoint {name} [ok]: event 20 has the hash sealed on" in line
    assert f"Timestamped at {check.timestamped_at:%Y-%m-%d %H:%M:%S}" in line
    assert "by Local Timestamp Authority, " + TRUSTED in line
    body = audit_page()
    assert "The audit log is intact." in body
    assert "by Local Timestamp Authority, " + TRUSTED in body


def test_a_timestamp_from_an_untrusted_authority_gives_no_time_and_a_warning(
    second_authority, capsys
):
    """Sound, and stamping this checkpoint, but its authority is not in SEAL_TSA_TRUSTED_CERTS:
    the checkpoint still anchors the chain (the institution sealed it), its time is not
    believed, and verify_audit says so without failing."""
    name = stamped()
    check = checkpoint_read(name)
    assert (check.verdict, check.timestamp.stamp) == (Verdict.SEALED, "untrusted")
    assert check.timestamp.claimed_at is not None  # it states a time ...
    assert check.timestamped_at is None  # ... which is not believed
    call_command("verify_audit")  # a warning: exit 0
    out = capsys.readouterr().out
    assert f"checkpoint {name} [warning]: event 20 has the hash sealed on" in out
    assert UNTRUSTED in out
    assert "its time is not believed." in out
    body = audit_page()
    assert "The audit log is intact." in body
    assert "1 checkpoint anchors the chain, but its timestamp does not prove its time:" in body
    assert UNTRUSTED in body


def test_without_trusted_roots_no_timestamp_is_believed(settings, trusted_authority, capsys):
    settings.SEAL_TSA_TRUSTED_CERTS = []
    name = stamped()
    check = checkpoint_read(name)
    assert (check.timestamp.stamp, check.timestamped_at) == ("untrusted", None)
    call_command("verify_audit")
    assert f"checkpoint {name} [warning]" in capsys.readouterr().out


def splice(settings) -> str:
    """A token made for another checkpoint, by the trusted authority, put into this one."""
    name = stamped()
    other = stamped(1)
    token_put(name, token_of(other))
    path_of(other).unlink()
    path_of(other + SEAL_SUFFIX).unlink()
    return name


def cut(settings) -> str:
    """The token cut short half-way, the rest of its place zeroed, written byte for byte into
    the checkpoint's seal (re-encoding a cut token through asn1crypto fails where the cut lands
    inside an element it must parse, so the file is edited as bytes, as an attacker would)."""
    name = stamped()
    der = token_of(name).dump()
    sealed = path_of(name + SEAL_SUFFIX).read_bytes()
    assert sealed.count(der) == 1
    half = len(der) // 2
    path_of(name + SEAL_SUFFIX).write_bytes(
        sealed.replace(der, der[:half] + bytes(len(der) - half))
    )
    return name


def backdate(settings) -> str:
    """The token's time moved a year back, its signature left as it was: a forged time."""
    from datetime import timedelta

    from asn1crypto import cms, core, tsp

    name = stamped()
    token = cms.ContentInfo.load(token_of(name).dump())
    info = token["content"]["encap_content_info"]["content"].parsed
    edited = tsp.TSTInfo.load(info.dump())
    edited["gen_time"] = info["gen_time"].native - timedelta(days=365)
    token["content"]["encap_content_info"]["content"] = core.ParsableOctetString(edited.dump())
    token_put(name, token)
    return name


def edit_json(settings) -> str:
    """The checkpoint's JSON edited after it was sealed and timestamped."""
    name = stamped()
    path = path_of(name)
    content = json.loads(path.read_bytes())
    content["head_seq"], content["event_count"] = 25, 25
    content["head_hash"] = AuditEvent.objects.get(seq=25).hash
    path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")
    return name


@pytest.mark.parametrize(
    ("attack", "state", "message"),
    [
        (splice, "timestamp_mismatched", NOT_COVERED),
        (cut, "timestamp_damaged", CUT),
        (backdate, "timestamp_invalid", ALTERED),
        (edit_json, "forged", "the checkpoint was forged or edited"),
    ],
    ids=["spliced token", "cut token", "backdated token", "json edited after timestamping"],
)
def test_a_tampered_timestamp_or_checkpoint_fails_verification(
    trusted_authority, settings, attack, state, message
):
    name = attack(settings)
    (check,) = checkpoints_verify()
    assert check.state == state
    assert not check.ok
    assert check.timestamped_at is None  # a tampered checkpoint is given no time
    if state != "forged":  # its sealed content still stands: it is compared with the chain
        assert (check.verdict, check.kind) == (Verdict.SEALED, Kind.AGREES)
    failure = verify_audit_fails()
    assert f"checkpoint {name} [{state}]:" in failure
    assert message in failure
    body = audit_page()
    assert "The audit log is intact." not in body
    assert "fails 1 check of what it pins or of its checkpoints" in body
    assert f"Checkpoint {name}:" in body
    assert message.replace("'", "&#x27;") in body
    event = AuditEvent.objects.filter(action="audit_log.verified").get()
    assert (event.payload["intact"], event.payload["bad_checkpoints"]) == (False, 1)


def test_the_seal_and_the_checkpoints_judge_timestamps_with_one_rule(trusted_authority):
    """The PDF seal's verification and the checkpoints read SEAL_TSA_TRUSTED_CERTS through the
    same helper (consent.record.timestamps), not two copies."""
    from consent.audit import checkpoint
    from consent.record import timestamps, verification

    assert checkpoint.timestamp_judged is timestamps.timestamp_judged
    assert verification.timestamp_judged is timestamps.timestamp_judged
    name = stamped()
    assert timestamps.timestamp_judged(signer_info(name)).stamp == "trusted"


# The seal's certificate is judged when the checkpoint was sealed, as the PDF seal's is


@pytest.fixture
def sealed_two_years_ago(settings, tmp_path):
    """A seal certificate valid only two years ago, and an authority stamping that time: a
    checkpoint written then, checked today. Returns the authority's certificate path."""
    from datetime import UTC, datetime, timedelta

    from tests.record.ca import PASSPHRASE, TimestampServer, local_ca, seal_p12

    then = datetime.now(UTC) - timedelta(days=730)
    day = timedelta(days=1)
    path, _certificate = seal_p12(
        tmp_path / "old-seal.p12", local_ca(), not_before=then - day, not_after=then + day
    )
    settings.SEAL_P12_PATH, settings.SEAL_P12_PASSPHRASE = path, PASSPHRASE
    server = TimestampServer(fixed_dt=then)
    settings.SEAL_TSA_URL = server.url
    yield then, server.certificate_pem(tmp_path / "old-tsa.pem")
    server.stop()


def test_a_checkpoint_is_judged_at_its_trusted_time_not_today(
    settings, sealed_two_years_ago, capsys
):
    from datetime import timedelta

    then, authority = sealed_two_years_ago
    settings.SEAL_TSA_TRUSTED_CERTS = [authority]
    name = stamped()
    (check,) = checkpoints_verify()
    assert (check.verdict, check.state) == (Verdict.SEALED, "ok")
    assert check.timestamped_at is not None
    assert abs(check.timestamped_at - then) < timedelta(seconds=5)
    call_command("verify_audit")
    assert f"checkpoint {name} [ok]" in capsys.readouterr().out


def test_an_untrusted_timestamp_does_not_rescue_an_expired_seal_certificate(
    settings, sealed_two_years_ago
):
    """The same checkpoint, but nobody trusts the authority: the certificate is judged at the
    time the seal states (today), when it had expired."""
    settings.SEAL_TSA_TRUSTED_CERTS = []
    name = stamped()
    (check,) = checkpoints_verify()
    assert check.verdict == Verdict.CERTIFICATE_NOT_VALID
    assert check.timestamped_at is None
    failure = verify_audit_fails()
    assert f"checkpoint {name} [certificate_not_valid]:" in failure
    assert "its seal's certificate was not valid when it was sealed" in failure
    assert "the time the seal states" in failure
