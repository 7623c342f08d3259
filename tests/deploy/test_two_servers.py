"""Two application servers, one PostgreSQL database, one object store: the deployment that
scales out (docs/deployment.md).

Server A is started by `make serve` itself (check --deploy, collectstatic, migrate, gunicorn);
server B by gunicorn directly, as a second machine would run it. Both are real processes on
ports of their own, with DEBUG off, reading the same CONSENT_S3_* environment (moto's server,
tests/deploy/conftest.py) and the same database (this run's test database). The patient uses
server A only and the physician server B only (an HTTP client, as a browser would: pages,
CSRF tokens, cookies): the attestation on B, the patient's signature on A, the finalization on
B (rendered, sealed and stored in the bucket by B), the patient's copy downloaded from A and
the physician's from B, byte for byte the same, and verified as authentic by uploading it to A.
Nothing is written to either server's disk; the audit chain, written by both, stays one chain.
"""

import hashlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import global_settings, settings
from django.db import connection

from consent.audit.chain import chain_verify
from consent.audit.checkpoint import checkpoints_verify
from consent.models import ConsentRecord, ConsentSession
from tests.factories import (
    PASSWORD,
    birth_date_post,
    issue_link,
    logged_in,
    reviewed_session,
)

POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not POSTGRESQL,
        reason="two application servers share one PostgreSQL database (make serve refuses "
        "SQLite); CI runs this on its PostgreSQL pass",
    ),
]

BASE_DIR = Path(settings.BASE_DIR)
# make serve collects the static files and migrates before gunicorn starts: allow for a loaded
# machine. Finalization renders and seals a PDF (7 to 25 s there).
START_SECONDS = 240
REQUEST_SECONDS = 180
ALERT = re.compile(r'<div[^>]*class="[^"]*alert[^"]*"[^>]*>(.*?)</div>', re.S)
# A loaded machine draws and seals a record in seconds; allow for a very slow one.
FINALIZE_SECONDS = 180
# The servers' key; this process signs the physician's session with it too.
SERVER_SECRET_KEY = "two-servers-test-" + "k" * 50
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return (
        f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    media: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_healthy(self) -> dict[str, str]:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"server {self.name} exited ({self.process.returncode}):\n{self.output()}"
                )
            try:
                response = requests.get(f"{self.url}/healthz", timeout=30)
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.5)  # not listening yet, or its worker still loading: ask again
                continue
            assert response.status_code == 200, response.text
            return response.json()
        pytest.fail(f"server {self.name} not healthy after {START_SECONDS} s:\n{self.output()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # make, gunicorn and its workers
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def server_environment(tmp_path: Path, store_environ: dict[str, str], name: str, port: int):
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CONSENT_", "PYTEST", "DATABASE_URL", "DEBUG", "SEAL_", "MAKE"))
        and key != "DJANGO_ALLOW_ASYNC_UNSAFE"  # the tests' own (conftest.py); never deployed
    }
    media = tmp_path / f"media-{name}"
    return media, {
        **inherited,
        **store_environ,
        "DATABASE_URL": database_url(),
        "SECRET_KEY": SERVER_SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        # Plain HTTP between the test and the servers (a TLS proxy is left out here).
        "SECURE_COOKIES": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "CONSENT_ALLOW_UNREVIEWED_CONTENT": "1",
        "SEAL_P12_PATH": str(settings.SEAL_P12_PATH),
        "SEAL_P12_PASSPHRASE": settings.SEAL_P12_PASSPHRASE,
        # Where files would go if the object store were not used: they must stay empty.
        "MEDIA_ROOT": str(media),
        "AUDIT_CHECKPOINT_ROOT": str(tmp_path / f"checkpoints-{name}"),
    }


def start(name: str, command: list[str], tmp_path: Path, store_environ: dict[str, str]):
    port = free_port()
    media, environment = server_environment(tmp_path, store_environ, name, port)
    log = tmp_path / f"server-{name}.log"
    command = [part.replace("{port}", str(port)) for part in command]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own commands
            command,
            cwd=BASE_DIR,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(name, f"http://127.0.0.1:{port}", process, log, media)


@pytest.fixture
def servers(transactional_db, object_store, settings, tmp_path) -> Iterator[tuple[Server, Server]]:
    object_store.use(settings)  # this process looks at the same store
    settings.SECRET_KEY = SERVER_SECRET_KEY
    # The servers hash passwords as deployed (the tests' fast MD5 is not among their hashers).
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    make_serve = ["make", "-s", "-o", ".venv/.installed", "serve", "HOST=127.0.0.1"]
    a = start("A", [*make_serve, "PORT={port}", "WORKERS=1"], tmp_path, object_store.environ)
    gunicorn = [str(BASE_DIR / ".venv" / "bin" / "gunicorn"), "consent_site.wsgi"]
    b = None
    try:
        assert a.wait_healthy() == {"database": "ok", "storage": "ok"}
        # B starts once A has migrated and collected the static files, as a second machine
        # would after the first deployment step.
        b = start(
            "B",
            [
                *gunicorn,
                "--bind",
                "127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "120",
                "--no-control-socket",
            ],
            tmp_path,
            object_store.environ,
        )
        assert b.wait_healthy() == {"database": "ok", "storage": "ok"}
        yield a, b
    finally:
        for server in (a, b):
            if server is not None:
                server.stop()


def token(response: requests.Response) -> str:
    assert response.status_code == 200, (response.status_code, response.url)
    found = CSRF.search(response.text)
    assert found, f"no form on {response.url}"
    return found.group(1)


def alerts(browser: requests.Session, url: str) -> list[str]:
    """The messages a page shows (what went wrong, when a step did not happen)."""
    text = browser.get(url, timeout=30).text
    return [re.sub(r"<[^>]+>|\s+", " ", m).strip() for m in ALERT.findall(text)]


def post(browser: requests.Session, url: str, data: dict, *, page: str | None = None, **kwargs):
    """Open the page with the form (for its CSRF token), then post it, not following."""
    data = {**data, "csrfmiddlewaretoken": token(browser.get(page or url, timeout=30))}
    return browser.post(url, data=data, allow_redirects=False, timeout=REQUEST_SECONDS, **kwargs)


def test_the_patient_on_one_server_and_the_physician_on_another_through_to_a_verified_record(
    servers, object_store
):
    a, b = servers
    session = reviewed_session()
    link = issue_link(session)
    staff = f"/staff/sessions/{session.public_id}"

    patient = requests.Session()  # on server A only
    physician = requests.Session()  # on server B (and A, to verify: one shared session store)
    physician.cookies.set("sessionid", logged_in(session.physician).cookies["sessionid"].value)

    # The patient opens the link on A and confirms the date of birth.
    opened = patient.get(f"{a.url}{link}", allow_redirects=False, timeout=30)
    assert opened.status_code == 302 and opened.headers["Location"] == "/patient/identity/"
    confirmed = post(patient, f"{a.url}/patient/identity/", birth_date_post())
    assert confirmed.status_code == 302, confirmed.text

    # The physician attests on B.
    attested = post(
        physician,
        f"{b.url}{staff}/attest/",
        {"attest-password": PASSWORD},
        page=f"{b.url}{staff}/review/",
    )
    assert attested.status_code == 302, attested.text
    assert attested.headers["Location"] == f"{staff}/review/#attestation"
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.ATTESTED, alerts(physician, f"{b.url}{staff}/")

    # The patient consents on A.
    signed = post(
        patient,
        f"{a.url}/patient/decision/",
        {"statements": ["0", "1", "2"], "typed_name": session.patient_name, "signature": ""},
    )
    assert signed.status_code == 302, signed.text

    # The physician countersigns on B; the record worker beside A (make serve starts one)
    # draws, seals and stores the record, while B's page says so and then lands on it.
    finalized = post(
        physician,
        f"{b.url}{staff}/finalize/",
        {"finalize-password": PASSWORD},
        page=f"{b.url}{staff}/review/",
    )
    assert finalized.status_code == 302, finalized.text
    assert finalized.headers["Location"] == f"{staff}/finalizing/"
    landed = None
    deadline = time.monotonic() + FINALIZE_SECONDS
    while time.monotonic() < deadline:
        waiting = physician.get(f"{b.url}{staff}/finalizing/", allow_redirects=False, timeout=60)
        if waiting.status_code == 302:
            landed = waiting.headers["Location"]
            break
        assert waiting.status_code == 200 and "Sealing the record" in waiting.text
        time.sleep(0.5)
    assert landed == f"{staff}/review/#record", (landed, a.output())
    record = ConsentRecord.objects.get(session=session)
    assert f"media/{record.pdf.name}" in object_store.object_keys()

    # The patient's copy from A, the physician's from B: the same stored bytes.
    copy = patient.get(f"{a.url}/patient/record.pdf", timeout=60)
    assert copy.status_code == 200 and copy.headers["Content-Type"] == "application/pdf"
    download = physician.get(f"{b.url}{staff}/record.pdf", timeout=60)
    assert download.status_code == 200
    assert copy.content == download.content
    assert hashlib.sha256(copy.content).hexdigest() == record.pdf_sha256

    # Uploaded to A, the physician's download is the authentic record.
    verified = post(
        physician,
        f"{a.url}/staff/verify/",
        {},
        files={"file": ("record.pdf", download.content, "application/pdf")},
    )
    assert verified.status_code == 200, verified.text
    assert f"Authentic: this is record {record.record_id}" in verified.text

    # Nothing on either server's disk; one audit chain, with B's checkpoint in its own bucket.
    for server in (a, b):
        assert not server.media.exists() or not any(p.is_file() for p in server.media.rglob("*"))
    assert chain_verify().intact
    checks = checkpoints_verify()
    assert checks and all(check.ok for check in checks), [c.message for c in checks]
    assert object_store.object_keys(object_store.checkpoint_bucket)
