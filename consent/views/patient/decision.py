"""The patient's decision on their own device, once the physician has attested: consent or an
informed refusal, then an interpreter's or a witness's signature, and later the patient's copy
of the finalized record.

Views only speak HTTP: `consent.services.signatures` changes data (each act with its audit
event) and the templates show it. Every view asks the state machine first, so a page opened at
the wrong time, or a form sent twice, gets a plain message and changes nothing.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from consent import lifecycle
from consent.audit.events import Origin
from consent.forms.patient import (
    CompanionForm,
    ConsentForm,
    DeclineForm,
    PatientSignedForm,
    SignedForm,
    png_data_url,
)
from consent.lifecycle import Action
from consent.models import AuditEvent, ConsentSession, Signature
from consent.selectors.journey import (
    COMPANIONS,
    consent_record_or_none,
    consent_session_reread,
    patient_decision_get,
    session_signed_by,
)
from consent.selectors.recap import decision_recap_get
from consent.selectors.records import record_addenda_list
from consent.services import ServiceError
from consent.services import signatures as signature_services
from consent.views.access import patient_required
from consent.views.records import addendum_download_response, record_download_response


def _decided(session: ConsentSession) -> bool:
    """The patient has consented or declined (the record may be finalized since)."""
    return lifecycle.can(session, Action.DECISION_VIEW) and not lifecycle.can(
        session, Action.CONSENT
    )


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


def _decision_form(
    request: HttpRequest,
    session: ConsentSession,
    action: Action,
    form_class: type[PatientSignedForm],
    **form_kwargs: Any,
) -> PatientSignedForm | HttpResponse:
    """The consent or refusal form, bound to what was posted; or why it cannot be shown now."""
    if not lifecycle.can(session, action):
        return _not_yet(request)
    data = _posted(request)
    if request.method == "POST" and data is None:
        return _too_large(request, session)
    return form_class(data, **form_kwargs)


def _sign(
    request: HttpRequest,
    session: ConsentSession,
    form: SignedForm,
    service: Callable[..., object],
    **fields: object,
) -> HttpResponse | None:
    """Sign through `service`; None when a refusal goes on the form, else where to go."""
    try:
        service(session=session, origin=Origin.of(request), browser=_browser(request), **fields)
    except ServiceError as error:
        return _refused(request, session, form, error)
    # The page it leads to says so in its heading: no extra message.
    return redirect("patient:decision")


def _browser(request: HttpRequest) -> signature_services.Browser:
    """This browser's session (hashed by the service) and the staff account logged in in it,
    if any: a patient's signature made beside a staff log-in is flagged in the record."""
    user = request.user
    return signature_services.Browser.of_session_key(
        request.session.session_key, user if isinstance(user, User) else None
    )


def _refused(
    request: HttpRequest, session: ConsentSession, form: SignedForm, error: ServiceError
) -> HttpResponse | None:
    """A refusal from signing: on the form while the step is still open, else a message."""
    session = consent_session_reread(session=session)
    if lifecycle.can(session, Action.CONSENT):
        form.add_error(_refusal_field(error), str(error))
        return None
    if _decided(session):
        return _already_decided(request)
    messages.warning(request, str(error))
    return redirect("patient:resume")


def _refusal_field(error: ServiceError) -> str | None:
    """Where a refusal goes on the form: a name that is not the patient's beside the name box
    (with the way out), a question without an answer beside the statements."""
    if isinstance(error, signature_services.NameMismatch):
        return "typed_name"
    if isinstance(error, signature_services.QuestionsUnanswered):
        return "statements"
    return None


def _form_page(
    request: HttpRequest, template: str, session: ConsentSession, form: SignedForm, **extra: object
) -> HttpResponse:
    return TemplateResponse(
        request,
        template,
        {
            "session": session,
            "form": form,
            "attestation": patient_decision_get(session=session).attestation,
            **extra,
        },
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
@patient_required
def decide(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    """Consent: a recap of what the decision rests on, then three statements, the typed name
    and an optional drawing. Once decided, this page says what was decided and what comes
    next."""
    if _decided(session):
        return _already_decided(request) if request.method == "POST" else _done(request, session)
    recap = decision_recap_get(session=session)
    unanswered = recap.unanswered
    form = _decision_form(request, session, Action.CONSENT, ConsentForm, unanswered=unanswered)
    if isinstance(form, HttpResponse):
        return form
    if form.is_bound and form.is_valid():
        response = _sign(
            request,
            session,
            form,
            signature_services.patient_consent_sign,
            confirmed_statements=len(form.cleaned_data["statements"]),
            typed_name=form.cleaned_data["typed_name"],
            image=form.cleaned_data["signature"],
            relationship=form.signer_relationship,
        )
        if response is not None:
            return response
    return _form_page(request, "consent/patient/decision.html", session, form, recap=recap)


@require_http_methods(["GET", "POST"])
@patient_required
def decline(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    """An informed refusal: an optional reason, the typed name and an optional drawing."""
    if _decided(session):
        return _already_decided(request) if request.method == "POST" else _to_decision()
    form = _decision_form(request, session, Action.DECLINE, DeclineForm)
    if isinstance(form, HttpResponse):
        return form
    if form.is_bound and form.is_valid():
        response = _sign(
            request,
            session,
            form,
            signature_services.patient_decline,
            typed_name=form.cleaned_data["typed_name"],
            reason=form.cleaned_data["reason"],
            image=form.cleaned_data["signature"],
            relationship=form.signer_relationship,
        )
        if response is not None:
            return response
    statement = signature_services.PATIENT_REFUSAL_STATEMENT
    template = "consent/patient/decision_decline.html"
    return _form_page(request, template, session, form, refusal_statement=statement)


def _to_decision() -> HttpResponse:
    return redirect("patient:decision")


@require_http_methods(["GET", "POST"])
@patient_required
def companion(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    """After the decision, an interpreter or a witness signs on the same device."""
    closed = _companion_closed(request, session)
    if closed is not None:
        return closed
    data = _posted(request)
    if request.method == "POST" and data is None:
        return _too_large(request, session)
    decision = patient_decision_get(session=session)
    posted_role = data.get("role") if data is not None else None
    if posted_role in decision.signatures and posted_role in COMPANIONS:
        return _companion_already(request, posted_role)
    if not decision.open_roles:
        messages.info(request, _("The interpreter and the witness have both signed."))
        return _to_decision()
    form = CompanionForm(data, roles=decision.open_roles)
    if form.is_bound and form.is_valid():
        return _companion_sign(request, session, form)
    return _form_page(request, "consent/patient/companion.html", session, form)


def _companion_closed(request: HttpRequest, session: ConsentSession) -> HttpResponse | None:
    """Where to go when no companion can sign now; None when one can."""
    if lifecycle.can(session, Action.CONSENT):
        messages.info(
            request,
            _("First the patient makes their decision; then an interpreter or a witness signs."),
        )
        return _to_decision()
    if lifecycle.can(session, Action.RECORD_COPY):
        messages.info(request, _("The record is finished: no more signatures can be added."))
        return _to_decision()
    if not lifecycle.can(session, Action.COMPANION_SIGN):
        return _not_yet(request)
    return None


def _companion_sign(
    request: HttpRequest, session: ConsentSession, form: CompanionForm
) -> HttpResponse:
    role = form.cleaned_data["role"]
    try:
        signature_services.companion_sign(
            session=session,
            kind=role,
            typed_name=form.cleaned_data["typed_name"],
            image=form.cleaned_data["signature"],
            origin=Origin.of(request),
            browser=_browser(request),
        )
    except ServiceError as error:
        if session_signed_by(session=session, kind=role):
            return _companion_already(request, role)
        messages.warning(request, str(error))
        return _to_decision()
    messages.success(request, str(COMPANION_SIGNED[role]))
    return _to_decision()


# Whole sentences per role, not a role's name put into one sentence: a translation may need
# other words around each (French: "l'interprète", "le témoin").
COMPANION_SIGNED: dict[str, Promise] = {
    Signature.Kind.INTERPRETER: gettext_lazy("Thank you. The interpreter's signature is recorded."),
    Signature.Kind.WITNESS: gettext_lazy("Thank you. The witness's signature is recorded."),
}
COMPANION_ALREADY: dict[str, Promise] = {
    Signature.Kind.INTERPRETER: gettext_lazy(
        "The interpreter has already signed. Nothing was changed."
    ),
    Signature.Kind.WITNESS: gettext_lazy("The witness has already signed. Nothing was changed."),
}


def _companion_already(request: HttpRequest, role: str) -> HttpResponse:
    messages.info(request, str(COMPANION_ALREADY[role]))
    return _to_decision()


def _done(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    """The decision is recorded: what was signed, who else can sign, and the patient's copy."""
    decision = patient_decision_get(session=session)
    signed = decision.decision
    return TemplateResponse(
        request,
        "consent/patient/decision_done.html",
        {
            "session": session,
            "decision": signed,
            "consented": decision.consented,
            "drawing": png_data_url(bytes(signed.image)) if signed and signed.image else "",
            "attestation": decision.attestation,
            "companions": decision.companions,
            "open_roles": decision.open_roles,
            "record": decision.record,
            "addenda": record_addenda_list(record=decision.record),
        },
    )


@require_GET
@patient_required
def record_copy(request: HttpRequest, session: ConsentSession) -> HttpResponseBase:
    """The patient's copy of the finalized record: the stored PDF, never rendered again."""
    record = consent_record_or_none(session=session)
    if record is None:
        raise Http404
    return record_download_response(request, record, role=AuditEvent.Role.PATIENT)


@require_GET
@patient_required
def addendum_copy(
    request: HttpRequest, session: ConsentSession, addendum_id: str
) -> HttpResponseBase:
    """The patient's copy of an addendum to their record (a withdrawal, a correction)."""
    return addendum_download_response(request, session, addendum_id, role=AuditEvent.Role.PATIENT)
