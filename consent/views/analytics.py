"""Comprehension analytics per procedure version (being written: see issue 5)."""

from django.http import Http404, HttpRequest, HttpResponse


def analytics(request: HttpRequest) -> HttpResponse:
    raise Http404
