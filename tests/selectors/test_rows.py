"""The link and session read by SQL written once (consent.selectors.rows) are the ORM's own:
every field, value and type the same, on SQLite and PostgreSQL alike, in one query."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.models import ConsentSession, PatientLink
from consent.selectors.journey import patient_link_session
from consent.selectors.rows import row_with_parent
from tests.factories import consent_session, issue_link, patient_client

pytestmark = pytest.mark.django_db


def fields_of(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def assert_same(read, expected) -> None:
    assert type(read) is type(expected)
    for name, value in fields_of(expected).items():
        got = getattr(read, name)
        assert got == value, name
        assert type(got) is type(value), name


def test_a_link_with_its_session_reads_as_the_orm_reads_it():
    session = consent_session()
    issue_link(session)
    link = PatientLink.objects.get(session=session)
    # Values of every kind the rows hold: a time set and one empty, a number, text, a flag.
    PatientLink.objects.filter(pk=link.pk).update(
        revoked_at=timezone.now() - timedelta(minutes=3), failed_birth_date_tries=2
    )
    ConsentSession.objects.filter(pk=session.pk).update(
        sections_done=True, current_section=3, cancel_reason="Zoë — ½ dose"
    )

    read = row_with_parent(PatientLink, "session", link.pk)

    expected = PatientLink.objects.select_related("session").get(pk=link.pk)
    assert_same(read, expected)
    assert_same(read.session, expected.session)
    assert read.session.sections_done is True
    assert timezone.is_aware(read.revoked_at)
    assert read.locked_at is None


def test_the_session_comes_cached_on_the_link_in_one_query():
    session = consent_session()
    issue_link(session)
    link = PatientLink.objects.get(session=session)
    patient_link_session(link_id=link.pk)  # the version's content, cached per process

    with CaptureQueriesContext(connection) as queries:
        read = patient_link_session(link_id=link.pk)
        assert read is not None
        assert read.session.patient_name == session.patient_name
        assert read.session.procedure_version.slug == "mitraclip"

    assert len(queries) == 1


def test_an_unknown_link_reads_as_none():
    assert row_with_parent(PatientLink, "session", 987654) is None
    assert patient_link_session(link_id=987654) is None


def test_the_patient_pages_still_find_their_session():
    session = consent_session()
    client = patient_client(session)

    page = client.get("/patient/section/1/")

    assert page.status_code == 200
    assert page.context["session"].pk == session.pk
