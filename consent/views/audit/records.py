"""The auditor's workspace: find any record, see its whole history, verify the log, export.

Read-only for the auditor role (consent.views.access.auditor_required); physicians get 403 and
a patient's cookie reaches none of it. Every page that shows health data writes an audit event
first (consent.views.access.access_record): an auditor can see who looked at a record.
"""

import csv
import json
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from consent.forms.audit import RecordFilterForm
from consent.models import ConsentRecord
from consent.record.fhir import FHIR_JSON_CONTENT_TYPE, FhirExportError, record_fhir_bundle
from consent.roles import role_of
from consent.selectors.records import (
    RecordHistory,
    filters_for_log,
    record_history_get,
    records_csv_rows,
    records_filtered,
    records_ids,
    records_listed,
)
from consent.views.access import StaffRequest, access_record, auditor_required
from consent.views.records import addendum_download_response, record_download_response

RECORDS_PER_PAGE = 50
# The list's filters live in the server-side session, not in the URL: a search names a patient,
# and patient data never goes into a URL (browser history, proxies and logs keep URLs).
FILTERS_KEY = "audit_record_filters"


def _filters(request: HttpRequest) -> tuple[RecordFilterForm, dict[str, Any]]:
    """The form as last submitted, and the filters that are valid (errors are shown)."""
    if request.method == "POST":
        form = RecordFilterForm(request.POST)
    else:
        form = RecordFilterForm(request.session.get(FILTERS_KEY) or None)
    if form.is_bound:
        form.is_valid()
    return form, form.filters()


def _history_or_404(public_id: UUID) -> RecordHistory:
    history = record_history_get(public_id=public_id)
    if history is None:
        raise Http404
    return history


@require_http_methods(["GET", "POST"])
@auditor_required
def record_list(request: StaffRequest) -> HttpResponse:
    """Every consent session and record, filtered, searched, sorted and paginated.

    The filter form is posted; valid filters are kept in the session and the list is shown by
    a redirect (post/redirect/get), so paging and the CSV export use the same filters.
    """
    if request.method == "POST" and "clear" in request.POST:
        request.session.pop(FILTERS_KEY, None)
        return redirect("audit:record_list")
    form, filters = _filters(request)
    if request.method == "POST" and form.is_valid():
        _filters_keep(request, form)
        return redirect("audit:record_list")
    # The page's ids first (on an index), then only those rows with their joins and flags.
    page = Paginator(records_ids(filters), RECORDS_PER_PAGE).get_page(request.GET.get("page"))
    sessions = records_listed(list(page.object_list))
    _searched(request, filters, page)
    return TemplateResponse(
        request,
        "consent/audit/record_list.html",
        {
            "audit_tab": "records",
            "form": form,
            "page": page,
            "sessions": sessions,
            "filtered": bool(filters),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _filters_keep(request: HttpRequest, form: RecordFilterForm) -> None:
    """Keep the posted filters in the session, as posted (the form cleans them again)."""
    request.session[FILTERS_KEY] = {
        name: request.POST[name] for name in form.fields if request.POST.get(name)
    }


def _searched(request: StaffRequest, filters: dict[str, Any], page: Page) -> None:
    access_record(
        request,
        action="records.searched",
        payload={
            "filters": filters_for_log(filters),
            "page": page.number,
            "results": page.paginator.count,
        },
    )


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


@require_GET
@auditor_required
def record_list_csv(request: StaffRequest) -> HttpResponseBase:
    """The filtered list as CSV: identifiers and outcomes only (no names or birth dates)."""
    _form, filters = _filters(request)
    sessions = records_filtered(filters)
    access_record(
        request,
        action="records.exported",
        payload={"format": "csv", "filters": filters_for_log(filters)},
    )
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in records_csv_rows(sessions)),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="consent-records-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@auditor_required
def record_detail(request: StaffRequest, public_id: UUID) -> HttpResponse:
    """One session's record: decision, signatures, addenda, the PDF, and every audit event."""
    history = _history_or_404(public_id)
    viewed = access_record(
        request,
        action="record.viewed",
        obj=history.session,
        session=history.session,
    )
    # The page shows the event just written too, without reading the history again.
    history = history.with_event(viewed)
    return TemplateResponse(
        request,
        "consent/audit/record_detail.html",
        {
            "audit_tab": "records",
            "history": history,
            "session": history.session,
            "record": history.record,
            # After finalization: the stored record, not the live tables (selectors.records).
            "summary": history.summary,
        },
    )


@require_GET
@auditor_required
def record_pdf(request: StaffRequest, public_id: UUID) -> HttpResponseBase:
    """The stored PDF, byte for byte; the download is written to the audit log."""
    history = _history_or_404(public_id)
    if history.record is None:
        raise Http404
    return record_download_response(
        request, history.record, role=role_of(request.user), actor=request.user
    )


@require_GET
@auditor_required
def addendum_pdf(request: StaffRequest, public_id: UUID, addendum_id: str) -> HttpResponseBase:
    """An addendum's stored, sealed PDF, byte for byte; the download is written to the log."""
    history = _history_or_404(public_id)
    return addendum_download_response(
        request, history.session, addendum_id, role=role_of(request.user), actor=request.user
    )


@require_GET
@auditor_required
def record_fhir(request: StaffRequest, public_id: UUID) -> HttpResponse:
    """The record as an HL7 FHIR R4 Bundle (Consent, QuestionnaireResponse, Provenance)."""
    history = _history_or_404(public_id)
    if history.record is None:
        raise Http404
    access_record(
        request,
        action="record.exported",
        obj=history.record,
        session=history.session,
        payload={"format": "fhir-r4", "record_id": history.record.record_id},
    )
    return _fhir_response(request, history.record)


def _fhir_response(request: HttpRequest, record: ConsentRecord) -> HttpResponse:
    try:
        # The deployment's own address, never the request's Host: one record, one identity.
        bundle = record_fhir_bundle(record, base_url=settings.SITE_URL)
    except FhirExportError:
        # The stored PDF or record data no longer matches its hash: export nothing, send to
        # verification.
        messages.error(
            request,
            _(
                "This record's stored PDF or record data fails its integrity check, so it is not "
                "exported. The verification page shows what is wrong."
            ),
        )
        return redirect("staff:record_verify", record_id=record.record_id)
    response = HttpResponse(
        json.dumps(bundle, ensure_ascii=False, indent=2), content_type=FHIR_JSON_CONTENT_TYPE
    )
    response["Content-Disposition"] = f'attachment; filename="{record.record_id}.fhir.json"'
    response["Cache-Control"] = "no-store"
    return response
