"""Phase `writers` of `make bench`: audit events per second with 1, 4 and 16 concurrent writers.

    python -m scripts.bench.writers --pg-url URL --workdir DIR [--quick]

Method: a fresh PostgreSQL database (dropped afterwards), migrated, one physician and one
session. For each number of writers N, N processes each set up Django, say they are ready,
wait for a common start, then for D seconds (10; 3 with --quick) write the audit event a staff
page writes before it shows health data (`staff_access_record`, session.viewed: one transaction
that takes the chain's lock and appends one hash-chained event), as fast as they can. Events
per second is the sum of their writes over D. Every writer's failures are counted; any fails
the phase.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from scripts.bench.common import ROOT, database_create, django_setup, emit

WRITERS = (1, 4, 16)


def writer(args: argparse.Namespace) -> None:
    django_setup(args.database_url, args.workdir)
    from django.contrib.auth.models import User

    from consent.audit.events import Origin, staff_access_record
    from consent.models import ConsentSession

    user = User.objects.get(pk=args.user)
    session = ConsentSession.objects.get(pk=args.session)
    origin = Origin(ip="127.0.0.1", user_agent="bench")
    print("ready", flush=True)
    start = float(sys.stdin.readline())
    time.sleep(max(0.0, start - time.time()))
    end, count, failures = start + args.seconds, 0, 0
    while time.time() < end:
        try:
            staff_access_record(
                user=user, origin=origin, action="session.viewed", obj=session, session=session
            )
            count += 1
        except Exception:  # counted and reported; the phase fails on any
            failures += 1
    print(json.dumps({"count": count, "failures": failures}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-url", default="")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--user", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--session", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=10, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        writer(args)
        return
    seconds = 3 if args.quick else 10
    database_url, drop = database_create("postgresql", args.pg_url, args.workdir)
    results: dict = {"seconds": seconds}
    try:
        django_setup(database_url, args.workdir)
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        from tests.factories import consent_session, physician

        doctor = physician(username="dr.writer")
        session = consent_session(doctor=doctor)
        connection.close()
        for count in WRITERS:
            command = [
                sys.executable,
                "-W",
                "ignore",
                "-m",
                "scripts.bench.writers",
                "--writer",
                "--workdir",
                str(args.workdir),
                "--database-url",
                database_url,
                "--user",
                str(doctor.pk),
                "--session",
                str(session.pk),
                "--seconds",
                str(seconds),
            ]
            processes = [
                subprocess.Popen(  # noqa: S603 (this module, its own arguments)
                    command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
                )
                for _ in range(count)
            ]
            for process in processes:
                if process.stdout is None or process.stdout.readline().strip() != "ready":
                    raise SystemExit("a writer did not start")
            start = time.time() + 1
            for process in processes:
                if process.stdin is None:
                    raise SystemExit("a writer has no input")
                process.stdin.write(f"{start}\n")
                process.stdin.flush()
            outcomes = []
            for process in processes:
                out, _ = process.communicate()
                outcomes.append(json.loads(out.strip().splitlines()[-1]))
            written = sum(o["count"] for o in outcomes)
            failed = sum(o["failures"] for o in outcomes)
            results[f"writers_{count}"] = {
                "events": written,
                "failures": failed,
                "events_per_s": written / seconds,
            }
            print(f"writers: {count:2d} -> {written / seconds:.0f} events/s", flush=True)
            if failed:
                raise SystemExit(f"{failed} audit writes failed with {count} writers")
    finally:
        from django.db import connections

        connections.close_all()
        drop()
    emit(results)


if __name__ == "__main__":
    main()
