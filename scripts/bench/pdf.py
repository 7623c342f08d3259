"""Phase `pdf` of `make bench`: the record's render against T0 and R0, in one warm process.

    python -m scripts.bench.pdf --workdir DIR [--quick]

Method (the figures' names are those of bench-results.json):
- A realistic finalized MitraClip session (tests/record/test_pdf.py `finalized`: a wrong
  attempt, a flagged item, a patient question, an interpreter, drawn signatures) in a throwaway
  SQLite test database, its seal key made for the run.
- Each round renders, one after the other: T0 (../shared/bench/t0.html, one paragraph), R0
  (../shared/bench/reference-record.html, a plain 5-page record), the record unsealed
  (`record_document_pdf`: WeasyPrint, PDF/A-3b, attachment), the record sealed
  (`record_pdf_render`), the seal alone (`pdf_seal` on the unsealed bytes), and the unsealed
  record of two decided sessions with 40 and 400 audit events. Wall time and this process's CPU
  time are taken for each. Ratios are medians of the per-round ratios (a busy moment weighs on
  every step of its round alike). One warm-up round first (fonts, templates, the seal key).
- Memory: the sealed record rendered N times more (300; 6 with --quick), RSS read from
  /proc/self/statm after each; peak RSS from getrusage; growth per render is the least-squares
  slope from render N/6 to N, and RSS at N over RSS at N/6 (the issue's "render 50 to 300").
- Chromium: the record's HTML printed to PDF by a warm headless /usr/bin/chromium through
  Playwright (its static files served by a route), interleaved with T0; compared with the sealed
  record's median of this process.
"""

import argparse
import io
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from scripts.bench.common import (
    database_create,
    django_setup,
    emit,
    median,
    plain_static,
    shared_bench,
)

EVENTS_SMALL, EVENTS_LARGE = 40, 400


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def slope(xs: list[float], ys: list[float]) -> float:
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    top = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    bottom = sum((x - mean_x) ** 2 for x in xs)
    return top / bottom if bottom else 0.0


def timed(step) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def with_events(session, total: int) -> None:
    from django.db import transaction

    from consent.audit.events import audit_record
    from consent.models import AuditEvent

    missing = total - AuditEvent.objects.filter(session=session).count()
    with transaction.atomic():
        for _ in range(max(0, missing)):
            audit_record(
                action="session.viewed",
                role=AuditEvent.Role.PHYSICIAN,
                actor=session.physician,
                obj=session,
                session=session,
            )


def chromium_rounds(html: str, rounds: int, t0) -> list[dict[str, float]]:
    """Print the record's HTML in a warm Chromium, interleaved with T0 renders."""
    from playwright.sync_api import sync_playwright

    from consent.record.pdf import DOCUMENT_ORIGIN, static_file_for

    def serve(route) -> None:
        url = route.request.url
        if url == f"{DOCUMENT_ORIGIN}/record":
            route.fulfill(body=html, content_type="text/html; charset=utf-8")
        elif url.startswith("data:"):
            route.continue_()
        else:
            route.fulfill(path=static_file_for(url))

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.route(f"{DOCUMENT_ORIGIN}/**", serve)
        page.goto(f"{DOCUMENT_ORIGIN}/record", wait_until="load")
        page.pdf()  # warm
        for _ in range(rounds):
            results.append({"T0": timed(t0)[0], "chromium": timed(page.pdf)[0]})
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 1 if args.quick else 7
    memory_renders = 6 if args.quick else 300

    url, drop = database_create("sqlite", "", args.workdir)
    django_setup(url, args.workdir)
    plain_static()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    media = Path(tempfile.mkdtemp(prefix="media-", dir=args.workdir))
    settings.MEDIA_ROOT = media
    from consent.record.seal import seal_key_create

    seal = args.workdir / "seal.p12"
    seal_key_create(seal, passphrase=b"bench", common_name="Bench Hospital seal")
    settings.SEAL_P12_PATH, settings.SEAL_P12_PASSPHRASE = seal, "bench"
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        import weasyprint

        from consent.record.pdf import record_document_pdf, record_html, record_pdf_render
        from consent.record.seal import pdf_seal
        from consent.selectors.session import record_data_get
        from tests.record.test_pdf import Plan, decided, finalized

        started = time.perf_counter()
        record = finalized()
        session, record_id = record.session, record.record_id
        small = decided(Plan(doctor_username="dr.small"))
        large = decided(Plan(doctor_username="dr.large"))
        with_events(small, EVENTS_SMALL)
        with_events(large, EVENTS_LARGE)
        print(f"pdf: sessions built in {time.perf_counter() - started:.1f} s", flush=True)

        bench = shared_bench()
        floors = {
            name: (bench / file).read_text(encoding="utf-8")
            for name, file in (("T0", "t0.html"), ("R0", "reference-record.html"))
        }
        unsealed_bytes = record_document_pdf(session, record_id)
        steps = {
            "T0": lambda: weasyprint.HTML(string=floors["T0"]).write_pdf(),
            "R0": lambda: weasyprint.HTML(string=floors["R0"]).write_pdf(),
            "unsealed": lambda: record_document_pdf(session, record_id),
            "sealed": lambda: record_pdf_render(session, record_id),
            "seal": lambda: pdf_seal(unsealed_bytes, record_id=record_id),
            "events_40": lambda: record_document_pdf(small, "CR-BENCH-SMALL"),
            "events_400": lambda: record_document_pdf(large, "CR-BENCH-LARGE"),
        }
        for step in steps.values():
            step()
        walls, cpus = [], []
        for number in range(rounds):
            wall, cpu = {}, {}
            for name, step in steps.items():
                wall[name], cpu[name] = timed(step)
            walls.append(wall)
            cpus.append(cpu)
            print(f"pdf: round {number + 1}/{rounds}", flush=True)

        def ratio(top: str, floor: str, table=walls) -> float:
            return median(r[top] / r[floor] for r in table)

        from pypdf import PdfReader

        sealed_pdf = record_pdf_render(session, record_id)
        result: dict = {
            "rounds": rounds,
            "pages": len(PdfReader(io.BytesIO(sealed_pdf)).pages),
            "median_ms": {name: median(r[name] for r in walls) for name in steps},
            "median_cpu_ms": {name: median(r[name] for r in cpus) for name in steps},
        }
        ratios = {
            "record_over_r0": ratio("sealed", "R0"),
            "record_over_t0": ratio("sealed", "T0"),
            "record_unsealed_over_r0": ratio("unsealed", "R0"),
            "record_unsealed_over_t0": ratio("unsealed", "T0"),
            "record_unsealed_cpu_over_t0_cpu": ratio("unsealed", "T0", cpus),
            "r0_over_t0": ratio("R0", "T0"),
            "seal_over_t0": ratio("seal", "T0"),
            "seal_share_over_t0": median((r["sealed"] - r["unsealed"]) / r["T0"] for r in walls),
            "record_400_events_over_40": ratio("events_400", "events_40"),
        }

        # Memory over many renders of the sealed record.
        samples = []
        for number in range(memory_renders):
            record_pdf_render(session, record_id)
            samples.append(rss_mb())
            if (number + 1) % 50 == 0:
                print(f"pdf: memory, render {number + 1}/{memory_renders}", flush=True)
        first = memory_renders // 6
        xs = list(range(first, memory_renders))
        growth = slope([float(x) for x in xs], samples[first:])
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result["memory"] = {
            "renders": memory_renders,
            "rss_mb_at": {str(first + 1): samples[first - 1], str(memory_renders): samples[-1]},
            "peak_rss_mb": peak,
            "growth_mb_per_render": growth,
        }
        ratios["memory_rss_last_over_sixth"] = samples[-1] / samples[first - 1]
        figures = {
            "memory_peak_rss_mb": peak,
            "memory_growth_kb_per_render": growth * 1024,
            "t0_ms": result["median_ms"]["T0"],
            "r0_ms": result["median_ms"]["R0"],
            "record_sealed_ms": result["median_ms"]["sealed"],
        }

        html = record_html(record_data_get(session=session), record_id)
        connection.close()
        chromium = chromium_rounds(html, rounds, steps["T0"])
        chromium_ms = median(r["chromium"] for r in chromium)
        result["chromium_ms"] = chromium_ms
        ratios["chromium_print_over_t0"] = ratio("chromium", "T0", chromium)
        ratios["chromium_print_over_record"] = chromium_ms / result["median_ms"]["sealed"]
        result["ratios"], result["figures"] = ratios, figures
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        drop()
        shutil.rmtree(media, ignore_errors=True)
    emit(result)


if __name__ == "__main__":
    main()
