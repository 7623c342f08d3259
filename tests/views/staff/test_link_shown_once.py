"""The patient link is shown once, on its own session's page only (issue 12 item 3).

Only the link's hash is stored, so the token waits in the staff member's browser session
until the page of the session it belongs to shows it. Two tabs issuing links in a row, and a
session created for a colleague, must never put one patient's link under another patient.
"""

import html
import re

import pytest
from django.test import Client

from consent.models import ConsentSession, PatientLink
from consent.services.links import patient_link_revoke, token_hash
from consent.views.staff.sessions import SESSION_NEW_LINKS
from tests.factories import consent_session, logged_in, mitraclip_version, physician

pytestmark = pytest.mark.django_db

LINK = re.compile(r'class="patient-link text-break"><a href="http://testserver/link/([^/"]+)/"')


def page(client: Client, session: ConsentSession) -> str:
    response = client.get(f"/staff/sessions/{session.public_id}/")
    assert response.status_code == 200
    return response.content.decode()


def shown_link(client: Client, session: ConsentSession) -> PatientLink | None:
    """The link the session's page shows, as stored (found by its token's hash), or None."""
    body = page(client, session)
    tokens = LINK.findall(body)
    assert len(tokens) <= 1
    if not tokens:
        assert "new-patient-link" not in body
        return None
    return PatientLink.objects.get(token_hash=token_hash(tokens[0]))


def create(client: Client, doctor, name: str):
    return client.post(
        "/staff/sessions/new/",
        {
            "patient_name": name,
            "patient_birth_date": "1950-06-01",
            "patient_record_number": "",
            "procedure_version": mitraclip_version().pk,
            "physician": doctor.pk,
        },
    )


def test_two_tabs_creating_sessions_in_a_row_each_show_their_own_link_once():
    doctor = physician()
    staff = logged_in(doctor)
    # Tab 1 creates Anna's session, tab 2 Bert's, before either page is opened.
    first = create(staff, doctor, "Anna Erste")
    second = create(staff, doctor, "Bert Zweite")
    anna = ConsentSession.objects.get(patient_name="Anna Erste")
    bert = ConsentSession.objects.get(patient_name="Bert Zweite")
    assert first["Location"] == f"/staff/sessions/{anna.public_id}/"
    assert second["Location"] == f"/staff/sessions/{bert.public_id}/"

    # Bert's tab follows its redirect first: his link, not Anna's (the last one made).
    shown = shown_link(staff, bert)
    assert shown is not None and shown.session == bert
    shown = shown_link(staff, anna)
    assert shown is not None and shown.session == anna
    # Once each.
    assert shown_link(staff, anna) is None
    assert shown_link(staff, bert) is None
    assert staff.session.get(SESSION_NEW_LINKS) == {}


def test_two_tabs_making_new_links_in_a_row_each_show_their_own_or_none():
    doctor = physician()
    anna = consent_session(doctor=doctor, patient_name="Anna Erste")
    bert = consent_session(doctor=doctor, patient_name="Bert Zweite")
    carl = consent_session(doctor=doctor, patient_name="Carl Dritte")
    staff = logged_in(doctor)
    for session in (anna, bert):
        response = staff.post(f"/staff/sessions/{session.public_id}/link/")
        assert response["Location"] == f"/staff/sessions/{session.public_id}/"

    # A third patient's page, opened meanwhile, shows no link at all.
    assert shown_link(staff, carl) is None
    shown = shown_link(staff, anna)
    assert shown is not None and shown.session == anna and shown.revoked_at is None
    shown = shown_link(staff, bert)
    assert shown is not None and shown.session == bert and shown.revoked_at is None
    assert shown_link(staff, anna) is None and shown_link(staff, bert) is None


def test_a_link_revoked_or_replaced_before_its_page_opens_is_not_shown():
    doctor = physician()
    session = consent_session(doctor=doctor)
    staff = logged_in(doctor)
    other_tab = logged_in(doctor)
    staff.post(f"/staff/sessions/{session.public_id}/link/")
    patient_link_revoke(session=session, revoked_by=doctor)
    assert shown_link(staff, session) is None

    staff.post(f"/staff/sessions/{session.public_id}/link/")
    other_tab.post(f"/staff/sessions/{session.public_id}/link/")  # replaces the first
    assert shown_link(staff, session) is None
    shown = shown_link(other_tab, session)
    assert shown is not None and shown.revoked_at is None


def test_a_token_moved_under_another_session_in_the_browser_session_is_not_shown():
    """Attack: the kept token rewritten under another session's id shows nothing there."""
    doctor = physician()
    anna = consent_session(doctor=doctor, patient_name="Anna Erste")
    bert = consent_session(doctor=doctor, patient_name="Bert Zweite")
    staff = logged_in(doctor)
    staff.post(f"/staff/sessions/{anna.public_id}/link/")
    stored = staff.session
    kept = stored[SESSION_NEW_LINKS]
    stored[SESSION_NEW_LINKS] = {str(bert.public_id): kept[str(anna.public_id)]}
    stored.save()
    assert shown_link(staff, bert) is None
    assert shown_link(staff, anna) is None


def test_a_session_created_for_a_colleague_shows_no_link_under_anyone_else():
    doctor = physician(username="dr.creator")
    colleague = physician(username="dr.colleague")
    staff = logged_in(doctor)
    own = consent_session(doctor=doctor, patient_name="Anna Eigene")

    response = create(staff, colleague, "Bert Kollege")

    theirs = ConsentSession.objects.get(patient_name="Bert Kollege")
    assert theirs.physician == colleague
    # The creator may not open the colleague's session: back to the dashboard, and no link
    # was made that nobody could be shown.
    assert response["Location"] == "/staff/"
    followed = html.unescape(staff.get("/staff/").content.decode())
    said = "Consent session created for Alex Martin. It is theirs: they make the patient's link"
    assert said in followed
    assert not PatientLink.objects.filter(session=theirs).exists()
    assert staff.get(f"/staff/sessions/{theirs.public_id}/").status_code == 404
    # The creator's own patient never shows the colleague's patient's link.
    assert shown_link(staff, own) is None

    # The colleague makes the link on the session's page and sees it once.
    mine = logged_in(colleague)
    assert shown_link(mine, theirs) is None
    mine.post(f"/staff/sessions/{theirs.public_id}/link/")
    shown = shown_link(mine, theirs)
    assert shown is not None and shown.session == theirs
    assert shown_link(mine, theirs) is None


def test_two_physicians_issuing_at_once_each_see_only_their_own_patients_link():
    first, second = physician(username="dr.first"), physician(username="dr.second")
    anna = consent_session(doctor=first, patient_name="Anna Erste")
    bert = consent_session(doctor=second, patient_name="Bert Zweite")
    one, two = logged_in(first), logged_in(second)
    one.post(f"/staff/sessions/{anna.public_id}/link/")
    two.post(f"/staff/sessions/{bert.public_id}/link/")
    shown = shown_link(two, bert)
    assert shown is not None and shown.session == bert and shown.created_by == second
    shown = shown_link(one, anna)
    assert shown is not None and shown.session == anna and shown.created_by == first
