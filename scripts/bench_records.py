"""Time the auditor's records list at scale, in a throwaway test database.

    .venv/bin/python scripts/bench_records.py [--sizes 1000 100000] [--runs 7]

For each size the database is filled with that many consent sessions (a realistic mix of
statuses, decisions, physicians, versions, flags and finalized records) by bulk inserts, which
is only fit for a benchmark: the rows carry no audit events and the records share one sample
PDF. Then the list page is requested through Django's test client, as a logged-in auditor, for
the default view, a deep page, each filter and the searches; the median server time and the
query count of each are printed. Machines here are shared and noisy: compare ratios and
medians, not single numbers. With DATABASE_URL set to PostgreSQL it measures PostgreSQL.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consent_site.settings")

from scripts.bench.fill import fill


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    plain_static = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override_settings(STORAGES=plain_static).enable()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        from consent.content.importing import pack_import
        from consent.content.packs import load_pack
        from consent.models import ConsentSession
        from tests.factories import auditor, logged_in, physician

        versions = [
            r.version
            for r in pack_import(
                packs=[load_pack(settings.BASE_DIR / "content" / "mitraclip.en.toml")]
            )
        ]
        doctors = [physician(username=f"dr.bench{n}") for n in range(6)]
        client = logged_in(auditor(username="bench.auditor"))
        rng = random.Random(20261125)  # noqa: S311 (test data, not secrets)

        def timed(label: str, method: str, url: str, data: dict | None = None) -> None:
            times, queries = [], 0
            for _ in range(args.runs):
                if data is not None:  # set the filters in the session, then time the list
                    client.post("/audit/", data)
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = getattr(client, method)(url)
                    times.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{label}: HTTP {response.status_code}")
                queries = len(captured)
            client.post("/audit/", {"clear": "1"})
            print(
                f"  {label:<34} median {statistics.median(times):8.1f} ms"
                f"  (min {min(times):7.1f}, max {max(times):7.1f})  {queries:3d} queries"
            )

        for size in args.sizes:
            started = time.perf_counter()
            fill(size - ConsentSession.objects.count(), doctors, versions, rng)
            print(
                f"\n{ConsentSession.objects.count():,} sessions on {connection.vendor}"
                f" (filled in {time.perf_counter() - started:.0f} s), {args.runs} runs each:"
            )
            timed("list, first page", "get", "/audit/")
            timed(
                "list, page 1000" if size >= 50_000 else "list, last page",
                "get",
                "/audit/?page=1000",
            )
            timed("status = finalized", "get", "/audit/", {"status": "finalized"})
            timed("decision = declined", "get", "/audit/", {"decision": "declined"})
            timed("decision = withdrawn", "get", "/audit/", {"decision": "withdrawn"})
            timed("only flagged", "get", "/audit/", {"flagged": "on"})
            timed(
                "physician + date range",
                "get",
                "/audit/",
                {"physician": doctors[2].pk, "date_from": "2026-01-01", "date_to": "2026-12-31"},
            )
            timed("search name 'smith'", "get", "/audit/", {"q": "smith"})
            timed("search record id", "get", "/audit/", {"q": "CR-2026-000500"})
            timed("sort by patient name", "get", "/audit/", {"sort": "patient"})
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
