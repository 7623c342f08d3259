"""`make bench` (scripts/bench): the floor view exists only in the bench, and the quick bench
runs end to end, printing every figure of issue 13 as a RATIO line and writing valid JSON.

Nothing timed is asserted. The end-to-end run is a smoke run of every phase (WeasyPrint renders,
gunicorn and wrk on SQLite and PostgreSQL, 10,000 sessions, 16 writers): it takes several
minutes on this 2-core machine, far beyond the suite's budget, so it runs only with
BENCH_SMOKE=1 (`BENCH_SMOKE=1 .venv/bin/python -m pytest tests/test_bench.py`).
"""

import json
import math
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings

# The figures, by the names the bench prints (`_pg`: the same on PostgreSQL).
REQUIRED = [
    "record_over_r0",
    "record_over_t0",
    "record_unsealed_cpu_over_t0_cpu",
    "seal_over_t0",
    "chromium_print_over_record",
    "record_400_events_over_40",
    "memory_rss_last_over_sixth",
    *(
        name + suffix
        for suffix in ("", "_pg")
        for name in (
            "patient_page_rps_over_h0",
            "patient_page_p99_over_h0",
            "patient_page_cpu_over_h0",
            "dashboard_1k_p50_over_h0",
            "dashboard_10k_over_1k",
            "records_list_1k_cpu_over_h0",
            "records_list_10k_over_1k",
            "records_list_declined_10k_over_1k",
            "records_list_withdrawn_10k_over_1k",
            "finalize_over_t0",
            "audit_wait_during_finalize_over_alone",
        )
    ),
    "audit_events_4w_over_1w_pg",
    "audit_events_16w_over_1w_pg",
]
FIGURES = [
    "memory_peak_rss_mb",
    "memory_growth_kb_per_render",
    "audit_events_per_s_1w_pg",
    "audit_events_per_s_16w_pg",
]
LINE = re.compile(r"^(RATIO|FIGURE) (\w+) = (\S+)$", re.MULTILINE)


def test_the_floor_view_is_not_part_of_the_application(client):
    """H0's bare view is served only under the bench's own settings module."""
    assert settings.ROOT_URLCONF == "consent_site.urls"
    assert client.get("/bench/floor/").status_code == 404


@pytest.mark.skipif(
    os.environ.get("BENCH_SMOKE") != "1", reason="several minutes: BENCH_SMOKE=1 runs it"
)
def test_quick_bench_prints_every_ratio_and_writes_json(tmp_path):
    out = tmp_path / "bench-results.json"
    run = subprocess.run(  # noqa: S603 (the project's own bench)
        [sys.executable, "-W", "ignore", "-m", "scripts.bench", "--quick", "--out", str(out)],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    printed = {(kind, name): value for kind, name, value in LINE.findall(run.stdout)}
    ratios = {name: value for (kind, name), value in printed.items() if kind == "RATIO"}
    for name in REQUIRED:
        assert name in ratios, name
        assert ratios[name] == "n/a" or math.isfinite(float(ratios[name])), name
    for name in FIGURES:
        assert ("FIGURE", name) in printed, name
    results = json.loads(out.read_text())
    assert results["quick"] is True
    assert set(results["ratios"]) == set(ratios)
    for name, value in results["ratios"].items():
        assert ratios[name] == ("n/a" if value is None else f"{value:.4g}"), name
    assert results["phases"]["pdf"]["median_ms"]["T0"] > 0
    assert results["phases"]["load_postgresql"]["h0_first"]["requests"] > 0
