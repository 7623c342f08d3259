"""How long does an audit write wait while a large record is being finalized? Before and after.

    .venv/bin/python scripts/bench_finalize.py --before REV [--after HEAD] [--events 400]
        [--runs 3] [--database-url postgres://USER@HOST:PORT/ANY]

For each of the two commits, in a temporary git worktree of it (the working tree is left
alone), a fresh database is made and migrated (a SQLite file, or with --database-url a new
PostgreSQL database on that server, dropped afterwards) and --runs large sessions are built
(a decided MitraClip session and --events more events in its audit trail). A writer process
then loops, every 50 ms, over two requests: the audit write a staff page makes before it
shows health data (`staff_access_record`, what the dashboard and the session pages write:
"write") and a bare Django view through the whole middleware stack, writing nothing
("floor"). Meanwhile the main process finalizes each session for real (WeasyPrint and the
PAdES seal), noting when the drawing starts and ends. Per commit it prints the writes' wait
while a record was drawn (median, max, failures), the floor's median in the same run, and the
ratio of the two; the machine is shared and noisy: compare medians and ratios.

Columns: `draw s` the median drawing (render and seal); `writes` the writes that overlapped a
drawing and succeeded, `wait ms` / `max ms` their median and longest time; `floor ms` the bare
view's median; `ratio` wait / floor; `outside` the writes' median away from any drawing;
`failed` the writes that overlapped a drawing and failed (SQLite: "database is locked" after
its 5 s busy timeout), then the distinct errors.

Internal modes (run by the script itself, in the worktree): --measure, --writer.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE_ENV = {
    "DJANGO_SETTINGS_MODULE": "consent_site.settings",
    "DEBUG": "0",
    "SECRET_KEY": "bench-finalize-" + "x" * 40,
    "CONSENT_ALLOW_UNREVIEWED_CONTENT": "1",
    "CONN_MAX_AGE": "0",
}
PAUSE = 0.05  # between a writer's requests
GIT = shutil.which("git") or "git"


def _django(database_url: str) -> None:
    os.environ.update(BASE_ENV)
    os.environ["DATABASE_URL"] = database_url
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    settings.SECURE_SSL_REDIRECT = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Static files straight from the app directories, as in the tests (no manifest).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# The writer: another process, as another application worker would be.


def floor_view(request):  # a bare Django view: the request overhead, nothing written
    from django.http import HttpResponse

    return HttpResponse("ok")


urlpatterns: list = []


def writer(args: argparse.Namespace) -> None:
    _django(args.database_url)
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import path

    from consent.audit.events import Origin, staff_access_record
    from consent.models import ConsentSession

    urlpatterns.append(path("bench-floor/", floor_view))
    settings.ROOT_URLCONF = __name__
    user = User.objects.get(pk=args.user)
    session = ConsentSession.objects.get(pk=args.session)
    client = Client()
    origin = Origin(ip="127.0.0.1", user_agent="bench")
    stop = Path(args.stop)
    print(json.dumps({"ready": True}), flush=True)
    while not stop.exists():
        for kind in ("write", "floor"):
            started, error = time.monotonic(), ""
            try:
                if kind == "write":
                    staff_access_record(
                        user=user,
                        origin=origin,
                        action="session.viewed",
                        obj=session,
                        session=session,
                    )
                elif client.get("/bench-floor/").status_code != 200:
                    raise RuntimeError("the bare view failed")
            except Exception as failure:  # a lost write: counted, reported
                error = f"{type(failure).__name__}: {failure}"[:200]
            sample = {"kind": kind, "start": started, "end": time.monotonic(), "error": error}
            print(json.dumps(sample), flush=True)
            time.sleep(PAUSE)


# One commit: build, finalize while the writer writes, report.


def measure(args: argparse.Namespace) -> None:
    _django(args.database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.conf import settings

    from consent.record.seal import seal_key_create

    seal = Path(os.environ["MEDIA_ROOT"]).parent / "seal.p12"
    seal_key_create(seal, passphrase=b"bench", common_name="Bench Hospital seal")
    settings.SEAL_P12_PATH, settings.SEAL_P12_PASSPHRASE = seal, "bench"
    from django.db import connection, transaction

    from consent.audit.events import audit_record
    from consent.models import AuditEvent, ConsentSession
    from consent.record import pdf
    from consent.services import signatures
    from tests import factories

    doctor = factories.physician()
    other = factories.decided_session(doctor=doctor, patient_name="Paul Autre")
    sessions = []
    for number in range(args.runs):
        session = factories.decided_session(doctor=doctor, patient_name=f"Marie Curieuse {number}")
        with transaction.atomic():
            for _ in range(args.events):
                audit_record(
                    action="session.viewed",
                    role=AuditEvent.Role.PHYSICIAN,
                    actor=doctor,
                    obj=session,
                    session=session,
                )
        sessions.append(session)
    connection.close()

    windows: list[tuple[float, float]] = []
    real_render = pdf.record_pdf_render

    def timed_render(*render_args):
        started = time.monotonic()
        try:
            return real_render(*render_args)
        finally:
            windows.append((started, time.monotonic()))

    pdf.record_pdf_render = timed_render
    stop = Path(tempfile.mkdtemp(prefix="bench-finalize-stop-")) / "stop"
    env = {**os.environ}
    command = [
        sys.executable,
        __file__,
        "--writer",
        "--database-url",
        args.database_url,
        "--user",
        str(doctor.pk),
        "--session",
        str(other.pk),
        "--stop",
        str(stop),
    ]
    process = subprocess.Popen(  # noqa: S603 (this script, its own arguments)
        command, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    if process.stdout is None:
        raise RuntimeError("no writer")
    json.loads(process.stdout.readline())  # ready
    finalize_seconds = []
    time.sleep(1.0)
    for session in sessions:
        started = time.monotonic()
        try:
            signatures.session_finalize(
                session=ConsentSession.objects.get(pk=session.pk),
                physician=doctor,
                password=factories.PASSWORD,
            )
        except Exception as error:
            stop.touch()
            raise SystemExit(f"finalization failed: {error!r} from {error.__cause__!r}") from error
        finalize_seconds.append(time.monotonic() - started)
        time.sleep(1.0)
    stop.touch()
    samples = [json.loads(line) for line in process.stdout]
    process.wait()
    shutil.rmtree(stop.parent, ignore_errors=True)

    def during(sample: dict) -> bool:
        return any(sample["start"] < end and sample["end"] > start for start, end in windows)

    writes = [s for s in samples if s["kind"] == "write"]
    held = [s["end"] - s["start"] for s in writes if during(s) and not s["error"]]
    free = [s["end"] - s["start"] for s in writes if not during(s) and not s["error"]]
    floor = [s["end"] - s["start"] for s in samples if s["kind"] == "floor" and not s["error"]]
    prefix = "BENCH-JSON " if args.emit else ""  # for make bench (scripts/bench)
    print(
        prefix
        + json.dumps(
            {
                "vendor": connection.vendor,
                "runs": args.runs,
                "events": args.events,
                "draw_s": statistics.median(end - start for start, end in windows),
                "finalize_s": statistics.median(finalize_seconds),
                "writes_during_draw": len(held),
                "failed_during_draw": sum(1 for s in writes if during(s) and s["error"]),
                "wait_during_draw_ms": statistics.median(held) * 1000 if held else None,
                "max_wait_ms": max(held) * 1000 if held else None,
                "wait_outside_ms": statistics.median(free) * 1000 if free else None,
                "floor_ms": statistics.median(floor) * 1000,
                "failures": sorted({s["error"] for s in samples if s["error"]}),
            }
        )
    )


# The comparison: each commit in its own worktree, its own database.


def _database(url: str | None, directory: Path) -> tuple[str, object]:
    """A fresh database URL and how to drop it."""
    if not url:
        return f"sqlite:///{directory / 'bench.sqlite3'}", lambda: None
    import psycopg

    name = f"bench_finalize_{uuid.uuid4().hex[:8]}"
    base = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")

    def drop() -> None:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    return f"{base}/{name}", drop


def run_commit(rev: str, args: argparse.Namespace) -> dict:
    directory = Path(tempfile.mkdtemp(prefix="bench-finalize-"))
    tree = directory / "tree"
    subprocess.run(  # noqa: S603
        [GIT, "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), rev], check=True
    )
    database_url, drop = _database(args.database_url, directory)
    try:
        (tree / ".venv").symlink_to(ROOT / ".venv")
        script = tree / "scripts" / "_bench_finalize.py"
        shutil.copy(__file__, script)
        env = {
            **os.environ,
            "MEDIA_ROOT": str(directory / "media"),
            "AUDIT_CHECKPOINT_ROOT": str(directory / "checkpoints"),
        }
        command = [
            sys.executable,
            "-W",
            "ignore",
            str(script),
            "--measure",
            "--database-url",
            database_url,
            "--runs",
            str(args.runs),
            "--events",
            str(args.events),
        ]
        result = subprocess.run(  # noqa: S603
            command, cwd=tree, env=env, capture_output=True, text=True
        )
        if result.returncode:
            sys.exit(f"{rev}: the measurement failed\n{result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        drop()  # type: ignore[operator]
        subprocess.run(  # noqa: S603
            [GIT, "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False
        )
        shutil.rmtree(directory, ignore_errors=True)


def compare(args: argparse.Namespace) -> None:
    results = {}
    for label, rev in (("before", args.before), ("after", args.after)):
        commit = subprocess.run(  # noqa: S603
            [GIT, "-C", str(ROOT), "rev-parse", "--short", rev],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"{label}: {commit} ...", flush=True)
        results[label] = {"commit": commit, **run_commit(rev, args)}
    first = results["before"]
    print(
        f"\n{first['vendor']}, {first['runs']} finalizations of a record with "
        f"{first['events']} extra events; a writer every {PAUSE * 1000:.0f} ms in another "
        "process"
    )
    print(
        f"{'':8} {'commit':>9} {'draw s':>7} {'writes':>6} {'wait ms':>8} {'max ms':>8} "
        f"{'floor ms':>8} {'ratio':>7} {'outside':>8} {'failed':>6}  failures"
    )
    for label, r in results.items():
        wait = r["wait_during_draw_ms"]
        ratio = f"{wait / r['floor_ms']:.1f}" if wait is not None else "-"
        print(
            f"{label:8} {r['commit']:>9} {r['draw_s']:7.2f} {r['writes_during_draw']:6d} "
            f"{wait or 0:8.1f} {r['max_wait_ms'] or 0:8.1f} {r['floor_ms']:8.1f} "
            f"{ratio:>7} {r['wait_outside_ms'] or 0:8.1f} {r['failed_during_draw']:6d}  "
            f"{'; '.join(r['failures']) or '-'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", help="the commit to compare with (old behaviour)")
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--user", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--session", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stop", help=argparse.SUPPRESS)
    parser.add_argument("--emit", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        writer(args)
    elif args.measure:
        measure(args)
    elif args.before:
        compare(args)
    else:
        parser.error("--before REV is needed (e.g. the commit before the change measured)")


if __name__ == "__main__":
    main()
