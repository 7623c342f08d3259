"""TODO docstring."""

import json

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from consent.audit.chain import chain_verify
from consent.audit.events import Origin, staff_access_record
from consent.models import AuditEvent
from consent.views.access import auditor_required


@require_http_methods(["GET", "POST"])
@auditor_required
def log_verify(request: HttpRequest) -> HttpResponse:
    """Walk the whole audit chain (as `manage.py verify_audit` does) and say what was found."""
    report = broken = None
    if request.method == "POST":
        report = chain_verify()
        if report.broken_id is not None:
            broken = (
                AuditEvent.objects.select_related("session").filter(pk=report.broken_id).first()
            )
        staff_access_record(
            user=request.user,
            origin=Origin.of(request),
            action="audit_log.verified",
            payload={
                "intact": report.intact,
                "count": report.count,
                "head_seq": report.head_seq,
                "broken_seq": report.broken_seq,
            },
        )
    return TemplateResponse(
        request,
        "consent/audit/log_verify.html",
        {
            "audit_tab": "log",
            "report": report,
            "broken": broken,
            "broken_payload": json.dumps(broken.payload, sort_keys=True) if broken else "",
            "events_total": AuditEvent.objects.count(),
        },
    )
