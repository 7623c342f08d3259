"""Finalization draws and seals the record before it takes any lock (issue 12, item 8).

The record's PDF takes seconds to draw for a large session. It is drawn from a plain read;
only then, under the session's lock, is the data read again: if it still gives exactly the
record drawn, the countersignature, its events and the record are stored in one short
transaction, the only one holding the audit chain's lock. Writers elsewhere (staff pages,
patient actions) no longer wait for the drawing, on PostgreSQL (advisory lock) or SQLite (one
writer at a time): here a writer gives up after BUSY_SECONDS, less than the drawing takes.
"""

import copy
import sqlite3
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from consent.audit.chain import RECORD_FINALIZED, chain_verify, content_verify, json_chain_head
from consent.audit.events import audit_record, staff_access_record
from consent.models import (
    AuditEvent,
    ConsentRecord,
    ConsentSession,
    Discussion,
    Signature,
)
from consent.record.canonical import record_json_of
from consent.selectors.session import record_data_get
from consent.services import ServiceError
from consent.services import journey as journey_services
from consent.services import links as link_services
from consent.services import signatures as signature_services
from consent.services.links import patient_link_issue
from tests.factories import (
    BIRTH_DATE,
    FAKE_PDF,
    ORIGIN,
    PASSWORD,
    consent_session,
    decided_session,
)

RENDER_SECONDS = 4.0  # the stand-in drawing: a large record takes this long and more
BUSY_SECONDS = 3.0  # a writer waiting longer than this fails (SQLite timeout, lock_timeout)
EXTRA_EVENTS = 400  # a large record: the audit trail printed in it
PHYSICIAN = AuditEvent.Role.PHYSICIAN


# Threads with their own connections, on both databases


@contextmanager
def threads_share_the_database(tmp_path: Path) -> Iterator[None]:
    """Let threads open their own connections to what this thread has written so far.

    PostgreSQL: the test database as it is (committed data), each connection with a
    `lock_timeout` of BUSY_SECONDS. SQLite: the test database lives in memory, where
    connections share one cache and its table locks fail at once; threads get a file copy of
    it instead, with a busy timeout of BUSY_SECONDS, the production setting (IMMEDIATE) kept.
    This thread must not touch the database until the block ends: check through `in_thread`.
    """
    original = connections.settings[DEFAULT_DB_ALIAS]
    shared = copy.deepcopy(original)
    options = shared.setdefault("OPTIONS", {})
    if connection.vendor == "sqlite":
        path = tmp_path / "shared.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        shared["NAME"] = str(path)
        options["timeout"] = BUSY_SECONDS
    else:
        options["options"] = f"-c lock_timeout={int(BUSY_SECONDS * 1000)}"
    connections.settings[DEFAULT_DB_ALIAS] = shared
    try:
        yield
    finally:
        connections.settings[DEFAULT_DB_ALIAS] = original


def in_thread(function: Callable[[], Any]) -> Any:
    """Run `function` in a thread of its own (its own connection) and return its result."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = function()
        except BaseException as error:  # handed back to the caller
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def large_session() -> ConsentSession:
    """A decided session whose record is large: EXTRA_EVENTS more events in its audit trail."""
    session = decided_session()
    with transaction.atomic():
        for _ in range(EXTRA_EVENTS):
            audit_record(
                action="session.viewed",
                role=PHYSICIAN,
                actor=session.physician,
                origin=ORIGIN,
                obj=session,
                session=session,
            )
    return session


def reading_session(doctor, patient_name: str) -> ConsentSession:
    """Another patient, identified and reading: each page they leave is an audited write."""
    session = consent_session(doctor=doctor, patient_name=patient_name)
    link, _token = patient_link_issue(session=session, issued_by=doctor)
    link_services.patient_identity_confirm(link=link, birth_date=BIRTH_DATE, origin=ORIGIN)
    session.refresh_from_db()
    return session


class Writers:
    """Threads writing audit events for other sessions in a loop, each write timed."""

    def __init__(self, doctor, patient: ConsentSession, other: ConsentSession) -> None:
        section = patient.procedure_version.sections.order_by("position").first()
        assert section is not None
        self.writes: list[tuple[str, float, float]] = []  # kind, started, ended
        self.failures: list[str] = []
        self.stop = threading.Event()
        jobs = {
            "staff page view": lambda: staff_access_record(
                user=doctor, origin=ORIGIN, action="session.viewed", obj=other, session=other
            ),
            "patient page left": lambda: journey_services.section_leave(
                session=patient,
                section=section,
                seconds=3,
                go_to=2,
                finished_reading=False,
                origin=ORIGIN,
            ),
        }
        self.threads = [
            threading.Thread(target=self._loop, args=(kind, job)) for kind, job in jobs.items()
        ]

    def _loop(self, kind: str, job: Callable[[], Any]) -> None:
        try:
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    job()
                except Exception as error:  # a lost write: the test fails on it
                    self.failures.append(f"{kind}: {type(error).__name__}: {error}")
                self.writes.append((kind, started, time.perf_counter()))
                time.sleep(0.05)
        finally:
            connection.close()

    def __enter__(self) -> "Writers":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


@pytest.mark.django_db(transaction=True)
def test_a_large_record_drawn_while_others_write_holds_no_writer_up(tmp_path):
    session = large_session()
    doctor = session.physician
    patient = reading_session(doctor, "Marie Curieuse")
    other = decided_session(patient_name="Paul Autre", doctor=doctor)
    drawing: dict[str, float] = {}
    drawn: list[Any] = []

    def slow_render(data, record_id: str) -> bytes:
        drawing["started"] = time.perf_counter()
        drawn.append(data)
        time.sleep(RENDER_SECONDS)  # stands in for WeasyPrint and the seal
        drawing["ended"] = time.perf_counter()
        return FAKE_PDF

    with threads_share_the_database(tmp_path), Writers(doctor, patient, other) as writers:
        time.sleep(0.3)  # the writers are under way
        record = in_thread(
            lambda: signature_services.session_finalize(
                session=ConsentSession.objects.get(pk=session.pk),
                physician=doctor,
                password=PASSWORD,
                origin=ORIGIN,
                render_pdf=slow_render,
            )
        )
        time.sleep(0.3)  # and go on after it
        writers.__exit__()
        assert writers.failures == []
        during = [
            (kind, ended - started)
            for kind, started, ended in writers.writes
            if drawing["started"] < ended < drawing["ended"]
        ]
        # Both kinds of write went through while the record was being drawn.
        assert {kind for kind, _wait in during} == {"staff page view", "patient page left"}
        waits = [ended - started for _kind, started, ended in writers.writes]
        print(  # the figures; scripts/bench_finalize.py measures them properly
            f"\n{connection.vendor}: {len(waits)} writes, {len(during)} during the "
            f"{RENDER_SECONDS} s drawing; wait median {statistics.median(waits) * 1000:.1f} ms, "
            f"max {max(waits) * 1000:.1f} ms"
        )
        assert len(drawn) == 1 and len(drawn[0].audit_events) > EXTRA_EVENTS

        def check() -> None:
            stored = ConsentRecord.objects.get(pk=record.pk)
            assert stored.session.status == ConsentSession.Status.FINALIZED
            head_seq, head_hash = json_chain_head(stored.record_json)
            countersigned = AuditEvent.objects.get(
                session=session, action="signature.countersignature"
            )
            finalized = AuditEvent.objects.get(session=session, action="session.finalized")
            pinned = AuditEvent.objects.get(action=RECORD_FINALIZED, object_id=str(stored.pk))
            # The record prints the head it was drawn at: before its own finalization events;
            # other sessions' events were written between them, while it was drawn.
            assert head_seq < countersigned.seq < finalized.seq < pinned.seq
            assert AuditEvent.objects.get(seq=head_seq).hash == head_hash
            assert (
                AuditEvent.objects.filter(seq__gt=head_seq, seq__lt=countersigned.seq)
                .exclude(session=session)
                .exists()
            )
            assert pinned.payload["chain_head_seq"] == head_seq
            report = chain_verify()
            assert report.intact, report.reason
            assert [f.message for f in content_verify() if f.problem] == []

        in_thread(check)


@pytest.mark.django_db(transaction=True)
def test_two_browsers_finalizing_at_once_yield_one_record_on_either_database(tmp_path, settings):
    session = decided_session()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def render(data, record_id: str) -> bytes:
        time.sleep(0.3)  # both are drawing at once
        return FAKE_PDF

    def finalize() -> None:
        barrier.wait()
        try:
            in_thread(
                lambda: signature_services.session_finalize(
                    session=ConsentSession.objects.get(pk=session.pk),
                    physician=session.physician,
                    password=PASSWORD,
                    render_pdf=render,
                )
            )
            outcomes.append("finalized")
        except ServiceError as error:
            outcomes.append(str(error))

    with threads_share_the_database(tmp_path):
        browsers = [threading.Thread(target=finalize) for _ in range(2)]
        for browser in browsers:
            browser.start()
        for browser in browsers:
            browser.join()
        assert sorted(outcomes, key=len) == [
            "finalized",
            "This step is not possible now: the consent session is finalized.",
        ]

        def check() -> None:
            assert ConsentRecord.objects.count() == 1
            assert Signature.objects.filter(kind="countersignature").count() == 1
            assert AuditEvent.objects.filter(action="session.finalized").count() == 1
            record = ConsentRecord.objects.get()
            files = sorted(p.name for p in (settings.MEDIA_ROOT / "records").rglob("*.pdf"))
            assert files == [Path(record.pdf.name).name]  # the loser left no file behind

        in_thread(check)


# What happens when the session changes while its record is drawn (one thread, any database)


def finalize_with(session: ConsentSession, render) -> ConsentRecord:
    return signature_services.session_finalize(
        session=session, physician=session.physician, password=PASSWORD, render_pdf=render
    )


def nothing_finalized(session: ConsentSession, settings) -> None:
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.SIGNED
    assert not ConsentRecord.objects.filter(session=session).exists()
    assert not session.signatures.filter(kind=Signature.Kind.COUNTERSIGNATURE).exists()
    assert not AuditEvent.objects.filter(
        session=session, action__in=["session.finalized", "signature.countersignature"]
    ).exists()
    media = settings.MEDIA_ROOT / "records"
    assert not media.exists() or not any(media.rglob("*.pdf"))


@pytest.mark.django_db
def test_a_witness_signing_while_the_record_is_drawn_gets_into_it():
    session = decided_session()
    drawn = []

    def render(data, record_id: str) -> bytes:
        drawn.append([signature.kind for signature in data.signatures])
        if len(drawn) == 1:
            signature_services.companion_sign(
                session=session, kind=Signature.Kind.WITNESS, typed_name="Wanda Witness", image=None
            )
        return FAKE_PDF

    record = finalize_with(session, render)
    assert len(drawn) == 2
    assert "witness" not in drawn[0] and "witness" in drawn[1]
    assert '"printed_name":"Wanda Witness"' in record.record_json
    assert drawn[1][-1] == "countersignature"


@pytest.mark.django_db
def test_a_session_that_keeps_changing_while_drawn_is_not_finalized(settings):
    session = decided_session()
    calls = []

    def render(data, record_id: str) -> bytes:
        calls.append(record_id)
        # Each drawing, staff make a new link (printed in the record, not in the evidence).
        patient_link_issue(
            session=session, issued_by=session.physician, reason="The patient lost the link."
        )
        return FAKE_PDF

    with pytest.raises(ServiceError, match="kept changing while its record was being made"):
        finalize_with(session, render)
    assert len(calls) == signature_services.FINALIZE_DRAWS
    nothing_finalized(session, settings)


@pytest.mark.django_db
def test_evidence_rewritten_while_the_record_is_drawn_is_refused(settings):
    session = decided_session()

    def render(data, record_id: str) -> bytes:
        Discussion.objects.filter(session=session).update(alternatives_notes="Never discussed.")
        return FAKE_PDF

    with pytest.raises(ServiceError, match="signature no longer holds"):
        finalize_with(session, render)
    nothing_finalized(session, settings)


@pytest.mark.django_db
def test_the_record_prints_the_head_it_was_drawn_at_and_verifies():
    session = decided_session()
    heads = []

    def render(data, record_id: str) -> bytes:
        heads.append((data.audit_chain_head_seq, data.audit_chain_head_hash))
        return FAKE_PDF

    record = finalize_with(session, render)
    head_seq, head_hash = json_chain_head(record.record_json)
    assert heads == [(head_seq, head_hash)]
    countersigned = AuditEvent.objects.get(session=session, action="signature.countersignature")
    assert head_seq == countersigned.seq - 1  # nobody else wrote meanwhile
    assert AuditEvent.objects.get(seq=head_seq).hash == head_hash
    # The trail printed ends at that head; the countersignature is printed as a signature.
    printed = record_data_get(session=session)
    assert max(event.seq for event in printed.audit_events) <= head_seq
    assert printed.countersignature is not None
    # Read again once finalized, the session gives the stored record byte for byte.
    assert record_json_of(printed, record.record_id).decode("utf-8") == record.record_json
    assert chain_verify().intact
    assert [f.message for f in content_verify() if f.problem] == []
