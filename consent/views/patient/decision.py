"""The patient's decision on their own device, once the physician has attested: consent or an
informed refusal, then an interpreter's or a witness's signature, and later the patient's copy
of the finalized record.

Views only speak HTTP: `consent.signing` changes data (each act with its audit event) and the
templates show it. Every view checks the session's status first, so a page opened at the wrong
time, or a form sent twice, gets a plain message and changes nothing.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from consent.audit.events import Origin
from consent.forms.decision import (
    COMPANION_ROLES,
    CompanionForm,
    ConsentForm,
    DeclineForm,
    SignedForm,
    png_data_url,
)
from consent.models import AuditEvent, ConsentRecord, ConsentSession, Signature
from consent.services import ServiceError
from consent.services import signatures as signature_services
from consent.views.patient.journey import patient_required
from consent.views.records import record_download_response

Status = ConsentSession.Status
Kind = Signature.Kind
DECIDED = (Status.SIGNED, Status.DECLINED, Status.FINALIZED)
COMPANIONS = (Kind.INTERPRETER, Kind.WITNESS)


def _posted(request: HttpRequest) -> QueryDict | None:
    """The posted form; None for a GET, or for a post larger than Django reads."""
    if request.method != "POST":
        return None
    try:
        return request.POST
    except RequestDataTooBig:
        return None


def _too_large(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    return TemplateResponse(
        request, "consent/patient/decision_too_large.html", {"session": session}, status=413
    )


def _not_yet(request: HttpRequest) -> HttpResponse:
    messages.info(
        request,
        _(
            "You can make your decision once your doctor has talked everything through with "
            "you and signed. Nothing was signed."
        ),
    )
    return redirect("patient:resume")


def _already_decided(request: HttpRequest) -> HttpResponse:
    messages.info(request, _("Your decision is already recorded. Nothing was changed."))
    return redirect("patient:decision")


def _refused(request: HttpRequest, form: SignedForm, error: ServiceError) -> HttpResponse | None:
    """A refusal from signing: on the form while the step is still open, else a message."""
    session = ConsentSession.objects.get(pk=request.consent_session.pk)  # type: ignore[attr-defined]
    if session.status == Status.ATTESTED:
        form.add_error(None, str(error))
        return None
    if session.status in DECIDED:
        return _already_decided(request)
    messages.warning(request, str(error))
    return redirect("patient:resume")


def _signatures(session: ConsentSession) -> dict[str, Signature]:
    return {s.kind: s for s in Signature.objects.filter(session=session)}


def _form_page(
    request: HttpRequest, template: str, session: ConsentSession, form: SignedForm, **extra: Any
) -> HttpResponse:
    return TemplateResponse(
        request,
        template,
        {
            "session": session,
            "form": form,
            "attestation": _signatures(session).get(Kind.ATTESTATION),
            **extra,
        },
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
@patient_required
def decide(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    """Consent: three statements, the typed name and an optional drawing. Once decided, this
    page says what was decided and what comes next."""
    if session.status in DECIDED:
        return _already_decided(request) if request.method == "POST" else _done(request, session)
    if session.status != Status.ATTESTED:
        return _not_yet(request)
    data = _posted(request)
    if request.method == "POST" and data is None:
        return _too_large(request, session)
    form = ConsentForm(data)
    if form.is_bound and form.is_valid():
        try:
            signature_services.patient_consent_sign(
                session=session,
                confirmed_statements=len(form.cleaned_data["statements"]),
                typed_name=form.cleaned_data["typed_name"],
                image=form.cleaned_data["signature"],
                origin=Origin.of(request),
            )
        except ServiceError as error:
            response = _refused(request, form, error)
            if response is not None:
                return response
        else:
            # The page it leads to says so in its heading: no extra message.
            return redirect("patient:decision")
    return _form_page(request, "consent/patient/decision.html", session, form)


@require_http_methods(["GET", "POST"])
@patient_required
def decline(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    """An informed refusal: an optional reason, the typed name and an optional drawing."""
    if session.status in DECIDED:
        if request.method == "POST":
            return _already_decided(request)
        return redirect("patient:decision")
    if session.status != Status.ATTESTED:
        return _not_yet(request)
    data = _posted(request)
    if request.method == "POST" and data is None:
        return _too_large(request, session)
    form = DeclineForm(data)
    if form.is_bound and form.is_valid():
        try:
            signature_services.patient_decline(
                session=session,
                typed_name=form.cleaned_data["typed_name"],
                reason=form.cleaned_data["reason"],
                image=form.cleaned_data["signature"],
                origin=Origin.of(request),
            )
        except ServiceError as error:
            response = _refused(request, form, error)
            if response is not None:
                return response
        else:
            return redirect("patient:decision")
    return _form_page(
        request,
        "consent/patient/decision_decline.html",
        session,
        form,
        refusal_statement=signature_services.PATIENT_REFUSAL_STATEMENT,
    )


def _open_roles(session: ConsentSession, signatures: dict[str, Signature]) -> list[str]:
    """The companions who can still sign: only between the decision and finalization."""
    if session.status not in (Status.SIGNED, Status.DECLINED):
        return []
    return [kind for kind in COMPANIONS if kind not in signatures]


@require_http_methods(["GET", "POST"])
@patient_required
def companion(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    """After the decision, an interpreter or a witness signs on the same device."""
    if session.status == Status.ATTESTED:
        messages.info(
            request,
            _("First the patient makes their decision; then an interpreter or a witness signs."),
        )
        return redirect("patient:decision")
    if session.status == Status.FINALIZED:
        messages.info(request, _("The record is finished: no more signatures can be added."))
        return redirect("patient:decision")
    if session.status not in DECIDED:
        return _not_yet(request)
    signatures = _signatures(session)
    data = _posted(request)
    if request.method == "POST" and data is None:
        return _too_large(request, session)
    posted_role = data.get("role") if data is not None else None
    if posted_role in signatures and posted_role in COMPANIONS:
        return _companion_already(request, posted_role)
    roles = _open_roles(session, signatures)
    if not roles:
        messages.info(request, _("The interpreter and the witness have both signed."))
        return redirect("patient:decision")
    form = CompanionForm(data, roles=roles)
    if form.is_bound and form.is_valid():
        role = form.cleaned_data["role"]
        try:
            signature_services.companion_sign(
                session=session,
                kind=role,
                typed_name=form.cleaned_data["typed_name"],
                image=form.cleaned_data["signature"],
                origin=Origin.of(request),
            )
        except ServiceError as error:
            if Signature.objects.filter(session=session, kind=role).exists():
                return _companion_already(request, role)
            messages.warning(request, str(error))
            return redirect("patient:decision")
        messages.success(
            request,
            _("Thank you. The %(role)s's signature is recorded.")
            % {"role": str(COMPANION_ROLES[role][0]).lower()},
        )
        return redirect("patient:decision")
    return _form_page(request, "consent/patient/companion.html", session, form)


def _companion_already(request: HttpRequest, role: str) -> HttpResponse:
    messages.info(
        request,
        _("The %(role)s has already signed. Nothing was changed.")
        % {"role": str(COMPANION_ROLES[role][0]).lower()},
    )
    return redirect("patient:decision")


def _done(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    """The decision is recorded: what was signed, who else can sign, and the patient's copy."""
    signatures = _signatures(session)
    decision = signatures.get(Kind.PATIENT_CONSENT) or signatures.get(Kind.PATIENT_REFUSAL)
    record = (
        ConsentRecord.objects.filter(session=session).first()
        if session.status == Status.FINALIZED
        else None
    )
    return TemplateResponse(
        request,
        "consent/patient/decision_done.html",
        {
            "session": session,
            "decision": decision,
            "consented": decision is not None and decision.kind == Kind.PATIENT_CONSENT,
            "drawing": png_data_url(bytes(decision.image)) if decision and decision.image else "",
            "attestation": signatures.get(Kind.ATTESTATION),
            "companions": [signatures[kind] for kind in COMPANIONS if kind in signatures],
            "open_roles": _open_roles(session, signatures),
            "record": record,
        },
    )


@require_GET
@patient_required
def record_copy(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    """The patient's copy of the finalized record: the stored PDF, never rendered again."""
    record = (
        ConsentRecord.objects.filter(session=session).first()
        if session.status == Status.FINALIZED
        else None
    )
    if record is None:
        raise Http404
    return record_download_response(request, record, role=AuditEvent.Role.PATIENT)
