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
from urllib.parse import urljoin

import weasyprint
from django.conf import settings
from django.utils import translation
from weasyprint.urls import FatalURLFetchingError

from consent.canonical import canonical_bytes
from consent.models import Addendum, ConsentRecord
from consent.record.pdf import (
    DOCUMENT_ORIGIN,
    STYLESHEET,
    PdfRenderError,
    StaticOnlyFetcher,
    _engine,
    _one_af_entry_per_file,
    qr_data_uri,
    static_url,
    verification_url,
)
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
        "kind": kind,
        "kind_label": str(dict(Addendum.Kind.choices).get(kind, kind)),
        "text": text,
        "author": {"name": author_name, "username": author_username, "method": METHOD_PASSWORD},
        "created_at": utc_text(created_at),
        "patient_signature": signature,
    }


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
        "stylesheet_url": static_url(STYLESHEET),
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
    fetcher = StaticOnlyFetcher()
    html = weasyprint.HTML(
        string=addendum_html(document, digest),
        base_url=urljoin(DOCUMENT_ORIGIN, "/"),
        url_fetcher=fetcher,
    )
    moment = datetime.fromisoformat(document["created_at"].replace("Z", "+00:00"))
    attachment = weasyprint.Attachment(
        file_obj=io.BytesIO(canonical),
        name=ADDENDUM_ATTACHMENT,
        description=f"Canonical consent addendum {document['addendum_id']}, SHA-256 {digest}",
        created=moment,
        modified=moment,
        relationship="Data",
        url_fetcher=fetcher,
    )
    try:
        return html.write_pdf(
            finisher=_one_af_entry_per_file,
            pdf_identifier=document["addendum_id"].encode("ascii"),
            pdf_variant="pdf/a-3b",
            attachments=[attachment],
        )
    except FatalURLFetchingError as error:
        raise PdfRenderError(str(error)) from error


def addendum_pdf_render(document: dict[str, Any], canonical: bytes) -> bytes:
    """The addendum's PDF, sealed by the institution like the record (an incremental update)."""
    addendum_id = document["addendum_id"]
    reason = f"{document['kind_label']} {addendum_id} to consent record"
    unsealed = addendum_document_pdf(document, canonical)
    return pdf_seal(unsealed, record_id=addendum_id, reason=reason)
