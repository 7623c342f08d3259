"""The auditor's workspace: the records list (filters, search, sorting, pages), the record page
with its timeline and who looked, the exports, whole-log verification, the read-only admin,
and who may open what."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.bundle import Bundle

from consent.audit import triggers
from consent.models import Addendum, AuditEvent, ConsentSession
from consent.rules import Decision
from consent.selectors.records import records_annotated, records_filtered
from tests.factories import (
    FAKE_PDF,
    addendum_added,
    auditor,
    consent_session,
    decided_session,
    finalized_record,
    logged_in,
    patient_client,
    physician,
)

pytestmark = pytest.mark.django_db

Status = ConsentSession.Status


def superuser():
    return get_user_model().objects.create_superuser(
        username="root", password="x-very-long-password", email=""
    )


def search(client: Client, **filters) -> str:
    """Post the filter form as a browser would, follow the redirect, return the page."""
    response = client.post("/audit/", filters, follow=True)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def the_auditor():
    return auditor()


@pytest.fixture
def records(the_auditor):
    """A small mixed population: consented, declined, withdrawn, flagged, two physicians."""
    doctor_a = physician(username="dr.adams")
    doctor_b = physician(username="dr.baker")
    consented = finalized_record(doctor=doctor_a, patient_name="Alice Consenting")
    declined = finalized_record(
        doctor=doctor_b, patient_name="Bruno Declining", decline_reason="Prefers to wait"
    )
    withdrawn = finalized_record(doctor=doctor_a, patient_name="Carla Withdrawing")
    addendum_added(
        record=withdrawn,
        kind=Addendum.Kind.WITHDRAWAL,
        text="Withdrew by phone on the day before.",
        author=doctor_a,
    )
    flagged = decided_session(doctor=doctor_b, patient_name="Dora Flagged", wrong_key="risk-common")
    fresh = consent_session(doctor=doctor_a, patient_name="Emil Newcomer")
    return {
        "consented": consented.session,
        "declined": declined.session,
        "withdrawn": withdrawn.session,
        "flagged": flagged,
        "fresh": fresh,
        "doctors": (doctor_a, doctor_b),
    }


# Access: every view, every role


AUDIT_VIEWS = [
    ("get", "/audit/"),
    ("post", "/audit/"),
    ("get", "/audit/records.csv"),
    ("get", "/audit/sessions/{id}/"),
    ("get", "/audit/sessions/{id}/record.pdf"),
    ("get", "/audit/sessions/{id}/fhir.json"),
    ("get", "/audit/log/"),
    ("post", "/audit/log/"),
    ("get", "/audit/analytics/"),
]


@pytest.mark.parametrize(("method", "path"), AUDIT_VIEWS)
def test_each_audit_view_by_role(method, path, the_auditor):
    record = finalized_record(doctor=physician(username="dr.access"))
    url = path.format(id=record.session.public_id)
    anonymous = getattr(Client(), method)(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    patient = getattr(patient_client(consent_session(doctor=record.session.physician)), method)(url)
    assert patient.status_code == 302
    assert patient["Location"].startswith("/accounts/login/")
    assert getattr(logged_in(record.session.physician), method)(url).status_code == 403
    for user in (the_auditor, superuser()):
        response = getattr(logged_in(user), method)(url)
        assert response.status_code in (200, 302), (user, response.status_code)


def test_the_staff_menu_shows_the_workspace_to_auditors_only(the_auditor):
    doctor = physician()
    response = logged_in(doctor).get("/staff/")
    assert response.status_code == 200
    # The physician's own dashboard, only without the workspace link.
    assert ">Consent sessions</h1>" in response.content.decode()
    assert "Audit workspace" not in response.content.decode()
    assert "Audit workspace" in logged_in(the_auditor).get("/staff/").content.decode()


# The records list


def test_the_list_shows_every_session_newest_first(records, the_auditor):
    body = logged_in(the_auditor).get("/audit/").content.decode()
    assert "5 sessions" in body
    names = ["Emil Newcomer", "Dora Flagged", "Carla Withdrawing", "Bruno Declining"]
    positions = [body.index(name) for name in names]
    assert positions == sorted(positions)


FILTER_CASES = [
    ({"decision": "consented"}, {"Alice Consenting", "Dora Flagged"}),
    ({"decision": "declined"}, {"Bruno Declining"}),
    ({"decision": "withdrawn"}, {"Carla Withdrawing"}),
    ({"decision": "undecided"}, {"Emil Newcomer"}),
    ({"status": "finalized"}, {"Alice Consenting", "Bruno Declining", "Carla Withdrawing"}),
    ({"flagged": "on"}, {"Dora Flagged"}),
    ({"q": "dora"}, {"Dora Flagged"}),
    ({"q": "MRN-123"}, None),  # every factory session has this MRN
]


def test_filters_and_search(records, the_auditor):
    client = logged_in(the_auditor)
    everyone = {
        "Alice Consenting",
        "Bruno Declining",
        "Carla Withdrawing",
        "Dora Flagged",
        "Emil Newcomer",
    }
    for filters, expected in FILTER_CASES:
        body = search(client, **filters)
        shown = {name for name in everyone if name in body}
        assert shown == (expected if expected is not None else everyone), filters


def test_each_decision_filter_keeps_exactly_the_rows_whose_decision_column_says_so(records):
    """The filter is EXISTS conditions, the column a CASE: both say the same of every session."""
    shown = {session.pk: session.decision for session in records_annotated()}
    assert set(shown.values()) == {decision.value for decision in Decision}
    for decision in Decision:
        kept = set(records_filtered({"decision": decision.value}).values_list("pk", flat=True))
        assert kept == {pk for pk, said in shown.items() if said == decision}, decision
        assert kept


def test_the_decision_filter_reads_no_more_queries_with_more_sessions(records, the_auditor):
    client = logged_in(the_auditor)
    search(client, decision="declined")
    with CaptureQueriesContext(connection) as few:
        client.get("/audit/")
    for number in range(4):
        finalized_record(
            doctor=records["doctors"][1],
            patient_name=f"Later {number}",
            decline_reason="Prefers to wait",
        )
    with CaptureQueriesContext(connection) as many:
        body = client.get("/audit/").content.decode()
    assert len(many) == len(few)
    assert "5 sessions" in body


def test_search_by_record_id_and_by_physician(records, the_auditor):
    client = logged_in(the_auditor)
    record_id = records["declined"].record.record_id
    body = search(client, q=record_id.lower())
    assert "Bruno Declining" in body and "Alice Consenting" not in body
    doctor_b = records["doctors"][1]
    body = search(client, physician=doctor_b.pk)
    assert "Bruno Declining" in body and "Dora Flagged" in body
    assert "Alice Consenting" not in body


def test_date_range_and_sorting(records, the_auditor):
    client = logged_in(the_auditor)
    today = timezone.localdate()
    body = search(client, date_from=(today + timedelta(days=1)).isoformat())
    assert "No session matches these filters." in body
    body = search(client, date_from=today.isoformat(), date_to=today.isoformat(), sort="patient")
    assert body.index("Alice Consenting") < body.index("Emil Newcomer")


def test_bad_filters_get_a_clear_message_and_keep_what_was_typed(records, the_auditor):
    client = logged_in(the_auditor)
    response = client.post("/audit/", {"q": "Dora", "date_from": "31/02/2026"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter the first day as a date, like 2026-01-31." in body
    assert 'value="Dora"' in body
    response = client.post("/audit/", {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert "The last day comes before the first day." in response.content.decode()
    response = client.post("/audit/", {"q": "x" * 101})
    assert "Search for at most 100 characters." in response.content.decode()
    response = client.post("/audit/", {"version": "not-a-number", "status": "nonsense"})
    assert response.status_code == 400


def test_patient_names_never_reach_a_url(records, the_auditor):
    client = logged_in(the_auditor)
    response = client.post("/audit/", {"q": "Dora Flagged"})
    assert response.status_code == 302
    assert response["Location"] == "/audit/"
    body = client.get("/audit/").content.decode()
    assert "Dora" not in " ".join(part for part in body.split('"') if part.startswith("/"))
    # The filters persist for paging and export, and can be cleared.
    assert 'value="Dora Flagged"' in body
    assert "1 session" in body
    body = search(client, clear="1")
    assert "5 sessions" in body


def test_pages_of_fifty_with_a_constant_query_count(the_auditor):
    doctor = physician()
    for number in range(3):
        consent_session(doctor=doctor, patient_name=f"Patient {number:03d}")
    client = logged_in(the_auditor)
    with CaptureQueriesContext(connection) as few:
        client.get("/audit/")
    for number in range(3, 53):
        consent_session(doctor=doctor, patient_name=f"Patient {number:03d}")
    with CaptureQueriesContext(connection) as many:
        body = client.get("/audit/").content.decode()
    assert len(many) == len(few)
    assert "53 sessions · page 1 of 2" in body
    body = client.get("/audit/?page=2").content.decode()
    assert "page 2 of 2" in body
    assert body.count("Patient 0") == 3
    assert client.get("/audit/?page=999").status_code == 200


# Access to health data is audited


def test_searches_views_downloads_and_exports_are_written_to_the_log(records, the_auditor):
    client = logged_in(the_auditor)
    search(client, q="Dora", status="ready_for_discussion")
    searched = AuditEvent.objects.filter(action="records.searched").last()
    assert searched.actor == the_auditor
    assert searched.role == AuditEvent.Role.AUDITOR
    assert searched.payload["filters"] == {"searched_text": True, "status": "ready_for_discussion"}
    assert "Dora" not in json.dumps(searched.payload)
    session = records["consented"]
    client.get(f"/audit/sessions/{session.public_id}/")
    pdf = client.get(f"/audit/sessions/{session.public_id}/record.pdf")
    assert b"".join(pdf.streaming_content) == FAKE_PDF
    client.get(f"/audit/sessions/{session.public_id}/fhir.json")
    b"".join(client.get("/audit/records.csv").streaming_content)
    actions = list(AuditEvent.objects.filter(actor=the_auditor).values_list("action", flat=True))
    for action in (
        "records.searched",
        "record.viewed",
        "record.downloaded",
        "record.exported",
        "records.exported",
    ):
        assert action in actions
    viewed = AuditEvent.objects.get(action="record.viewed")
    assert viewed.session == session
    assert viewed.address == "127.0.0.1"


def test_the_record_page_shows_its_timeline_and_who_looked(records, the_auditor):
    session = records["withdrawn"]
    other = auditor(username="second.auditor")
    logged_in(other).get(f"/audit/sessions/{session.public_id}/")
    body = logged_in(the_auditor).get(f"/audit/sessions/{session.public_id}/").content.decode()
    assert "Carla Withdrawing" in body
    assert session.record.record_id in body
    assert "Withdrawn" in body
    assert "Withdrew by phone on the day before." in body
    assert "Patient consent" in body and "Physician countersignature" in body
    access = body.split("Who looked at this record")[1].split("Timeline")[0]
    assert "second.auditor" in access and "auditor" in access
    timeline = body.split("Timeline")[1]
    events = AuditEvent.objects.filter(session=session)
    assert f"Timeline: {events.count()} audit events" in body
    for action in ("session.created", "session.finalized", "addendum.withdrawal"):
        if events.filter(action=action).exists():
            assert action in timeline
    assert f"/staff/records/{session.record.record_id}/verify/" in body


def page_queries(client: Client, session: ConsentSession) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/audit/sessions/{session.public_id}/").status_code == 200
    return len(queries)


def test_the_record_page_costs_the_same_queries_however_long_the_history(the_auditor):
    short = consent_session(patient_name="Short History")
    long = decided_session(
        doctor=physician(username="dr.long"), patient_name="Long", wrong_key="risk-common"
    )
    small = finalized_record(doctor=physician(username="dr.small"), patient_name="Small")
    large = finalized_record(
        doctor=physician(username="dr.large"),
        patient_name="Large",
        wrong_key="risk-common",
        patient_question="Can I drive home afterwards?",
    )
    client = logged_in(the_auditor)
    in_progress = [page_queries(client, short), page_queries(client, long)]
    finalized = [page_queries(client, small.session), page_queries(client, large.session)]
    assert in_progress[0] == in_progress[1]
    assert finalized[0] == finalized[1]
    # A finalized record reads its signatures from the stored record: one query fewer.
    assert finalized[0] <= in_progress[0]


def test_an_unknown_session_is_404(the_auditor):
    client = logged_in(the_auditor)
    assert client.get("/audit/sessions/6f1c1d9e-0000-4000-8000-000000000000/").status_code == 404
    fresh = consent_session()
    assert client.get(f"/audit/sessions/{fresh.public_id}/record.pdf").status_code == 404
    assert client.get(f"/audit/sessions/{fresh.public_id}/fhir.json").status_code == 404


# Exports


def test_the_csv_export_follows_the_filters_and_holds_no_names(records, the_auditor):
    client = logged_in(the_auditor)
    search(client, decision="declined")
    response = client.get("/audit/records.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    (row,) = rows
    assert row["decision"] == "declined"
    assert row["record_id"] == records["declined"].record.record_id
    assert row["physician"] == "dr.baker"
    assert row["pdf_sha256"] == records["declined"].record.pdf_sha256
    for private in ("Bruno", "Declining", "1948-03-27", "Prefers to wait"):
        assert private not in text


def test_the_csv_export_defuses_spreadsheet_formulas(the_auditor):
    session = consent_session()
    ConsentSession.objects.filter(pk=session.pk).update(patient_record_number="=HYPERLINK(1)")
    text = b"".join(logged_in(the_auditor).get("/audit/records.csv").streaming_content).decode()
    assert "'=HYPERLINK(1)" in text


def test_the_fhir_export_is_a_valid_r4_bundle(records, the_auditor):
    session = records["consented"]
    response = logged_in(the_auditor).get(f"/audit/sessions/{session.public_id}/fhir.json")
    assert response["Content-Type"] == "application/fhir+json"
    bundle = Bundle.parse_raw(response.content)
    types = sorted(entry.resource.resource_type for entry in bundle.entry)
    assert "Consent" in types and "QuestionnaireResponse" in types and "Provenance" in types


def test_a_record_whose_stored_pdf_changed_is_not_exported(records, the_auditor):
    record = records["consented"].record
    with open(record.pdf.path, "ab") as stored:
        stored.write(b"tampered")
    client = logged_in(the_auditor)
    response = client.get(f"/audit/sessions/{record.session.public_id}/fhir.json", follow=True)
    body = response.content.decode()
    assert "fails its integrity check, so it is not exported" in body
    assert "Not authentic" in body or "missing or has changed" in body


# After finalization the pages read the stored record, never the live tables


def behind_the_applications_back(*statements: tuple[str, list]) -> None:
    """Raw SQL with the history triggers dropped (inside the test's transaction, undone after)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in triggers.drop_sql(connection.vendor):
            cursor.execute(statement, [])
        for statement, params in statements:
            cursor.execute(statement, params)


def test_live_rows_changed_behind_the_applications_back_leave_page_and_export_unchanged(
    the_auditor,
):
    record = finalized_record(patient_name="Erik Original", wrong_key="risk-common")
    session = record.session
    client = logged_in(the_auditor)
    fhir_url = f"/audit/sessions/{session.public_id}/fhir.json"
    bundle_before = json.loads(client.get(fhir_url).content)
    summary_before = client.get(f"/audit/sessions/{session.public_id}/").context["summary"]
    assert summary_before.from_record and summary_before.has_flags

    behind_the_applications_back(
        ("UPDATE consent_attempt SET is_correct = %s WHERE session_id = %s", [True, session.pk]),
        (
            "UPDATE consent_consentsession SET patient_name = %s, patient_record_number = %s "
            "WHERE id = %s",
            ["Mallory Rewritten", "MRN-999", session.pk],
        ),
        ("DELETE FROM consent_signature WHERE session_id = %s", [session.pk]),
    )
    response = client.get(f"/audit/sessions/{session.public_id}/")
    body = response.content.decode()

    assert response.context["summary"] == summary_before
    assert "Erik Original" in body and "MRN-123" in body
    assert "Mallory Rewritten" not in body and "MRN-999" not in body
    assert "Patient consent" in body and "Physician countersignature" in body
    assert json.loads(client.get(fhir_url).content) == bundle_before


def test_a_stored_record_changed_behind_the_applications_back_is_reported_not_exported(
    the_auditor,
):
    record = finalized_record(patient_name="Erik Original")
    changed = record.record_json.replace("Erik Original", "Mallory Rewritten")
    behind_the_applications_back(
        ("UPDATE consent_consentrecord SET record_json = %s WHERE id = %s", [changed, record.pk])
    )
    client = logged_in(the_auditor)

    page = client.get(f"/audit/sessions/{record.session.public_id}/")
    export = client.get(f"/audit/sessions/{record.session.public_id}/fhir.json", follow=True)

    assert page.context["history"].record_changed
    assert "no longer matches the SHA-256" in page.content.decode()
    assert "Mallory Rewritten" not in page.content.decode()
    assert export["Content-Type"].startswith("text/html")
    assert "fails its integrity check, so it is not exported" in export.content.decode()


# Whole-log verification


def test_the_whole_log_verifies_from_the_workspace(records, the_auditor):
    client = logged_in(the_auditor)
    assert "Verify the whole audit log" in client.get("/audit/log/").content.decode()
    body = client.post("/audit/log/").content.decode()
    assert "The audit log is intact." in body
    event = AuditEvent.objects.filter(action="audit_log.verified").get()
    assert event.payload["intact"] is True


def test_a_tampered_log_names_the_first_broken_event(records, the_auditor):
    with connection.cursor() as cursor:
        for statement in triggers.drop_sql(connection.vendor):
            cursor.execute(statement)
    victim = AuditEvent.objects.order_by("seq")[10]
    AuditEvent.objects.filter(pk=victim.pk).update(action="nothing.happened")
    body = logged_in(the_auditor).post("/audit/log/").content.decode()
    assert f"The audit log is broken at event {victim.seq}." in body
    assert "content does not match its hash" in body.lower()
    assert "nothing.happened" in body


# The Django admin: superusers only, read-only


ADMIN_MODELS = ["consentsession", "consentrecord", "attempt", "signature", "auditevent"]


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_the_admin_is_read_only_for_superusers(records, model):
    client = logged_in(superuser())
    changelist = client.get(f"/admin/consent/{model}/")
    assert changelist.status_code == 200
    assert client.get(f"/admin/consent/{model}/add/").status_code == 403
    obj = {
        "consentsession": records["consented"],
        "consentrecord": records["consented"].record,
        "attempt": records["consented"].attempts.first(),
        "signature": records["consented"].signatures.first(),
        "auditevent": AuditEvent.objects.first(),
    }[model]
    page = client.get(f"/admin/consent/{model}/{obj.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/consent/{model}/{obj.pk}/delete/").status_code == 403
    assert AuditEvent.objects.filter(action="admin.viewed", payload__model=f"consent.{model}")


def test_auditors_and_physicians_cannot_open_the_admin(the_auditor):
    for user in (the_auditor, physician()):
        response = logged_in(user).get("/admin/consent/auditevent/")
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_a_physicians_dashboard_and_session_pages_are_audited_too(the_auditor):
    session = consent_session()
    client = logged_in(session.physician)
    client.get("/staff/")
    client.get(f"/staff/sessions/{session.public_id}/")
    client.get(f"/staff/sessions/{session.public_id}/review/")
    listed = AuditEvent.objects.get(action="sessions.listed")
    assert listed.actor == session.physician and listed.role == AuditEvent.Role.PHYSICIAN
    viewed = AuditEvent.objects.filter(action="session.viewed", session=session)
    assert sorted(viewed.values_list("payload__page", flat=True)) == ["detail", "review"]
    body = logged_in(the_auditor).get(f"/audit/sessions/{session.public_id}/").content.decode()
    access = body.split("Who looked at this record")[1].split("Timeline")[0]
    assert session.physician.get_username() in access
