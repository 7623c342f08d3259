"""Background work, run by django-tasks' worker (`manage.py db_worker`), never by a request.

Finalization is the one slow step a person waits for: drawing and sealing a large record takes
seconds (more on a loaded machine). The physician's request checks everything and the password
(`signatures.session_finalize_check`), then enqueues `finalize_record`; the page that follows
says the record is being sealed and lands on the finalized record when the task is done
(consent/views/staff/finalizing.py).

A task's arguments and result are stored in the database beside it, readable by anyone who can
read that table and kept until pruned: they hold ids and outcome codes only, never a name, a
message quoting one, or an exception's text (which could quote the record). A failure is
logged by its type's name, like the request path did.
"""

import logging
from typing import Any

from django.contrib.auth.models import User
from django_tasks import task

from consent import lifecycle
from consent.audit.events import Origin
from consent.models import ConsentSession
from consent.services import ServiceError, signatures
from consent.services.signatures import ChangedWhileDrawn, EvidenceChanged, RecordNotMade

logger = logging.getLogger(__name__)

# Outcome codes a finished task may report (FinalizeOutcome in consent/views/staff/finalizing.py
# turns each into the physician's message, in the physician's language).
DONE = "done"
NOT_MADE = "not_made"
EVIDENCE_CHANGED = "evidence_changed"
CHANGED_WHILE_DRAWN = "changed_while_drawn"
ALREADY_DONE = "already_done"
REFUSED = "refused"


def _code(error: ServiceError, session: ConsentSession) -> str:
    if isinstance(error, RecordNotMade):
        return NOT_MADE
    if isinstance(error, EvidenceChanged):
        return EVIDENCE_CHANGED
    if isinstance(error, ChangedWhileDrawn):
        return CHANGED_WHILE_DRAWN
    session.refresh_from_db(fields=["status"])
    if lifecycle.turn(session) == lifecycle.Turn.DONE:
        # Another request's task finalized it first: exactly one record, and it exists.
        return ALREADY_DONE
    return REFUSED


@task()
def finalize_record(
    session_id: int, physician_id: int, ip: str | None, user_agent: str
) -> dict[str, Any]:
    """Draw, seal and store the record of a session whose finalization the physician's
    request checked (password included). Returns {"outcome": code, "record_id": id or None}."""
    session = ConsentSession.objects.get(pk=session_id)
    physician = User.objects.get(pk=physician_id)
    origin = Origin(ip=ip, user_agent=user_agent)
    try:
        record = signatures.session_finalize_draw(
            session=session, physician=physician, origin=origin
        )
    except ServiceError as error:
        code = _code(error, session)
        logger.info("finalization of session %s ended: %s", session_id, code)
        return {"outcome": code, "record_id": None}
    except Exception as error:
        # Not raised on: the worker would store the traceback, whose text could quote data.
        logger.error(
            "finalization of session %s failed: %s in %s",
            session_id,
            type(error).__name__,
            type(error).__module__,
        )
        return {"outcome": NOT_MADE, "record_id": None}
    return {"outcome": DONE, "record_id": record.record_id}
