"""Fuzzing the auditor's workspace through the test client: the records filter (then the list
and the CSV export with the filters it kept), the log verification, the analytics' version,
the FHIR and CSV exports' query strings, and an uploaded PDF to verify. No input gets a server
error, and no input leaves the auditor's session stuck on one."""

import os

import pytest
from hypothesis import strategies as st

from consent.models import ConsentSession
from consent.roles import PHYSICIAN
from tests.factories import auditor, finalized_record
from tests.fuzz.harness import NASTY, SHORT, TEXT, form_data, fuzz
from tests.fuzz.strategies import BOOLEAN_TEXT, INTEGER_TEXT, staff, values

pytestmark = pytest.mark.django_db

DATE = st.one_of(
    st.dates().map(str),
    st.sampled_from(["9999-12-31", "0001-01-01", "2026-02-30", "10000-01-01", "2026-1-1"]),
    SHORT,
)
QUERY = st.dictionaries(
    st.one_of(st.sampled_from(["page", "format", "version", "sort", "q", "_format"]), SHORT),
    values(st.one_of(INTEGER_TEXT, NASTY)),
    max_size=4,
)


@pytest.fixture
def workspace():
    """An auditor and one finalized record (its PDF a stand-in unless a test asks)."""
    record = finalized_record()
    return staff(auditor()), record


def _consumed(response):
    """Read a streamed answer (the CSV) to the end: an error in a row surfaces here."""
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response


def test_records_filter(workspace, record_property):
    client, record = workspace
    session = record.session
    strategy = form_data(
        {
            "q": st.one_of(st.sampled_from([record.record_id, session.patient_name]), TEXT),
            "date_from": DATE,
            "date_to": DATE,
            "version": st.one_of(st.just(str(session.procedure_version_id)), INTEGER_TEXT),
            "physician": st.one_of(st.just(str(session.physician_id)), INTEGER_TEXT),
            "status": st.one_of(st.sampled_from(ConsentSession.Status.values), SHORT),
            "decision": st.one_of(st.sampled_from(["consented", "declined"]), SHORT),
            "flagged": BOOLEAN_TEXT,
            "sort": st.one_of(st.sampled_from(["newest", "oldest", "patient"]), SHORT),
            "clear": st.just("1"),
        }
    )

    def send(client, data):
        """Post the filters; then the list and the CSV read them back from the session."""
        posted = client.post("/audit/", data)
        if posted.status_code >= 500 or posted.status_code != 302:
            return posted
        for url in ("/audit/records.csv", "/audit/?page=2", "/audit/"):
            shown = _consumed(client.get(url))
            if shown.status_code >= 400:
                return shown
        return shown

    fuzz(
        name="auditor: records filter",
        client=client,
        strategy=strategy,
        send=send,
        record_property=record_property,
        may_add=(),
    )


def test_exports_query_strings(workspace, record_property):
    client, record = workspace
    base = f"/audit/sessions/{record.session.public_id}"
    strategy = st.tuples(
        st.sampled_from([f"{base}/fhir.json", "/audit/records.csv", "/audit/"]), QUERY
    )

    def send(client, value):
        url, query = value
        return _consumed(client.get(url, query))

    fuzz(
        name="auditor: FHIR/CSV export query",
        client=client,
        strategy=strategy,
        send=send,
        record_property=record_property,
        may_add=(),
    )


def test_log_and_analytics(workspace, record_property):
    client, _record = workspace
    strategy = st.tuples(
        st.sampled_from(["GET /audit/analytics/", "GET /audit/log/", "POST /audit/log/"]),
        st.dictionaries(
            st.one_of(st.sampled_from(["version", "page", "from", "to"]), SHORT),
            st.one_of(INTEGER_TEXT, NASTY, st.just("1")),
            max_size=3,
        ),
    )

    def send(client, value):
        where, data = value
        method, url = where.split()
        return client.post(url, data) if method == "POST" else client.get(url, data)

    fuzz(
        name="auditor: log verify and analytics",
        client=client,
        strategy=strategy,
        send=send,
        record_property=record_property,
        may_add=(),
    )


def test_verify_upload(record_property):
    """Uploaded bytes: the sealed PDF, cut, altered, extended, or anything at all."""
    record = finalized_record(real_pdf=True)
    pdf = record.pdf.open("rb").read()
    record.pdf.close()
    upload = st.one_of(
        st.just(pdf),
        st.integers(0, len(pdf)).map(lambda n: pdf[:n]),
        st.tuples(st.integers(0, len(pdf) - 1), st.integers(0, 255)).map(
            lambda t: pdf[: t[0]] + bytes([t[1]]) + pdf[t[0] + 1 :]
        ),
        st.binary(max_size=200).map(lambda tail: pdf + tail),
        st.binary(max_size=200).map(lambda head: b"%PDF-1.7\n" + head),
        st.binary(max_size=200),
    )
    # Any file name the test client can send (it refuses one whose last part is empty or dots).
    names = st.one_of(st.just("record.pdf"), SHORT).filter(
        lambda name: os.path.basename(name) not in ("", ".", "..")
    )
    strategy = st.tuples(upload, names, st.booleans())

    def send(client, value):
        from django.core.files.uploadedfile import SimpleUploadedFile

        data, name, as_file = value
        if not as_file:
            return client.post("/staff/verify/", {"file": data.decode("latin-1")})
        file = SimpleUploadedFile(name, data, content_type="application/pdf")
        return client.post("/staff/verify/", {"file": file})

    user = record.session.physician
    assert user.groups.filter(name=PHYSICIAN).exists()
    fuzz(
        name="staff/auditor: verify upload (PDF bytes)",
        client=staff(auditor(username="auditor.verify")),
        strategy=strategy,
        send=send,
        record_property=record_property,
        may_add=(),
    )
