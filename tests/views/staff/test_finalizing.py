"""Finalization the physician can watch (issue 13, item 6): the request checks and enqueues, a
background task draws and seals, a self-refreshing page says so and lands on the finalized
record, or on the reason nothing was finalized. These tests run django-tasks' database backend,
as a deployment does, and play the worker's part (`tasks_run()`) between requests."""

import json

import pytest
from django.test import Client
from django.utils.html import escape
from django_tasks_db.models import DBTaskResult

from consent.lifecycle import Status
from consent.models import ConsentRecord, Discussion, Signature
from consent.services import signatures as signature_services
from consent.views.staff.finalizing import OUTCOME_MESSAGES
from tests.factories import (
    DATABASE_TASKS,
    PASSWORD,
    auditor,
    decided_session,
    logged_in,
    physician,
    tasks_run,
)

pytestmark = pytest.mark.django_db

WAITING = "The record is waiting to be drawn and sealed."


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = DATABASE_TASKS


def url(session, suffix: str) -> str:
    return f"/staff/sessions/{session.public_id}/{suffix}"


def finalize(client: Client, session, password: str = PASSWORD):
    return client.post(url(session, "finalize/"), {"finalize-password": password})


def test_the_page_says_the_record_is_being_sealed_then_lands_on_the_finalized_record(
    database_tasks, fake_pdf_renderer
):
    session = decided_session(read_through=True, drawn=False)
    client = logged_in(session.physician)
    response = finalize(client, session)
    assert response.status_code == 302
    assert response["Location"] == url(session, "finalizing/")
    # Nothing is finalized yet: the request only checked and enqueued.
    session.refresh_from_db()
    assert session.status == Status.SIGNED
    assert not ConsentRecord.objects.filter(session=session).exists()
    waiting = client.get(url(session, "finalizing/"))
    assert waiting.status_code == 200
    body = waiting.content.decode()
    assert WAITING in body
    # No timed <meta> refresh (WCAG 2.2.1): a script asks for JSON, a button asks again.
    assert 'http-equiv="refresh"' not in body
    assert 'data-finalizing-poll="2000"' in body
    assert "consent/finalizing.js" in body
    assert "Check again" in body
    polled = client.get(url(session, "finalizing/"), headers={"Accept": "application/json"})
    assert polled.json() == {"next": None, "started": False, "stalled": False}
    assert 'role="status"' in body
    assert "no-store" in waiting["Cache-Control"]
    # The page shows no patient data.
    assert "Jeanne Testpatient" not in body

    assert tasks_run() == 1
    polled = client.get(url(session, "finalizing/"), headers={"Accept": "application/json"})
    assert polled.json()["next"] == url(session, "review/#record")
    record = ConsentRecord.objects.get(session=session)
    review = client.get(url(session, "review/")).content.decode()
    assert f"The record {record.record_id} is finalized." in review
    # The page is done with: it now sends the physician to the finalized record again.
    assert client.get(url(session, "finalizing/"))["Location"] == url(session, "review/#record")


def test_a_replayed_finalize_post_makes_exactly_one_record(database_tasks, fake_pdf_renderer):
    session = decided_session(read_through=True, drawn=False)
    client = logged_in(session.physician)
    assert finalize(client, session).status_code == 302
    assert finalize(client, session).status_code == 302
    assert DBTaskResult.objects.count() == 2
    assert tasks_run() == 2
    assert ConsentRecord.objects.filter(session=session).count() == 1
    assert (
        Signature.objects.filter(session=session, kind=Signature.Kind.COUNTERSIGNATURE).count() == 1
    )
    assert client.get(url(session, "finalizing/"))["Location"] == url(session, "review/#record")
    outcomes = sorted(row.return_value["outcome"] for row in DBTaskResult.objects.all())
    assert outcomes == ["already_done", "done"]


def test_a_failed_render_finalizes_nothing_and_says_so(database_tasks, monkeypatch):
    def broken(data, record_id):
        raise ValueError(f"cannot draw {data!r}"[:300])

    monkeypatch.setattr("consent.record.pdf.record_pdf_render", broken)
    session = decided_session(read_through=True, drawn=False)
    client = logged_in(session.physician)
    assert finalize(client, session)["Location"] == url(session, "finalizing/")
    assert tasks_run() == 1
    ended = client.get(url(session, "finalizing/"), follow=True)
    assert ended.redirect_chain[-1][0] == url(session, "review/#finalize")
    assert escape(str(signature_services.ERROR_RECORD_NOT_MADE)) in ended.content.decode()
    session.refresh_from_db()
    assert session.status == Status.SIGNED
    assert not ConsentRecord.objects.filter(session=session).exists()
    assert not Signature.objects.filter(
        session=session, kind=Signature.Kind.COUNTERSIGNATURE
    ).exists()
    # The task's row holds ids and an outcome code: no name, no exception text, no traceback.
    row = DBTaskResult.objects.get()
    stored = json.dumps(
        [row.args_kwargs, row.return_value, row.traceback, row.exception_class_path]
    )
    assert "Testpatient" not in stored
    assert "cannot draw" not in stored
    assert row.return_value == {"outcome": "not_made", "record_id": None}

    # Trying again works once the renderer is back.
    monkeypatch.undo()
    from tests.factories import fake_pdf_render

    monkeypatch.setattr("consent.record.pdf.record_pdf_render", fake_pdf_render)
    assert finalize(client, session)["Location"] == url(session, "finalizing/")
    assert tasks_run() == 1
    assert client.get(url(session, "finalizing/"))["Location"] == url(session, "review/#record")
    assert ConsentRecord.objects.filter(session=session).count() == 1


def test_a_session_changed_under_the_task_is_not_finalized(database_tasks, fake_pdf_renderer):
    session = decided_session(read_through=True, drawn=False)
    client = logged_in(session.physician)
    assert finalize(client, session).status_code == 302
    # The discussion is rewritten behind the app's back before the worker draws: the
    # signatures no longer vouch for the evidence.
    Discussion.objects.filter(session=session).update(alternatives_notes="Never discussed.")
    assert tasks_run() == 1
    ended = client.get(url(session, "finalizing/"), follow=True)
    assert escape(str(OUTCOME_MESSAGES["evidence_changed"])) in ended.content.decode()
    assert not ConsentRecord.objects.filter(session=session).exists()


def test_a_wrong_password_enqueues_nothing(database_tasks, fake_pdf_renderer):
    session = decided_session(read_through=True, drawn=False)
    client = logged_in(session.physician)
    response = finalize(client, session, password="nope")
    assert response["Location"] == url(session, "review/#finalize")
    assert not DBTaskResult.objects.exists()
    assert client.get(url(session, "finalizing/"))["Location"] == url(session, "review/#finalize")


def test_a_stopped_worker_is_reported_after_the_wait_limit(
    database_tasks, fake_pdf_renderer, settings
):
    session = decided_session(read_through=True, drawn=False)
    client = logged_in(session.physician)
    finalize(client, session)
    body = client.get(url(session, "finalizing/")).content.decode()
    assert 'id="finalizing-stalled" hidden' in body
    settings.FINALIZE_WAIT_LIMIT_SECONDS = 0
    body = client.get(url(session, "finalizing/")).content.decode()
    assert "The record's background worker may be stopped: tell IT support." in body
    assert 'id="finalizing-stalled" hidden' not in body
    assert WAITING in body
    polled = client.get(url(session, "finalizing/"), headers={"Accept": "application/json"})
    assert polled.json()["stalled"] is True
    session.refresh_from_db()
    assert session.status == Status.SIGNED


def test_the_waiting_page_by_role(database_tasks, fake_pdf_renderer):
    session = decided_session(read_through=True, drawn=False)
    doctor = logged_in(session.physician)
    finalize(doctor, session)
    path = url(session, "finalizing/")
    # Not logged in: the log-in page. A patient's browser is not logged in as staff.
    assert Client().get(path)["Location"].startswith("/accounts/login/")
    # Another physician: no such session.
    assert logged_in(physician(username="dr.other")).get(path).status_code == 404
    # An auditor may see the session, has no finalization of their own waiting: the review page.
    response = logged_in(auditor()).get(path)
    assert response.status_code == 302
    assert response["Location"] == url(session, "review/#finalize")
    # The task id is kept in the physician's own server-side session, that browser's only:
    # the same physician in another browser is sent to the review page.
    assert doctor.get(path).status_code == 200
    assert logged_in(session.physician).get(path)["Location"] == url(session, "review/#finalize")
    # Only GET.
    assert doctor.post(path).status_code == 405
