"""The physician's workspace: review one session, attest, countersign and finalize, the record.

Views only speak HTTP: forms parse what is posted, `consent.signing` changes data (and refuses
what is out of step), selectors read. Every change answers with a redirect to the review page
and a message; a form with errors shows the review page again with the form and its errors.

Who may do what:
- reading (review page, record PDF): `consent.view_consentsession` and the session visible to
  the user (their own, or all with `consent.view_all_sessions`); others get 404, exactly like
  a session that does not exist;
- changing: also `consent.change_consentsession` (auditors get 403); signing refuses anyone but
  the session's responsible physician.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from consent.audit.events import Origin, staff_access_record
from consent.forms.staff import (
    AddendumForm,
    DiscussionForm,
    PatientQuestionAnswerForm,
    QuestionReviewForm,
    SignForm,
)
from consent.models import ConsentSession
from consent.roles import role_of
from consent.rules import Outcome
from consent.selectors.journey import question_progress_get
from consent.selectors.review import (
    ReviewedQuestion,
    SessionReview,
    discussion_options_get,
    session_patient_question_get,
    session_record_get,
    session_review_get,
)
from consent.services import ServiceError, signatures
from consent.services import review as review_services
from consent.views.records import record_download_response
from consent.views.staff.sessions import visible_session_or_404

Status = ConsentSession.Status
view_required = permission_required("consent.view_consentsession", raise_exception=True)
change_required = permission_required("consent.change_consentsession", raise_exception=True)


def _review_url(session: ConsentSession, anchor: str = "") -> str:
    url = reverse("staff:review", kwargs={"public_id": session.public_id})
    return f"{url}#{anchor}" if anchor else url


def _pick(default: forms.Form, bound: forms.Form | None) -> forms.Form:
    """The posted form with its errors where it is the one on the page, else the fresh one."""
    if bound is not None and type(bound) is type(default) and bound.prefix == default.prefix:
        return bound
    return default


def _discussion_form(review: SessionReview, bound: forms.Form | None) -> forms.Form:
    discussion = review.discussion
    initial = (
        {name: getattr(discussion, name) for name in DiscussionForm.base_fields}
        if discussion
        else {}
    )
    form = DiscussionForm(
        initial=initial, sections=review.teachback_sections, alternatives=review.alternatives
    )
    return _pick(form, bound)


def _review_page(
    request: HttpRequest,
    session: ConsentSession,
    *,
    bound: forms.Form | None = None,
    anchor: str = "",
) -> HttpResponse:
    """The review page; `bound` is a posted form with errors, shown in its place (`anchor`)."""
    reviewed = session_review_get(session=session)
    responsible = session.physician_id == request.user.pk and request.user.has_perm(
        "consent.change_consentsession"
    )
    # The page offers exactly what consent.signing would accept now, and nothing afterwards.
    can_review = responsible and session.status == Status.READY_FOR_DISCUSSION
    can_answer = responsible and session.status in (Status.REVIEWING, Status.READY_FOR_DISCUSSION)
    blockers = (
        signatures.attestation_blockers(session)
        if session.status == Status.READY_FOR_DISCUSSION
        else []
    )

    def review_form(item: ReviewedQuestion) -> forms.Form:
        initial = (
            {"covered_key_points": item.review.covered_key_points, "note": item.review.note}
            if item.review
            else {}
        )
        form = QuestionReviewForm(initial=initial, question=item.question, flagged=item.flagged)
        return _pick(form, bound)

    context = {
        "session": session,
        "review": reviewed,
        "can_review": can_review,
        "can_answer": can_answer,
        "can_attest": can_review and not blockers,
        "can_finalize": responsible and session.status in (Status.SIGNED, Status.DECLINED),
        "can_add_addendum": responsible and session.status == Status.FINALIZED,
        "blockers": blockers,
        "patient_questions": [
            (
                q,
                _pick(
                    PatientQuestionAnswerForm(question_id=q.pk, initial={"answer": q.answer}),
                    bound,
                ),
            )
            for q in reviewed.patient_questions
        ],
        "flagged": [(item, review_form(item)) for item in reviewed.flagged],
        "own_words": [(item, review_form(item)) for item in reviewed.own_words],
        "discussion_form": _discussion_form(reviewed, bound),
        "attest_form": _pick(SignForm(prefix="attest"), bound),
        "finalize_form": _pick(SignForm(prefix="finalize"), bound),
        "addendum_form": _pick(AddendumForm(), bound),
        "attestation_statement": signatures.ATTESTATION_STATEMENT,
        "attestation_meaning": signatures.MEANINGS[signatures.Kind.ATTESTATION],
        "countersignature_statement": signatures.COUNTERSIGNATURE_STATEMENT,
        "countersignature_meaning": signatures.MEANINGS[signatures.Kind.COUNTERSIGNATURE],
        "error_anchor": anchor if bound is not None else "",
    }
    status = 400 if bound is not None else 200
    return TemplateResponse(request, "consent/staff/review.html", context, status=status)


def _refused(request: HttpRequest, error: ServiceError) -> None:
    messages.error(request, str(error))


@require_GET
@never_cache
@login_required
@view_required
def review(request: HttpRequest, public_id: str) -> HttpResponse:
    """Every answer and attempt, reading times, the patient's questions, the discussion and
    the signatures of one session; forms where the responsible physician may act now."""
    session = visible_session_or_404(request, public_id)
    staff_access_record(
        user=request.user,
        origin=Origin.of(request),
        action="session.viewed",
        obj=session,
        session=session,
        payload={"page": "review"},
    )
    return _review_page(request, session)


@require_POST
@login_required
@change_required
def patient_question_answer(request: HttpRequest, public_id: str, question_id: int) -> HttpResponse:
    session = visible_session_or_404(request, public_id)
    question = session_patient_question_get(session=session, question_id=question_id)
    if question is None:
        raise Http404
    form = PatientQuestionAnswerForm(request.POST, question_id=question.pk)
    if not form.is_valid():
        return _review_page(request, session, bound=form, anchor=f"patient-question-{question.pk}")
    try:
        review_services.patient_question_answer(
            question=question,
            answer=form.cleaned_data["answer"],
            physician=request.user,
            origin=Origin.of(request),
        )
    except ServiceError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Your answer to the patient's question was saved."))
    return redirect(_review_url(session, f"patient-question-{question.pk}"))


@require_POST
@login_required
@change_required
def question_review(request: HttpRequest, public_id: str, question_id: int) -> HttpResponse:
    """Key points a free-text answer covered, or how a flagged item was resolved."""
    session = visible_session_or_404(request, public_id)
    progress = question_progress_get(session=session, question_id=question_id)
    if progress is None:
        raise Http404
    form = QuestionReviewForm(
        request.POST,
        question=progress.question,
        flagged=progress.outcome == Outcome.FLAGGED,
    )
    if not form.is_valid():
        return _review_page(request, session, bound=form, anchor=f"question-{progress.question.pk}")
    try:
        review_services.question_review_save(
            session=session,
            question=progress.question,
            covered_key_points=form.cleaned_data["covered_key_points"],
            note=form.cleaned_data["note"],
            physician=request.user,
            origin=Origin.of(request),
        )
    except ServiceError as error:
        _refused(request, error)
    else:
        messages.success(
            request,
            _("Your review of question %(number)d was saved.") % {"number": progress.number},
        )
    return redirect(_review_url(session, f"question-{progress.question.pk}"))


@require_POST
@login_required
@change_required
def discussion(request: HttpRequest, public_id: str) -> HttpResponse:
    session = visible_session_or_404(request, public_id)
    sections, alternatives = discussion_options_get(session=session)
    form = DiscussionForm(request.POST, sections=sections, alternatives=alternatives)
    if not form.is_valid():
        return _review_page(request, session, bound=form, anchor="discussion")
    try:
        review_services.discussion_save(
            session=session, physician=request.user, origin=Origin.of(request), **form.cleaned_data
        )
    except ServiceError as error:
        _refused(request, error)
    else:
        messages.success(request, _("The record of the discussion was saved."))
    return redirect(_review_url(session, "discussion"))


@require_POST
@login_required
@change_required
def attest(request: HttpRequest, public_id: str) -> HttpResponse:
    """The physician attests the discussion, re-entering their password (a signing act)."""
    session = visible_session_or_404(request, public_id)
    form = SignForm(request.POST, prefix="attest")
    if not form.is_valid():
        return _review_page(request, session, bound=form, anchor="attestation")
    try:
        signatures.session_attest(
            session=session,
            physician=request.user,
            password=form.cleaned_data["password"],
            origin=Origin.of(request),
        )
    except ServiceError as error:
        _refused(request, error)
    else:
        messages.success(
            request,
            _("You signed the attestation. The patient can now give their decision."),
        )
    return redirect(_review_url(session, "attestation"))


@require_POST
@login_required
@change_required
def finalize(request: HttpRequest, public_id: str) -> HttpResponse:
    """Countersign the patient's decision and finalize the record (password again)."""
    session = visible_session_or_404(request, public_id)
    form = SignForm(request.POST, prefix="finalize")
    if not form.is_valid():
        return _review_page(request, session, bound=form, anchor="finalize")
    try:
        record = signatures.session_finalize(
            session=session,
            physician=request.user,
            password=form.cleaned_data["password"],
            origin=Origin.of(request),
        )
    except ServiceError as error:
        _refused(request, error)
        return redirect(_review_url(session, "finalize"))
    messages.success(
        request, _("The record %(record)s is finalized.") % {"record": record.record_id}
    )
    return redirect(_review_url(session, "record"))


@require_GET
@never_cache
@login_required
@view_required
def record_pdf(request: HttpRequest, public_id: str) -> HttpResponse:
    """The stored PDF of a finalized record, byte for byte as it was stored; never re-rendered."""
    session = visible_session_or_404(request, public_id)
    record = session_record_get(session=session)
    if record is None:
        raise Http404
    return record_download_response(request, record, role=role_of(request.user), actor=request.user)


@require_POST
@login_required
@change_required
def addendum(request: HttpRequest, public_id: str) -> HttpResponse:
    """A withdrawal of consent or a correction, added under the finalized record."""
    session = visible_session_or_404(request, public_id)
    form = AddendumForm(request.POST)
    if not form.is_valid():
        return _review_page(request, session, bound=form, anchor="addendum-form")
    record = session_record_get(session=session)
    try:
        if record is None:
            raise ServiceError(signatures.ERROR_NOT_FINALIZED)
        signatures.addendum_add(
            record=record,
            kind=form.cleaned_data["kind"],
            text=form.cleaned_data["text"],
            author=request.user,
            origin=Origin.of(request),
        )
    except ServiceError as error:
        _refused(request, error)
    else:
        messages.success(request, _("The addendum was added to the record."))
    return redirect(_review_url(session, "record"))
