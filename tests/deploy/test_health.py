"""GET /healthz for the load balancer: database and storage reachable, or 503 naming what is
not; no log-in, no cookie, no audit event, nothing about any patient."""

import json

import pytest
from django.db import OperationalError
from django.test import Client

from consent.models import AuditEvent
from consent.objectstore import s3_storages
from tests.factories import finalized_record, logged_in, physician

pytestmark = pytest.mark.django_db

OK = {"database": "ok", "storage": "ok"}


def health(client: Client | None = None, **extra):
    return (client or Client()).get("/healthz", **extra)


def test_a_healthy_server_says_ok_without_a_log_in_a_cookie_or_an_audit_event():
    finalized_record()
    events = AuditEvent.objects.count()
    response = health()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == OK
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies  # no session made for a probe
    assert AuditEvent.objects.count() == events  # not an access to health data


def test_a_logged_in_staff_member_gets_the_same_answer_and_no_access_event():
    client = logged_in(physician())
    events = AuditEvent.objects.count()
    assert json.loads(health(client).content) == OK
    assert AuditEvent.objects.count() == events


def test_the_answer_names_nothing_of_any_patient():
    record = finalized_record()
    body = health().content.decode()
    session = record.session
    for secret in (session.patient_name, session.patient_record_number, record.record_id):
        assert secret not in body


def test_an_unreachable_object_store_is_named_with_503(object_store, settings):
    object_store.use(settings)
    assert json.loads(health().content) == OK
    object_store.client.delete_bucket(Bucket=object_store.checkpoint_bucket)
    response = health()
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["database"] == "ok"
    assert body["storage"] == "error: checkpoints storage unreachable (NoSuchBucket)"
    assert body["failed"] == ["storage"]
    assert object_store.checkpoint_bucket not in response.content.decode()


def test_a_store_that_refuses_connections_is_named(settings, object_store):
    nobody_there = {**object_store.environ, "CONSENT_S3_ENDPOINT_URL": "http://127.0.0.1:9"}
    settings.STORAGES = {**settings.STORAGES, **s3_storages(nobody_there)}
    response = health()
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["storage"] == "error: records storage unreachable (EndpointConnectionError)"


def test_an_unreachable_database_is_named_with_503(monkeypatch):
    from consent.views import health as health_view

    def refused() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(health_view, "_database", refused)
    response = health()
    assert response.status_code == 503
    assert json.loads(response.content) == {
        "database": "error: database unreachable (OperationalError)",
        "storage": "ok",
        "failed": ["database"],
    }


def test_a_probe_in_plain_http_is_answered_where_https_is_enforced(settings):
    settings.SECURE_SSL_REDIRECT = True
    assert health().status_code == 200
    assert Client().get("/accounts/login/").status_code == 301  # the rest is redirected


def test_only_get_and_head():
    assert Client().head("/healthz").status_code == 200
    assert Client().post("/healthz").status_code == 405
