"""The physician's workspace: review one session, attest, countersign and finalize, the record.

Views only speak HTTP: forms parse what is posted, `consent.services` change data (and refuse
what is out of step), selectors read. The page shows the session's one read model
(`consent.selectors.session.record_data_get`), the very data the signatures' evidence hash and
the PDF are made from. Every change answers with a redirect to the review page and a message; a
form with errors shows the review page again with the form and its errors.

Who may do what:
- reading (review page, record PDF): `consent.view_consentsession` and the session visible to
  the user (their own, or all with `consent.view_all_sessions`); others get 404, exactly like
  a session that does not exist;
- changing: also `consent.change_consentsession` (auditors get 403); the services refuse anyone
  but the session's responsible physician, and the page offers exactly what they would accept.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from consent import lifecycle, rules
from consent.audit.events import Origin
from consent.forms.staff import (
    AddendumForm,
    DiscussionForm,
    PatientQuestionAnswerForm,
    QuestionReviewForm,
    SignForm,
)
from consent.lifecycle import Action, Turn
from consent.models import ConsentSession
from consent.roles import role_of
from consent.selectors.journey import question_progress_get
from consent.selectors.session import (
    QuestionData,
    RecordData,
    record_data_get,
    session_patient_question_get,
    session_record_get,
)
from consent.services import ServiceError, addenda, signatures
from consent.services import review as review_services
from consent.views.access import (
    CHANGE_PERMISSION,
    StaffRequest,
    access_record,
    sessions_change_required,
    sessions_view_required,
    visible_session_or_404,
)
from consent.views.records import addendum_download_response, record_download_response
from consent.views.staff.finalizing import finalize_start

# What happens next, by the first step the session allows now: the words for the responsible
# physician, and for anyone else where they differ. A session that allows none is closed.
NEXT_STEPS = (
    (Action.REVIEW_START, gettext_lazy("The patient has not opened their link yet."), None),
    (
        Action.ANSWER,
        gettext_lazy(
            "The patient is still reading and answering. You can already answer their "
            "questions; the rest of the review opens when every teach-back question is answered."
        ),
        None,
    ),
    (
        Action.REVIEW,
        gettext_lazy(
            "Talk the flagged items and the patient's questions through in person, record below "
            "what was covered, then sign the attestation at the bottom of this page."
        ),
        gettext_lazy("Ready for the responsible physician's discussion and attestation."),
    ),
    (
        Action.CONSENT,
        gettext_lazy("Attested. The patient now gives their decision on their own device."),
        None,
    ),
    (
        Action.FINALIZE,
        gettext_lazy(
            "The patient has given their decision. Countersign below to finalize the record."
        ),
        gettext_lazy(
            "The patient has given their decision; the responsible physician's countersignature "
            "finalizes the record."
        ),
    ),
    (
        Action.ADDENDUM,
        gettext_lazy(
            "Finalized: the record can no longer change. A withdrawal of consent or a correction "
            "is added as an addendum."
        ),
        None,
    ),
)
CLOSED = gettext_lazy("This session is closed.")
# The page's offers: each is the responsible physician's, in the steps that allow it.
OFFERS = {
    "can_answer": Action.QUESTION_ANSWER,
    "can_review": Action.REVIEW,
    "can_finalize": Action.FINALIZE,
    "can_add_addendum": Action.ADDENDUM,
}


def _review_url(session: ConsentSession, anchor: str = "") -> str:
    url = reverse("staff:review", kwargs={"public_id": session.public_id})
    return f"{url}#{anchor}" if anchor else url


def _next_step(session: ConsentSession, *, responsible: bool) -> str:
    for action, theirs, others in NEXT_STEPS:
        if lifecycle.can(session, action):
            return str(theirs if responsible or others is None else others)
    return str(CLOSED)


def _page_state(user: User, session: ConsentSession, data: RecordData) -> dict[str, Any]:
    """What the page says and offers: exactly what the services would accept from this user."""
    responsible = session.physician_id == user.pk and user.has_perm(CHANGE_PERMISSION)
    offers = {name: responsible and lifecycle.can(session, a) for name, a in OFFERS.items()}
    attestation_due = lifecycle.can(session, Action.ATTEST)
    blockers = signatures.attestation_blockers(data) if attestation_due else []
    return {
        **offers,
        "can_attest": offers["can_review"] and not blockers,
        "attestation_due": attestation_due,
        "decision_due": lifecycle.can(session, Action.CONSENT),
        "blockers": blockers,
        "read_only": not any(offers.values()),
        "finalized": lifecycle.turn(session) == Turn.DONE,
        "next_step": _next_step(session, responsible=responsible),
    }


def _pick(default: forms.Form, bound: forms.Form | None) -> forms.Form:
    """The posted form with its errors where it is the one in this place, else the fresh one."""
    if bound is not None and type(bound) is type(default) and bound.prefix == default.prefix:
        return bound
    return default


def _review_form(item: QuestionData, bound: forms.Form | None) -> forms.Form:
    initial: dict[str, Any] = {}
    if item.review:
        initial = {"covered_key_points": item.covered_key_points, "note": item.review.note}
    return _pick(QuestionReviewForm(initial=initial, question=item, flagged=item.flagged), bound)


def _page_forms(data: RecordData, bound: forms.Form | None) -> dict[str, Any]:
    """Each form of the page, filled in from the read model (or as posted, with its errors)."""
    discussion = data.discussion
    recorded = {
        name: getattr(discussion, name) for name in DiscussionForm.base_fields if discussion
    }
    answers = [
        (q, PatientQuestionAnswerForm(question_id=q.id, initial={"answer": q.answer}))
        for q in data.patient_questions
    ]
    return {
        "patient_questions": [(q, _pick(form, bound)) for q, form in answers],
        "flagged": [(item, _review_form(item, bound)) for item in data.flagged],
        "own_words": [(item, _review_form(item, bound)) for item in data.own_words],
        "discussion_form": _pick(
            DiscussionForm(
                initial=recorded,
                sections=data.teachback_sections,
                alternatives=data.alternatives,
            ),
            bound,
        ),
        "attest_form": _pick(SignForm(prefix="attest"), bound),
        "finalize_form": _pick(SignForm(prefix="finalize"), bound),
        "addendum_form": _pick(AddendumForm(), bound),
    }


def _review_page(
    request: StaffRequest,
    session: ConsentSession,
    *,
    data: RecordData | None = None,
    bound: forms.Form | None = None,
    anchor: str = "",
) -> HttpResponse:
    """The review page; `bound` is a posted form with errors, shown in its place (`anchor`).

    Every time it is shown, a refused form's page included, the look at the session's health
    data is recorded first (`session.viewed`).
    """
    payload = {"page": "review", **({"refused_form": anchor} if bound is not None else {})}
    access_record(request, action="session.viewed", obj=session, session=session, payload=payload)
    data = data or record_data_get(session=session)
    context = {
        "session": session,
        "record": data,
        **_page_state(request.user, session, data),
        **_page_forms(data, bound),
        "attestation_statement": signatures.ATTESTATION_STATEMENT,
        "attestation_meaning": signatures.MEANINGS[signatures.Kind.ATTESTATION],
        "countersignature_statement": signatures.COUNTERSIGNATURE_STATEMENT,
        "countersignature_meaning": signatures.MEANINGS[signatures.Kind.COUNTERSIGNATURE],
        "error_anchor": anchor if bound is not None else "",
        "reading_seconds_min": rules.READING_SECONDS_MIN,
        "reading_words_per_minute_max": rules.READING_WORDS_PER_MINUTE_MAX,
    }
    status = 400 if bound is not None else 200
    return TemplateResponse(request, "consent/staff/review.html", context, status=status)


def _written(
    request: StaffRequest,
    session: ConsentSession,
    *,
    anchor: str,
    success: str,
    write: Callable[[], object],
) -> HttpResponse:
    """Run one review write; say what happened (the refusal or `success`) and go back."""
    try:
        write()
    except ServiceError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, success)
    return redirect(_review_url(session, anchor))


@require_GET
@sessions_view_required
def review(request: StaffRequest, public_id: str) -> HttpResponse:
    """Every answer and attempt, reading times, the patient's questions, the discussion and
    the signatures of one session; forms where the responsible physician may act now."""
    session = visible_session_or_404(request, public_id)
    return _review_page(request, session)


@require_POST
@sessions_change_required
def patient_question_answer(
    request: StaffRequest, public_id: str, question_id: int
) -> HttpResponse:
    session = visible_session_or_404(request, public_id)
    question = session_patient_question_get(session=session, question_id=question_id)
    if question is None:
        raise Http404
    anchor = f"patient-question-{question.pk}"
    form = PatientQuestionAnswerForm(request.POST, question_id=question.pk)
    if not form.is_valid():
        return _review_page(request, session, bound=form, anchor=anchor)
    return _written(
        request,
        session,
        anchor=anchor,
        success=_("Your answer to the patient's question was saved."),
        write=lambda: review_services.patient_question_answer(
            question=question,
            answer=form.cleaned_data["answer"],
            physician=request.user,
            origin=Origin.of(request),
        ),
    )


@require_POST
@sessions_change_required
def question_review(request: StaffRequest, public_id: str, question_id: int) -> HttpResponse:
    """Key points a free-text answer covered, or how a flagged item was resolved."""
    session = visible_session_or_404(request, public_id)
    progress = question_progress_get(session=session, question_id=question_id)
    if progress is None:
        raise Http404
    anchor = f"question-{progress.question.pk}"
    form = QuestionReviewForm(request.POST, question=progress.question, flagged=progress.flagged)
    if not form.is_valid():
        return _review_page(request, session, bound=form, anchor=anchor)
    return _written(
        request,
        session,
        anchor=anchor,
        success=_("Your review of question %(number)d was saved.") % {"number": progress.number},
        write=lambda: review_services.question_review_save(
            session=session,
            question=progress.question,
            physician=request.user,
            origin=Origin.of(request),
            **form.cleaned_data,
        ),
    )


@require_POST
@sessions_change_required
def discussion(request: StaffRequest, public_id: str) -> HttpResponse:
    session = visible_session_or_404(request, public_id)
    data = record_data_get(session=session)
    form = DiscussionForm(
        request.POST, sections=data.teachback_sections, alternatives=data.alternatives
    )
    if not form.is_valid():
        return _review_page(request, session, data=data, bound=form, anchor="discussion")
    return _written(
        request,
        session,
        anchor="discussion",
        success=_("The record of the discussion was saved."),
        write=lambda: review_services.discussion_save(
            session=session, physician=request.user, origin=Origin.of(request), **form.cleaned_data
        ),
    )


@require_POST
@sessions_change_required
def attest(request: StaffRequest, public_id: str) -> HttpResponse:
    """The physician attests the discussion, re-entering their password (a signing act)."""
    session = visible_session_or_404(request, public_id)
    form = SignForm(request.POST, prefix="attest")
    if not form.is_valid():
        return _review_page(request, session, bound=form, anchor="attestation")
    return _written(
        request,
        session,
        anchor="attestation",
        success=_("You signed the attestation. The patient can now give their decision."),
        write=lambda: signatures.session_attest(
            session=session,
            physician=request.user,
            password=form.cleaned_data["password"],
            origin=Origin.of(request),
        ),
    )


@require_POST
@sessions_change_required
def finalize(request: StaffRequest, public_id: str) -> HttpResponse:
    """Countersign the patient's decision and finalize the record (password again): checked
    here, drawn and sealed in the background while the physician watches."""
    session = visible_session_or_404(request, public_id)
    form = SignForm(request.POST, prefix="finalize")
    if not form.is_valid():
        return _review_page(request, session, bound=form, anchor="finalize")
    try:
        signatures.session_finalize_check(
            session=session,
            physician=request.user,
            password=form.cleaned_data["password"],
            origin=Origin.of(request),
        )
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect(_review_url(session, "finalize"))
    # Drawn and sealed by a background task; the next page says so (finalizing.py).
    return finalize_start(request, session)


@require_GET
@sessions_view_required
def record_pdf(request: StaffRequest, public_id: str) -> HttpResponseBase:
    """The stored PDF of a finalized record, byte for byte as it was stored; never re-rendered."""
    session = visible_session_or_404(request, public_id)
    record = session_record_get(session=session)
    if record is None:
        raise Http404
    return record_download_response(request, record, role=role_of(request.user), actor=request.user)


@require_POST
@sessions_change_required
def addendum(request: StaffRequest, public_id: str) -> HttpResponse:
    """A withdrawal of consent or a correction, added under the finalized record as its own
    sealed document; the physician's password, and for a withdrawal the patient's signature."""
    session = visible_session_or_404(request, public_id)
    form = AddendumForm(request.POST)
    if not form.is_valid():
        return _review_page(request, session, bound=form, anchor="addendum-form")
    record = session_record_get(session=session)
    data = form.cleaned_data
    try:
        if record is None:
            raise ServiceError(signatures.ERROR_NOT_FINALIZED)
        made = addenda.addendum_add(
            record=record,
            kind=data["kind"],
            text=data["text"],
            author=request.user,
            password=data["password"],
            patient_name=data["patient_name"],
            patient_image=data["signature"],
            submission_key=data["submission_key"],
            origin=Origin.of(request),
        )
    except ServiceError as refused:
        if not lifecycle.can(session, Action.ADDENDUM):
            messages.error(request, str(refused))
            return redirect(_review_url(session))
        # The page comes back with what was written (never the password) and the reason.
        form.add_error(None, str(refused))
        return _review_page(request, session, bound=form, anchor="addendum-form")
    messages.success(
        request,
        _("The addendum %(id)s was added and sealed.") % {"id": made.addendum_id},
    )
    return redirect(_review_url(session, "record"))


@require_GET
@sessions_view_required
def addendum_pdf(request: StaffRequest, public_id: str, addendum_id: str) -> HttpResponseBase:
    """An addendum's stored, sealed PDF, byte for byte; the download is audited."""
    session = visible_session_or_404(request, public_id)
    return addendum_download_response(
        request, session, addendum_id, role=role_of(request.user), actor=request.user
    )
