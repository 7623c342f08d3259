"""Checking a consent record's PDF: is this file the record we issued, unchanged and trustworthy?

Staff open a record's verification page (the QR code on page one points there) or upload any
file. The answer is a short list of plain checks and one verdict:

- **identified**: the file names (in its attached canonical record) or matches (by its SHA-256)
  a record stored here;
- **stored copy**: the stored file still has the SHA-256 noted when it was finalized;
- **identical**: the file is byte for byte the stored record;
- **seal**: the institution's PAdES seal is intact, valid, made with our certificate, and
  covers the whole file (nothing appended after sealing);
- **embedded record**: the attached `consent-record.json` has the SHA-256 stored with the
  record, and the stored canonical JSON still has it too;
- **audit chain**: the hash chain verifies from the first event up to the head the record
  carries, and the event there still has the hash printed in the record.

Nothing here raises on a bad file: a foreign, damaged or altered file gets a verdict that says
so. The checks only read; the view records that a verification happened.
"""

import contextlib
import hashlib
import io
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from consent.audit.chain import chain_verify
from consent.audit.events import Origin, staff_access_record
from consent.models import AuditEvent, ConsentRecord
from consent.record.pdf import RECORD_ATTACHMENT
from consent.record.seal import FIELD_NAME, SealUnavailable, seal_signer

logger = logging.getLogger(__name__)

# Uploads larger than this are not records of ours (a typical record is about 100 KiB).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class State(StrEnum):
    PASS = "pass"  # noqa: S105 (a check state, not a password)
    FAIL = "fail"
    UNKNOWN = "unknown"  # could not be checked (e.g. no record to compare with)


class Verdict(StrEnum):
    AUTHENTIC = "authentic"
    ALTERED = "altered"
    FOREIGN = "foreign"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Check:
    key: str
    title: str
    state: State
    detail: str


@dataclass(frozen=True)
class SealFacts:
    """What pyHanko says of the file's seal."""

    present: bool = False
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    whole_file: bool = False
    signer: str = ""
    signed_at: datetime | None = None
    timestamped_at: datetime | None = None
    problem: str = ""

    @property
    def good(self) -> bool:
        return self.present and self.intact and self.valid and self.trusted and self.whole_file


@dataclass(frozen=True)
class FileFacts:
    """What the file itself says, before comparing it with anything stored."""

    sha256: str
    size: int
    is_pdf: bool
    readable: bool
    embedded_json: bytes | None = None
    embedded_record_id: str = ""
    embedded_head_seq: int | None = None
    embedded_head_hash: str = ""
    seal: SealFacts = field(default_factory=SealFacts)


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    headline: str
    facts: FileFacts
    record: ConsentRecord | None
    checks: list[Check]

    @property
    def authentic(self) -> bool:
        return self.verdict == Verdict.AUTHENTIC


def _trust_roots() -> list[Any]:
    """The current seal's certificate and those of earlier keys (SEAL_TRUSTED_CERTS)."""
    roots: list[Any] = []
    with contextlib.suppress(SealUnavailable):
        roots.append(seal_signer().signing_cert)
    for path in settings.SEAL_TRUSTED_CERTS:
        try:
            roots.extend(load_certs_from_pemder([str(path)]))
        except (OSError, ValueError) as error:
            logger.warning("trusted certificate %s not loaded: %s", path, type(error).__name__)
    return roots


def _subject(certificate: Any) -> str:
    """The certificate's common name, else its whole subject."""
    try:
        names = certificate.subject.native
        return str(names.get("common_name") or certificate.subject.human_friendly)
    except (AttributeError, ValueError):
        return ""


def seal_facts(data: bytes) -> SealFacts:
    """Validate the institution's seal with pyHanko, offline, against our own certificate."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = [s for s in reader.embedded_signatures if s.field_name == FIELD_NAME]
        if not signatures:
            return SealFacts(problem=_("The file carries no seal of ours."))
        embedded = signatures[-1]
        context = ValidationContext(trust_roots=_trust_roots(), allow_fetching=False)
        status: PdfSignatureStatus = validate_pdf_signature(embedded, context)
    except (SignatureValidationError, ValueError, KeyError, TypeError, IndexError) as error:
        logger.info("seal validation failed: %s", type(error).__name__)
        return SealFacts(present=True, problem=_("The seal could not be validated."))
    except Exception as error:  # pyHanko raises many kinds on damaged files
        logger.info("seal validation failed: %s", type(error).__name__)
        return SealFacts(present=True, problem=_("The seal could not be read."))
    timestamp = status.timestamp_validity
    return SealFacts(
        present=True,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        whole_file=status.coverage is not None and status.coverage.name == "ENTIRE_FILE",
        signer=_subject(status.signing_cert),
        signed_at=status.signer_reported_dt,
        timestamped_at=timestamp.timestamp if timestamp is not None else None,
    )


def _embedded_record(data: bytes) -> tuple[bytes | None, dict[str, Any]]:
    reader = PdfReader(io.BytesIO(data))
    attachments = reader.attachments.get(RECORD_ATTACHMENT) or []
    if not attachments:
        return None, {}
    raw = attachments[0]
    try:
        parsed = json.loads(raw)
    except ValueError:
        return raw, {}
    return raw, parsed if isinstance(parsed, dict) else {}


def file_facts(data: bytes) -> FileFacts:
    """Read what the file says about itself. Never raises on a bad file."""
    sha256 = hashlib.sha256(data).hexdigest()
    is_pdf = data[:1024].lstrip().startswith(b"%PDF-")
    unreadable = SealFacts(problem=_("The file cannot be read as a PDF."))
    if not is_pdf:
        return FileFacts(
            sha256=sha256, size=len(data), is_pdf=False, readable=False, seal=unreadable
        )
    try:
        raw, document = _embedded_record(data)
    except Exception as error:  # pypdf raises many kinds on damaged files
        logger.info("unreadable PDF: %s", type(error).__name__)
        return FileFacts(
            sha256=sha256, size=len(data), is_pdf=True, readable=False, seal=unreadable
        )
    head_seq = document.get("audit_chain_head_seq")
    record_id = document.get("record_id")
    return FileFacts(
        sha256=sha256,
        size=len(data),
        is_pdf=True,
        readable=True,
        embedded_json=raw,
        embedded_record_id=record_id if isinstance(record_id, str) else "",
        embedded_head_seq=head_seq if isinstance(head_seq, int) else None,
        embedded_head_hash=str(document.get("audit_chain_head_hash") or ""),
        seal=seal_facts(data),
    )


def _stored_pdf(record: ConsentRecord) -> bytes | None:
    try:
        with record.pdf.open("rb") as stored:
            return stored.read()
    except OSError:
        return None


def _chain_check(record: ConsentRecord) -> Check:
    """The chain from the first event to the head the record carries, and that head itself."""
    title = _("Audit log intact up to this record")
    try:
        stored = json.loads(record.record_json)
        head_seq = int(stored["audit_chain_head_seq"])
        head_hash = str(stored["audit_chain_head_hash"])
    except (ValueError, KeyError, TypeError):
        return Check("chain", title, State.FAIL, _("The stored record names no audit chain head."))
    report = chain_verify(
        AuditEvent.objects.filter(seq__lte=head_seq).order_by("seq", "pk").iterator(chunk_size=2000)
    )
    if not report.intact:
        return Check(
            "chain",
            title,
            State.FAIL,
            _("The audit log is broken at event %(seq)s: %(reason)s.")
            % {"seq": report.broken_seq, "reason": report.reason},
        )
    if report.head_seq != head_seq or report.head_hash != head_hash:
        return Check(
            "chain",
            title,
            State.FAIL,
            _(
                "The audit log no longer reaches event %(seq)s with the hash this record "
                "carries: events were removed or rewritten."
            )
            % {"seq": head_seq},
        )
    return Check(
        "chain",
        title,
        State.PASS,
        _("%(count)s events verified; event %(seq)s has the hash printed in the record.")
        % {"count": report.count, "seq": head_seq},
    )


def _seal_check(seal: SealFacts) -> Check:
    title = _("Institution's seal")
    if not seal.present:
        return Check("seal", title, State.FAIL, seal.problem or _("The file is not sealed."))
    if seal.problem:
        return Check("seal", title, State.FAIL, seal.problem)
    if not seal.intact or not seal.valid:
        return Check(
            "seal", title, State.FAIL, _("The seal is broken: the sealed content was changed.")
        )
    if not seal.trusted:
        return Check(
            "seal", title, State.FAIL, _("The seal was not made with this institution's key.")
        )
    if not seal.whole_file:
        return Check(
            "seal",
            title,
            State.FAIL,
            _("Something was added to the file after it was sealed."),
        )
    detail = _("Valid, made by %(signer)s, covering the whole file.") % {"signer": seal.signer}
    if seal.timestamped_at:
        detail += " " + _("Timestamped by a timestamp authority at %(time)s.") % {
            "time": f"{seal.timestamped_at:%Y-%m-%d %H:%M:%S %Z}".strip()
        }
    return Check("seal", title, State.PASS, detail)


def _embedded_check(facts: FileFacts, record: ConsentRecord) -> Check:
    title = _("Record data inside the PDF")
    if facts.embedded_json is None:
        return Check(
            "embedded",
            title,
            State.FAIL,
            _("The file carries no %(name)s attachment.") % {"name": RECORD_ATTACHMENT},
        )
    stored_json_sha = hashlib.sha256(record.record_json.encode("utf-8")).hexdigest()
    if stored_json_sha != record.record_sha256:
        return Check(
            "embedded",
            title,
            State.FAIL,
            _("The stored record data no longer has the SHA-256 noted at finalization."),
        )
    if hashlib.sha256(facts.embedded_json).hexdigest() != record.record_sha256:
        return Check(
            "embedded",
            title,
            State.FAIL,
            _("The attached record data differs from the stored record."),
        )
    return Check(
        "embedded",
        title,
        State.PASS,
        _("%(name)s matches the stored record (SHA-256 %(sha)s…).")
        % {"name": RECORD_ATTACHMENT, "sha": record.record_sha256[:16]},
    )


def _identify(facts: FileFacts) -> ConsentRecord | None:
    records = ConsentRecord.objects.select_related("session", "finalized_by")
    record = records.filter(pdf_sha256=facts.sha256).first()
    if record is None and facts.embedded_record_id:
        record = records.filter(record_id=facts.embedded_record_id).first()
    return record


def verify_bytes(data: bytes, *, record: ConsentRecord | None = None) -> Verification:
    """Verify a file, against `record` when given, else against the record it names."""
    facts = file_facts(data)
    if record is None and (not facts.is_pdf or not facts.readable):
        headline = (
            _("This file is not a PDF.")
            if not facts.is_pdf
            else _("This PDF is damaged and cannot be read.")
        )
        return Verification(Verdict.UNREADABLE, headline, facts, record, [])
    if record is None:
        record = _identify(facts)
    if record is None:
        headline = (
            _("This file names record %(id)s, but no such record is stored here.")
            % {"id": facts.embedded_record_id}
            if facts.embedded_record_id
            else _("This file is not a consent record issued by this system.")
        )
        return Verification(Verdict.FOREIGN, headline, facts, None, [_seal_check(facts.seal)])

    stored = _stored_pdf(record)
    stored_ok = stored is not None and hashlib.sha256(stored).hexdigest() == record.pdf_sha256
    checks = [
        Check(
            "stored",
            _("Stored copy unchanged"),
            State.PASS if stored_ok else State.FAIL,
            _("The stored file still has the SHA-256 noted at finalization.")
            if stored_ok
            else _("The stored file is missing or has changed since finalization."),
        ),
        Check(
            "identical",
            _("Identical to the stored record"),
            State.PASS if facts.sha256 == record.pdf_sha256 else State.FAIL,
            _("Byte for byte the record finalized on %(date)s (SHA-256 %(sha)s…).")
            % {"date": f"{record.finalized_at:%Y-%m-%d}", "sha": record.pdf_sha256[:16]}
            if facts.sha256 == record.pdf_sha256
            else _("This file differs from the stored record (its SHA-256 is %(sha)s…).")
            % {"sha": facts.sha256[:16]},
        ),
        _seal_check(facts.seal),
        _embedded_check(facts, record),
        _chain_check(record),
    ]
    if all(check.state == State.PASS for check in checks):
        verdict = Verdict.AUTHENTIC
        headline = _("Authentic: this is record %(id)s exactly as it was finalized.") % {
            "id": record.record_id
        }
    else:
        verdict = Verdict.ALTERED
        headline = _("Not authentic: this file or its record fails %(n)s of %(total)s checks.") % {
            "n": sum(check.state != State.PASS for check in checks),
            "total": len(checks),
        }
    return Verification(verdict, headline, facts, record, checks)


def verification_recorded(
    *, verification: Verification, source: str, user: User, origin: Origin
) -> None:
    """Note in the audit log that someone checked a record (or a file naming none)."""
    record = verification.record
    payload: dict[str, Any] = {
        "source": source,
        "verdict": str(verification.verdict),
        "sha256": verification.facts.sha256,
        "failed": [check.key for check in verification.checks if check.state != State.PASS],
    }
    if record is not None:
        payload["record_id"] = record.record_id
    staff_access_record(
        user=user,
        origin=origin,
        action="record.verified" if record is not None else "file.verified",
        obj=record,
        session=record.session if record is not None else None,
        payload=payload,
    )


def verify_record(record: ConsentRecord) -> Verification:
    """Verify a stored record's own file (what its verification URL shows)."""
    data = _stored_pdf(record)
    if data is None:
        facts = FileFacts(sha256="", size=0, is_pdf=False, readable=False)
        return Verification(
            Verdict.ALTERED,
            _("The stored file of record %(id)s is missing.") % {"id": record.record_id},
            facts,
            record,
            [
                Check(
                    "stored",
                    _("Stored copy unchanged"),
                    State.FAIL,
                    _("The stored file is missing."),
                )
            ],
        )
    return verify_bytes(data, record=record)
