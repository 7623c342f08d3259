"""Time the patient's pages through Django's test client, in a throwaway test database.

    .venv/bin/python scripts/bench_pages.py [--runs 50]

Prints the median and spread of each page's server time, and its query count. Machines here
are shared and noisy: compare ratios and medians, not single numbers.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consent_site.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    # Static URLs without a collectstatic manifest, as in the tests.
    plain_static = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override_settings(STORAGES=plain_static).enable()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        from tests.factories import consent_session, patient_client, read_all_sections

        session = consent_session()
        client = patient_client(session)
        read_all_sections(client, session)
        risks = session.procedure_version.sections.get(kind="risks").position
        pages = {
            "section": "/patient/section/1/",
            "risks section (icon arrays)": f"/patient/section/{risks}/",
            "question": "/patient/question/1/",
            "ask": "/patient/ask/",
        }
        print(f"| page | median ms | min ms | max ms | queries |  ({args.runs} runs)")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, path in pages.items():
            client.get(path)  # warm
            timings = []
            for _ in range(args.runs):
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}")
            with CaptureQueriesContext(connection) as queries:
                client.get(path)
            print(
                f"| {name} | {statistics.median(timings):.1f} | {min(timings):.1f} | "
                f"{max(timings):.1f} | {len(queries)} |"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
