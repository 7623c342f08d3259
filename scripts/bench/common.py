"""What every phase of `make bench` shares: the environment, throwaway databases, results."""

import json
import os
import shutil
import statistics
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULT_PREFIX = "BENCH-JSON "
# The application as `make serve` runs it (DEBUG off), speaking plain HTTP on loopback, with a
# throwaway key and the bench's own settings module (scripts/bench/settings.py: the floor view).
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "scripts.bench.settings",
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-" + uuid.uuid4().hex + uuid.uuid4().hex,
    "SECURE_SSL_REDIRECT": "0",
    "SECURE_COOKIES": "0",
    "SECURE_HSTS_SECONDS": "0",
    "CONSENT_ALLOW_UNREVIEWED_CONTENT": "1",
    "LOG_LEVEL": "WARNING",
    "PYTHONWARNINGS": "ignore",
}


def shared_bench() -> Path:
    """../shared/bench beside the checkout (or beside the main checkout, from a git worktree)."""
    candidates = [ROOT.parent / "shared" / "bench"]
    common = subprocess.run(  # noqa: S603
        [shutil.which("git") or "git", "-C", str(ROOT), "rev-parse", "--git-common-dir"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if common:
        candidates.append((ROOT / common).resolve().parent.parent / "shared" / "bench")
    for candidate in candidates:
        if (candidate / "t0.html").exists():
            return candidate
    raise SystemExit(f"the floors' documents are not in {candidates[0]} (../shared/bench)")


def emit(result: dict) -> None:
    """A phase's result, for the orchestrator: one line of JSON on standard output."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def result_of(stdout: str) -> dict:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError("the phase printed no result")


def median(values) -> float:
    return float(statistics.median(list(values)))


def database_create(vendor: str, pg_url: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    """A fresh database's URL and how to drop it: a SQLite file, or a new PostgreSQL database."""
    if vendor == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.sqlite3"
        return f"sqlite:///{path}", lambda: None
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    base = pg_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")

    def drop() -> None:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    return f"{base}/{name}", drop


def django_setup(database_url: str, workdir: Path) -> None:
    """Set up Django in this process on the given database, files under `workdir`."""
    os.environ.update(BENCH_ENV)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("MEDIA_ROOT", str(workdir / "media"))
    os.environ.setdefault("AUDIT_CHECKPOINT_ROOT", str(workdir / "checkpoints"))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def plain_static() -> None:
    """Static files straight from the app directories (no collectstatic manifest), in process."""
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
