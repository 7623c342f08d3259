"""Finalization the physician can watch: the record is drawn and sealed by a background task
(consent/tasks.py) while a plain page says so, then lands on the review page with the
finalized record, or with the reason nothing was finalized.

The request that asks for finalization (`review.finalize`) checks the step and the password
first, then calls `finalize_start`: no request ever waits for WeasyPrint, so none runs into a
proxy's or a browser's time-out. The task's id is kept in the physician's own server-side
session, under the consent session it belongs to; the page itself shows no patient data, so
it writes no access event. It has no `<meta>` refresh (WCAG 2.2.1 forbids a timed one): a small
script (consent/static/consent/finalizing.js) asks the same address for JSON every few
seconds and moves on when told where to; without script, a button asks again.

With the immediate backend (TASK_BACKEND=immediate, the tests' default) the task has run by
the time `finalize_start` returns, and the answer is given at once.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from django_tasks.base import TaskResult, TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist

from consent import lifecycle, tasks
from consent.audit.events import Origin
from consent.lifecycle import Turn
from consent.models import ConsentSession
from consent.services import signatures
from consent.views.access import StaffRequest, sessions_view_required, visible_session_or_404

SESSION_KEY = "finalizing"
# How often the waiting page's script asks again (seconds).
POLL_SECONDS = 2

OUTCOME_MESSAGES = {
    tasks.NOT_MADE: signatures.ERROR_RECORD_NOT_MADE,
    tasks.CHANGED_WHILE_DRAWN: signatures.ERROR_CHANGED_WHILE_DRAWN,
    tasks.EVIDENCE_CHANGED: gettext_lazy(
        "The record changed after a signature was made, so that signature no longer holds. "
        "Nothing was finalized; cancel this session and start a new one."
    ),
    tasks.REFUSED: gettext_lazy(
        "The session can no longer be finalized as it stands, so nothing was finalized and "
        "nothing was signed. Check the review page."
    ),
}


def _review_url(session: ConsentSession, anchor: str) -> str:
    return reverse("staff:review", kwargs={"public_id": session.public_id}) + f"#{anchor}"


def _pending(request: StaffRequest) -> dict[str, str]:
    pending = request.session.get(SESSION_KEY)
    return pending if isinstance(pending, dict) else {}


def _forget(request: StaffRequest, session: ConsentSession) -> None:
    pending = _pending(request)
    if pending.pop(str(session.public_id), None) is not None:
        request.session[SESSION_KEY] = pending


def _finalized(request: StaffRequest, session: ConsentSession) -> str:
    """The finalized record's address on the review page, with the message it shows."""
    _forget(request, session)
    record = session.record
    messages.success(
        request, _("The record %(record)s is finalized.") % {"record": record.record_id}
    )
    return _review_url(session, "record")


def _ended(request: StaffRequest, session: ConsentSession, result: TaskResult) -> str:
    """The task finished and the session is not finalized: the review page, saying why."""
    _forget(request, session)
    value = result.return_value if result.status == TaskResultStatus.SUCCESSFUL else None
    outcome = str(value.get("outcome")) if isinstance(value, dict) else tasks.NOT_MADE
    messages.error(request, str(OUTCOME_MESSAGES.get(outcome, OUTCOME_MESSAGES[tasks.REFUSED])))
    return _review_url(session, "finalize")


def _finished(request: StaffRequest, session: ConsentSession, result: TaskResult) -> str:
    session.refresh_from_db()
    if lifecycle.turn(session) == Turn.DONE:
        return _finalized(request, session)
    return _ended(request, session, result)


def finalize_start(request: StaffRequest, session: ConsentSession) -> HttpResponse:
    """Enqueue the drawing of a checked finalization; answer with the waiting page's address,
    or at once when the task has already run."""
    origin = Origin.of(request)
    result = tasks.finalize_record.enqueue(
        session.pk, request.user.pk, origin.ip, origin.user_agent
    )
    if result.is_finished:
        return redirect(_finished(request, session, result))
    pending = _pending(request)
    pending[str(session.public_id)] = str(result.id)
    request.session[SESSION_KEY] = pending
    return redirect("staff:finalizing", public_id=session.public_id)


@require_GET
@sessions_view_required
def finalizing(request: StaffRequest, public_id: str) -> HttpResponse:
    """The waiting page, until the record is finalized or the task ended; then a redirect to
    the review page. Its script asks again every few seconds (`Accept: application/json`,
    answered with where to go next, if anywhere); without script, a button asks again."""
    session = visible_session_or_404(request, public_id)
    next_url, context = _progress(request, session)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"next": next_url, **context})
    if next_url is not None:
        return redirect(next_url)
    return TemplateResponse(
        request,
        "consent/staff/finalizing.html",
        {
            **context,
            "session": session,
            "limit_minutes": max(1, settings.FINALIZE_WAIT_LIMIT_SECONDS // 60),
            "poll_ms": POLL_SECONDS * 1000,
            "review_url": _review_url(session, "finalize"),
        },
    )


def _progress(request: StaffRequest, session: ConsentSession) -> tuple[str | None, dict]:
    """Where the physician goes next (None: keep waiting), and how the waiting stands."""
    waiting = {"started": False, "stalled": False}
    if lifecycle.turn(session) == Turn.DONE:
        return _finalized(request, session), waiting
    task_id = _pending(request).get(str(session.public_id))
    if task_id is None:
        return _review_url(session, "finalize"), waiting
    try:
        result = tasks.finalize_record.get_result(task_id)
    except TaskResultDoesNotExist:
        _forget(request, session)
        messages.error(request, str(OUTCOME_MESSAGES[tasks.NOT_MADE]))
        return _review_url(session, "finalize"), waiting
    if result.is_finished:
        return _finished(request, session, result), waiting
    limit = timedelta(seconds=settings.FINALIZE_WAIT_LIMIT_SECONDS)
    since = result.enqueued_at or timezone.now()
    return None, {
        "started": result.status == TaskResultStatus.RUNNING,
        "stalled": timezone.now() - since > limit,
    }
