"""The auditor's workspace in a real browser: find a record by name, open its history, download
its PDF and FHIR bundle, export the list, verify the whole log. Pages pass axe (WCAG A and AA)
at desktop and phone width. With SCREENSHOTS=1 the pages are saved."""

import csv
import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from consent.models import Addendum, AuditEvent
from tests.browser.steps import DESKTOP, PHONE, staff_signed_in
from tests.factories import (
    addendum_added,
    auditor,
    consent_session,
    decided_session,
    finalized_record,
    physician,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_A_AND_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def accessible(page: Page) -> None:
    results = Axe().run(page, options=WCAG_A_AND_AA)
    assert results.violations_count == 0, results.generate_report()


@pytest.fixture
def population():
    doctor = physician(username="dr.adams")
    kept = finalized_record(doctor=doctor, patient_name="Alice Consenting")
    withdrawn = finalized_record(doctor=doctor, patient_name="Carla Withdrawing")
    addendum_added(
        record=withdrawn, kind=Addendum.Kind.WITHDRAWAL, text="Withdrew by phone.", author=doctor
    )
    finalized_record(
        doctor=physician(username="dr.baker"), patient_name="Bruno Declining", decline_reason="No"
    )
    decided_session(doctor=doctor, patient_name="Dora Flagged", wrong_key="risk-common")
    consent_session(doctor=doctor, patient_name="Emil Newcomer")
    auditor(username="audrey")
    return {"kept": kept, "withdrawn": withdrawn}


def test_an_auditor_finds_a_record_reads_its_history_and_exports(
    live_server, new_context, screenshot, population
):
    page = new_context(viewport=DESKTOP, accept_downloads=True).new_page()
    staff_signed_in(page, live_server.url, "audrey")
    page.get_by_role("link", name="Audit workspace").click()
    expect(page.get_by_role("heading", name="Consent records")).to_be_visible()
    expect(page.get_by_text("5 sessions")).to_be_visible()
    accessible(page)
    screenshot(page, "audit-records")

    # Filter by decision, then search by name: the URL never carries the name.
    page.get_by_label("Decision").select_option("withdrawn")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("1 session", exact=True)).to_be_visible()
    page.get_by_label("Decision").select_option("")
    page.get_by_label("Patient name, MRN or record id").fill("alice")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("link", name="Alice Consenting")).to_be_visible()
    expect(page.get_by_role("link", name="Bruno Declining")).to_have_count(0)
    assert "alice" not in page.url.lower()

    with page.expect_download() as download:
        page.get_by_role("link", name="Export this list (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert [row["record_id"] for row in rows] == [population["kept"].record_id]

    page.get_by_role("link", name="Alice Consenting").click()
    expect(page.get_by_role("heading", name="Who looked at this record")).to_be_visible()
    expect(page.locator(".access-table")).to_contain_text("audrey")
    expect(page.locator(".timeline")).to_contain_text("session.finalized")
    accessible(page)
    screenshot(page, "audit-record")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").click()
    assert download.value.suggested_filename == f"{population['kept'].record_id}.pdf"
    with page.expect_download() as download:
        page.get_by_role("link", name="FHIR R4 bundle").click()
    assert '"resourceType": "Bundle"' in download.value.path().read_text()

    page.get_by_role("link", name="Audit log").click()
    page.get_by_role("button", name="Verify the whole audit log").click()
    expect(page.get_by_role("heading", name="The audit log is intact.")).to_be_visible()
    accessible(page)
    screenshot(page, "audit-log")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"records.searched", "record.viewed", "record.downloaded"} <= actions
    assert {"records.exported", "record.exported", "audit_log.verified"} <= actions


def test_the_records_list_and_record_page_work_on_a_phone(
    live_server, new_context, screenshot, population
):
    page = new_context(viewport=PHONE).new_page()
    staff_signed_in(page, live_server.url, "audrey")
    page.goto(live_server.url + "/audit/")
    expect(page.get_by_role("link", name="Carla Withdrawing")).to_be_visible()
    accessible(page)
    screenshot(page, "audit-records")
    page.get_by_role("link", name="Carla Withdrawing").click()
    expect(page.get_by_text("Withdrew by phone.")).to_be_visible()
    accessible(page)
    screenshot(page, "audit-record")


def test_a_bad_date_is_explained_and_the_search_is_kept(live_server, new_context, population):
    page = new_context(viewport=DESKTOP).new_page()
    staff_signed_in(page, live_server.url, "audrey")
    page.goto(live_server.url + "/audit/")
    page.get_by_label("Patient name, MRN or record id").fill("Dora")
    page.get_by_label("Created from").fill("2026-05-02")
    page.get_by_label("Created until").fill("2026-05-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("The last day comes before the first day.")
    expect(page.get_by_label("Patient name, MRN or record id")).to_have_value("Dora")


def test_a_physician_is_refused_the_workspace(live_server, new_context, population):
    page = new_context(viewport=DESKTOP).new_page()
    staff_signed_in(page, live_server.url, "dr.adams")
    expect(page.get_by_role("link", name="Audit workspace")).to_have_count(0)
    response = page.goto(live_server.url + "/audit/")
    assert response.status == 403
