"""The auditor's workspace (being written: see issue 5)."""

from django.http import Http404, HttpRequest, HttpResponse


def _missing(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


record_list = record_list_csv = record_detail = record_pdf = record_fhir = log_verify = _missing
