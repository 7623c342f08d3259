"""The patient's decision on their own device: consent or informed refusal, and companions.

(Being written.)
"""

from django.http import Http404, HttpRequest, HttpResponse


def _not_yet(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


decide = decline = companion = record_copy = _not_yet
