"""Serving a finalized record's stored PDF and its addenda's, to staff or to the patient, byte
for byte."""

from django.contrib.auth.models import User
from django.http import FileResponse, Http404, HttpRequest

from consent.audit.events import Origin
from consent.models import Addendum, ConsentRecord, ConsentSession
from consent.services import addenda, signatures


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


def addendum_download_response(
    request: HttpRequest,
    session: ConsentSession,
    addendum_id: str,
    *,
    role: str,
    actor: User | None = None,
) -> FileResponse:
    """An addendum's stored, sealed PDF under this session's record; 404 for any other id.

    The download is recorded like a record's (access to health data)."""
    addendum = (
        Addendum.objects.select_related("record__session")
        .filter(record__session=session, addendum_id=addendum_id)
        .exclude(pdf="")
        .first()
    )
    if addendum is None:
        raise Http404
    origin = Origin.of(request)
    addenda.addendum_downloaded(addendum=addendum, role=role, origin=origin, actor=actor)
    response = FileResponse(
        addendum.pdf.open("rb"),
        as_attachment=True,
        filename=f"{addendum.addendum_id}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "no-store"
    return response
