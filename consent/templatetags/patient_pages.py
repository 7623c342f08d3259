"""Template tags for the patient's pages."""

from typing import Any

from django import template

from consent.views.patient.keep_alive import keep_alive_interval

register = template.Library()


@register.inclusion_tag("consent/patient/_keep_alive.html")
def keep_alive_script() -> dict[str, Any]:
    """The keep-alive script, told how long to wait at least between two pings."""
    return {"interval_ms": int(keep_alive_interval().total_seconds() * 1000)}
