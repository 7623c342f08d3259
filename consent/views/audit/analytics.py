"""Comprehension analytics per procedure version, in the auditor's workspace.

Aggregates only: nothing on this page names or describes a patient. The figures come from
`consent.selectors.analytics`, the charts from `consent.views.audit.charts`; this module only
speaks HTTP.
"""

import csv
import io

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from consent.forms.audit import VersionForm
from consent.models import AuditEvent, ProcedureVersion
from consent.selectors.analytics import (
    VersionChoice,
    default_version,
    language_split,
    procedure_versions_with_sessions,
    version_analytics,
)
from consent.views.access import StaffRequest, access_record, auditor_required
from consent.views.audit.charts import analytics_charts


@auditor_required
def analytics(request: StaffRequest) -> HttpResponse:
    choices = procedure_versions_with_sessions()
    form, version = _version_chosen(request, choices)
    figures = version_analytics(version=version) if version else None
    charts = analytics_charts(figures) if figures and figures.session_count else None
    access_record(
        request,
        action="analytics.viewed",
        role=AuditEvent.Role.AUDITOR,
        payload={"procedure_version": version.pk if version else None},
    )
    context = {
        "audit_tab": "analytics",
        "form": form,
        "choices": choices,
        "figures": figures,
        "charts": charts,
    }
    status = 400 if form.is_bound and version is None else 200
    return TemplateResponse(request, "consent/audit/analytics.html", context, status=status)


def _version_chosen(
    request: StaffRequest, choices: list[VersionChoice]
) -> tuple[VersionForm, ProcedureVersion | None]:
    """The version asked for (None if it is unknown), else the latest one in use."""
    if request.GET.get("version"):
        form = VersionForm(request.GET, choices=choices)
        if not form.is_valid():
            return form, None
        chosen = form.cleaned_data["version"]
        return form, next(c.version for c in choices if c.version.pk == chosen)
    version = default_version(choices)
    form = VersionForm(initial={"version": version.pk if version else None}, choices=choices)
    return form, version


@auditor_required
def analytics_languages_csv(request: StaffRequest) -> HttpResponse:
    """The figures by language as CSV: one row per question and language (aggregates only)."""
    choices = procedure_versions_with_sessions()
    _form, version = _version_chosen(request, choices)
    if version is None:
        return HttpResponse(
            _("Choose a procedure version that has consent sessions."),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    split = language_split(version=version)
    access_record(
        request,
        action="analytics.viewed",
        role=AuditEvent.Role.AUDITOR,
        payload={"procedure_version": version.pk, "format": "csv"},
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["question", "key", "language", "sessions", "first_tries_graded", "right_first", "percent"]
    )
    for question in split.questions:
        for language, first in zip(split.languages, question.first_tries, strict=True):
            writer.writerow(
                [
                    question.number,
                    question.key,
                    language.code,
                    language.sessions,
                    first.graded,
                    first.right,
                    "" if first.percent is None else first.percent,
                ]
            )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"analytics-{version.slug}-{version.version}-languages.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
