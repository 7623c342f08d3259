"""Time the consent record's PDF rendering in a warm process, in a throwaway test database.

    .venv/bin/python scripts/bench_pdf.py [--runs 7] [--out test-artifacts/pdf/record.pdf]

Builds a realistic finalized MitraClip session through the services (one wrong attempt, a
flagged item, a patient question, an interpreter, drawn signatures), then calls
the record's render (unsealed and sealed) --runs times after one warm-up, interleaved with the
floors of ../shared/bench (T0: one paragraph; R0: a plain 5-page record), and prints medians,
the medians of the per-round ratios, the page count and the PDF size. Machines here are shared
and noisy: compare medians and ratios, not single numbers. Files go to a temporary MEDIA_ROOT
that is removed afterwards.
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

        import weasyprint

        from consent.record.pdf import record_document_pdf

        bench = ROOT.parent / "shared" / "bench"
        floors = {
            name: (bench / file).read_text(encoding="utf-8")
            for name, file in (("T0", "t0.html"), ("R0", "reference-record.html"))
        }

        def render_floor(name: str) -> bytes:
            return weasyprint.HTML(string=floors[name]).write_pdf()

        steps = {
            "T0": lambda: render_floor("T0"),
            "R0": lambda: render_floor("R0"),
            "unsealed": lambda: record_document_pdf(session, record.record_id),
            "sealed": lambda: record_pdf_render(session, record.record_id),
        }
        for step in steps.values():  # warm: fonts, templates, CSS, the seal key
            step()
        rounds: list[dict[str, float]] = []
        for _ in range(args.runs):
            # Interleaved, so that a busy moment of the machine weighs on every step alike.
            times = {}
            for name, step in steps.items():
                started = time.perf_counter()
                step()
                times[name] = (time.perf_counter() - started) * 1000
            rounds.append(times)
        pdf = record_pdf_render(session, record.record_id)
        timings = [r["sealed"] for r in rounds]

        def ratio(top: str, floor: str) -> float:
            return statistics.median(r[top] / r[floor] for r in rounds)

        print(f"{args.runs} interleaved rounds after one warm-up (medians):")
        for name in steps:
            print(f"  {name:>8}: {statistics.median(r[name] for r in rounds):7.0f} ms")
        print(
            f"  ratios (median of per-round ratios): unsealed/T0 {ratio('unsealed', 'T0'):.1f}x, "
            f"sealed/T0 {ratio('sealed', 'T0'):.1f}x, R0/T0 {ratio('R0', 'T0'):.1f}x, "
            f"unsealed/R0 {ratio('unsealed', 'R0'):.2f}x, sealed/R0 {ratio('sealed', 'R0'):.2f}x"
        )
        seal = statistics.median((r["sealed"] - r["unsealed"]) / r["T0"] for r in rounds)
        print(f"  the seal's share (sealed - unsealed) / T0: {seal:.1f}x")
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
