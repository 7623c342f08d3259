"""The verification page: is this PDF the record we issued, unchanged?

The checks are in consent/record/verification.py.

Staff only. A record's verification URL (the QR code on its first page) checks the stored
file; the upload form checks any file someone hands in. Whatever the file, the answer is a
page with a verdict, never an error page. Each verification is written to the audit log.

Who sees what: physicians and auditors may verify (`consent.view_consentsession`). The whole
answer (the record's id, when it was finalized, addenda, every check) goes to those who may
see the record's session: its physician, and auditors, who see every session. Anyone else
learns authentic or not, nothing more (`verification_withheld`), and so does a physician for
a file naming no record at all, so that a forged file reveals nothing either.
"""

from typing import Any

from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from consent.audit.events import Origin
from consent.forms.staff import VerifyUploadForm
from consent.record.verification import (
    Verdict,
    Verification,
    verification_recorded,
    verification_withheld,
    verify_bytes,
)
from consent.record.verification import verify_record as verify_stored_record
from consent.selectors.dashboard import record_visible_or_none, session_visible_exists
from consent.views.access import AUDIT_PERMISSION, StaffRequest, sessions_view_required

TEMPLATE = "consent/staff/verify.html"
# Auditors see every session (consent/roles.py), so every record and what any file names.
VIEW_ALL_PERMISSION = "consent.view_all_sessions"


def _may_see(request: StaffRequest, verification: Verification) -> bool:
    """Whether the user may be told everything the verification found."""
    record = verification.record
    if record is None:
        # Nothing stored matched: only who sees every record may learn what the file names.
        return verification.verdict == Verdict.UNREADABLE or request.user.has_perm(
            VIEW_ALL_PERMISSION
        )
    return session_visible_exists(user=request.user, session_id=record.session_id)


def _context(
    request: StaffRequest, verification: Verification | None, **extra: Any
) -> dict[str, Any]:
    record = verification.record if verification is not None else None
    visible = record is not None  # the verification is already what this user may see
    is_auditor = request.user.has_perm(AUDIT_PERMISSION)
    return {
        "verification": verification,
        "record_visible": visible,
        "parent_template": (
            "consent/audit/base_audit.html" if is_auditor else "consent/staff/base_staff.html"
        ),
        "audit_tab": "verify",
        "is_auditor": is_auditor,
        **extra,
    }


@require_http_methods(["GET", "POST"])
@sessions_view_required
def verify_upload(request: StaffRequest) -> HttpResponse:
    """Upload any file and see whether it is one of our records, unchanged."""
    verification = None
    form = VerifyUploadForm(request.POST, request.FILES) if request.method == "POST" else None
    if form is not None and form.is_valid():
        verification = verify_bytes(form.cleaned_data["file"].read())
        may_see = _may_see(request, verification)
        verification_recorded(
            verification=verification,
            source="upload",
            user=request.user,
            origin=Origin.of(request),
            withheld=not may_see,
        )
        if not may_see:
            verification = verification_withheld(verification)
    # After a check the form is empty again; after a refused upload it shows what was wrong.
    if form is None or verification is not None:
        form = VerifyUploadForm()
    status = 400 if request.method == "POST" and verification is None else 200
    return TemplateResponse(
        request, TEMPLATE, _context(request, verification, form=form), status=status
    )


@require_GET
@sessions_view_required
def record_verify(request: StaffRequest, record_id: str) -> HttpResponse:
    """Check a stored record: the page its QR code opens. Only for those who may see it."""
    record = record_visible_or_none(user=request.user, record_id=record_id)
    if record is None:
        raise Http404
    verification = verify_stored_record(record)
    verification_recorded(
        verification=verification, source="stored", user=request.user, origin=Origin.of(request)
    )
    return TemplateResponse(
        request, TEMPLATE, _context(request, verification, form=VerifyUploadForm())
    )
