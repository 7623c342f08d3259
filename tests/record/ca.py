"""A local test certification authority for the seal: keys, a CRL served over HTTP, PKCS#12.

No network: the CRL is served on 127.0.0.1 while a test seals, then the server is stopped so
that verification shows it needs nothing from outside the file.
"""

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from consent.record.seal import ca_create, seal_certificate_issue, seal_p12_write

BITS = 2048  # test keys: fast to make; the command makes 3072-bit keys
PASSPHRASE = "test-passphrase"


@dataclass
class LocalCA:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    crl_url: str = ""
    revoked: set[int] = field(default_factory=set)
    crl_requests: int = 0

    def crl(self) -> bytes:
        now = datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(now - timedelta(minutes=1))
            .next_update(now + timedelta(days=7))
        )
        for serial in sorted(self.revoked):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(now - timedelta(minutes=1))
                .build()
            )
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def certificate_pem(self, path: Path) -> Path:
        path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        return path


def local_ca(name: str = "Test Hospital CA", crl_url: str = "") -> LocalCA:
    now = datetime.now(UTC)
    key, certificate = ca_create(
        name, not_before=now - timedelta(days=3650), not_after=now + timedelta(days=3650), bits=BITS
    )
    return LocalCA(key=key, certificate=certificate, crl_url=crl_url)


def seal_p12(
    path: Path,
    ca: LocalCA,
    *,
    not_before: datetime,
    not_after: datetime,
    common_name: str = "Test Hospital seal",
) -> tuple[Path, x509.Certificate]:
    """A seal key issued by `ca`, valid between the two times, as the PKCS#12 the app loads."""
    key, certificate = seal_certificate_issue(
        ca.key,
        ca.certificate,
        common_name,
        not_before=not_before,
        not_after=not_after,
        bits=BITS,
        crl_url=ca.crl_url,
    )
    seal_p12_write(
        path,
        passphrase=PASSPHRASE.encode(),
        key=key,
        certificate=certificate,
        chain=[ca.certificate],
    )
    return path, certificate


class CRLServer:
    """Serves a CA's current CRL at http://127.0.0.1:<port>/ca.crl until stopped."""

    def __init__(self) -> None:
        self.ca: LocalCA | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                assert server.ca is not None
                server.ca.crl_requests += 1
                body = server.ca.crl()
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/ca.crl"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


class TimestampServer:
    """An RFC 3161 authority (pyHanko's DummyTimeStamper) on 127.0.0.1, stamping `fixed_dt`
    when given (a seal made in the past), else the current time; `name` is its certificate's
    common name (a second authority is told apart by it)."""

    def __init__(
        self, fixed_dt: datetime | None = None, *, name: str = "Local Timestamp Authority"
    ) -> None:
        from asn1crypto import keys as asn1_keys
        from asn1crypto import tsp
        from asn1crypto import x509 as asn1_x509
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

        key = rsa.generate_private_key(public_exponent=65537, key_size=BITS)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=3650))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
            .sign(key, hashes.SHA256())
        )
        self.certificate = certificate
        stamper = DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(
                certificate.public_bytes(serialization.Encoding.DER)
            ),
            tsa_key=asn1_keys.PrivateKeyInfo.load(
                key.private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            ),
            fixed_dt=fixed_dt,
        )

        # The requests it answered, in order (a test counts them).
        self.requests_seen: list[bytes] = []
        requests_seen = self.requests_seen

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                requests_seen.append(body)
                answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/tsa"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def certificate_pem(self, path: Path) -> Path:
        """Write the authority's (self-signed) certificate, for SEAL_TSA_TRUSTED_CERTS."""
        path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        return path

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
