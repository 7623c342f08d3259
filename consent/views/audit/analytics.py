"""Comprehension analytics per procedure version, in the auditor's workspace.

Aggregates only: nothing on this page names or describes a patient. The figures and charts come
from `consent.analytics`; this module only speaks HTTP.
"""

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from consent.audit.events import Origin, audit_record
from consent.forms.audit import VersionForm
from consent.models import AuditEvent
from consent.selectors.analytics import (
    default_version,
    procedure_versions_with_sessions,
    version_analytics,
)
from consent.views.access import auditor_required
from consent.views.audit.charts import analytics_charts


@auditor_required
def analytics(request: HttpRequest) -> HttpResponse:
    choices = procedure_versions_with_sessions()
    status = 200
    if request.GET.get("version"):
        form = VersionForm(request.GET, choices=choices)
        if form.is_valid():
            chosen = form.cleaned_data["version"]
            version = next(c.version for c in choices if c.version.pk == chosen)
        else:
            version, status = None, 400
    else:
        version = default_version(choices)
        form = VersionForm(initial={"version": version.pk if version else None}, choices=choices)
    figures = version_analytics(version=version) if version else None
    charts = analytics_charts(figures) if figures and figures.session_count else None
    with transaction.atomic():
        audit_record(
            action="analytics.viewed",
            role=AuditEvent.Role.AUDITOR,
            actor=request.user,
            origin=Origin.of(request),
            payload={"procedure_version": version.pk if version else None},
        )
    context = {
        "audit_tab": "analytics",
        "form": form,
        "choices": choices,
        "figures": figures,
        "charts": charts,
    }
    return TemplateResponse(request, "consent/audit/analytics.html", context, status=status)
