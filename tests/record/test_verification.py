"""Verifying a record's PDF: the stored record, uploaded copies, altered and foreign files,
the timestamp authority, the QR code, a failed seal in the view, and who may verify."""

import hashlib
import io
import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from pypdf import PdfReader, PdfWriter

from consent.audit import triggers
from consent.models import AuditEvent, ConsentRecord, ConsentSession
from consent.record.pdf import RECORD_ATTACHMENT
from consent.record.verification import State, Verdict, verify_bytes, verify_record
from consent.services import signatures as signature_services
from tests.factories import (
    PASSWORD,
    auditor,
    decided_session,
    fake_pdf_render,
    finalized_record,
    logged_in,
    patient_client,
    physician,
    staff_user,
)

pytestmark = pytest.mark.django_db


def states(verification) -> dict[str, State]:
    return {check.key: check.state for check in verification.checks}


def stored_bytes(record: ConsentRecord) -> bytes:
    with record.pdf.open("rb") as stored:
        return stored.read()


@pytest.fixture
def record() -> ConsentRecord:
    """A record finalized the real way: rendered, sealed and stored (about a second)."""
    return finalized_record(real_pdf=True)


def upload(client: Client, data: bytes, name: str = "record.pdf"):
    return client.post(
        "/staff/verify/", {"file": SimpleUploadedFile(name, data, "application/pdf")}
    )


# The checks


def test_a_stored_record_passes_every_check(record, settings):
    verification = verify_record(record)
    assert verification.verdict == Verdict.AUTHENTIC
    assert states(verification) == {
        "stored": State.PASS,
        "identical": State.PASS,
        "seal": State.PASS,
        "embedded": State.PASS,
        "chain": State.PASS,
    }
    assert verification.facts.seal.signer == "Test Hospital seal"
    assert verification.facts.sha256 == record.pdf_sha256
    assert hashlib.sha256(stored_bytes(record)).hexdigest() == record.pdf_sha256
    # Page one prints the verification URL that its QR code holds.
    text = " ".join(PdfReader(io.BytesIO(stored_bytes(record))).pages[0].extract_text().split())
    assert f"{settings.SITE_URL}/staff/records/{record.record_id}/verify/" in text
    assert "Staff: scan to verify" in text


def test_an_appended_update_or_a_flipped_byte_is_not_the_record(record):
    data = stored_bytes(record)
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    writer.add_metadata({"/Title": "Edited"})
    changed = io.BytesIO()
    writer.write(changed)
    verification = verify_bytes(changed.getvalue())
    assert verification.record == record  # found by the record id inside
    assert verification.verdict == Verdict.ALTERED
    found = states(verification)
    assert found["identical"] == State.FAIL
    assert found["seal"] == State.FAIL
    assert found["stored"] == State.PASS
    assert "after it was sealed" in {c.key: c.detail for c in verification.checks}["seal"]

    # One flipped byte inside the document: not the record, and the seal is broken.
    flipped = bytearray(data)
    flipped[len(flipped) // 3] ^= 0x01
    verification = verify_bytes(bytes(flipped))
    assert verification.verdict in (Verdict.ALTERED, Verdict.UNREADABLE)
    if verification.verdict == Verdict.ALTERED:
        assert states(verification)["identical"] == State.FAIL
        assert states(verification)["seal"] == State.FAIL


def test_a_stored_file_changed_on_disk_is_reported(record):
    with open(record.pdf.path, "ab") as stored:
        stored.write(b"\n% changed on disk\n")
    verification = verify_record(record)
    assert verification.verdict == Verdict.ALTERED
    assert states(verification)["stored"] == State.FAIL


def test_a_missing_stored_file_is_reported(record):
    record.pdf.storage.delete(record.pdf.name)
    verification = verify_record(record)
    assert verification.verdict == Verdict.ALTERED
    assert "missing" in verification.headline


def test_a_rewritten_audit_event_before_the_record_fails_the_chain_check(record):
    with connection.cursor() as cursor:
        for statement in triggers.drop_sql(connection.vendor):
            cursor.execute(statement)
    event = AuditEvent.objects.order_by("seq")[3]
    AuditEvent.objects.filter(pk=event.pk).update(actor_label="someone else")
    verification = verify_record(record)
    chain = {c.key: c for c in verification.checks}["chain"]
    assert chain.state == State.FAIL
    assert f"event {event.seq}" in chain.detail


def test_a_cut_tail_before_the_record_head_fails_the_chain_check(record):
    head = json.loads(record.record_json)["audit_chain_head_seq"]
    with connection.cursor() as cursor:
        for statement in triggers.drop_sql(connection.vendor):
            cursor.execute(statement)
    AuditEvent.objects.filter(seq__gte=head).delete()
    chain = {c.key: c for c in verify_record(record).checks}["chain"]
    assert chain.state == State.FAIL
    assert "no longer reaches" in chain.detail


def test_a_pdf_naming_an_unknown_record_is_foreign():
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment(RECORD_ATTACHMENT, json.dumps({"record_id": "CR-2099-999999"}).encode())
    buffer = io.BytesIO()
    writer.write(buffer)
    verification = verify_bytes(buffer.getvalue())
    assert verification.verdict == Verdict.FOREIGN
    assert "CR-2099-999999" in verification.headline
    assert verification.record is None


def test_any_other_pdf_is_foreign_and_unsealed():
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    verification = verify_bytes(buffer.getvalue())
    assert verification.verdict == Verdict.FOREIGN
    assert states(verification) == {"seal": State.FAIL}


@pytest.mark.parametrize(
    "data",
    [b"Not a PDF at all", b"%PDF-1.7\n\x00\x01 garbage " * 20, b"\x89PNG\r\n\x1a\n" + b"\0" * 40],
)
def test_unreadable_files_get_a_verdict_not_an_error(data):
    verification = verify_bytes(data)
    assert verification.verdict in (Verdict.UNREADABLE, Verdict.FOREIGN)
    assert verification.headline


# The pages


def test_the_verification_url_of_a_record_shows_every_check_passed(record):
    client = logged_in(record.session.physician)
    response = client.get(f"/staff/records/{record.record_id}/verify/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f"Authentic: this is record {record.record_id}" in body
    assert body.count("✓ Passed") == 5
    event = AuditEvent.objects.get(action="record.verified")
    assert event.payload["verdict"] == "authentic"
    assert event.payload["source"] == "stored"
    assert event.actor == record.session.physician
    assert event.session_id == record.session_id


def test_uploading_the_record_says_authentic_and_an_altered_copy_says_not(record):
    client = logged_in(auditor())
    data = stored_bytes(record)
    body = upload(client, data).content.decode()
    assert f"Authentic: this is record {record.record_id}" in body
    altered = data + b"\n%%EOF\n"
    response = upload(client, altered)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Not authentic" in body
    assert "This file differs from the stored record" in body
    verdicts = list(
        AuditEvent.objects.filter(action="record.verified").values_list("payload", flat=True)
    )
    assert [v["verdict"] for v in verdicts] == ["authentic", "altered"]
    assert verdicts[1]["failed"] == ["identical", "seal"]


def test_a_foreign_file_is_reported_plainly():
    client = logged_in(physician())
    response = upload(client, b"Hello, I am a text file.", name="notes.txt")
    assert response.status_code == 200
    assert "This file is not a PDF." in response.content.decode()
    assert AuditEvent.objects.get(action="file.verified").payload["verdict"] == "unreadable"


def test_an_empty_or_missing_upload_gets_a_clear_message():
    client = logged_in(physician())
    response = client.post("/staff/verify/", {})
    assert response.status_code == 400
    assert "Choose a PDF file to check." in response.content.decode()
    response = upload(client, b"")
    assert response.status_code == 400
    assert "This file is empty" in response.content.decode()
    assert not AuditEvent.objects.filter(action__endswith=".verified").exists()


def test_an_oversized_upload_is_refused_with_a_message(monkeypatch):
    monkeypatch.setattr("consent.forms.staff.MAX_UPLOAD_BYTES", 1000)
    response = upload(logged_in(physician()), b"%PDF-1.7\n" + b"0" * 2000)
    assert response.status_code == 400
    assert "larger than 20 MB" in response.content.decode()


# Who may verify


def test_access_to_verification_by_role():
    record = finalized_record()  # who gets in, not what the check finds: no real PDF needed
    url = f"/staff/records/{record.record_id}/verify/"
    anonymous = Client()
    assert anonymous.get(url).status_code == 302
    assert anonymous.get("/staff/verify/").status_code == 302
    patient = patient_client(decided_session(doctor=physician(username="dr.other")))
    assert patient.get(url)["Location"].startswith("/accounts/login/")
    assert patient.get("/staff/verify/")["Location"].startswith("/accounts/login/")
    # Another physician does not learn that the record exists; auditors see every record.
    other = logged_in(ConsentSession.objects.exclude(pk=record.session_id).get().physician)
    assert other.get(url).status_code == 404
    assert other.get("/staff/verify/").status_code == 200
    assert logged_in(record.session.physician).get(url).status_code == 200
    assert logged_in(auditor()).get(url).status_code == 200
    no_role = staff_user(username="clerk", role="auditor")
    no_role.groups.clear()
    assert logged_in(no_role).get(url).status_code == 403
    assert logged_in(no_role).get("/staff/verify/").status_code == 403
    assert (
        logged_in(record.session.physician).get("/staff/records/CR-0000-000000/verify/").status_code
        == 404
    )


# The QR code and the verification URL printed in the record


def test_the_qr_code_encodes_the_verification_url():
    import segno

    from consent.record.pdf import qr_data_uri, verification_url

    url = verification_url("CR-2026-000042")
    assert url.endswith("/staff/records/CR-2026-000042/verify/")
    assert qr_data_uri(url) == segno.make(url, error="m").png_data_uri(
        scale=8, border=2, dark="#000", light="#fff"
    )


# A failing seal in the view: nothing is finalized and the physician is told


def test_a_seal_failure_during_finalization_shows_a_message_and_finalizes_nothing(monkeypatch):
    session = decided_session()

    def broken_seal(pdf, *, record_id):
        raise OSError("the key store is unreachable")

    monkeypatch.setattr("consent.record.pdf.pdf_seal", broken_seal)
    # The document itself is not under test here: only the seal that fails after it.
    monkeypatch.setattr("consent.record.pdf.record_document_pdf", fake_pdf_render)
    client = logged_in(session.physician)
    url = f"/staff/sessions/{session.public_id}/finalize/"
    response = client.post(url, {"finalize-password": PASSWORD}, follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "could not be made or sealed, so nothing was finalized" in body
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.SIGNED
    assert not ConsentRecord.objects.exists()
    assert not AuditEvent.objects.filter(action="session.finalized").exists()


# The timestamp authority: tests/record/ca.py's local responder (fixture in conftest.py)


def test_with_a_timestamp_authority_the_seal_carries_its_timestamp(
    settings, timestamp_authority, tmp_path
):
    url, requests_seen, certificate = timestamp_authority
    settings.SEAL_TSA_URL = url
    settings.SEAL_TSA_TRUSTED_CERTS = [certificate]
    record = finalized_record(real_pdf=True)
    # pyHanko asks once to size the signature's room, then for the real timestamp.
    assert len(requests_seen) == 2
    verification = verify_record(record)
    assert verification.verdict == Verdict.AUTHENTIC
    stamped = verification.facts.seal.timestamped_at
    assert stamped is not None
    assert abs(stamped - record.finalized_at) < timedelta(minutes=5)
    seal = {c.key: c.detail for c in verification.checks}["seal"]
    assert "Timestamped by a timestamp authority" in seal


def test_an_unreachable_timestamp_authority_finalizes_nothing(settings):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SEAL_TSA_URL = f"http://127.0.0.1:{port}/tsa"
    session = decided_session()
    with pytest.raises(signature_services.RecordNotMade):
        signature_services.session_finalize(
            session=session, physician=session.physician, password=PASSWORD
        )
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.SIGNED
    assert not ConsentRecord.objects.exists()


def test_records_sealed_with_an_earlier_key_verify_once_its_certificate_is_trusted(
    record, settings, tmp_path
):
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

    from consent.record.seal import seal_key_create

    old_key = settings.SEAL_P12_PATH
    _key, certificate, _chain = pkcs12.load_key_and_certificates(
        old_key.read_bytes(), settings.SEAL_P12_PASSPHRASE.encode()
    )
    old_certificate = tmp_path / "old-seal.pem"
    old_certificate.write_bytes(certificate.public_bytes(Encoding.PEM))
    # The institution replaces its seal key.
    settings.SEAL_P12_PATH = tmp_path / "new-seal.p12"
    seal_key_create(
        settings.SEAL_P12_PATH,
        passphrase=settings.SEAL_P12_PASSPHRASE.encode(),
        common_name="Test Hospital seal 2027",
    )
    seal = {c.key: c for c in verify_record(record).checks}["seal"]
    assert seal.state == State.FAIL
    assert "not made with this institution's key" in seal.detail
    settings.SEAL_TRUSTED_CERTS = [old_certificate]
    verification = verify_record(record)
    assert verification.verdict == Verdict.AUTHENTIC
    assert verification.facts.seal.signer == "Test Hospital seal"


# Every byte counts: where a file first differs from the stored record


def test_a_flipped_padding_byte_or_content_byte_is_located(record):
    from pyhanko.pdf_utils.reader import PdfFileReader

    data = stored_bytes(record)
    (seal,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    _zero, contents_start, contents_end, _rest = seal.byte_range
    # The last hex digit before `>` is padding: pyHanko's check of the seal does not cover it.
    padding = contents_end - 2
    assert data[padding : padding + 1] == b"0"
    padded = bytearray(data)
    padded[padding : padding + 1] = b"7"
    verification = verify_bytes(bytes(padded))
    assert verification.record == record
    assert verification.verdict == Verdict.ALTERED
    checks = {c.key: c for c in verification.checks}
    assert checks["identical"].state == State.FAIL
    assert (
        f"The first differing byte is byte {padding}, inside the seal's signature container, "
        "in its padding." in checks["identical"].detail
    )
    assert checks["seal"].state == State.FAIL
    assert "in its padding" in checks["seal"].detail

    # A byte of the rendered document (in the first revision, before the seal's update).
    content = contents_start // 2
    while data[content : content + 1] not in (b"0", b"1"):  # a digit: still a parseable file
        content += 1
    changed = bytearray(data)
    changed[content : content + 1] = b"1" if data[content : content + 1] == b"0" else b"0"
    verification = verify_bytes(bytes(changed), record=record)
    detail = {c.key: c.detail for c in verification.checks}["identical"]
    assert f"The first differing byte is byte {content}, in the document as rendered" in detail
    assert verification.verdict == Verdict.ALTERED

    # Bytes added at the end.
    appended = {c.key: c.detail for c in verify_bytes(data + b"%\n").checks}["identical"]
    assert "2 bytes were added after the end of the stored record." in appended
