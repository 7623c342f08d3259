"""The patient's pages. No account: a link's token is exchanged for this browser's session.

Views only speak HTTP: services change data, selectors read it, templates show it, and the
state machine (consent.lifecycle) says which page the patient's place is.
"""

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consent import clock, lifecycle, services
from consent.audit.events import Origin
from consent.forms.patient import (
    MESSAGE_LANGUAGE_UNKNOWN,
    AnswerForm,
    BirthDateForm,
    LanguageForm,
    PatientQuestionForm,
)
from consent.languages import language_own_name
from consent.lifecycle import Action
from consent.models import ConsentSession, PatientLink, Section
from consent.rules import Outcome, QuestionProgress
from consent.selectors.journey import (
    Journey,
    answer_feedback,
    journey_get,
    patient_decision_get,
    patient_languages,
    patient_questions_list,
    question_presentation,
    section_risk_pictures,
    section_views_exist,
)
from consent.services import journey as journey_services
from consent.services import links, sessions
from consent.views.access import (
    NO_REFERRER,
    SESSION_IDENTIFIED,
    SESSION_LINK,
    current_link,
    in_language,
    link_unusable,
    patient_entry,
    patient_required,
)

# When the section on screen was shown (`_shown_remember`), a signed cookie for the patient pages.
SHOWN_COOKIE = "section_shown"
SHOWN_COOKIE_PATH = "/patient/"


@require_GET
@patient_entry
def link_open(request: HttpRequest, token: str) -> HttpResponse:
    """Exchange the link's token for a session cookie, then leave the token-bearing URL."""
    link = links.patient_link_open(token=token, origin=Origin.of(request))
    if link is None:
        return link_unusable(request)
    # A fresh session: no earlier patient's or staff member's state survives on a shared tablet.
    request.session.flush()
    request.session[SESSION_LINK] = link.pk
    response = redirect("patient:identity")
    # The URL that led here holds the token: nothing may carry it onward.
    response["Referrer-Policy"] = NO_REFERRER["Referrer-Policy"]
    return response


@require_http_methods(["GET", "POST"])
@patient_entry
def identity(request: HttpRequest) -> HttpResponse:
    """The date of birth, before anything about the patient is shown."""
    link = current_link(request)
    if link is None:
        return link_unusable(request)
    if request.session.get(SESSION_IDENTIFIED) == link.pk:
        return redirect("patient:resume")
    form = BirthDateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _identity_confirm(request, link, form.cleaned_data["birth_date"]):
            return redirect("patient:resume")
        # Read again: the wrong try was counted and may have locked the link.
        link = current_link(request)
        if link is None:
            return link_unusable(request)
        _identity_refused(form, link)
    return in_language(
        link.session.language,
        lambda: TemplateResponse(
            request,
            "consent/patient/identity.html",
            {"form": form, "tries_left": links.failed_tries_left(link)},
        ),
    )


def _identity_confirm(request: HttpRequest, link: PatientLink, birth_date: date) -> bool:
    """Check the date of birth; when it matches, this browser is the patient's from now on."""
    if not links.patient_identity_confirm(
        link=link, birth_date=birth_date, origin=Origin.of(request)
    ):
        return False
    # A new session key for the identified patient (no session fixation).
    request.session.cycle_key()
    request.session[SESSION_IDENTIFIED] = link.pk
    return True


def _identity_refused(form: BirthDateForm, link: PatientLink) -> None:
    form.add_error(
        None,
        _(
            "That date of birth does not match our records. You have %(left)d more "
            "tries before this link is locked."
        )
        % {"left": links.failed_tries_left(link)},
    )


@require_GET
@patient_required
def resume(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    """Send the patient back to where they were."""
    # Once the physician has attested, the patient's place is the decision page.
    if lifecycle.can(session, Action.DECISION_VIEW):
        return redirect("patient:decision")
    if not lifecycle.can(session, Action.ANSWER):
        return redirect("patient:summary")
    if not session.sections_done:
        if session.current_section == 1 and not section_views_exist(session=session):
            return redirect("patient:start")
        return redirect("patient:section", number=session.current_section)
    current = journey_get(session=session).current_question
    if current is None:
        return redirect("patient:summary")
    if current.outcome == Outcome.RETEACH:
        return redirect("patient:result", number=current.number)
    return redirect("patient:question", number=current.number)


@require_GET
@patient_required
def start(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    journey = journey_get(session=session)
    return TemplateResponse(
        request,
        "consent/patient/start.html",
        {
            "session": session,
            "version": session.procedure_version,
            "journey": journey,
            "languages": patient_languages(session=session),
        },
    )


@require_POST
@patient_required
def language(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    """Switch the session to another of the procedure's languages, before anything is read."""
    languages = sessions.procedure_languages(session.procedure_version)
    form = LanguageForm(request.POST, languages=languages)
    if not form.is_valid():
        messages.error(request, MESSAGE_LANGUAGE_UNKNOWN)
        return redirect("patient:resume")
    try:
        session = sessions.session_language_change(
            session=session, language=form.cleaned_data["language"], origin=Origin.of(request)
        )
    except services.ServiceError as error:
        messages.error(request, str(error))
        return redirect("patient:resume")
    with translation.override(session.language):  # said in the language now chosen
        messages.success(
            request,
            _("The information is now in %(language)s.")
            % {"language": language_own_name(session.language)},
        )
    return redirect("patient:start")


@require_http_methods(["GET", "POST"])
@patient_required
def section(request: HttpRequest, session: ConsentSession, number: int) -> HttpResponse:
    journey = journey_get(session=session)
    shown = journey.section(number)
    if shown is None:
        return redirect("patient:resume")
    if request.method == "POST":
        return _section_leave(request, session, journey, shown, number)
    # From the first section shown on, the language is the one the patient reads.
    sessions.session_content_shown(session=session, origin=Origin.of(request))
    response = TemplateResponse(
        request,
        "consent/patient/section.html",
        {
            "session": session,
            "journey": journey,
            "section": shown,
            "number": number,
            "is_last": number == journey.section_count,
            "risk_pictures": section_risk_pictures(session=session, section=shown),
        },
    )
    _shown_remember(request, response, number)
    return response


def _shown_salt(request: HttpRequest) -> str:
    # Bound to this browser session: a cookie left from an ended session counts nothing.
    return f"{SHOWN_COOKIE}:{request.session.session_key}"


def _shown_remember(request: HttpRequest, response: HttpResponse, number: int) -> None:
    """Note when this section was shown, for the time counted when the patient leaves it.

    In a signed cookie rather than the browser session: showing a page writes nothing to the
    database (the session row would be rewritten on every section shown). It holds a section
    number and a time, nothing about the patient, and only the last section shown counts.
    """
    response.set_signed_cookie(
        SHOWN_COOKIE,
        f"{number}:{int(clock.now().timestamp())}",
        salt=_shown_salt(request),
        max_age=int(settings.CONSENT_SECTION_TIME_CAP.total_seconds()) * 2,
        path=SHOWN_COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _seconds_on_section(request: HttpRequest, number: int) -> int | None:
    """How long this section was shown, if this browser showed it last (None otherwise: a
    replayed post, another section shown since, a cookie altered or from an ended session)."""
    seen = request.get_signed_cookie(SHOWN_COOKIE, default=None, salt=_shown_salt(request))
    shown_number, _sep, shown_at = (seen or "").partition(":")
    if shown_number != str(number) or not shown_at.isdigit():
        return None
    return max(0, int(clock.now().timestamp()) - int(shown_at))


def _section_leave(
    request: HttpRequest, session: ConsentSession, journey: Journey, shown: Section, number: int
) -> HttpResponse:
    seconds = _seconds_on_section(request, number)
    direction = request.POST.get("go")
    finished = direction == "next" and number == journey.section_count
    go_to = max(1, number - 1) if direction == "back" else min(number + 1, journey.section_count)
    journey_services.section_leave(
        session=session,
        section=shown,
        seconds=seconds,
        go_to=go_to,
        finished_reading=finished,
        origin=Origin.of(request),
    )
    if finished:
        response = redirect("patient:resume")
    elif direction == "back" and number == 1:
        response = redirect("patient:start")
    else:
        response = redirect("patient:section", number=go_to)
    if seconds is not None:  # counted once: a replay of this post counts no time
        response.delete_cookie(SHOWN_COOKIE, path=SHOWN_COOKIE_PATH, samesite="Lax")
    return response


def _question_page(
    request: HttpRequest,
    session: ConsentSession,
    journey: Journey,
    progress: QuestionProgress,
    form: AnswerForm,
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "consent/patient/question.html",
        {
            "session": session,
            "journey": journey,
            "progress": progress,
            "form": form,
            "wording": form.presentation.wording,
        },
        status=400 if form.is_bound else 200,
    )


def _posted_round(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("round", ""))
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
@patient_required
def question(request: HttpRequest, session: ConsentSession, number: int) -> HttpResponse:
    journey = journey_get(session=session)
    progress = journey.question(number)
    if progress is None or not session.sections_done:
        return redirect("patient:resume")
    if request.method == "GET":
        return _question_show(request, session, journey, progress)
    shown = question_presentation(
        session=session, progress=progress, round_number=_posted_round(request)
    )
    form = AnswerForm(request.POST, presentation=shown)
    if not form.is_valid():
        return _question_invalid(request, session, journey, progress, form)
    try:
        result = journey_services.answer_submit(
            session=session,
            question=progress.question,
            answer=form.cleaned_data["answer"],
            round_number=form.cleaned_data["round"],
            origin=Origin.of(request),
        )
    except services.ServiceError as error:
        messages.warning(request, str(error))
        return redirect("patient:resume")
    if not result.created:
        messages.info(request, _("That answer was already saved."))
    return redirect("patient:result", number=number)


def _question_show(
    request: HttpRequest, session: ConsentSession, journey: Journey, progress: QuestionProgress
) -> HttpResponse:
    """The question, unless it is settled or an earlier one comes first."""
    if progress.done or not lifecycle.can(session, Action.ANSWER):
        return redirect("patient:result", number=progress.number)
    current = journey.current_question
    if current is not None and current.number < progress.number:
        return redirect("patient:resume")
    shown = question_presentation(session=session, progress=progress)
    form = AnswerForm(presentation=shown, initial={"round": progress.next_round})
    return _question_page(request, session, journey, progress, form)


def _question_invalid(
    request: HttpRequest,
    session: ConsentSession,
    journey: Journey,
    progress: QuestionProgress,
    form: AnswerForm,
) -> HttpResponse:
    """A posted answer the form refused: the page again, or the patient's place if it moved."""
    if not lifecycle.can(session, Action.ANSWER):
        messages.info(request, journey_services.ERROR_ANSWERS_LOCKED)
        return redirect("patient:summary")
    if "round" in form.errors:
        return redirect("patient:resume")
    return _question_page(request, session, journey, progress, form)


@require_GET
@patient_required
def result(request: HttpRequest, session: ConsentSession, number: int) -> HttpResponse:
    """Feedback on the latest attempt; after a wrong answer, the explanation and section again."""
    journey = journey_get(session=session)
    progress = journey.question(number)
    if progress is None or progress.last is None:
        return redirect("patient:resume")
    reteach_section = progress.question.section
    reteach = progress.outcome == Outcome.RETEACH
    return TemplateResponse(
        request,
        "consent/patient/result.html",
        {
            "session": session,
            "journey": journey,
            "progress": progress,
            "feedback": answer_feedback(question=progress.question, attempt=progress.last),
            "outcome": progress.outcome.value,
            "reteach_section": reteach_section,
            "risk_pictures": (
                section_risk_pictures(session=session, section=reteach_section) if reteach else []
            ),
            "next_number": number + 1 if number < journey.question_count else None,
        },
    )


# The longest page path a patient can come from (it is stored with the question).
_RETURN_PATH_MAX = 200


def _safe_return_path(request: HttpRequest, value: str | None) -> str:
    """The patient page to go back to: one of the patient's own pages, as a plain path (no
    control characters: PostgreSQL refuses a NUL in text), else the patient's place."""
    if (
        value
        and len(value) <= _RETURN_PATH_MAX
        and value.startswith("/patient/")
        and value.isprintable()
        and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()})
        and _is_patient_page(value)
    ):
        return value
    return reverse("patient:resume")


def _is_patient_page(path: str) -> bool:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return False
    return match.namespace == "patient"


@require_http_methods(["GET", "POST"])
@patient_required
def ask(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    """Write a question for the physician from any page, then go back to that page."""
    return_to = _safe_return_path(request, request.POST.get("next") or request.GET.get("next"))
    form = PatientQuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _ask_send(request, session, form, return_to)
        return HttpResponseRedirect(return_to)
    return TemplateResponse(
        request,
        "consent/patient/ask.html",
        {
            "session": session,
            "form": form,
            "return_to": return_to,
            "asked": patient_questions_list(session=session),
        },
        status=400 if form.is_bound else 200,
    )


def _ask_send(
    request: HttpRequest, session: ConsentSession, form: PatientQuestionForm, return_to: str
) -> None:
    try:
        _question, created = journey_services.patient_question_ask(
            session=session,
            text=form.cleaned_data["text"],
            asked_from=return_to,
            form_id=form.cleaned_data["form_id"],
            origin=Origin.of(request),
        )
    except services.ServiceError as error:
        messages.warning(request, str(error))
        return
    messages.success(
        request,
        _("Your question was sent. Your doctor will answer it when you meet.")
        if created
        else _("That question was already sent."),
    )


@require_GET
@patient_required
def summary(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    journey = journey_get(session=session)
    if lifecycle.can(session, Action.ANSWER) and not journey.all_answered:
        return redirect("patient:resume")
    return TemplateResponse(
        request,
        "consent/patient/summary.html",
        {
            "session": session,
            "journey": journey,
            "understood": journey.with_outcome(
                Outcome.CORRECT_FIRST, Outcome.CORRECT_AFTER_RETEACH
            ),
            "to_discuss": journey.with_outcome(Outcome.FLAGGED),
            "own_words": journey.with_outcome(Outcome.ANSWERED),
            "asked": patient_questions_list(session=session),
            **_summary_decision(session),
        },
    )


def _summary_decision(session: ConsentSession) -> dict[str, Any]:
    """Once the physician has attested: whether the decision is open, the patient's decision,
    and whether their copy of the finalized record can be downloaded."""
    if not lifecycle.can(session, Action.DECISION_VIEW):
        return {}
    decision = patient_decision_get(session=session)
    return {
        "decision_open": lifecycle.can(session, Action.CONSENT),
        "decision": decision.decision,
        "record_ready": decision.record is not None,
    }


@require_POST
@patient_entry
def leave(request: HttpRequest) -> HttpResponse:
    """End this browser's patient session (a shared tablet is handed back), saying so in the
    patient's language."""
    link = current_link(request)
    language = link.session.language if link is not None else settings.LANGUAGE_CODE
    request.session.flush()
    return in_language(language, lambda: TemplateResponse(request, "consent/patient/left.html"))
