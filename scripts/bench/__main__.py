"""`make bench`: every figure of issue 13's table, as ratios against floors measured in the
same run, printed one a line (`RATIO <name> = <x>`, raw figures as `FIGURE <name> = <x>`) and
written with every raw median to bench-results.json.

    .venv/bin/python -m scripts.bench [--quick] [--pg-url postgres://USER@HOST:PORT/ANY]
        [--databases sqlite postgresql] [--out bench-results.json]

Each phase runs in its own process, one after the other (the machine has 2 cores and is shared:
nothing else of the bench runs beside a measurement), on its own throwaway database: a SQLite
file, or a PostgreSQL database made on the --pg-url server (BENCH_DATABASE_URL, by default
postgres://postgres@127.0.0.1:5432/postgres) and dropped afterwards. Methods, in each phase's
docstring:

- scripts/bench/pdf.py: T0, R0 and the record (unsealed, sealed, the seal alone, 40 and 400
  events) interleaved in one warm process; memory over 300 renders; Chromium printing the same
  HTML. Names: record_over_r0, record_over_t0, record_unsealed_*, r0_over_t0, seal_over_t0,
  record_400_events_over_40, memory_*, chromium_print_*.
- scripts/bench/load.py, once per database (suffix `_pg` on PostgreSQL): gunicorn as make serve
  runs it, wrk at 20 connections; H0 is a bare Django view on the same gunicorn
  (/healthz queries the database and probes storage: measured, not the floor). Names:
  patient_page_{rps,p99,cpu}_over_h0, healthz_rps_over_h0, dashboard_<size>_*,
  records_list_*_<large>_over_<small> (p50 over p50), *_p50_over_h0; each staff list also for
  one user at a time: FIGURE *_<size>_one_user_p50_ms and RATIO *_one_user_<large>_over_<small>.
- scripts/bench/writers.py (PostgreSQL): audit events per second with 1, 4 and 16 writers.
- scripts/bench_finalize.py --measure, once per database: an audit write's wait while another
  session's large record is finalized, over the same write's time away from any finalization
  (audit_wait_during_finalize_over_alone) and over the drawing's time; the finalization's time
  over T0 (finalize_over_t0).

--quick: one round, 6 renders for memory, 5 s per load run, 1,000 and 10,000 sessions, 3 s per
writer count, one finalization of a 40-event record: a smoke run of every step, whose figures
are too short to quote.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.bench.common import BENCH_ENV, ROOT, database_create, result_of

PYTHON = [sys.executable, "-W", "ignore"]


def size_label(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)


def sizes(quick: bool) -> tuple[int, int]:
    return (1_000, 10_000) if quick else (1_000, 100_000)


def shown(value: float | None) -> str:
    """A figure as printed; n/a when the run had nothing to measure (e.g. no overlap)."""
    return "n/a" if value is None else f"{value:.4g}"


def phase(name: str, command: list[str], env: dict | None = None) -> dict:
    print(f"== {name}", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 (this package's own modules)
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None  # noqa: S101 (Popen with PIPE)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if not line.startswith("BENCH-JSON"):
            print(f"   {line.rstrip()}", flush=True)
    if process.wait():
        raise SystemExit(f"bench phase {name} failed (exit {process.returncode})")
    result = result_of("".join(lines))
    result["phase_seconds"] = time.perf_counter() - started
    return result


def load_ratios(load: dict, suffix: str, small: str, large: str) -> tuple[dict, dict]:
    h0 = {
        key: (load["h0_first"][key] + load["h0_last"][key]) / 2
        for key in ("rps", "p50_ms", "p99_ms", "cpu_ms_per_request")
    }
    page = load["patient_section"]
    ratios = {
        "patient_page_rps_over_h0": page["rps"] / h0["rps"],
        "patient_page_p99_over_h0": page["p99_ms"] / h0["p99_ms"],
        "patient_page_cpu_over_h0": page["cpu_ms_per_request"] / h0["cpu_ms_per_request"],
        "healthz_rps_over_h0": load["healthz"]["rps"] / h0["rps"],
    }
    figures = {
        "h0_rps": h0["rps"],
        "h0_p99_ms": h0["p99_ms"],
        "h0_cpu_ms": h0["cpu_ms_per_request"],
        "patient_page_rps": page["rps"],
        "patient_page_p99_ms": page["p99_ms"],
        "patient_page_cpu_ms": page["cpu_ms_per_request"],
    }
    lists = ("dashboard", "records_list", "records_list_declined", "records_list_withdrawn")
    for name in lists:
        for label, key in ((small, "small"), (large, "large")):
            run = load[f"{name}_{key}"]
            ratios[f"{name}_{label}_rps_over_h0"] = run["rps"] / h0["rps"]
            ratios[f"{name}_{label}_p50_over_h0"] = run["p50_ms"] / h0["p50_ms"]
            ratios[f"{name}_{label}_cpu_over_h0"] = (
                run["cpu_ms_per_request"] / h0["cpu_ms_per_request"]
            )
            figures[f"{name}_{label}_p50_ms"] = run["p50_ms"]
            figures[f"{name}_{label}_cpu_ms"] = run["cpu_ms_per_request"]
            if f"{name}_{key}_alone" in load:
                figures[f"{name}_{label}_one_user_p50_ms"] = load[f"{name}_{key}_alone"]["p50_ms"]
        ratios[f"{name}_{large}_over_{small}"] = (
            load[f"{name}_large"]["p50_ms"] / load[f"{name}_small"]["p50_ms"]
        )
        if f"{name}_large_alone" in load:
            ratios[f"{name}_one_user_{large}_over_{small}"] = (
                load[f"{name}_large_alone"]["p50_ms"] / load[f"{name}_small_alone"]["p50_ms"]
            )
    for label, seconds in load["fill_seconds"].items():
        figures[f"fill_{size_label(int(label))}_seconds"] = seconds
    return (
        {name + suffix: value for name, value in ratios.items()},
        {name + suffix: value for name, value in figures.items()},
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument(
        "--databases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results.json")
    args = parser.parse_args()
    quick = ["--quick"] if args.quick else []
    small, large = (size_label(size) for size in sizes(args.quick))
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    started = time.time()
    results: dict = {
        "quick": args.quick,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "commit": subprocess.run(  # noqa: S603
            [shutil.which("git") or "git", "-C", str(ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_before": os.getloadavg(),
        "phases": {},
    }
    ratios: dict[str, float | None] = {}
    figures: dict[str, float | None] = {}
    try:
        static = workdir / "static"
        env = {**os.environ, **BENCH_ENV, "BENCH_STATIC_ROOT": str(static)}
        subprocess.run(  # noqa: S603
            [*PYTHON, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        pdf = phase("pdf", [*PYTHON, "-m", "scripts.bench.pdf", "--workdir", str(workdir), *quick])
        results["phases"]["pdf"] = pdf
        ratios.update(pdf["ratios"])
        figures.update(pdf["figures"])
        t0_ms = pdf["median_ms"]["T0"]

        for vendor in args.databases:
            suffix = "_pg" if vendor == "postgresql" else ""
            load = phase(
                f"load ({vendor})",
                [
                    *PYTHON,
                    "-m",
                    "scripts.bench.load",
                    "--vendor",
                    vendor,
                    "--pg-url",
                    args.pg_url,
                    "--workdir",
                    str(workdir),
                    "--static-root",
                    str(static),
                    *quick,
                ],
            )
            results["phases"][f"load_{vendor}"] = load
            more_ratios, more_figures = load_ratios(load, suffix, small, large)
            ratios.update(more_ratios)
            figures.update(more_figures)

        if "postgresql" in args.databases:
            writers = phase(
                "writers (postgresql)",
                [
                    *PYTHON,
                    "-m",
                    "scripts.bench.writers",
                    "--pg-url",
                    args.pg_url,
                    "--workdir",
                    str(workdir),
                    *quick,
                ],
            )
            results["phases"]["writers_postgresql"] = writers
            one = writers["writers_1"]["events_per_s"]
            for count in (1, 4, 16):
                rate = writers[f"writers_{count}"]["events_per_s"]
                figures[f"audit_events_per_s_{count}w_pg"] = rate
                if count > 1:
                    ratios[f"audit_events_{count}w_over_1w_pg"] = rate / one

        for vendor in args.databases:
            suffix = "_pg" if vendor == "postgresql" else ""
            directory = workdir / f"finalize-{vendor}"
            directory.mkdir()
            database_url, drop = database_create(vendor, args.pg_url, directory)
            try:
                measured = phase(
                    f"finalize ({vendor})",
                    [
                        *PYTHON,
                        str(ROOT / "scripts" / "bench_finalize.py"),
                        "--measure",
                        "--database-url",
                        database_url,
                        "--runs",
                        "1" if args.quick else "3",
                        "--events",
                        "40" if args.quick else "400",
                        "--emit",
                    ],
                    env={
                        **os.environ,
                        "MEDIA_ROOT": str(directory / "media"),
                        "AUDIT_CHECKPOINT_ROOT": str(directory / "checkpoints"),
                    },
                )
            finally:
                drop()
            results["phases"][f"finalize_{vendor}"] = measured
            wait, alone = measured["wait_during_draw_ms"], measured["wait_outside_ms"]
            ratios[f"finalize_over_t0{suffix}"] = measured["finalize_s"] * 1000 / t0_ms
            ratios[f"audit_wait_during_finalize_over_alone{suffix}"] = (
                wait / alone if wait and alone else None
            )
            ratios[f"audit_wait_during_finalize_over_draw{suffix}"] = (
                wait / (measured["draw_s"] * 1000) if wait else None
            )
            figures[f"finalize_seconds{suffix}"] = measured["finalize_s"]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    results["load_average_after"] = os.getloadavg()
    results["seconds"] = time.time() - started
    results["ratios"], results["figures"] = ratios, figures
    print(f"\n== bench results ({'quick' if args.quick else 'full'}; {results['seconds']:.0f} s)")
    for name, value in ratios.items():
        print(f"RATIO {name} = {shown(value)}")
    for name, value in figures.items():
        print(f"FIGURE {name} = {shown(value)}")
    args.out.write_text(json.dumps(results, indent=2, allow_nan=False, default=str) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
