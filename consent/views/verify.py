"""Verifying a record's PDF (being written: see issue 4)."""

from django.http import Http404, HttpRequest, HttpResponse


def _missing(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


verify_upload = record_verify = _missing
