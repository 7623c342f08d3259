"""Serving a finalized record's stored PDF and its addenda's, to staff or to the patient, byte
for byte.

The file is opened before the download is recorded: a file missing from its storage (a bucket
emptied behind the application's back) or a storage that cannot be reached gets a plain page,
503, saying nothing was changed, and no download event (nothing was handed out)."""

import logging
from typing import IO, Any

from django.contrib.auth.models import User
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from consent.audit.events import Origin
from consent.models import Addendum, ConsentRecord, ConsentSession
from consent.services import addenda, signatures

logger = logging.getLogger(__name__)


class StoredFileUnavailable(Exception):
    """The stored PDF cannot be read now (missing, or its storage unreachable)."""


def _opened(file: FieldFile) -> IO[Any]:
    try:
        return file.open("rb")
    except Exception as error:  # FileNotFoundError, or whatever the storage's client raises
        logger.error("stored file unreadable: %s", type(error).__name__)
        raise StoredFileUnavailable from error


def stored_file_unavailable_response(request: HttpRequest) -> HttpResponse:
    response = render(request, "consent/stored_file_unavailable.html", status=503)
    response["Cache-Control"] = "no-store"
    return response


def record_download_response(
    request: HttpRequest, record: ConsentRecord, *, role: str, actor: User | None = None
) -> HttpResponseBase:
    """Record the download, then send the stored file (never rendered again)."""
    try:
        stored = _opened(record.pdf)
    except StoredFileUnavailable:
        return stored_file_unavailable_response(request)
    signatures.record_downloaded(record=record, role=role, origin=Origin.of(request), actor=actor)
    response = FileResponse(
        stored,
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
) -> HttpResponseBase:
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
    try:
        stored = _opened(addendum.pdf)
    except StoredFileUnavailable:
        return stored_file_unavailable_response(request)
    origin = Origin.of(request)
    addenda.addendum_downloaded(addendum=addendum, role=role, origin=origin, actor=actor)
    response = FileResponse(
        stored,
        as_attachment=True,
        filename=f"{addendum.addendum_id}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "no-store"
    return response
