"""The institution's seal on every finalized PDF: a PAdES signature made with pyHanko.

The key is a PKCS#12 file named by settings (SEAL_P12_PATH, passphrase from
SEAL_P12_PASSPHRASE). `python manage.py create_seal_key` makes a self-signed development
certificate; a hospital installs its own certificate instead. The loaded signer is kept for
the life of the process: parsing the key costs more than signing (PERFORMANCE-NOTES.md).

With SEAL_TSA_URL set, each seal also carries an RFC 3161 timestamp from that authority
(PAdES B-T), so the signing time does not rest on our own clock. If the authority cannot be
reached, sealing fails and nothing is finalized.
"""

import datetime
import io
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

FIELD_NAME = "InstitutionSeal"


class SealUnavailable(Exception):
    """No usable seal key is configured: nothing is finalized without the seal."""


def seal_key_create(path: Path, *, passphrase: bytes, common_name: str, years: int = 5) -> None:
    """Write a self-signed ECDSA P-256 certificate and key as PKCS#12 (development only)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, common_name[:64]),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # non-repudiation: what a seal on a record means
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"consent-seal",
            key,
            certificate,
            None,
            serialization.BestAvailableEncryption(passphrase),
        )
    )
    path.chmod(0o600)


@cache
def _signer(path: str, passphrase: bytes) -> signers.SimpleSigner:
    signer = signers.SimpleSigner.load_pkcs12(pfx_file=path, passphrase=passphrase)
    if signer is None:
        raise SealUnavailable(f"the seal key {path} could not be opened")
    return signer


def seal_signer() -> signers.SimpleSigner:
    path = Path(settings.SEAL_P12_PATH)
    if not path.is_file():
        raise SealUnavailable(
            f"no seal key at {path}: run `python manage.py create_seal_key` or set SEAL_P12_PATH"
        )
    return _signer(str(path), settings.SEAL_P12_PASSPHRASE.encode())


def seal_timestamper() -> TimeStamper | None:
    """The configured timestamp authority's client, or None when none is set."""
    url = settings.SEAL_TSA_URL
    return RequestsHTTPTimeStamper(url, timeout=10) if url else None


def pdf_seal(pdf: bytes, *, record_id: str) -> bytes:
    """Seal a PDF with an invisible PAdES signature, as an incremental update."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        reason=f"Finalized informed consent record {record_id}",
        location=settings.INSTITUTION_NAME,
        subfilter=SigSeedSubFilter.PADES,
    )
    output = signers.sign_pdf(
        writer, metadata, signer=seal_signer(), timestamper=seal_timestamper()
    )
    return output.getvalue()
