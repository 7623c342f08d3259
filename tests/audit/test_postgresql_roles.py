"""The two-role PostgreSQL deployment: the application role cannot rewrite history."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from consent.audit import triggers
from consent.models import AuditEvent
from tests.factories import addendum_added, consent_session

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="roles are PostgreSQL's"),
]

APP_ROLE = "consent_app_test"


@pytest.fixture
def app_role():
    # Roles belong to the whole cluster: another test worker may have made it already.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE])
        exists = cursor.fetchone()
    if not exists:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")
        except DatabaseError:
            pass
    call_command("grant_app_role", APP_ROLE)
    return APP_ROLE


def as_app_role(statement: str, params: list | None = None) -> bool:
    """Run one statement as the application role; True when the database refuses it."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {APP_ROLE}")
            cursor.execute(statement, params)
    except DatabaseError:
        return True
    return False


def test_app_role_cannot_update_delete_or_truncate_history(app_role):
    consent_session()
    assert AuditEvent.objects.exists()
    for table in triggers.APPEND_ONLY_TABLES:
        assert as_app_role(f"UPDATE {table} SET id = id"), table  # noqa: S608
        assert as_app_role(f"DELETE FROM {table}"), table  # noqa: S608
        assert as_app_role(f"TRUNCATE {table}"), table


def test_app_role_cannot_drop_the_triggers_that_guard_history(app_role):
    for statement in triggers.drop_sql("postgresql"):
        assert as_app_role(statement), statement


def test_app_role_can_still_do_its_work(app_role):
    session = consent_session()
    assert not as_app_role(
        "UPDATE consent_consentsession SET current_section = 2 WHERE id = %s", [session.pk]
    )
    assert not as_app_role("SELECT count(*) FROM consent_auditevent")


def test_the_whole_flow_runs_as_the_app_role(app_role):
    # Everything below, from creating the session to the addendum, the patient's sign-out and
    # a staff sign-in, runs with the application role's rights only.
    from consent.services import sessions as session_services
    from tests import factories

    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {APP_ROLE}")
    try:
        record = factories.finalized_record(read_through=True)
        addendum_added(record=record, kind="correction", text="A note.", author=record.finalized_by)
        other = factories.consent_session(doctor=record.finalized_by, patient_name="Other")
        factories.issue_link(other)
        session_services.session_cancel(
            session=other, cancelled_by=record.finalized_by, reason="Moved away"
        )
        client = factories.logged_in(record.finalized_by)
        assert client.get("/staff/").status_code in (200, 302)
        client.logout()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert record.addenda.count() == 1


def test_log_in_throttling_second_factor_and_tasks_run_as_the_app_role(
    app_role, settings, fake_pdf_renderer
):
    # Wrong passwords and a lock-out (django-axes updates and deletes its attempts), a
    # second-factor code (django-otp updates the device), a recovery code (used up: deleted),
    # enrolment, and a finalization's background task (django-tasks claims, finishes and
    # prunes it), with the application role's rights only.
    from django.test import Client
    from django_tasks_db.models import DBTaskResult

    from consent.models import ConsentRecord
    from tests import factories
    from tests.views.test_auth import CODE, enrol, log_in

    settings.TASKS = factories.DATABASE_TASKS
    doctor = factories.physician()
    session = factories.decided_session(read_through=True, drawn=False, doctor=doctor)
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {APP_ROLE}")
    try:
        client = Client()
        for _ in range(settings.AXES_FAILURE_LIMIT):
            log_in(client, doctor, password="wrong")
        assert log_in(client, doctor).status_code == 429
        call_command("axes_reset_username", doctor.get_username())
        codes = enrol(doctor)
        log_in(client, doctor)
        assert client.post(CODE, {"code": codes[0]})["Location"] == "/staff/"
        other = Client()
        log_in(other, doctor)
        assert other.post(CODE, {"code": codes[1]})["Location"] == "/staff/"

        response = other.post(
            f"/staff/sessions/{session.public_id}/finalize/",
            {"finalize-password": factories.PASSWORD},
        )
        assert response["Location"].endswith("/finalizing/")
        assert factories.tasks_run("app-role-worker") == 1
        call_command("prune_db_task_results", min_age_days=0, verbosity=0)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert ConsentRecord.objects.filter(session=session).exists()
    assert not DBTaskResult.objects.exists()


def test_the_authoring_workbench_runs_as_the_app_role(app_role):
    # Upload a pack, preview it and publish it (the draft is marked published: an UPDATE),
    # with the application role's rights only.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from consent.models import PackDraft, ProcedureVersion
    from tests import factories
    from tests.workbench import NEW_VERSION, changed_pack, content_editor

    editor = content_editor()
    client = factories.logged_in(editor)
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {APP_ROLE}")
    try:
        pack = SimpleUploadedFile("mitraclip.en.toml", changed_pack().encode())
        files = {"file": pack}
        assert client.post("/authoring/", files).status_code == 302
        draft = PackDraft.objects.get()
        assert client.get(f"/authoring/drafts/{draft.pk}/preview/en/").status_code == 200
        published = client.post(
            f"/authoring/drafts/{draft.pk}/publish/",
            {"publish_key": str(draft.publish_key), "unreviewed": "on"},
        )
        assert published.status_code == 302
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    draft.refresh_from_db()
    assert draft.status == PackDraft.Status.PUBLISHED
    assert ProcedureVersion.objects.filter(version=NEW_VERSION).exists()
