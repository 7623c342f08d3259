"""Verifying the whole audit log from the auditor's workspace (as `manage.py verify_audit` does)."""

import json

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from consent.audit.chain import PRE_PINNING, AuditVerification, audit_verify
from consent.selectors.records import audit_event_or_none, audit_events_count
from consent.views.access import StaffRequest, access_record, auditor_required


@require_http_methods(["GET", "POST"])
@auditor_required
def log_verify(request: StaffRequest) -> HttpResponse:
    """Walk the whole audit chain, what it pins and its checkpoints (on a POST), as
    `verify_audit` does, and say what was found."""
    audit = audit_verify() if request.method == "POST" else None
    report = audit.chain if audit is not None else None
    broken = None
    if audit is not None and report is not None:
        if report.broken_id is not None:
            broken = audit_event_or_none(pk=report.broken_id)
        _verified(request, audit)
    return TemplateResponse(
        request,
        "consent/audit/log_verify.html",
        {
            "audit_tab": "log",
            "report": report,
            "audit": audit,
            "failures": len(audit.problems) + len(audit.bad_checkpoints) if audit else 0,
            "pre_pinning_words": PRE_PINNING,
            "broken": broken,
            "broken_payload": json.dumps(broken.payload, sort_keys=True) if broken else "",
            "events_total": audit_events_count(),
        },
    )


def _verified(request: StaffRequest, audit: AuditVerification) -> None:
    report = audit.chain
    access_record(
        request,
        action="audit_log.verified",
        payload={
            "intact": audit.intact,
            "count": report.count,
            "head_seq": report.head_seq,
            "broken_seq": report.broken_seq,
            "problems": len(audit.problems),
            "checkpoints": len(audit.checkpoints),
            "bad_checkpoints": len(audit.bad_checkpoints),
        },
    )
