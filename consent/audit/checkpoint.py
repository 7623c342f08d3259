"""Checkpoints anchor the audit chain outside the database.

A hash chain alone proves nothing against someone who can rewrite the whole table and recompute
every hash, or who deletes the newest events. A checkpoint is a small JSON file naming the
chain's head (sequence number and hash), the event count and the time, with a detached CMS
signature (`<name>.json.p7s`, DER) made with the institution's seal key, carrying an RFC 3161
timestamp when SEAL_TSA_URL is set. Both files go to the "checkpoints" storage
(STORAGES["checkpoints"]; by default a folder beside MEDIA_ROOT), never to the database.

Anyone can check one with standard tools::

    openssl cms -verify -binary -inform DER -in NAME.json.p7s -content NAME.json \
        -CAfile seal-certificate.pem -purpose any

`checkpoints_verify` compares every checkpoint with the chain as it stands and names what
happened: a chain rewritten with recomputed hashes, events deleted from the tail, a truncated
log; and a checkpoint file that is forged, cut, unsealed or sealed by another key.

Its timestamp is judged by the seal's rule (consent.record.timestamps): its time is believed
only from an authority of SEAL_TSA_TRUSTED_CERTS whose token is sound and stamps this
checkpoint's signature. A token from another authority is a warning (the checkpoint still
anchors the chain; only its time is the checkpoint's own claim); a token that does not cover
the checkpoint, does not verify or cannot be read is a failure, since nothing we write looks
like that: the file was changed after it was written.
"""

import enum
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from asn1crypto import cms
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import transaction
from django.utils.translation import gettext as _
from pyhanko.sign.validation.generic_cms import (
    async_validate_detached_cms,
    extract_self_reported_ts,
)
from pyhanko_certvalidator import ValidationContext

from consent import clock
from consent.audit.chain import CHAIN_VERSION, chain_head
from consent.models import AuditEvent
from consent.record import loops
from consent.record.timestamps import Stamp, Timestamp, timestamp_judged

logger = logging.getLogger(__name__)

FORMAT = "consent-audit-checkpoint/1"
SEAL_SUFFIX = ".p7s"
STORAGE_ALIAS = "checkpoints"


class CheckpointStorage(FileSystemStorage):
    """A file storage in AUDIT_CHECKPOINT_ROOT, by default `audit-checkpoints` beside MEDIA_ROOT.

    Beside, not inside: media is served and backed up with the records, and a checkpoint is
    worth most on another disk or host (set AUDIT_CHECKPOINT_ROOT, or another storage backend).
    """

    @cached_property
    def base_location(self) -> str:
        default = (
            settings.AUDIT_CHECKPOINT_ROOT or Path(settings.MEDIA_ROOT).parent / "audit-checkpoints"
        )
        return str(self._value_or_setting(getattr(self, "_location", None), default))


def checkpoint_storage() -> Storage:
    return storages[STORAGE_ALIAS]


def checkpoint_content(*, trigger: str) -> dict[str, Any]:
    """What a checkpoint says: the head of the chain as committed now."""
    with transaction.atomic():
        head_seq, head_hash = chain_head()
        count = AuditEvent.objects.filter(seq__lte=head_seq).count()
    return {
        "format": FORMAT,
        "chain_version": CHAIN_VERSION.decode().strip(),
        "institution": settings.INSTITUTION_NAME,
        "head_seq": head_seq,
        "head_hash": head_hash,
        "event_count": count,
        "written_at": clock.now().astimezone(UTC).isoformat(timespec="microseconds"),
        "trigger": trigger,
    }


def _seal(data: bytes) -> bytes:
    """A detached CMS signature (DER) over `data` with the seal key, timestamped if set."""
    from consent.record.seal import seal_signer, seal_timestamper

    signed = loops.run(
        seal_signer().async_sign_general_data(
            data, "sha256", detached=True, timestamper=seal_timestamper()
        )
    )
    return bytes(signed.dump())


def checkpoint_write(*, trigger: str = "manual") -> str:
    """Seal the chain's head and store it outside the database; return the file's name."""
    content = checkpoint_content(trigger=trigger)
    data = json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    seal = _seal(data)
    storage = checkpoint_storage()
    stamp = datetime.fromisoformat(content["written_at"]).strftime("%Y%m%dT%H%M%S%fZ")
    name = storage.save(f"checkpoint-{content['head_seq']:012d}-{stamp}.json", ContentFile(data))
    storage.save(name + SEAL_SUFFIX, ContentFile(seal))
    return name


def checkpoint_after_commit(*, trigger: str) -> None:
    """Write a checkpoint once the current transaction commits; never fail the caller.

    A checkpoint that cannot be written loses nothing (the next one covers the same events),
    so the failure is logged, by exception type only (no patient data), and not raised.
    """

    # One checkpoint per transaction is enough: it covers every event the transaction wrote
    # (seeding many records in one transaction would otherwise write one per record).
    if any(getattr(pending, "audit_checkpoint", False) for *_, pending, _ in _pending()):
        return

    def write() -> None:
        try:
            name = checkpoint_write(trigger=trigger)
        except Exception as error:
            logger.error(
                "audit checkpoint not written after %s: %s in %s",
                trigger,
                type(error).__name__,
                type(error).__module__,
            )
        else:
            logger.info("audit checkpoint %s written after %s", name, trigger)

    write.audit_checkpoint = True  # type: ignore[attr-defined]
    transaction.on_commit(write)


def _pending() -> list[tuple[Any, ...]]:
    """The callbacks waiting for the current transaction to commit."""
    return list(transaction.get_connection().run_on_commit)


# Checking checkpoints


class Verdict(enum.StrEnum):
    """What one checkpoint file is worth, before it is compared with the chain."""

    SEALED = "sealed"
    UNSEALED = "unsealed"
    SEAL_DAMAGED = "seal_damaged"
    TRUNCATED = "truncated"
    FORGED = "forged"
    FOREIGN = "foreign"
    CERTIFICATE_NOT_VALID = "certificate_not_valid"


class Kind(enum.StrEnum):
    """What a sealed checkpoint says about the chain as it stands."""

    AGREES = "agrees"
    REWRITTEN = "rewritten"
    TAIL_DELETED = "tail_deleted"
    LOG_TRUNCATED = "log_truncated"
    COUNT_DIFFERS = "count_differs"


@dataclass(frozen=True)
class CheckpointCheck:
    """One checkpoint file: its verdict, what it says, and what the chain says about it."""

    name: str
    verdict: Verdict
    message: str
    content: dict[str, Any] = field(default_factory=dict)
    kind: Kind | None = None
    timestamp: Timestamp = field(default_factory=lambda: Timestamp(Stamp.ABSENT))

    @property
    def timestamped_at(self) -> datetime | None:
        """The time a trusted timestamp authority gives the checkpoint, else None."""
        return self.timestamp.time

    @property
    def ok(self) -> bool:
        """Sealed by the institution, agreeing with the chain, and no token was tampered with
        (a token from an untrusted authority is only a warning)."""
        return (
            self.verdict == Verdict.SEALED
            and self.kind == Kind.AGREES
            and not self.timestamp.tampered
        )

    @property
    def warning(self) -> bool:
        """Good, but its timestamp's authority is not trusted: its time is its own claim."""
        return self.ok and self.timestamp.stamp == Stamp.UNTRUSTED

    @property
    def state(self) -> str:
        """One word for reports: ok, warning, or what is wrong."""
        if self.verdict != Verdict.SEALED:
            return str(self.verdict)
        if self.kind is not None and self.kind != Kind.AGREES:
            return str(self.kind)
        if self.timestamp.tampered:
            return f"timestamp_{self.timestamp.stamp}"
        return "warning" if self.warning else "ok"


def _trust_roots() -> list[Any]:
    from consent.record.verification import _trust_roots as roots

    return roots()


def _unstamped(seal: bytes) -> cms.SignedData:
    """The seal's SignedData without its unsigned attributes (the timestamp token).

    They are not covered by the signature: the seal is validated without them and the token
    judged on its own, by our rule, so that a damaged or foreign token neither hides the
    seal's verdict nor lends the checkpoint a time.
    """
    signed_data = cms.ContentInfo.load(seal)["content"]
    signed_data["signer_infos"][0]["unsigned_attrs"] = None
    return signed_data


def _moment(timestamp: Timestamp, signer_info: cms.SignerInfo, data: bytes) -> datetime | None:
    """When the seal's certificate is judged, as for the PDF seal: the trusted timestamp's
    time, else the time the seal states (a signing-time attribute, else the sealed
    `written_at`; None: now)."""
    if timestamp.time is not None:
        return timestamp.time
    try:
        stated = extract_self_reported_ts(signer_info)
        if stated is not None:
            return stated
        written = datetime.fromisoformat(json.loads(data)["written_at"])
    except Exception:  # no time stated, or not readably: judge it now
        return None
    return written if written.tzinfo is not None else None


def checkpoint_read(name: str, *, storage: Storage | None = None) -> CheckpointCheck:
    """Check one checkpoint file against its seal and the institution's certificates."""
    storage = storage or checkpoint_storage()
    with storage.open(name, "rb") as handle:
        data = handle.read()
    try:
        with storage.open(name + SEAL_SUFFIX, "rb") as handle:
            seal = handle.read()
    except (FileNotFoundError, OSError):
        return CheckpointCheck(
            name, Verdict.UNSEALED, _("it has no seal file: it cannot be trusted.")
        )
    try:
        signer_info = cms.ContentInfo.load(seal)["content"]["signer_infos"][0]
        signer_info["signature"].native  # noqa: B018 - parse it all now
        timestamp = timestamp_judged(signer_info)
        moment = _moment(timestamp, signer_info, data)
        context = ValidationContext(trust_roots=_trust_roots(), allow_fetching=False, moment=moment)
        status = loops.run(
            async_validate_detached_cms(data, _unstamped(seal), signer_validation_context=context)
        )
    except Exception as error:  # asn1crypto and pyHanko raise many kinds on damaged input
        logger.info("checkpoint seal unreadable: %s", type(error).__name__)
        return CheckpointCheck(
            name,
            Verdict.SEAL_DAMAGED,
            _("its seal file is cut or damaged and cannot be read."),
        )
    try:
        content = json.loads(data)
        if not isinstance(content, dict) or content.get("format") != FORMAT:
            raise ValueError(name)
        int(content["head_seq"]), str(content["head_hash"]), int(content["event_count"])
    except (ValueError, KeyError, TypeError):
        content = {}
    if not status.intact or not status.valid:
        if not content:
            return CheckpointCheck(
                name,
                Verdict.TRUNCATED,
                _("the file is cut or damaged: it no longer matches its seal."),
            )
        return CheckpointCheck(
            name,
            Verdict.FORGED,
            _("its content is not what was sealed: the checkpoint was forged or edited."),
            content,
        )
    certificate = status.signing_cert
    judged_at = moment or datetime.now(UTC)
    if (
        not status.trusted
        and certificate is not None
        and not certificate.not_valid_before <= judged_at <= certificate.not_valid_after
    ):
        return CheckpointCheck(
            name,
            Verdict.CERTIFICATE_NOT_VALID,
            _(
                "its seal's certificate was not valid when it was sealed (%(time)s, %(source)s): "
                "it had expired or was not yet valid."
            )
            % {
                "time": judged_at.isoformat(timespec="seconds"),
                "source": _("a trusted timestamp's time")
                if timestamp.time is not None
                else _("the time the seal states")
                if moment is not None
                else _("now: the seal states no time"),
            },
            content,
        )
    if not status.trusted:
        signer = certificate.subject.human_friendly if certificate else "?"
        return CheckpointCheck(
            name,
            Verdict.FOREIGN,
            _("it was sealed by a key that is not the institution's (%(signer)s).")
            % {"signer": signer},
            content,
        )
    if not content:
        return CheckpointCheck(
            name, Verdict.TRUNCATED, _("its sealed content is not a checkpoint.")
        )
    return CheckpointCheck(
        name, Verdict.SEALED, _("sealed by the institution."), content, timestamp=timestamp
    )


def _with_timestamp(message: str, timestamp: Timestamp) -> str:
    """`message` with what the checkpoint's timestamp is worth (nothing when it has none); a
    tampered token first, since it is what fails."""
    if timestamp.stamp == Stamp.ABSENT:
        return message
    said = timestamp.described(subject=_("this checkpoint"))
    if timestamp.tampered:
        return f"{said} {_('Its sealed content:')} {message}"
    return f"{message} {said}"


def checkpoint_against_chain(check: CheckpointCheck) -> CheckpointCheck:
    """Compare a sealed checkpoint with the chain: the event at its head, the count, the end."""
    seq = int(check.content["head_seq"])
    head_hash = str(check.content["head_hash"])
    count = int(check.content["event_count"])
    written = check.content.get("written_at", "?")
    last_seq, _last_hash = chain_head()
    event_hash = AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).first()
    values = {"seq": seq, "count": count, "written": written, "last": last_seq}
    if seq == 0:
        kind, message = Kind.AGREES, _("sealed an empty log.")
    elif last_seq == 0:
        kind = Kind.LOG_TRUNCATED
        message = (
            _(
                "the log was truncated: it holds no events, but on %(written)s it held "
                "%(count)s up to event %(seq)s."
            )
            % values
        )
    elif event_hash is None and last_seq < seq:
        kind = Kind.TAIL_DELETED
        message = (
            _(
                "events were deleted from the tail: the log ends at event %(last)s, but on "
                "%(written)s it reached event %(seq)s."
            )
            % values
        )
    elif event_hash != head_hash:
        kind = Kind.REWRITTEN
        message = (
            _(
                "the chain was rewritten: event %(seq)s no longer has the hash sealed on "
                "%(written)s (hashes were recomputed, or the event was removed)."
            )
            % values
        )
    elif AuditEvent.objects.filter(seq__lte=seq).count() != count:
        kind = Kind.COUNT_DIFFERS
        message = (
            _(
                "the log no longer holds the %(count)s events up to event %(seq)s sealed on "
                "%(written)s."
            )
            % values
        )
    else:
        kind = Kind.AGREES
        message = _("event %(seq)s has the hash sealed on %(written)s.") % values
    return CheckpointCheck(
        check.name,
        check.verdict,
        _with_timestamp(message, check.timestamp),
        check.content,
        kind,
        check.timestamp,
    )


def checkpoint_names(storage: Storage | None = None) -> list[str]:
    storage = storage or checkpoint_storage()
    try:
        _dirs, files = storage.listdir("")
    except FileNotFoundError:
        return []
    return sorted(name for name in files if name.endswith(".json"))


class CheckpointChecks(list[CheckpointCheck]):
    """The checks of every checkpoint, oldest first, with the ones a report names."""

    @property
    def warnings(self) -> list[CheckpointCheck]:
        """Good checkpoints whose timestamp comes from an untrusted authority: said, not failed."""
        return [check for check in self if check.warning]


def checkpoints_verify() -> CheckpointChecks:
    """Every checkpoint in the storage, oldest first, checked and compared with the chain
    (each with what its timestamp is worth)."""
    storage = checkpoint_storage()
    checks = CheckpointChecks()
    for name in checkpoint_names(storage):
        check = checkpoint_read(name, storage=storage)
        checks.append(checkpoint_against_chain(check) if check.verdict == Verdict.SEALED else check)
    return checks
