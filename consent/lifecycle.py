"""The state machine of a consent session, in one table.

Every rule of the form "in which statuses may this happen, and what does it lead to" lives in
`TRANSITIONS` and nowhere else. Services call `require` (or `lock`, which also takes the row
lock) before they change anything; views and templates ask `can` and get flags. Nothing else
compares a session's status to decide what is allowed.

An action whose target is None is allowed in the listed statuses and leaves the status as it
is (reading, answering, signing as a witness); the others move the session to their target.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentSession
from consent.services import ServiceError

Status = ConsentSession.Status

ERROR_NOT_NOW = _("This step is not possible now: the consent session is {status}.")


class Action(StrEnum):
    # The patient's link and journey
    LINK_ISSUE = "link_issue"
    LINK_USE = "link_use"
    REVIEW_START = "review_start"
    READ = "read"
    ANSWER = "answer"
    ANSWERS_COMPLETE = "answers_complete"
    ASK = "ask"
    # The physician's review
    QUESTION_ANSWER = "question_answer"
    REVIEW = "review"
    ATTEST = "attest"
    # The patient's decision
    DECISION_VIEW = "decision_view"
    CONSENT = "consent"
    DECLINE = "decline"
    COMPANION_SIGN = "companion_sign"
    # The record
    FINALIZE = "finalize"
    ADDENDUM = "addendum"
    RECORD_COPY = "record_copy"
    # Ending a session early
    CANCEL = "cancel"
    EXPIRE = "expire"


@dataclass(frozen=True)
class Transition:
    allowed: frozenset[str]
    target: str | None = None


def _t(allowed: Iterable[str], target: str | None = None) -> Transition:
    return Transition(allowed=frozenset(allowed), target=target)


# Before anyone has signed: a session can still be ended early.
OPEN = (Status.CREATED, Status.REVIEWING, Status.READY_FOR_DISCUSSION)
DECIDED = (Status.SIGNED, Status.DECLINED)
LIVE = (*OPEN, Status.ATTESTED, *DECIDED)

TRANSITIONS: dict[Action, Transition] = {
    Action.LINK_ISSUE: _t(LIVE),
    # Opening the link and confirming the date of birth; a finalized session's link still
    # opens, so that the patient can read the text again and download their copy.
    Action.LINK_USE: _t((*LIVE, Status.FINALIZED)),
    Action.REVIEW_START: _t((Status.CREATED,), Status.REVIEWING),
    # Time spent reading is evidence of the answers: counted until they lock. A patient may
    # re-read any page later; that time is not counted.
    Action.READ: _t((Status.CREATED, Status.REVIEWING)),
    Action.ANSWER: _t((Status.REVIEWING,)),
    Action.ANSWERS_COMPLETE: _t((Status.REVIEWING,), Status.READY_FOR_DISCUSSION),
    # After the attestation every written question has an answer; a new one is asked in person.
    Action.ASK: _t((Status.REVIEWING, Status.READY_FOR_DISCUSSION)),
    Action.QUESTION_ANSWER: _t((Status.REVIEWING, Status.READY_FOR_DISCUSSION)),
    Action.REVIEW: _t((Status.READY_FOR_DISCUSSION,)),
    Action.ATTEST: _t((Status.READY_FOR_DISCUSSION,), Status.ATTESTED),
    Action.DECISION_VIEW: _t((Status.ATTESTED, *DECIDED, Status.FINALIZED)),
    Action.CONSENT: _t((Status.ATTESTED,), Status.SIGNED),
    Action.DECLINE: _t((Status.ATTESTED,), Status.DECLINED),
    Action.COMPANION_SIGN: _t(DECIDED),
    Action.FINALIZE: _t(DECIDED, Status.FINALIZED),
    Action.ADDENDUM: _t((Status.FINALIZED,)),
    Action.RECORD_COPY: _t((Status.FINALIZED,)),
    # A session is ended early only before anyone has signed.
    Action.CANCEL: _t(OPEN, Status.CANCELLED),
    Action.EXPIRE: _t(OPEN, Status.EXPIRED),
}


class NotAllowed(ServiceError):
    """An action refused in the session's current status, with a message fit to show."""

    def __init__(
        self, session: ConsentSession, action: Action, message: str | Promise = ""
    ) -> None:
        self.status = session.status
        self.action = action
        label = str(Status(session.status).label).lower()
        super().__init__(str(message or ERROR_NOT_NOW).format(status=label))


def can(session: ConsentSession, action: Action) -> bool:
    """Whether `action` is allowed in the session's current status."""
    return session.status in TRANSITIONS[action].allowed


def require(session: ConsentSession, action: Action, *, error: str | Promise = "") -> str:
    """Refuse the action unless allowed (with `error`, if given); return the status it leads to."""
    if not can(session, action):
        raise NotAllowed(session, action, error)
    return TRANSITIONS[action].target or session.status


def lock(session: ConsentSession, action: Action, *, error: str | Promise = "") -> ConsentSession:
    """Lock the session's row for this transaction, then `require` the action.

    The status is re-read under the lock, so two requests racing for the same step cannot
    both pass.
    """
    locked = ConsentSession.objects.select_for_update().get(pk=session.pk)
    require(locked, action, error=error)
    return locked


def advance(session: ConsentSession, action: Action, *, fields: Iterable[str] = ()) -> str:
    """Move a locked session to the action's target status and save it; return the old status.

    `fields` names other fields the caller has set (for example the time of the step).
    """
    previous = session.status
    session.status = require(session, action)
    session.save(update_fields=["status", *fields])
    return previous


def flags(session: ConsentSession, *actions: Action) -> dict[str, bool]:
    """`can_<action>` for each action, for a template."""
    return {f"can_{action.value}": can(session, action) for action in actions}


class Turn(StrEnum):
    """Whose move it is: what a dashboard highlights."""

    PATIENT = "patient"
    PHYSICIAN = "physician"
    DONE = "done"
    CLOSED = "closed"


TURNS: dict[str, Turn] = {
    Status.CREATED: Turn.PATIENT,
    Status.REVIEWING: Turn.PATIENT,
    Status.READY_FOR_DISCUSSION: Turn.PHYSICIAN,
    Status.ATTESTED: Turn.PATIENT,
    Status.SIGNED: Turn.PHYSICIAN,
    Status.DECLINED: Turn.PHYSICIAN,
    Status.FINALIZED: Turn.DONE,
    Status.EXPIRED: Turn.CLOSED,
    Status.CANCELLED: Turn.CLOSED,
}


def turn(session: ConsentSession) -> Turn:
    return TURNS[session.status]
