"""The institution's PAdES seal on finalized PDFs: valid as issued, invalid after any change."""

import io
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from consent.models import ConsentRecord, ConsentSession
from consent.record.seal import SealUnavailable, seal_signer
from consent.services import ServiceError
from consent.services import signatures as signature_services
from tests.factories import PASSWORD, attested_session
from tests.record.ca import PASSPHRASE, CRLServer, TimestampServer, local_ca, seal_p12

DAY = timedelta(days=1)

pytestmark = pytest.mark.django_db


def finalize():
    session = attested_session()
    signature_services.patient_consent_sign(
        session=session, confirmed_statements=3, typed_name="Jeanne Testpatient", image=None
    )
    return signature_services.session_finalize(
        session=session, physician=session.physician, password=PASSWORD
    )


def seal_status(pdf: bytes):
    reader = PdfFileReader(io.BytesIO(pdf))
    (embedded,) = reader.embedded_signatures
    context = ValidationContext(trust_roots=[seal_signer().signing_cert])
    return validate_pdf_signature(embedded, context)


@pytest.fixture
def sealed_pdf():
    return finalize().pdf.open("rb").read()


def test_the_stored_pdf_carries_a_valid_intact_seal(sealed_pdf):
    status = seal_status(sealed_pdf)
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.bottom_line


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_one_flipped_byte_breaks_the_seal(sealed_pdf, where):
    data = bytearray(sealed_pdf)
    reader = PdfFileReader(io.BytesIO(sealed_pdf))
    (embedded,) = reader.embedded_signatures
    _start, length, second, _ = embedded.byte_range
    # Flip a byte inside the signed ranges, never inside the signature value itself.
    if where < 0.5:
        position = int(length * where)
    else:
        position = second + int((len(data) - second) * where) - 1
    data[position] ^= 0x01
    try:
        status = seal_status(bytes(data))
    except Exception:
        return
    assert not (status.intact and status.valid)


def test_finalization_without_a_signing_key_finalizes_nothing(settings, tmp_path):
    settings.SEAL_P12_PATH = tmp_path / "missing.p12"
    session = attested_session()
    signature_services.patient_consent_sign(
        session=session, confirmed_statements=3, typed_name="Jeanne Testpatient", image=None
    )
    with pytest.raises((SealUnavailable, ServiceError)):
        signature_services.session_finalize(
            session=session, physician=session.physician, password=PASSWORD
        )
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.SIGNED
    assert not ConsentRecord.objects.exists()


# The development CA and the seal certificate it issues


def test_the_development_seal_is_an_rsa_certificate_issued_by_a_development_ca(settings):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12

    from consent.record.seal import seal_trust_roots

    key, certificate, chain = pkcs12.load_key_and_certificates(
        settings.SEAL_P12_PATH.read_bytes(), settings.SEAL_P12_PASSPHRASE.encode()
    )
    assert isinstance(key, rsa.RSAPrivateKey)
    assert certificate is not None
    (ca,) = chain
    assert certificate.issuer == ca.subject != certificate.subject
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    # Verification trusts the CA, not the seal certificate itself.
    roots = seal_trust_roots(seal_signer())
    assert [root.dump() for root in roots] == [ca.public_bytes(Encoding.DER)]


def test_a_seal_certificate_renewed_by_the_same_ca_still_verifies_older_records(settings, tmp_path):
    from consent.record.verification import Verdict, verify_record

    ca = local_ca()
    now = datetime.now(UTC)
    settings.SEAL_P12_PATH, _ = seal_p12(
        tmp_path / "2026.p12", ca, not_before=now - timedelta(days=1), not_after=now + DAY
    )
    settings.SEAL_P12_PASSPHRASE = PASSPHRASE
    record = finalize()
    settings.SEAL_P12_PATH, _ = seal_p12(
        tmp_path / "2027.p12", ca, not_before=now, not_after=now + 2 * DAY, common_name="2027"
    )
    assert verify_record(record).verdict == Verdict.AUTHENTIC


# Judged at the time of sealing


def _seal_with(settings, path) -> ConsentRecord:
    settings.SEAL_P12_PATH = path
    settings.SEAL_P12_PASSPHRASE = PASSPHRASE
    return finalize()


@pytest.mark.parametrize("when", ["expired", "not yet valid"])
def test_a_certificate_not_valid_when_sealing_makes_no_authentic_seal(settings, tmp_path, when):
    from consent.record.verification import State, Verdict, verify_record

    now = datetime.now(UTC)
    window = (now - 3 * DAY, now - DAY) if when == "expired" else (now + DAY, now + 3 * DAY)
    path, _ = seal_p12(tmp_path / "seal.p12", local_ca(), not_before=window[0], not_after=window[1])
    record = _seal_with(settings, path)
    verification = verify_record(record)
    assert verification.verdict == Verdict.ALTERED
    seal = {c.key: c for c in verification.checks}["seal"]
    assert seal.state == State.FAIL
    assert "was not valid when the seal was made" in seal.detail


def test_a_certificate_expired_since_sealing_still_verifies_with_the_sealing_time_stated(
    settings, tmp_path, monkeypatch
):
    """A record sealed (and timestamped) two years ago, checked today after its certificate
    expired: still authentic, and the page says when it was sealed and that it expired since."""
    from consent.record.verification import State, Verdict, verify_record

    now = datetime.now(UTC)
    sealed_at = now - 730 * DAY
    path, _ = seal_p12(
        tmp_path / "seal.p12", local_ca(), not_before=sealed_at - DAY, not_after=sealed_at + DAY
    )
    # Sealing two years ago: the authority stamps that time, and the chain gathered for B-LT
    # is judged then (the certificate was valid).
    tsa = TimestampServer(fixed_dt=sealed_at)
    settings.SEAL_TSA_URL = tsa.url
    settings.SEAL_TSA_TRUSTED_CERTS = [tsa.certificate_pem(tmp_path / "tsa.pem")]
    monkeypatch.setattr(
        "consent.record.seal.ValidationContext", partial(ValidationContext, moment=sealed_at)
    )
    try:
        record = _seal_with(settings, path)
    finally:
        tsa.stop()
    verification = verify_record(record)
    seal = {c.key: c for c in verification.checks}["seal"]
    assert seal.state == State.PASS, seal.detail
    assert verification.verdict == Verdict.AUTHENTIC
    assert verification.facts.seal.judged_at is not None
    assert abs(verification.facts.seal.judged_at - sealed_at) < timedelta(minutes=1)
    assert f"{sealed_at:%Y-%m-%d}" in seal.detail
    assert "has expired since" in seal.detail


# The timestamp's time counts only when its authority is trusted (SEAL_TSA_TRUSTED_CERTS)

UNTRUSTED = "timestamped by an authority this institution does not trust"


def _seal_stamped_at(settings, tmp_path, stamped_at, *, trusted: bool) -> ConsentRecord:
    """A record sealed now, by a certificate valid now, with a token stamping `stamped_at`.

    Untrusted: the only configured authority root is another authority's.
    """
    now = datetime.now(UTC)
    path, _ = seal_p12(tmp_path / "seal.p12", local_ca(), not_before=now - DAY, not_after=now + DAY)
    tsa = TimestampServer(fixed_dt=stamped_at)
    other = TimestampServer()
    other.stop()
    settings.SEAL_TSA_URL = tsa.url
    settings.SEAL_TSA_TRUSTED_CERTS = [
        (tsa if trusted else other).certificate_pem(tmp_path / "tsa.pem")
    ]
    try:
        return _seal_with(settings, path)
    finally:
        tsa.stop()


def test_a_timestamp_from_a_trusted_authority_gives_the_sealing_time(settings, tmp_path):
    from consent.record.verification import State, Verdict, verify_record

    stamped_at = datetime.now(UTC) - timedelta(hours=3)
    verification = verify_record(_seal_stamped_at(settings, tmp_path, stamped_at, trusted=True))
    seal_facts = verification.facts.seal
    seal = {c.key: c for c in verification.checks}["seal"]
    assert verification.verdict == Verdict.AUTHENTIC, seal.detail
    assert seal.state == State.PASS
    assert seal_facts.timestamped_at is not None
    assert abs(seal_facts.timestamped_at - stamped_at) < timedelta(seconds=5)
    assert seal_facts.judged_at == seal_facts.timestamped_at
    assert not seal_facts.timestamp_untrusted
    assert "Timestamped by a timestamp authority at" in seal.detail
    assert UNTRUSTED not in seal.detail.lower()


def test_a_timestamp_from_an_untrusted_authority_is_ignored_and_said_so(settings, tmp_path):
    from consent.record.verification import State, Verdict, verify_record

    stamped_at = datetime.now(UTC) - timedelta(hours=3)
    record = _seal_stamped_at(settings, tmp_path, stamped_at, trusted=False)
    verification = verify_record(record)
    seal_facts = verification.facts.seal
    seal = {c.key: c for c in verification.checks}["seal"]
    assert verification.verdict == Verdict.AUTHENTIC, seal.detail
    assert seal.state == State.PASS
    assert seal_facts.timestamp_untrusted
    assert seal_facts.timestamped_at is None
    # The seal's own claimed time, not the token's.
    assert seal_facts.judged_at is not None
    assert abs(seal_facts.judged_at - record.finalized_at) < timedelta(minutes=5)
    assert abs(seal_facts.judged_at - stamped_at) > timedelta(hours=2)
    assert "(the time the seal states)" in seal.detail
    assert (
        "Timestamped by an authority this institution does not trust: the time is the seal's "
        "own claim." in seal.detail
    )
    assert "Timestamped by a timestamp authority" not in seal.detail


def test_an_untrusted_timestamp_does_not_rescue_an_expired_certificate(
    settings, tmp_path, monkeypatch
):
    """Sealed with a certificate valid only two years ago and a token saying so, but from an
    authority nobody trusts: the certificate is judged at the seal's claimed time, today."""
    from consent.record.verification import State, Verdict, verify_record

    now = datetime.now(UTC)
    sealed_at = now - 730 * DAY
    path, _ = seal_p12(
        tmp_path / "seal.p12", local_ca(), not_before=sealed_at - DAY, not_after=sealed_at + DAY
    )
    tsa = TimestampServer(fixed_dt=sealed_at)
    settings.SEAL_TSA_URL = tsa.url
    monkeypatch.setattr(
        "consent.record.seal.ValidationContext", partial(ValidationContext, moment=sealed_at)
    )
    try:
        record = _seal_with(settings, path)
    finally:
        tsa.stop()
    verification = verify_record(record)
    seal = {c.key: c for c in verification.checks}["seal"]
    assert verification.verdict == Verdict.ALTERED
    assert seal.state == State.FAIL
    assert "was not valid when the seal was made" in seal.detail
    assert UNTRUSTED in seal.detail.lower()


# PAdES B-LT: the timestamp and the revocation data travel in the file


def _ca_publishing_crls(tmp_path):
    """A local CA whose revocation list is served on 127.0.0.1, and a seal it issued (valid for
    a year): the CRL server (stop it), the CA, the PKCS#12 path and the certificate."""
    crl_server = CRLServer()
    ca = local_ca(crl_url=crl_server.url)
    crl_server.ca = ca
    now = datetime.now(UTC)
    path, certificate = seal_p12(
        tmp_path / "seal.p12", ca, not_before=now - DAY, not_after=now + 365 * DAY
    )
    return crl_server, ca, path, certificate


def test_with_a_timestamp_authority_the_seal_is_b_lt_and_verifies_offline(settings, tmp_path):
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    from consent.record.verification import Verdict, verify_record

    crl_server, ca, path, certificate = _ca_publishing_crls(tmp_path)
    tsa = TimestampServer()
    settings.SEAL_TSA_URL = tsa.url
    try:
        record = _seal_with(settings, path)
    finally:
        crl_server.stop()
        tsa.stop()
    assert ca.crl_requests >= 1
    data = record.pdf.open("rb").read()
    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(data)))
    assert len(dss.crls) >= 1
    assert any(
        ref.get_object().data == certificate.public_bytes(Encoding.DER)
        for ref in dss.certs.values()
    )
    # The CRL server is gone: verification needs nothing from outside the file.
    assert verify_record(record).verdict == Verdict.AUTHENTIC


def test_a_revoked_seal_certificate_seals_nothing(settings, tmp_path):
    crl_server, ca, path, certificate = _ca_publishing_crls(tmp_path)
    ca.revoked.add(certificate.serial_number)
    tsa = TimestampServer()
    settings.SEAL_TSA_URL = tsa.url
    try:
        with pytest.raises(ServiceError):
            _seal_with(settings, path)
    finally:
        crl_server.stop()
        tsa.stop()
    assert not ConsentRecord.objects.exists()


def test_the_seal_key_is_parsed_once_for_many_seals(monkeypatch):
    """Parsing the RSA key is most of a seal's cost: it happens once per process, not twice a
    seal as pyHanko's SimpleSigner would, and every seal still verifies."""
    import weasyprint

    from consent.record import seal
    from consent.record.verification import Verdict, verify_bytes

    parse = seal.serialization.load_der_private_key
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return parse(*args, **kwargs)

    monkeypatch.setattr(seal.serialization, "load_der_private_key", counting)
    seal.seal_signer_forget()
    document = weasyprint.HTML(string="<p>One paragraph.</p>").write_pdf()
    sealed = [seal.pdf_seal(document, record_id=f"CR-2026-00000{n}") for n in (1, 2, 3)]
    assert len(calls) == 1
    assert all(verify_bytes(data).facts.seal.intact for data in sealed)
    assert verify_bytes(sealed[0]).verdict != Verdict.UNREADABLE


def test_a_key_replaced_at_the_same_path_seals_the_next_record(settings, tmp_path):
    """Key rotation: the loaded signer is kept only while its file is the same file."""
    import weasyprint

    from consent.record import seal

    path = tmp_path / "rotating.p12"
    settings.SEAL_P12_PATH = path
    seal.seal_key_create(path, passphrase=b"test-passphrase", common_name="Old seal")
    document = weasyprint.HTML(string="<p>One paragraph.</p>").write_pdf()
    first = seal.seal_signer()
    seal.pdf_seal(document, record_id="CR-2026-000001")
    assert seal.seal_signer() is first  # kept while the file is unchanged
    replacement = tmp_path / "new.p12"
    seal.seal_key_create(replacement, passphrase=b"test-passphrase", common_name="New seal")
    replacement.replace(path)  # renamed into place, as a careful rotation does
    sealed = seal.pdf_seal(document, record_id="CR-2026-000002")
    signer = seal.seal_signer()
    assert signer is not first
    assert "New seal" in signer.signing_cert.subject.human_friendly
    (signature,) = PdfFileReader(io.BytesIO(sealed)).embedded_signatures
    assert "New seal" in signature.signer_cert.subject.human_friendly


def test_the_seal_space_is_sized_once_not_by_a_dummy_signature_each_time(monkeypatch):
    """pyHanko sizes a signature by making a dummy one first unless told the size: the seal
    tells it, sized once per signer, and every seal still verifies."""
    import weasyprint

    from consent.record import seal
    from consent.record.verification import verify_bytes

    seal.seal_signer_forget()
    signer = seal.seal_signer()
    original = type(signer).async_sign
    dry_runs = []

    async def counting(self, *args, **kwargs):
        if kwargs.get("dry_run"):
            dry_runs.append(1)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(type(signer), "async_sign", counting)
    document = weasyprint.HTML(string="<p>One paragraph.</p>").write_pdf()
    sealed = [seal.pdf_seal(document, record_id=f"CR-2026-00000{n}") for n in (1, 2, 3)]
    assert len(dry_runs) == 1
    assert all(verify_bytes(data).facts.seal.intact for data in sealed)


def test_every_seal_names_its_certificate_in_a_signing_certificate_v2_made_once(monkeypatch):
    """The ESS signing-certificate-v2 attribute (PAdES B-B) binds the seal to its certificate:
    each seal carries it with the certificate's SHA-256 and issuer and serial, and the signer
    builds it once, not for every seal."""
    import hashlib

    import weasyprint
    from pyhanko.sign import general

    from consent.record import seal
    from consent.record.verification import verify_bytes

    seal.seal_signer_forget()
    signer = seal.seal_signer()
    built = []
    original = general.as_signing_certificate_v2

    def counting(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(seal, "as_signing_certificate_v2", counting)
    document = weasyprint.HTML(string="<p>One paragraph.</p>").write_pdf()
    sealed = [seal.pdf_seal(document, record_id=f"CR-2026-00000{n}") for n in (1, 2, 3)]
    assert len(built) == 1
    certificate = signer.signing_cert
    for data in sealed:
        assert verify_bytes(data).facts.seal.intact
        (embedded,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
        attributes = embedded.signer_info["signed_attrs"]
        (value,) = [
            a["values"][0] for a in attributes if a["type"].native == "signing_certificate_v2"
        ]
        (cert_id,) = value["certs"]
        assert cert_id["cert_hash"].native == hashlib.sha256(certificate.dump()).digest()
        issuer_serial = cert_id["issuer_serial"]
        assert issuer_serial["serial_number"].native == certificate.serial_number
        assert issuer_serial["issuer"][0].chosen == certificate.issuer
        assert seal_status(data).bottom_line
