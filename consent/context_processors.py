"""Template context shared by every page."""

from django.conf import settings
from django.http import HttpRequest

from consent import lifecycle
from consent.lifecycle import Action


def institution(request: HttpRequest) -> dict[str, str]:
    return {"institution_name": settings.INSTITUTION_NAME}


def patient_flags(request: HttpRequest) -> dict[str, bool]:
    """What every patient page may offer, as the state machine says (the "Ask" button), and
    whether its content is not clinically reviewed (the notice on every patient page).

    Only behind `patient_required`, which puts the patient's consent session on the request.
    """
    session = getattr(request, "consent_session", None)
    if session is None:
        return {}
    return {
        **lifecycle.flags(session, Action.ASK),
        "content_unreviewed": not session.procedure_version.clinically_reviewed,
    }
