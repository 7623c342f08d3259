"""Verifying the whole audit log from the auditor's workspace (as `manage.py verify_audit` does)."""

import json

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from consent.audit.chain import ChainReport, chain_verify
from consent.audit.events import Origin, staff_access_record
from consent.selectors.records import audit_event_or_none, audit_events_count
from consent.views.access import StaffRequest, auditor_required


@require_http_methods(["GET", "POST"])
@auditor_required
def log_verify(request: StaffRequest) -> HttpResponse:
    """Walk the whole audit chain (on a POST) and say what was found."""
    report = chain_verify() if request.method == "POST" else None
    broken = None
    if report is not None:
        if report.broken_id is not None:
            broken = audit_event_or_none(pk=report.broken_id)
        _verified(request, report)
    return TemplateResponse(
        request,
        "consent/audit/log_verify.html",
        {
            "audit_tab": "log",
            "report": report,
            "broken": broken,
            "broken_payload": json.dumps(broken.payload, sort_keys=True) if broken else "",
            "events_total": audit_events_count(),
        },
    )


def _verified(request: StaffRequest, report: ChainReport) -> None:
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
