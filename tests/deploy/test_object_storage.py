"""Records, addenda and audit checkpoints in an S3-compatible object store (moto's server mode,
tests/deploy/conftest.py): stored there and nowhere else, read back byte for byte, verified;
an object deleted or rewritten behind the application's back is named plainly."""

import hashlib
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from consent.audit.checkpoint import (
    SEAL_SUFFIX,
    Verdict,
    checkpoint_names,
    checkpoint_read,
    checkpoint_storage,
    checkpoints_verify,
)
from consent.models import AuditEvent
from consent.objectstore import S3_BACKEND, s3_storages
from consent.record.verification import State, verify_record
from consent.record.verification import Verdict as RecordVerdict
from consent.services.signatures import session_finalize
from tests.factories import (
    PASSWORD,
    addendum_added,
    auditor,
    decided_session,
    fake_pdf_render,
    finalized_record,
    logged_in,
    patient_client,
)

pytestmark = pytest.mark.django_db

BUCKET = {"CONSENT_S3_BUCKET": "consent-records"}


def states(verification) -> dict[str, State]:
    return {check.key: check.state for check in verification.checks}


def local_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# What the environment says


def test_without_a_bucket_the_files_stay_in_local_folders():
    assert s3_storages({}) == {}
    assert s3_storages({"CONSENT_S3_BUCKET": " "}) == {}


def test_a_bucket_puts_records_and_checkpoints_on_s3_under_separate_prefixes():
    storages = s3_storages({**BUCKET, "CONSENT_S3_ENDPOINT_URL": "http://127.0.0.1:9000"})
    records, checkpoints = storages["default"], storages["checkpoints"]
    assert records["BACKEND"] == checkpoints["BACKEND"] == S3_BACKEND
    assert records["OPTIONS"]["bucket_name"] == checkpoints["OPTIONS"]["bucket_name"]
    assert records["OPTIONS"]["location"] == "media"
    assert checkpoints["OPTIONS"]["location"] == "audit-checkpoints"
    for options in (records["OPTIONS"], checkpoints["OPTIONS"]):
        assert options["file_overwrite"] is False  # nothing stored is ever replaced
        assert options["addressing_style"] == "path"  # an S3-compatible server of our own
        assert "access_key" not in options  # boto3's own credentials chain


@pytest.mark.parametrize(
    ("media", "checkpoints"),
    [("media", "media"), ("media", "media/checkpoints"), ("store", "store/"), ("", "anything")],
)
def test_checkpoints_inside_the_records_prefix_are_refused(media, checkpoints):
    environ = {
        **BUCKET,
        "CONSENT_S3_MEDIA_PREFIX": media,
        "CONSENT_S3_CHECKPOINT_PREFIX": checkpoints,
    }
    with pytest.raises(ImproperlyConfigured, match="apart from the records"):
        s3_storages(environ)
    # In a bucket of their own, any prefix will do.
    storages = s3_storages({**environ, "CONSENT_S3_CHECKPOINT_BUCKET": "consent-checkpoints"})
    assert storages["checkpoints"]["OPTIONS"]["bucket_name"] == "consent-checkpoints"


def test_half_a_key_pair_is_refused():
    with pytest.raises(ImproperlyConfigured, match="CONSENT_S3_SECRET_ACCESS_KEY"):
        s3_storages({**BUCKET, "CONSENT_S3_ACCESS_KEY_ID": "AKIA-only"})


# Against the object store


def test_a_record_is_stored_in_the_bucket_read_back_and_verified(object_store, settings):
    object_store.use(settings)
    record = finalized_record(real_pdf=True)

    (key,) = object_store.object_keys()
    assert key == f"media/{record.pdf.name}"
    assert key.startswith("media/records/") and key.endswith(f"{record.record_id}.pdf")
    stored = object_store.read(key)
    assert hashlib.sha256(stored).hexdigest() == record.pdf_sha256
    assert local_files(Path(settings.MEDIA_ROOT)) == []  # nothing on this server's disk

    verification = verify_record(record)
    assert verification.verdict == RecordVerdict.AUTHENTIC
    assert set(states(verification).values()) == {State.PASS}

    client = logged_in(record.session.physician)
    response = client.get(f"/staff/sessions/{record.session.public_id}/record.pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored
    page = client.get(f"/staff/records/{record.record_id}/verify/").content.decode()
    assert f"Authentic: this is record {record.record_id}" in page


def test_an_addendum_goes_to_the_bucket_beside_its_record(object_store, settings):
    object_store.use(settings)
    record = finalized_record()
    addendum = addendum_added(record=record, kind="withdrawal", text="Withdrawn in clinic.")
    assert f"media/{addendum.pdf.name}" in object_store.object_keys()
    assert addendum.pdf.name.startswith("addenda/")
    with addendum.pdf.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == addendum.pdf_sha256


def test_a_missing_object_gives_a_plain_verification_message(object_store, settings):
    object_store.use(settings)
    record = finalized_record()
    object_store.client.delete_object(Bucket=object_store.bucket, Key=f"media/{record.pdf.name}")

    verification = verify_record(record)
    assert verification.verdict == RecordVerdict.ALTERED
    assert verification.headline == f"The stored file of record {record.record_id} is missing."
    page = logged_in(record.session.physician).get(f"/staff/records/{record.record_id}/verify/")
    assert page.status_code == 200
    assert f"The stored file of record {record.record_id} is missing." in page.content.decode()


def test_an_object_rewritten_behind_the_apps_back_is_not_the_record(object_store, settings):
    object_store.use(settings)
    record = finalized_record()
    key = f"media/{record.pdf.name}"
    forged = object_store.read(key) + b"% rewritten in the bucket\n"
    object_store.client.put_object(Bucket=object_store.bucket, Key=key, Body=forged)

    verification = verify_record(record)
    assert verification.verdict == RecordVerdict.ALTERED
    assert states(verification)["stored"] == State.FAIL


def test_a_name_already_taken_is_never_overwritten(object_store, settings):
    object_store.use(settings)
    first = default_storage.save("records/2026/01/R-1.pdf", ContentFile(b"first"))
    second = default_storage.save("records/2026/01/R-1.pdf", ContentFile(b"second"))
    assert first != second
    assert object_store.read(f"media/{first}") == b"first"


def test_checkpoints_go_to_their_own_bucket_and_verify(object_store, settings):
    object_store.use(settings)
    finalized_record()
    call_command("audit_checkpoint", "--quiet")

    (name,) = checkpoint_names()
    assert object_store.object_keys(object_store.checkpoint_bucket) == [
        f"audit-checkpoints/{name}",
        f"audit-checkpoints/{name}{SEAL_SUFFIX}",
    ]
    # Not beside the records.
    assert not any("checkpoint" in key for key in object_store.object_keys())
    (check,) = checkpoints_verify()
    assert check.ok, check.message


def test_a_checkpoint_whose_seal_object_was_deleted_is_unsealed(object_store, settings):
    object_store.use(settings)
    call_command("audit_checkpoint", "--quiet")
    (name,) = checkpoint_names()
    object_store.client.delete_object(
        Bucket=object_store.checkpoint_bucket, Key=f"audit-checkpoints/{name}{SEAL_SUFFIX}"
    )
    check = checkpoint_read(name, storage=checkpoint_storage())
    assert check.verdict == Verdict.UNSEALED
    assert check.message == "it has no seal file: it cannot be trusted."


# Downloads when the stored object is gone, or the store cannot be reached


def unavailable(response) -> bool:
    body = response.content.decode()
    return (
        response.status_code == 503
        and "This file cannot be opened now" in body
        and "Nothing was changed." in body
    )


def test_a_download_of_a_missing_object_says_so_and_records_no_download(object_store, settings):
    object_store.use(settings)
    session = decided_session()
    patient = patient_client(session)  # opened the link before the record was finalized
    record = session_finalize(
        session=session, physician=session.physician, password=PASSWORD, render_pdf=fake_pdf_render
    )
    addendum = addendum_added(record=record, kind="withdrawal", text="Withdrawn in clinic.")
    for stored in (record.pdf.name, addendum.pdf.name):
        object_store.client.delete_object(Bucket=object_store.bucket, Key=f"media/{stored}")
    events = AuditEvent.objects.count()

    staff = logged_in(session.physician)
    assert unavailable(staff.get(f"/staff/sessions/{session.public_id}/record.pdf"))
    addendum_url = f"/staff/sessions/{session.public_id}/addenda/{addendum.addendum_id}.pdf"
    assert unavailable(staff.get(addendum_url))
    assert unavailable(patient.get("/patient/record.pdf"))
    auditor_url = f"/audit/sessions/{session.public_id}/record.pdf"
    assert unavailable(logged_in(auditor()).get(auditor_url))
    after = AuditEvent.objects.order_by("seq")[events:]
    assert not [event.action for event in after if event.action.endswith("downloaded")]


def test_a_download_while_the_store_cannot_be_reached_says_so(object_store, settings):
    object_store.use(settings)
    record = finalized_record()
    nobody_there = {**object_store.environ, "CONSENT_S3_ENDPOINT_URL": "http://127.0.0.1:9"}
    settings.STORAGES = {**settings.STORAGES, **s3_storages(nobody_there)}
    staff = logged_in(record.session.physician)
    assert unavailable(staff.get(f"/staff/sessions/{record.session.public_id}/record.pdf"))
