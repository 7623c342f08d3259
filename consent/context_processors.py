"""Template context shared by every page."""

from django.conf import settings
from django.http import HttpRequest


def institution(request: HttpRequest) -> dict[str, str]:
    return {"institution_name": settings.INSTITUTION_NAME}
