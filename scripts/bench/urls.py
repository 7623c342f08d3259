"""The application's URLs plus H0's view, for `make bench` only (scripts/bench/settings.py)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from consent_site.urls import urlpatterns as application

FLOOR_PATH = "/bench/floor/"


def floor(request: HttpRequest) -> HttpResponse:
    """H0: a bare Django view, through the application's whole middleware stack, no query."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path(FLOOR_PATH.strip("/") + "/", floor), *application]
