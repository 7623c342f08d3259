"""Every write of the consent flow: one typed, keyword-only function each, one transaction each,
with its audit event written in that transaction.

The modules are named for what they change: `links` (the patient's link and identity check),
`sessions` (creating, cancelling, expiring), `journey` (reading, answering, asking), `review`
(the physician's review), `signatures` (attestation, the patient's decision, companions,
countersignature and finalization), `addenda` (withdrawals and corrections, each a sealed
document). Which step is allowed when is decided by `consent.lifecycle`, never here.
"""

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentSession

ERROR_NOT_RESPONSIBLE = _("Only the responsible physician can sign this consent session.")


class ServiceError(Exception):
    """A refused change, with a message fit to show the user."""


def check_responsible(session: ConsentSession, user: User) -> None:
    """Refuse anyone but the session's responsible physician."""
    if session.physician_id != user.pk:
        raise ServiceError(ERROR_NOT_RESPONSIBLE)
