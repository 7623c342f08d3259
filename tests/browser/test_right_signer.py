"""The right signer in a real browser: someone types "Mickey Mouse" to sign for Maria Lopez,
reads why it is refused, then signs as her legal representative with their relationship; the
physician's review page shows who signed and how they are related. axe (WCAG A and AA) checks
the refused form at 1280 and 375 px. With SCREENSHOTS=1 each page is also saved."""

import re

import pytest
from playwright.sync_api import expect

from consent.models import ConsentSession, Signature
from consent.services import signatures as signature_services
from tests import factories
from tests.browser import steps
from tests.browser.test_patient_accessibility import PageChecker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DECISION_URL = re.compile(r"/patient/decision/(#agree)?$")
MISMATCH = (
    "The name you typed, 'Mickey Mouse', does not match the patient's name. Type the "
    "patient's name, or sign as their legal representative."
)


def test_a_wrong_name_is_refused_then_signed_as_the_legal_representative(
    new_context, live_server, screenshot
):
    session = factories.attested_session(patient_name="Maria Lopez")
    link_path = factories.issue_link(session)
    page = new_context().new_page()
    steps.open_link(page, live_server.url, link_path)
    steps.enter_birth_date(page)
    page.wait_for_url(DECISION_URL)

    page.get_by_role("link", name="Agree and sign").click()
    for statement in signature_services.PATIENT_CONSENT_STATEMENTS:
        page.get_by_role("checkbox", name=str(statement)).check()
    page.get_by_label("Your full name").fill("Mickey Mouse")
    page.get_by_role("button", name="Sign my consent").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(MISMATCH)
    expect(alert).to_contain_text("Nothing was signed yet.")
    expect(page.locator("#typed-name-error")).to_have_text(MISMATCH)
    expect(page.get_by_label("Your full name")).to_have_value("Mickey Mouse")
    assert not Signature.objects.filter(session=session, kind="patient_consent").exists()
    check = PageChecker(page, screenshot)
    check("right-signer-refused")
    assert check.reports == [], "\n".join(check.reports)

    # The way out the message names: sign as the patient's legal representative.
    page.get_by_label("I am signing as the patient's legal representative").check()
    page.get_by_label("Your relationship to the patient").fill("Son")
    page.get_by_role("button", name="Sign my consent").click()
    page.wait_for_url(DECISION_URL)
    expect(page.get_by_role("heading", name="You agreed to have the procedure.")).to_be_visible()
    signature = Signature.objects.get(session=session, kind="patient_consent")
    assert (signature.representative_name, signature.representative_relationship) == (
        "Mickey Mouse",
        "Son",
    )
    assert not signature.staff_browser
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.SIGNED

    # The physician, in their own browser, reviews the decision.
    staff = new_context().new_page()
    steps.staff_signed_in(staff, live_server.url, session.physician.username)
    staff.goto(f"{live_server.url}/staff/sessions/{session.public_id}/review/#decision")
    decision = staff.locator("#decision")
    expect(decision.get_by_text("signed by a legal representative")).to_be_visible()
    expect(decision.locator(".signature-signed-as")).to_have_text(
        "Mickey Mouse, the patient's legal representative (Son)"
    )
    expect(decision.locator(".link-reissue")).to_contain_text("Link re-issued after attestation on")
    screenshot(staff, "right-signer-review")
