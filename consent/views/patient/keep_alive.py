"""The decision page's keep-alive: while a patient types their name or draws their signature,
which can take longer than the idle time-out, the page tells the server now and then that
someone is there, so the session does not end under their hands.

`consent/static/consent/keep-alive.js` posts here only after real input (a key, a tick, the
pen on the pad), at most once per `keep_alive_interval()`; a screen left alone sends nothing,
so the idle time-out (`PatientIdleTimeoutMiddleware`) still ends an abandoned session. The
request itself is the whole point: the middleware stamps the session's last activity after
every request of a patient's browser. A ping that comes after the time-out gets 410 from the
middleware, and the script opens its page again, which says how to go on.

The view writes nothing, reads no health data and answers with no body. It is not audited:
the audit log records changes and accesses to health data, and neither the patient's page
views nor the idle time-out itself are events.
"""

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from consent.middleware import patient_idle_timeout
from consent.models import ConsentSession
from consent.views.access import patient_required

# Never more often than the time-out needs, and never more than every five minutes.
KEEP_ALIVE_MAX_INTERVAL = timedelta(minutes=5)


def keep_alive_interval() -> timedelta:
    """The shortest time between two pings: a quarter of the idle time-out, at most 5 minutes
    (with the default 20 minutes, every 5 minutes at most, only while the patient is busy)."""
    return min(KEEP_ALIVE_MAX_INTERVAL, patient_idle_timeout() / 4)


@require_POST
@patient_required
def keep_alive(request: HttpRequest, session: ConsentSession) -> HttpResponse:
    """204 for an identified patient's browser (the middleware stamps the activity); other
    visitors get what every patient page gives them (the link page, or the date of birth)."""
    return HttpResponse(status=204)
