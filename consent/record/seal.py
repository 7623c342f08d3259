"""The institution's seal on every finalized PDF: a PAdES signature made with pyHanko.

The key is a PKCS#12 file named by settings (SEAL_P12_PATH, passphrase from
SEAL_P12_PASSPHRASE) holding the seal certificate and the chain up to its certification
authority. `python manage.py create_seal_key` makes a development CA and a seal certificate
issued by it; a hospital installs a certificate from its own CA instead. Verification trusts
the CA, not the leaf, so a seal key can be renewed without breaking older records. The loaded
signer is kept while its file is unchanged: parsing the key costs more than signing
(PERFORMANCE-NOTES.md), and a key replaced at the same path (a rotation) is read at the next
seal. The signature's space is sized once per signer and authority, not by a dummy signature
before every seal.

The keys are RSA: an ECDSA P-256 seal makes pyHanko declare PDF 2.0 (ISO 32002) in the
incremental update, which a PDF/A-3 file (based on PDF 1.7) may not do.

With SEAL_TSA_URL set, each seal carries an RFC 3161 timestamp from that authority and the
certificates and revocation data that validate it (PAdES B-LT), so the seal can be checked
long after the certificate expired and without asking anyone. If the authority cannot be
reached, sealing fails and nothing is finalized.
"""

import datetime
import io
import threading
from functools import cached_property
from pathlib import Path
from typing import Any

from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import attributes, signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.general import as_signing_certificate_v2, get_pyca_cryptography_hash
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.signers.pdf_signer import DSSContentSettings, SigDSSPlacementPreference
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko_certvalidator import ValidationContext

from consent.record import loops

FIELD_NAME = "InstitutionSeal"
KEY_BITS = 3072  # RSA size recommended for signatures that must hold beyond 2030
# Named, not left to pyHanko (it picks by key size): the timestamp authority is asked for a
# token of this digest once to size the signature, and that answer is reused.
DIGEST = "sha256"


class SealUnavailable(Exception):
    """No usable seal key is configured: nothing is finalized without the seal."""


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]),
        ]
    )


def _key_usage(*, seal: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=seal,
        content_commitment=seal,  # non-repudiation: what a seal on a record means
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not seal,
        crl_sign=not seal,
        encipher_only=False,
        decipher_only=False,
    )


def ca_create(
    common_name: str,
    *,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
    bits: int = KEY_BITS,
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A self-signed certification authority that issues seal certificates (development)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = _name(common_name, common_name)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(seal=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def seal_certificate_issue(
    ca_key: rsa.RSAPrivateKey,
    ca_certificate: x509.Certificate,
    common_name: str,
    *,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
    bits: int = KEY_BITS,
    crl_url: str = "",
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A seal certificate issued by `ca_certificate`: signing and non-repudiation only.

    `crl_url` names where the CA publishes its revocation list, so that a B-LT seal can carry it.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, ca_certificate.subject.rfc4514_string()))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(seal=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if crl_url:
        point = x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(crl_url)],
            relative_name=None,
            reasons=None,
            crl_issuer=None,
        )
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def seal_p12_write(
    path: Path,
    *,
    passphrase: bytes,
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    chain: list[x509.Certificate],
) -> None:
    """Write a seal key, its certificate and the chain to its CA as PKCS#12 (mode 600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"consent-seal",
            key,
            certificate,
            chain,
            serialization.BestAvailableEncryption(passphrase),
        )
    )
    path.chmod(0o600)


def seal_key_create(path: Path, *, passphrase: bytes, common_name: str, years: int = 5) -> None:
    """Write a development CA and a seal certificate issued by it as PKCS#12 (development only).

    The CA's key is not kept: a development CA issues exactly one seal. A new key made later
    comes with a new CA, whose certificate verification then trusts in its place.
    """
    now = datetime.datetime.now(datetime.UTC)
    start = now - datetime.timedelta(minutes=5)
    ca_key, ca_certificate = ca_create(
        f"{common_name} development CA"[:64],
        not_before=start,
        not_after=now + datetime.timedelta(days=365 * years * 2),
    )
    key, certificate = seal_certificate_issue(
        ca_key,
        ca_certificate,
        common_name,
        not_before=start,
        not_after=now + datetime.timedelta(days=365 * years),
    )
    seal_p12_write(
        path, passphrase=passphrase, key=key, certificate=certificate, chain=[ca_certificate]
    )


class _SigningCertificateV2Once(attributes.SigningCertificateV2Provider):
    """The signing-certificate-v2 attribute (ESS, RFC 5035) from its encoding, made once.

    pyHanko builds it for every signature from the certificate, and asn1crypto encodes the
    newly built structure again field by field: a third of a seal. It depends only on the
    certificate, so the signer keeps its encoding and each seal reads it back (a value read
    from its encoding is written out as those same bytes).
    """

    def __init__(self, encoded: bytes) -> None:
        self.encoded = encoded

    async def build_attr_value(self, dry_run: bool = False) -> tsp.SigningCertificateV2:
        return tsp.SigningCertificateV2.load(self.encoded)


class _KeyParsedOnceSigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner, with its RSA key parsed once instead of at every signature.

    SimpleSigner parses the private key for each signature, twice a seal (once to size it),
    and cryptography checks an RSA-3072 key each time: about 0.1 s, most of a seal's cost.
    It also keeps the space its signatures need (`reserved_bytes`), by timestamp authority,
    and the encoding of its signing-certificate-v2 attribute (`_SigningCertificateV2Once`).
    """

    reserved: dict[str, int]

    @cached_property
    def _rsa_key(self) -> RSAPrivateKey | None:
        key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
        return key if isinstance(key, RSAPrivateKey) else None

    @cached_property
    def _signing_certificate_v2(self) -> bytes:
        return bytes(as_signing_certificate_v2(self.signing_cert).dump())

    def _signed_attr_providers(self, *args: Any, **kwargs: Any) -> Any:
        for provider in super()._signed_attr_providers(*args, **kwargs):
            if (
                type(provider) is attributes.SigningCertificateV2Provider
                and provider.signing_cert is self.signing_cert
            ):
                yield _SigningCertificateV2Once(self._signing_certificate_v2)
            else:
                yield provider

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism.signature_algo != "rsassa_pkcs1v15" or self._rsa_key is None:
            return super().sign_raw(data, digest_algorithm)
        return self._rsa_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))


def _signer_load(path: str, passphrase: bytes) -> _KeyParsedOnceSigner:
    loaded = signers.SimpleSigner.load_pkcs12(pfx_file=path, passphrase=passphrase)
    if loaded is None:
        raise SealUnavailable(f"the seal key {path} could not be opened")
    signer = _KeyParsedOnceSigner(
        signing_cert=loaded.signing_cert,
        signing_key=loaded.signing_key,
        cert_registry=loaded.cert_registry,
        signature_mechanism=loaded.signature_mechanism,
    )
    signer.reserved = {}
    return signer


# The loaded signer, with what identifies the file it was read from: path, passphrase, inode,
# size and modification time. A key written over the old one (or renamed into its place, as a
# careful rotation does) is a new file and is loaded at the next seal; one stat() a seal.
_signer_lock = threading.Lock()
_signer_loaded: tuple[tuple[Any, ...], _KeyParsedOnceSigner] | None = None


def seal_signer() -> signers.SimpleSigner:
    global _signer_loaded
    path = Path(settings.SEAL_P12_PATH)
    try:
        stat = path.stat()
    except OSError:
        stat = None
    if stat is None or not path.is_file():
        raise SealUnavailable(
            f"no seal key at {path}: run `python manage.py create_seal_key` or set SEAL_P12_PATH"
        )
    passphrase = settings.SEAL_P12_PASSPHRASE.encode()
    key = (str(path), passphrase, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _signer_lock:
        if _signer_loaded is None or _signer_loaded[0] != key:
            _signer_loaded = (key, _signer_load(str(path), passphrase))
        return _signer_loaded[1]


def seal_signer_forget() -> None:
    """Drop the loaded signer: the next seal reads the key file again (tests)."""
    global _signer_loaded
    with _signer_lock:
        _signer_loaded = None


def _reserved_bytes(signer: signers.SimpleSigner, timestamper: TimeStamper | None) -> int | None:
    """The space to reserve in the file for this signer's seal, sized once.

    pyHanko otherwise sizes every seal by making a whole dummy signature first (a third of a
    seal's cost). This is its own estimate, made once per signer and timestamp authority: the
    dummy signature's length as hexadecimal with its 50 % margin (a token from an authority
    may vary in length).
    """
    if not isinstance(signer, _KeyParsedOnceSigner):
        return None
    authority = settings.SEAL_TSA_URL or ""
    if authority not in signer.reserved:
        digest = hashes.Hash(get_pyca_cryptography_hash(DIGEST)).finalize()
        dummy = loops.run(
            signer.async_sign(
                digest,
                DIGEST,
                use_pades=True,
                dry_run=True,
                timestamper=timestamper,
                signed_attr_settings=PdfCMSSignedAttributes(
                    signing_time=datetime.datetime.now(datetime.UTC)
                ),
            )
        )
        length = len(dummy.dump()) * 2
        signer.reserved[authority] = length + 2 * (length // 4)
    return signer.reserved[authority]


def seal_timestamper() -> TimeStamper | None:
    """The configured timestamp authority's client, or None when none is set."""
    url = settings.SEAL_TSA_URL
    return RequestsHTTPTimeStamper(url, timeout=10) if url else None


def _self_signed(certificate: Any) -> bool:
    return bool(certificate.issuer == certificate.subject)


def seal_trust_roots(signer: signers.SimpleSigner) -> list[Any]:
    """The roots a seal made by `signer` chains to: its CA, or the certificate itself.

    A key made before seals had a CA is a self-signed certificate: it is its own root.
    """
    certificate = signer.signing_cert
    if certificate is not None and _self_signed(certificate):
        return [certificate]
    return [c for c in signer.cert_registry if _self_signed(c)]


def _timestamp_authority_roots(timestamper: TimeStamper) -> list[Any]:
    """The root of the chain the configured timestamp authority presents with its tokens.

    pyHanko asks the authority once for a token to size the signature (and keeps it): its
    certificates are those of the authority that settings name, so they anchor the chain that
    the seal embeds for it. Verification still judges the seal against our own roots.
    """
    loops.run(timestamper.async_dummy_response(DIGEST))
    return [c for c in timestamper.cert_registry if _self_signed(c)]


def _long_term_context(signer: signers.SimpleSigner, timestamper: TimeStamper) -> ValidationContext:
    """What pyHanko needs to gather the chains and revocation data it embeds (PAdES B-LT).

    Fetching is allowed here only: revocation lists are collected when sealing, so that
    verification later never goes to the network. Soft-fail: a development CA publishes no
    revocation list; a certificate found revoked still stops the sealing.
    """
    return ValidationContext(
        trust_roots=seal_trust_roots(signer) + _timestamp_authority_roots(timestamper),
        other_certs=list(signer.cert_registry),
        allow_fetching=True,
        revocation_mode="soft-fail",
    )


class _MetadataKeepingWriter(IncrementalPdfFileWriter):
    """An incremental writer that leaves the document's Info dictionary and XMP as rendered.

    pyHanko otherwise rewrites the XMP with its own Producer and a ModDate while appending
    itself to the Info Producer: the two then disagree (PDF/A-3, veraPDF 6.6.2.3.1) and the
    sealed revision no longer states what the rendered one did. The seal adds no content, so
    the document's metadata stays true.
    """

    def _update_meta(self) -> None:
        return


def pdf_seal(pdf: bytes, *, record_id: str, reason: str = "") -> bytes:
    """Seal a PDF with an invisible PAdES signature, as an incremental update.

    The update keeps the document's PDF version and its XMP metadata (PDF/A-3b needs both).
    """
    writer = _MetadataKeepingWriter(io.BytesIO(pdf))
    signer = seal_signer()
    timestamper = seal_timestamper()
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        reason=reason or f"Finalized informed consent record {record_id}",
        location=settings.INSTITUTION_NAME,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm=DIGEST,
        embed_validation_info=timestamper is not None,
        validation_context=(
            _long_term_context(signer, timestamper) if timestamper is not None else None
        ),
        # The chains and revocation data go in the signature's own revision: the seal still
        # covers the whole file, which verification insists on.
        dss_settings=DSSContentSettings(
            placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE,
            include_vri=False,
        ),
    )
    output = loops.call(
        signers.sign_pdf,
        writer,
        metadata,
        signer=signer,
        timestamper=timestamper,
        bytes_reserved=_reserved_bytes(signer, timestamper),
    )
    return output.getvalue()
