"""The verification page: is this PDF the record we issued, unchanged? (consent/verify.py)

Staff only. A record's verification URL (the QR code on its first page) checks the stored
file; the upload form checks any file someone hands in. Whatever the file, the answer is a
page with a verdict, never an error page. Each verification is written to the audit log.
"""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from consent.audit.events import Origin
from consent.forms.staff import VerifyUploadForm
from consent.models import ConsentRecord
from consent.record.verification import Verification, verification_recorded, verify_bytes
from consent.record.verification import verify_record as verify_stored_record
from consent.selectors.dashboard import consent_sessions_visible

TEMPLATE = "consent/staff/verify.html"
VIEW_PERMISSION = "consent.view_consentsession"


def _context(request: HttpRequest, verification: Verification | None, **extra) -> dict:
    record = verification.record if verification is not None else None
    visible = (
        record is not None
        and consent_sessions_visible(user=request.user).filter(pk=record.session_id).exists()
    )
    is_auditor = request.user.has_perm("consent.view_auditevent")
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
@never_cache
@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def verify_upload(request: HttpRequest) -> HttpResponse:
    """Upload any file and see whether it is one of our records, unchanged."""
    verification = None
    if request.method == "POST":
        form = VerifyUploadForm(request.POST, request.FILES)
        if form.is_valid():
            verification = verify_bytes(form.cleaned_data["file"].read())
            verification_recorded(
                verification=verification,
                source="upload",
                user=request.user,
                origin=Origin.of(request),
            )
            form = VerifyUploadForm()
    else:
        form = VerifyUploadForm()
    status = 400 if request.method == "POST" and verification is None else 200
    return TemplateResponse(
        request, TEMPLATE, _context(request, verification, form=form), status=status
    )


@require_GET
@never_cache
@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def record_verify(request: HttpRequest, record_id: str) -> HttpResponse:
    """Check a stored record: the page its QR code opens. Only for those who may see it."""
    record = (
        ConsentRecord.objects.select_related("session", "finalized_by")
        .filter(
            record_id=record_id,
            session__in=consent_sessions_visible(user=request.user).values("pk"),
        )
        .first()
    )
    if record is None:
        raise Http404
    verification = verify_stored_record(record)
    verification_recorded(
        verification=verification, source="stored", user=request.user, origin=Origin.of(request)
    )
    return TemplateResponse(
        request, TEMPLATE, _context(request, verification, form=VerifyUploadForm())
    )
