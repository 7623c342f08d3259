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
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError, SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from consent.audit.chain import chain_verify
from consent.audit.events import Origin, staff_access_record
from consent.models import AuditEvent, ConsentRecord
from consent.record import loops
from consent.record.pdf import RECORD_ATTACHMENT
from consent.record.seal import FIELD_NAME, SealUnavailable, seal_signer, seal_trust_roots
from consent.record.timestamps import Stamp, Timestamp, certificates_loaded, timestamp_judged

logger = logging.getLogger(__name__)

# Uploads larger than this are not records of ours (a typical record is about 100 KiB).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class State(StrEnum):
    PASS = "pass"  # noqa: S105 (a check state, not a password)
    FAIL = "fail"
    UNKNOWN = "unknown"  # could not be checked (e.g. no record to compare with)


class Verdict(StrEnum):
    AUTHENTIC = "authentic"
    # Authentic, and an addendum was added under the record since: never a bare "authentic".
    WITHDRAWN = "withdrawn"
    CORRECTED = "corrected"
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
    # The time of a timestamp from an authority we trust (SEAL_TSA_TRUSTED_CERTS), else None.
    timestamped_at: datetime | None = None
    # The seal carries a timestamp token whose authority we do not trust: its time is ignored.
    timestamp_untrusted: bool = False
    # When the certificate was judged: the trusted timestamp's time, else the time the seal states.
    judged_at: datetime | None = None
    certificate_expires: datetime | None = None
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
    # What was added under the record since it was finalized, in plain words (addenda).
    notices: list[str] = field(default_factory=list)
    # Only the verdict is told: the user may not see the record (`verification_withheld`).
    withheld: bool = False

    @property
    def authentic(self) -> bool:
        return self.verdict == Verdict.AUTHENTIC

    @property
    def amended(self) -> bool:
        """Authentic, with a withdrawal or a correction added since: a warning, not a pass."""
        return self.verdict in (Verdict.WITHDRAWN, Verdict.CORRECTED)


def _trust_roots() -> list[Any]:
    """The current seal's CA and the certificates of earlier keys (SEAL_TRUSTED_CERTS).

    The CA, not the seal certificate: a renewed seal certificate from the same CA verifies
    without a change here. A key made before seals had a CA is its own root.
    """
    roots: list[Any] = []
    with contextlib.suppress(SealUnavailable):
        roots.extend(seal_trust_roots(seal_signer()))
    return roots + certificates_loaded(settings.SEAL_TRUSTED_CERTS)


def _seal_timestamp(reader: PdfFileReader, embedded: EmbeddedPdfSignature) -> Timestamp:
    """The seal's timestamp judged by the rule of consent.record.timestamps: its time counts
    only if it is sound, stamps this seal's signature, and its authority chains to a root of
    SEAL_TSA_TRUSTED_CERTS.

    The authority's certificate is judged at the token's own time, with the chain and
    revocation data the file carries, as the seal's certificate is judged at the seal's time.
    """
    return timestamp_judged(
        embedded.signer_info,
        context_for=lambda moment, roots: _validation_context(reader, moment, roots=roots),
    )


def _validation_context(
    reader: PdfFileReader, moment: datetime | None, *, roots: list[Any] | None = None
) -> ValidationContext:
    """Our roots (or `roots`), judged at `moment`, with the chain and revocation data the file
    carries.

    A PAdES B-LT seal carries its CA's revocation list, gathered just after sealing: it is
    accepted although issued after the signing time (that is what B-LT means). Nothing is
    fetched: verification works offline and years later.
    """
    options: dict[str, Any] = {
        "trust_roots": _trust_roots() if roots is None else roots,
        "allow_fetching": False,
        "moment": moment,
        "retroactive_revinfo": True,
    }
    try:
        return DocumentSecurityStore.read_dss(reader).as_validation_context(options)
    except NoDSSFoundError:
        return ValidationContext(**options)


def _subject(certificate: Any) -> str:
    """The certificate's common name, else its whole subject."""
    try:
        names = certificate.subject.native
        return str(names.get("common_name") or certificate.subject.human_friendly)
    except (AttributeError, ValueError):
        return ""


_NOT_VALID_THEN = {"EXPIRED", "NOT_YET_VALID", "OUT_OF_BOUNDS_NO_POE", "OUT_OF_BOUNDS_NOT_REVOKED"}


def seal_facts(data: bytes) -> SealFacts:
    """Validate the institution's seal with pyHanko, offline, at the time the seal was made.

    A certificate is judged when it sealed, not today: a record sealed in 2026 with a
    certificate that expired in 2031 is still authentic in 2032. The time is the timestamp
    authority's when the seal carries a timestamp from an authority we trust
    (SEAL_TSA_TRUSTED_CERTS), else the time the seal states.
    """
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = [s for s in reader.embedded_signatures if s.field_name == FIELD_NAME]
        if not signatures:
            return SealFacts(problem=_("The file carries no seal of ours."))
        embedded = signatures[-1]
        timestamp = _seal_timestamp(reader, embedded)
        stamped_at = timestamp.time
        judged_at = stamped_at or embedded.self_reported_timestamp
        context = _validation_context(reader, judged_at)
        status: PdfSignatureStatus = loops.call(validate_pdf_signature, embedded, context)
    except (SignatureValidationError, ValueError, KeyError, TypeError, IndexError) as error:
        logger.info("seal validation failed: %s", type(error).__name__)
        return SealFacts(present=True, problem=_("The seal could not be validated."))
    except Exception as error:  # pyHanko raises many kinds on damaged files
        logger.info("seal validation failed: %s", type(error).__name__)
        return SealFacts(present=True, problem=_("The seal could not be read."))
    problem = ""
    certificate = status.signing_cert
    indication = getattr(status.trust_problem_indic, "name", "")  # one of pyHanko's AdES enums
    outside = (
        certificate is not None
        and judged_at is not None
        and not (certificate.not_valid_before <= judged_at <= certificate.not_valid_after)
    )
    if judged_at is not None and (outside or indication in _NOT_VALID_THEN):
        problem = _(
            "The seal's certificate was not valid when the seal was made (%(time)s): it was "
            "expired or not yet valid."
        ) % {"time": _moment(judged_at)}
    container = _seal_container(data)
    if container is not None and data[container[1] : container[2] - 1].strip(b"0"):
        # pyHanko's check does not cover the padding; a seal of ours always pads with zeros.
        problem = _(
            "The seal's signature container was changed outside the signature, in its padding."
        )
    return SealFacts(
        present=True,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        whole_file=status.coverage is not None and status.coverage.name == "ENTIRE_FILE",
        signer=_subject(certificate),
        signed_at=status.signer_reported_dt,
        timestamped_at=stamped_at,
        timestamp_untrusted=timestamp.stamp != Stamp.ABSENT and stamped_at is None,
        judged_at=judged_at,
        certificate_expires=certificate.not_valid_after if certificate is not None else None,
        problem=problem,
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


def _seal_container(data: bytes) -> tuple[int, int, int] | None:
    """Where our seal's signature container lies: its `<`, the end of the DER signature in
    it, and the byte after its `>`. The rest of the container is zero padding that pyHanko
    reserves and the signature does not cover."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        seals = [s for s in reader.embedded_signatures if s.field_name == FIELD_NAME]
        _start, start, end, _length = seals[-1].byte_range
        der = bytes.fromhex(data[start + 1 : start + 9].decode("ascii"))
        size = 2 + (der[1] & 0x7F) if der[1] & 0x80 else 2
        length = int.from_bytes(der[2:size]) if der[1] & 0x80 else der[1]
    except Exception:  # a stored file without a readable seal: no regions to name
        return None
    return start, start + 1 + 2 * (size + length), end


def _first_revision_end(data: bytes) -> int:
    marker = data.find(b"%%EOF")
    return len(data) if marker < 0 else marker + len(b"%%EOF")


def _object_at(data: bytes, offset: int) -> int | None:
    """The number of the indirect object whose text holds `offset`, if any."""
    for match in reversed(list(re.finditer(rb"(\d+) \d+ obj\b", data[: offset + 1]))):
        end = data.find(b"endobj", match.end())
        return int(match[1]) if end >= 0 and offset < end + len(b"endobj") else None
    return None


def difference_described(stored: bytes, data: bytes) -> str:
    """Where `data` first differs from the stored record's bytes, in words.

    Every byte counts, the signature container's padding included: pyHanko's validation
    does not cover that padding, so a change there leaves the seal valid and only this
    comparison finds it.
    """
    shorter = min(len(stored), len(data))
    offset = None
    for chunk in range(0, shorter, 4096):
        end = min(chunk + 4096, shorter)
        if stored[chunk:end] != data[chunk:end]:
            offset = next(i for i in range(chunk, end) if stored[i] != data[i])
            break
    if offset is None:
        if len(data) > len(stored):
            return _("%(count)s bytes were added after the end of the stored record.") % {
                "count": len(data) - len(stored)
            }
        if len(data) < len(stored):
            return _("The file ends at byte %(offset)s; the stored record has %(size)s bytes.") % {
                "offset": len(data),
                "size": len(stored),
            }
        return _("The files have the same bytes.")
    container = _seal_container(stored)
    if container is not None and container[0] <= offset < container[2]:
        start, signature_end, end = container
        if offset in (start, end - 1):
            where = _("on a delimiter of the seal's signature container")
        elif offset < signature_end:
            where = _("inside the seal's signature container, in the signature itself")
        else:
            where = _("inside the seal's signature container, in its padding")
    else:
        number = _object_at(stored, offset)
        part = (
            _("in the document as rendered, before the seal")
            if offset < _first_revision_end(stored)
            else _("in the seal's update, outside its signature container")
        )
        where = (
            _("%(part)s (object %(number)s)") % {"part": part, "number": number}
            if number is not None
            else part
        )
    return _("The first differing byte is byte %(offset)s, %(where)s.") % {
        "offset": offset,
        "where": where,
    }


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


def _moment(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S %Z}".strip()


def _timestamp_distrust(seal: SealFacts, detail: str) -> str:
    """`detail`, saying so when the seal's timestamp comes from an authority we do not trust."""
    if not seal.timestamp_untrusted:
        return detail
    return (
        detail
        + " "
        + _(
            "Timestamped by an authority this institution does not trust: the time is the "
            "seal's own claim."
        )
    )


def _seal_check(seal: SealFacts) -> Check:
    title = _("Institution's seal")
    if not seal.present:
        return Check("seal", title, State.FAIL, seal.problem or _("The file is not sealed."))
    if seal.problem:
        return Check("seal", title, State.FAIL, _timestamp_distrust(seal, seal.problem))
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
            "time": _moment(seal.timestamped_at)
        }
    elif seal.judged_at:
        detail += " " + _("Sealed at %(time)s (the time the seal states).") % {
            "time": _moment(seal.judged_at)
        }
        detail = _timestamp_distrust(seal, detail)
    if seal.certificate_expires and seal.certificate_expires < timezone.now():
        detail += " " + _(
            "Its certificate has expired since (%(expiry)s); it was valid when the seal was made."
        ) % {"expiry": _moment(seal.certificate_expires)}
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
        from consent.record.addendum import addendum_identified, addendum_verified

        addendum = addendum_identified(facts, data)
        if addendum is not None:
            return addendum_verified(data, facts, addendum)
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
            % {"sha": facts.sha256[:16]}
            + (" " + difference_described(stored, data) if stored_ok and stored else ""),
        ),
        _seal_check(facts.seal),
        _embedded_check(facts, record),
        _chain_check(record),
    ]
    from consent.record.addendum import addenda_notices, addenda_verdict

    notices = addenda_notices(record)
    if all(check.state == State.PASS for check in checks):
        verdict = Verdict.AUTHENTIC
        headline = _("Authentic: this is record %(id)s exactly as it was finalized.") % {
            "id": record.record_id
        }
        # A withdrawal or a correction added since says so first, in plain sight.
        verdict, headline = addenda_verdict(record, verdict, headline)
    else:
        verdict = Verdict.ALTERED
        headline = _("Not authentic: this file or its record fails %(n)s of %(total)s checks.") % {
            "n": sum(check.state != State.PASS for check in checks),
            "total": len(checks),
        }
    return Verification(verdict, headline, facts, record, checks, notices)


def verification_withheld(verification: Verification) -> Verification:
    """What a user who may not see the record is told of a file: authentic or not, nothing else.

    Not the record's id, its patient, when it was finalized or by whom, nor an addendum, a
    withdrawal or a check's details (each names stored facts: dates, hashes, the audit log's
    length). A file naming a record that does not exist, an altered copy of a record that does
    and any other PDF get the same words, so uploading a forged file reveals no record's
    existence either. Only a file that is not a readable PDF keeps its own answer: it is about
    the file alone. The file's own SHA-256 and size stay (the uploader has the file).
    """
    if verification.verdict == Verdict.UNREADABLE:
        return verification
    if verification.authentic or verification.amended:
        verdict = Verdict.AUTHENTIC
        headline = _("Authentic: this file is a document issued by this system, unchanged.")
    else:
        verdict = Verdict.ALTERED
        headline = _(
            "Not authentic: this file is not a document issued by this system, or it was "
            "changed since."
        )
    return Verification(verdict, headline, verification.facts, None, [], [], withheld=True)


def verification_recorded(
    *,
    verification: Verification,
    source: str,
    user: User,
    origin: Origin,
    withheld: bool = False,
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
    if withheld:
        payload["withheld"] = True  # the user was told the verdict only
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
