"""The physician's workspace: dashboard, review, attestation, countersignature, the record.

(Being written: every view below is filled in by the physician-workspace work.)
"""

from django.http import Http404, HttpRequest, HttpResponse


def _not_yet(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


link_qr = review = patient_question_answer = question_review = discussion = _not_yet
attest = finalize = record_pdf = addendum = _not_yet
