"""An addendum's own sealed document: a withdrawal of consent or a correction, as PDF/A-3b.

A finalized record never changes; what happens to it later is an addendum, and each addendum is
a record of its own (docs/record-format.md, "Addendum document"). Its canonical JSON
(`consent-addendum`, version 1, RFC 8785 bytes from `consent.canonical.canonical_bytes`) names
the record it amends by id, by the record's SHA-256 and by its PDF's SHA-256; it holds the kind,
the text, the physician who added it (password re-entered), the time and, for a withdrawal, the
patient's signature when given. The JSON is attached inside the PDF (`consent-addendum.json`),
exactly as the record attaches its own, and the PDF is rendered by the record's pipeline
(`consent.record.pdf`: template engine, static-only fetcher, print stylesheet) and sealed by
the institution's seal (`consent.record.seal.pdf_seal`).

The document is built from the stored record's JSON, never from the live tables: the
addendum says what the record it amends said.
"""

import base64
import hashlib
import io
import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from consent.canonical import canonical_bytes
from consent.languages import language_label
from consent.models import Addendum, ConsentRecord
from consent.record.pdf import _engine, pdf_a3b_render, qr_data_uri, verification_url
from consent.record.seal import pdf_seal

ADDENDUM_FORMAT = "consent-addendum"
ADDENDUM_FORMAT_VERSION = 1
ADDENDUM_ATTACHMENT = "consent-addendum.json"
TEMPLATE = "consent/pdf/addendum.html"
METHOD_PASSWORD = "password"  # noqa: S105 (a method name, not a password): the physician re-entered their account password


def addendum_id_for(record_id: str, number: int) -> str:
    """`CR-2026-000123-A1`: the record's id and the addendum's number under it, from 1."""
    return f"{record_id}-A{number}"


def utc_text(moment: datetime) -> str:
    """An aware datetime as `YYYY-MM-DDTHH:MM:SSZ` in UTC (the record's form)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def addendum_document(
    *,
    record: ConsentRecord,
    addendum_id: str,
    kind: str,
    text: str,
    author_name: str,
    author_username: str,
    created_at: datetime,
    patient_name: str = "",
    patient_image: bytes | None = None,
) -> dict[str, Any]:
    """The addendum's canonical document, as plain data (docs/record-format.md)."""
    stored = json.loads(record.record_json) if record.record_json else {}
    procedure = stored.get("procedure") or {}
    signature: dict[str, Any] | None = None
    if patient_name:
        signature = {
            "printed_name": patient_name,
            "signed_at": utc_text(created_at),
            "method": "drawn" if patient_image else "typed",
            "image_png_base64": (
                base64.b64encode(patient_image).decode("ascii") if patient_image else None
            ),
            "image_sha256": hashlib.sha256(patient_image).hexdigest() if patient_image else None,
        }
    return {
        "format": ADDENDUM_FORMAT,
        "format_version": ADDENDUM_FORMAT_VERSION,
        "addendum_id": addendum_id,
        "record": {
            "record_id": record.record_id,
            "record_sha256": record.record_sha256,
            "pdf_sha256": record.pdf_sha256,
            "finalized_at": utc_text(record.finalized_at),
        },
        "institution": stored.get("institution", settings.INSTITUTION_NAME),
        "session_id": stored.get("session_id"),
        "patient": stored.get("patient"),
        "procedure": {key: procedure.get(key) for key in ("title", "slug", "version", "language")},
        "language": _patient_language(stored, procedure),
        "kind": kind,
        "kind_label": str(dict(Addendum.Kind.choices).get(kind, kind)),
        "text": text,
        "author": {"name": author_name, "username": author_username, "method": METHOD_PASSWORD},
        "created_at": utc_text(created_at),
        "patient_signature": signature,
    }


def _patient_language(stored: dict[str, Any], procedure: dict[str, Any]) -> dict[str, Any]:
    """The language the patient was shown, as the record states it; a record made before it
    stated one was shown its procedure's language."""
    language = stored.get("language")
    if isinstance(language, dict):
        return language
    code = str(procedure.get("language") or settings.LANGUAGE_CODE)
    with translation.override(settings.LANGUAGE_CODE):
        return {"code": code, "name": language_label(code)}


def addendum_json(document: dict[str, Any]) -> bytes:
    """The addendum's canonical bytes (RFC 8785): the same document always gives the same bytes."""
    return canonical_bytes(document)


def addendum_html(document: dict[str, Any], digest: str) -> str:
    """The addendum's HTML, as WeasyPrint will lay it out."""
    url = verification_url(document["record"]["record_id"])
    context = {
        "addendum": document,
        "addendum_sha256": digest,
        "withdrawal": document["kind"] == Addendum.Kind.WITHDRAWAL,
        "verification_url": url,
        "verification_qr": qr_data_uri(url),
        "language": settings.LANGUAGE_CODE,
    }
    with translation.override(settings.LANGUAGE_CODE):
        return _engine().get_template(TEMPLATE).render(context)


def addendum_document_pdf(document: dict[str, Any], canonical: bytes) -> bytes:
    """The addendum as PDF/A-3b with its canonical JSON attached, unsealed.

    Like the record, it depends only on the data: its creation date is the addendum's time and
    its file identifier is the addendum id.
    """
    digest = hashlib.sha256(canonical).hexdigest()
    return pdf_a3b_render(
        addendum_html(document, digest),
        identifier=document["addendum_id"],
        attachment_name=ADDENDUM_ATTACHMENT,
        attachment_description=(
            f"Canonical consent addendum {document['addendum_id']}, SHA-256 {digest}"
        ),
        attached=canonical,
        moment=datetime.fromisoformat(document["created_at"].replace("Z", "+00:00")),
    )


def addendum_pdf_render(document: dict[str, Any], canonical: bytes) -> bytes:
    """The addendum's PDF, sealed by the institution like the record (an incremental update)."""
    addendum_id = document["addendum_id"]
    reason = f"{document['kind_label']} {addendum_id} to consent record"
    unsealed = addendum_document_pdf(document, canonical)
    return pdf_seal(unsealed, record_id=addendum_id, reason=reason)


# Verification (consent/record/verification.py): a record's addenda, and an addendum's own PDF.


def _sealed_addenda(record: ConsentRecord) -> list[Addendum]:
    return list(Addendum.objects.filter(record=record).select_related("created_by"))


def _said(addendum: Addendum) -> dict[str, str]:
    return {
        "date": f"{addendum.created_at:%Y-%m-%d}",
        "name": addendum.created_by.get_full_name() or addendum.created_by.get_username(),
        "id": addendum.addendum_id or "",
    }


def addenda_notices(record: ConsentRecord) -> list[str]:
    """Each addendum under the record, in plain words: what, when, by whom, its id."""
    notices = []
    for addendum in _sealed_addenda(record):
        said = _said(addendum)
        if addendum.kind == Addendum.Kind.WITHDRAWAL:
            text = _("Consent withdrawn on %(date)s by %(name)s") % said
        else:
            text = _("Corrected on %(date)s by %(name)s") % said
        if said["id"]:
            text += " " + _("(addendum %(id)s)") % said
        notices.append(text + ".")
    return notices


def addenda_verdict(record: ConsentRecord, verdict: Any, headline: str) -> tuple[Any, str]:
    """An authentic record with a withdrawal (or a correction) added says so first."""
    from consent.record.verification import Verdict

    addenda = _sealed_addenda(record)
    withdrawals = [a for a in addenda if a.kind == Addendum.Kind.WITHDRAWAL]
    if withdrawals:
        said = _said(withdrawals[0])
        return Verdict.WITHDRAWN, (
            _("Consent withdrawn on %(date)s by %(name)s.") % said
            + " "
            + _("Record %(id)s itself is authentic, exactly as it was finalized.")
            % {"id": record.record_id}
        )
    if addenda:
        said = _said(addenda[-1])
        return Verdict.CORRECTED, (
            _("Corrected on %(date)s by %(name)s.") % said
            + " "
            + _("Record %(id)s itself is authentic, exactly as it was finalized.")
            % {"id": record.record_id}
        )
    return verdict, headline


def _embedded_addendum(data: bytes) -> bytes | None:
    from pypdf import PdfReader

    try:
        found = PdfReader(io.BytesIO(data)).attachments.get(ADDENDUM_ATTACHMENT) or []
    except Exception:  # pypdf raises many kinds on damaged files
        return None
    return found[0] if found else None


def addendum_identified(facts: Any, data: bytes) -> Addendum | None:
    """The stored addendum a file is (by its SHA-256) or names (in its attached JSON)."""
    addenda = Addendum.objects.select_related("record__session", "created_by")
    found = addenda.filter(pdf_sha256=facts.sha256).exclude(pdf_sha256="").first()
    if found is not None or not facts.readable or facts.embedded_json is not None:
        return found
    embedded = _embedded_addendum(data)
    try:
        named = json.loads(embedded) if embedded else {}
    except ValueError:
        return None
    addendum_id = named.get("addendum_id") if isinstance(named, dict) else None
    if not isinstance(addendum_id, str) or not addendum_id:
        return None
    return addenda.filter(addendum_id=addendum_id).first()


def addendum_verified(data: bytes, facts: Any, addendum: Addendum) -> Any:
    """Verify a file that is (or claims to be) an addendum: stored copy, identity, seal, the
    attached JSON, and the record it names. Says which record it amends."""
    from consent.record import verification as v

    record = addendum.record
    stored: bytes | None
    try:
        with addendum.pdf.open("rb") as handle:
            stored = handle.read()
    except (OSError, ValueError):
        stored = None
    stored_ok = stored is not None and hashlib.sha256(stored).hexdigest() == addendum.pdf_sha256
    embedded = _embedded_addendum(data)
    json_ok = (
        embedded is not None
        and hashlib.sha256(embedded).hexdigest() == addendum.addendum_sha256
        and hashlib.sha256(addendum.addendum_json.encode("utf-8")).hexdigest()
        == addendum.addendum_sha256
    )
    try:
        named = json.loads(embedded or b"{}").get("record") or {}
    except ValueError:
        named = {}
    names_record = (
        named.get("record_id") == record.record_id
        and named.get("record_sha256") == record.record_sha256
        and named.get("pdf_sha256") == record.pdf_sha256
    )
    said = _said(addendum)
    checks = [
        v.Check(
            "stored",
            _("Stored copy unchanged"),
            v.State.PASS if stored_ok else v.State.FAIL,
            _("The stored addendum still has the SHA-256 noted when it was added.")
            if stored_ok
            else _("The stored addendum is missing or has changed since it was added."),
        ),
        v.Check(
            "identical",
            _("Identical to the stored addendum"),
            v.State.PASS if facts.sha256 == addendum.pdf_sha256 else v.State.FAIL,
            _("Byte for byte addendum %(id)s (SHA-256 %(sha)s…).")
            % {"id": said["id"], "sha": addendum.pdf_sha256[:16]},
        ),
        v._seal_check(facts.seal),
        v.Check(
            "embedded",
            _("Addendum data inside the PDF"),
            v.State.PASS if json_ok else v.State.FAIL,
            _("%(name)s matches the stored addendum.") % {"name": ADDENDUM_ATTACHMENT}
            if json_ok
            else _("The attached addendum data differs from the stored addendum."),
        ),
        v.Check(
            "amends",
            _("Record it amends"),
            v.State.PASS if names_record else v.State.FAIL,
            _("Names record %(id)s by its SHA-256 and its PDF's SHA-256, as stored.")
            % {"id": record.record_id}
            if names_record
            else _("It does not name record %(id)s as stored.") % {"id": record.record_id},
        ),
    ]
    kind = addendum.get_kind_display()
    if all(check.state == v.State.PASS for check in checks):
        verdict = (
            v.Verdict.WITHDRAWN
            if addendum.kind == Addendum.Kind.WITHDRAWAL
            else v.Verdict.CORRECTED
        )
        headline = _(
            "Authentic addendum %(id)s to record %(record_id)s: %(kind)s on %(date)s by %(name)s."
        ) % {**said, "record_id": record.record_id, "kind": kind}
    else:
        verdict = v.Verdict.ALTERED
        headline = _(
            "Not authentic: this file claims to be addendum %(id)s to record %(record_id)s and "
            "fails %(n)s of %(total)s checks."
        ) % {
            **said,
            "record_id": record.record_id,
            "n": sum(check.state != v.State.PASS for check in checks),
            "total": len(checks),
        }
    return v.Verification(verdict, headline, facts, record, checks, addenda_notices(record))
