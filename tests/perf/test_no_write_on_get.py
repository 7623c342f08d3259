"""Pages cost a fixed, small number of reads, and a GET writes nothing but what compliance
requires (a staff page's access audit event): counts are behaviour, not timing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import consent_session, logged_in, patient_client, read_all_sections

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


def captured(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return [q["sql"] for q in queries.captured_queries]


def writes(statements):
    return [sql for sql in statements if sql.lstrip().upper().startswith(WRITES)]


def test_patient_pages_write_nothing_and_read_in_three_queries_at_most():
    session = consent_session()
    patient = patient_client(session)
    read_all_sections(patient, session)
    risks = session.procedure_version.sections.get(kind="risks").position
    for path in ("/patient/section/1/", f"/patient/section/{risks}/", "/patient/question/1/"):
        patient.get(path)  # the content cache is filled by the first page of a process
        statements = captured(patient, path)
        assert writes(statements) == [], path
        assert len(statements) <= 3, (path, statements)


def test_a_section_page_reads_the_browser_session_and_the_link_only():
    session = consent_session()
    patient = patient_client(session)
    patient.get("/patient/section/2/")
    assert len(captured(patient, "/patient/section/2/")) == 2


def test_a_staff_list_writes_only_its_access_audit_event():
    doctor_session = consent_session()
    client = logged_in(doctor_session.physician)
    client.get("/staff/")
    inserted = writes(captured(client, "/staff/"))
    assert len(inserted) == 1
    assert inserted[0].lstrip().upper().startswith('INSERT INTO "CONSENT_AUDITEVENT"')


def test_the_dashboard_reads_the_same_queries_for_one_or_sixty_sessions():
    first = consent_session()
    client = logged_in(first.physician)
    client.get("/staff/")
    one = len(captured(client, "/staff/"))
    for number in range(59):
        consent_session(doctor=first.physician, patient_name=f"Patient {number:03d}")
    assert len(captured(client, "/staff/")) == one
