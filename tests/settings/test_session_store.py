"""The session store (consent.session_store) keeps Django's rules while reading by plain SQL:
a live session is read, an expired or unknown one is not, and a forged key starts afresh."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from consent.session_store import SessionStore
from tests.factories import logged_in, physician

pytestmark = pytest.mark.django_db


def test_the_site_uses_this_store():
    assert settings.SESSION_ENGINE == "consent.session_store"


def test_a_stored_session_is_read_back():
    store = SessionStore()
    store["note"] = "kept"
    store.save()

    again = SessionStore(session_key=store.session_key)

    assert again["note"] == "kept"
    assert again.session_key == store.session_key


def test_an_expired_session_is_not_read_and_its_key_is_forgotten():
    store = SessionStore()
    store["note"] = "old"
    store.save()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    again = SessionStore(session_key=store.session_key)

    assert "note" not in again
    assert again.session_key is None


def test_an_unknown_key_reads_empty_and_saving_makes_a_new_key():
    forged = "x" * 32
    store = SessionStore(session_key=forged)
    assert dict(store.items()) == {}
    store["note"] = "new"
    store.save()
    assert store.session_key != forged
    assert not Session.objects.filter(session_key=forged).exists()


def test_a_staff_log_in_lasts_across_requests_and_ends_when_its_row_expires():
    doctor = physician()
    client = logged_in(doctor)
    assert client.get("/staff/").status_code == 200

    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))

    answer = client.get("/staff/")
    assert answer.status_code == 302
    assert "/accounts/login/" in answer["Location"]
