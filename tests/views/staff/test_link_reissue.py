"""A patient link made after the physician's attestation lets its holder sign as the patient:
staff must give a reason, which is stored, audited, and shown on the session page, the review
page and in the record. Before the attestation no reason is asked."""

import html

import pytest

from consent.models import AuditEvent, PatientLink
from consent.selectors.session import record_data_get
from tests.factories import attested_session, logged_in, physician, reviewed_session

pytestmark = pytest.mark.django_db

REASON = "The patient's phone was stolen; she signs on the clinic tablet."


def link_url(session) -> str:
    return f"/staff/sessions/{session.public_id}/link/"


def detail(client, session) -> str:
    response = client.get(f"/staff/sessions/{session.public_id}/")
    assert response.status_code == 200
    return " ".join(html.unescape(response.content.decode()).split())


def test_after_the_attestation_a_new_link_without_a_reason_is_refused_with_a_message():
    session = attested_session()
    staff = logged_in(session.physician)
    links = list(PatientLink.objects.filter(session=session).values_list("pk", "revoked_at"))
    events = AuditEvent.objects.exclude(action="session.viewed").count()

    response = staff.post(link_url(session), {"reason": "   "}, follow=True)

    text = " ".join(html.unescape(response.content.decode()).split())
    assert (
        "The physician has already attested this session, so a new link lets someone sign as "
        "the patient. Give the reason for the new link. No link was made." in text
    )
    assert "new-patient-link" not in text
    after = list(PatientLink.objects.filter(session=session).values_list("pk", "revoked_at"))
    assert after == links
    assert AuditEvent.objects.exclude(action="session.viewed").count() == events


def test_the_session_page_asks_for_the_reason_only_after_the_attestation():
    before = reviewed_session()
    assert "Why a new link?" not in detail(logged_in(before.physician), before)
    after = attested_session(doctor=physician(username="dr.after"))
    assert "Why a new link?" in detail(logged_in(after.physician), after)


def test_before_the_attestation_no_reason_is_needed():
    session = reviewed_session()
    response = logged_in(session.physician).post(link_url(session))
    assert response.status_code == 302
    link = PatientLink.objects.filter(session=session).latest("created_at")
    assert (link.issue_reason, link.after_attestation) == ("", False)


def test_with_a_reason_the_link_is_made_audited_and_shown_on_the_review_page_and_record():
    session = attested_session()
    staff = logged_in(session.physician)

    response = staff.post(link_url(session), {"reason": REASON}, follow=True)

    text = " ".join(html.unescape(response.content.decode()).split())
    assert "A new patient link was made" in text
    assert "new-patient-link" in text  # shown once
    assert "after attestation" in text and REASON in text  # in the session's list of links
    link = PatientLink.objects.filter(session=session).latest("created_at")
    assert (link.issue_reason, link.after_attestation, link.revoked_at) == (REASON, True, None)
    event = AuditEvent.objects.filter(session=session, object_id=str(link.pk)).get(
        action__in=["link.issued", "link.reissued"]
    )
    assert event.payload["reason"] == REASON
    assert event.payload["after_attestation"] is True
    assert event.actor == session.physician

    review = staff.get(f"/staff/sessions/{session.public_id}/review/")
    review_text = " ".join(html.unescape(review.content.decode()).split())
    assert "Patient link made after the attestation" in review_text
    assert "Link re-issued after attestation on " in review_text
    assert f"by Alex Martin: {REASON}" in review_text
    (reissue,) = record_data_get(session=session).links_after_attestation
    assert reissue.reason == REASON
