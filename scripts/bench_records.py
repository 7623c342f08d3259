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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consent_site.settings")

BATCH = 5000
FIRST_NAMES = ["Anna", "Louis", "Marie", "Karim", "Sofia", "Jan", "Ines", "Paul", "Lena", "Omar"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Smith", "Novak", "Rossi", "Garcia", "Kowalski"]


def fill(size: int, doctors: list, versions: list, rng: random.Random) -> None:
    """Insert `size` sessions with signatures, records and flagged attempts in batches."""
    from consent.models import Attempt, ConsentRecord, ConsentSession, Question, Signature

    Status = ConsentSession.Status
    statuses = [
        (Status.FINALIZED, 55),
        (Status.CREATED, 8),
        (Status.REVIEWING, 10),
        (Status.READY_FOR_DISCUSSION, 8),
        (Status.ATTESTED, 5),
        (Status.SIGNED, 4),
        (Status.DECLINED, 3),
        (Status.CANCELLED, 7),
    ]
    population = [status for status, weight in statuses for _ in range(weight)]
    questions = {
        v.pk: list(Question.objects.filter(version=v).order_by("position")) for v in versions
    }
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = ConsentSession.objects.count()
    for offset in range(0, size, BATCH):
        count = min(BATCH, size - offset)
        sessions = []
        for number in range(made + offset, made + offset + count):
            version = rng.choice(versions)
            sessions.append(
                ConsentSession(
                    patient_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {number}",
                    patient_birth_date=date(1935 + number % 30, 1 + number % 12, 1 + number % 28),
                    patient_record_number=f"MRN-{number:07d}",
                    procedure_version=version,
                    physician=rng.choice(doctors),
                    created_by=doctors[0],
                    status=rng.choice(population),
                    max_reteach=2,
                )
            )
        ConsentSession.objects.bulk_create(sessions, batch_size=1000)
        # created_at is auto_now_add (the time of the insert): newest is still the highest id.
        stored = [(s.pk, s.status, s.physician_id) for s in sessions]
        signatures, records, attempts = [], [], []
        for pk, status, physician_id in stored:
            signed = start + timedelta(minutes=5 * pk)
            if status in (Status.FINALIZED, Status.SIGNED, Status.DECLINED):
                refused = status == Status.DECLINED or (
                    status == Status.FINALIZED and rng.random() < 0.08
                )
                kind = Signature.Kind.PATIENT_REFUSAL if refused else Signature.Kind.PATIENT_CONSENT
                signatures.append(
                    Signature(
                        session_id=pk,
                        kind=kind,
                        printed_name="Patient",
                        meaning="bench",
                        statement="bench",
                        method=Signature.Method.TYPED,
                        signed_at=signed,
                    )
                )
            if status == Status.FINALIZED:
                records.append(
                    ConsentRecord(
                        session_id=pk,
                        record_id=f"CR-2026-{pk:06d}",
                        pdf="records/bench/sample.pdf",
                        pdf_sha256="0" * 64,
                        pdf_size=90_000,
                        finalized_at=signed,
                        finalized_by_id=physician_id,
                    )
                )
            if rng.random() < 0.12:
                version_questions = questions[versions[0].pk]
                question = rng.choice(version_questions)
                attempts.extend(
                    Attempt(
                        session_id=pk,
                        question=question,
                        round=round_number,
                        answer=[0],
                        is_correct=False,
                    )
                    for round_number in (1, 2, 3)
                )
        Signature.objects.bulk_create(signatures, batch_size=1000)
        ConsentRecord.objects.bulk_create(records, batch_size=1000)
        Attempt.objects.bulk_create(attempts, batch_size=1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings
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
        from tests.factories import auditor, physician

        versions = [
            r.version
            for r in pack_import(
                packs=[load_pack(settings.BASE_DIR / "content" / "mitraclip.en.toml")]
            )
        ]
        doctors = [physician(username=f"dr.bench{n}") for n in range(6)]
        client = Client()
        client.force_login(auditor(username="bench.auditor"))
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
