"""Serving a finalized record's stored PDF, to staff or to the patient, byte for byte."""

from django.contrib.auth.models import User
from django.http import FileResponse, HttpRequest

from consent.audit.events import Origin
from consent.models import ConsentRecord
from consent.services import signatures


def record_download_response(
    request: HttpRequest, record: ConsentRecord, *, role: str, actor: User | None = None
) -> FileResponse:
    """Record the download, then send the stored file (never rendered again)."""
    signatures.record_downloaded(record=record, role=role, origin=Origin.of(request), actor=actor)
    response = FileResponse(
        record.pdf.open("rb"),
        as_attachment=True,
        filename=f"{record.record_id}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "no-store"
    return response
