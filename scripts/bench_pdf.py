"""Time the consent record's PDF rendering in a warm process, in a throwaway test database.

    .venv/bin/python scripts/bench_pdf.py [--runs 7] [--out test-artifacts/pdf/record.pdf]

Builds a realistic finalized MitraClip session through the services (one wrong attempt, a
flagged item, a patient question, an interpreter, drawn signatures), then calls
`consent.record.pdf.record_pdf_render` --runs times after one warm-up render, and prints the median,
min and max, the page count and the PDF size. Machines here are shared and noisy: compare
medians, not single numbers. Files go to a temporary MEDIA_ROOT that is removed afterwards.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consent_site.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, help="also write the rendered PDF here")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import setup_test_environment

    setup_test_environment()
    media = tempfile.TemporaryDirectory(prefix="bench-pdf-media-")
    override_settings(
        MEDIA_ROOT=Path(media.name),
        # Static files straight from the app directories, as in the tests (no manifest).
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    ).enable()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        from pypdf import PdfReader

        from consent.record.pdf import record_pdf_render
        from tests.record.test_pdf import finalized

        started = time.perf_counter()
        record = finalized()
        print(f"built and finalized a session in {time.perf_counter() - started:.2f} s")
        session = record.session

        pdf = record_pdf_render(session, record.record_id)  # warm: fonts, templates, CSS
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            pdf = record_pdf_render(session, record.record_id)
            timings.append((time.perf_counter() - started) * 1000)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        print(f"record_pdf_render, {args.runs} runs after one warm-up:")
        print(
            f"  median {statistics.median(timings):.0f} ms, "
            f"min {min(timings):.0f} ms, max {max(timings):.0f} ms"
        )
        print(f"  {pages} pages, {len(pdf) / 1024:.1f} KiB ({len(pdf)} bytes)")
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_bytes(pdf)
            print(f"  written to {args.out}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        media.cleanup()


if __name__ == "__main__":
    main()
