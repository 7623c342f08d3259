"""Comprehension analytics per procedure version, in the auditor's workspace.

Aggregates only: nothing on this page names or describes a patient. The figures and charts come
from `consent.analytics`; this module only speaks HTTP.
"""

from django import forms
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from consent.analytics import (
    VersionChoice,
    analytics_charts,
    default_version,
    procedure_versions_with_sessions,
    version_analytics,
)
from consent.audit import audit_record
from consent.models import AuditEvent
from consent.views.access import auditor_required

ERROR_VERSION_UNKNOWN = _("There is no such procedure version. Choose one from the list.")


class VersionForm(forms.Form):
    """The procedure version to show, chosen among those already loaded (no second query)."""

    version = forms.TypedChoiceField(
        label=_("Procedure version"),
        coerce=int,
        error_messages={"invalid_choice": ERROR_VERSION_UNKNOWN},
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args: object, choices: list[VersionChoice], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [(c.version.pk, _choice_label(c)) for c in choices]

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if not valid:
            # The message shown above the figures names the problem; the field points to it.
            self.fields["version"].widget.attrs.update(
                {"class": "form-select is-invalid", "aria-describedby": "version-error"}
            )
        return valid


def _choice_label(choice: VersionChoice) -> str:
    sessions = ngettext("%(n)s session", "%(n)s sessions", choice.sessions) % {"n": choice.sessions}
    return f"{choice.version} · {sessions}"


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
            request=request,
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
