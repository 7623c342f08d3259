"""Phase `load` of `make bench`: pages under gunicorn and a real load generator, one database.

    python -m scripts.bench.load --vendor sqlite|postgresql [--pg-url URL] --workdir DIR
        --static-root DIR [--quick]

Method:
- A fresh database (a SQLite file, or a new PostgreSQL database dropped afterwards), migrated;
  a physician and an auditor with their second factor (TOTP), the MitraClip pack, one patient
  session with a link, and the physician's own sessions bulk-filled (scripts/bench/fill.py) to
  the first size (1,000).
- gunicorn as `make serve` runs it (consent_site.wsgi, 2 sync workers, no control socket,
  CONN_MAX_AGE as deployed) but without --max-requests: with it a worker re-imports the
  application every ~1,000 requests (seconds on this machine, serving nothing meanwhile), about
  every second at H0's rate, so the floor measured restarts (a 5 s run once served 0
  requests). DEBUG off, static files collected (whitenoise's manifest), the bench's settings
  module adding H0's view.
- Real sessions over HTTP: the patient opens the link, confirms the birth date (CSRF token
  from the form), and keeps the cookie; the physician and the auditor log in with password then
  the TOTP code. Every target answers 200 with its cookie before it is loaded.
- wrk (Debian's package, `make system-packages`), 20 connections on 2 threads, D seconds
  (10; 5 with --quick) after a 2 s warm-up run, per target: H0 (/bench/floor/, a bare view
  through the whole middleware stack, no query, no cookie), /healthz (a database query and the
  storage probes: not bare, so not the floor), the patient's section page, the physician's
  dashboard (/staff/), the auditor's records list (/audit/) unfiltered and filtered by
  decision "declined" and "withdrawn" (the filter set by a POST in the auditor's session).
  Each staff list is also loaded by one user at a time (wrk on one connection, D seconds): its
  p50 is the time the page takes to answer, the issue's "≤ 150 ms p50" (at 20 connections on
  2 workers, p50 is mostly the time spent waiting in the queue).
  Requests per second, p50 and p99 are wrk's; any answer other than 2xx/3xx, socket error or
  timeout fails the phase, and so does the target not answering 200 right after its run (wrk
  counts a redirect as a success). Server CPU per request: the CPU time (user + system) of
  gunicorn's master and workers, dead workers included through the master's children times,
  over the run, divided by the requests served. A slow page completes few requests in D
  seconds (20 wait in the queue): a run with fewer than 40 is made again for as long as 60
  more need, at most 180 s (--quick: 5 requests, 30 s).
  autocannon (npm) was tried first: against gunicorn's sync workers, which close every
  connection, it served a fifth of wrk's requests per second with medians of 0.3-0.5 s on a
  trivial WSGI app (wrk: 5 ms), so its figures were its own reconnections, not the server.
- Then filled to the second size (100,000) and the staff lists loaded again; H0 is loaded again
  at the end, and the floor is the mean of its two runs.
"""

import argparse
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from scripts.bench.common import BENCH_ENV, ROOT, database_create, django_setup, emit

CONNECTIONS = 20
# A run with fewer completed requests than this is repeated for longer (up to MAX_SECONDS).
MIN_REQUESTS = int(os.environ.get("BENCH_MIN_REQUESTS", "40"))
MAX_SECONDS = int(os.environ.get("BENCH_MAX_SECONDS", "180"))
# H0: the bare view of scripts/bench/urls.py (imported there only once Django is set up).
FLOOR_PATH = "/bench/floor/"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tree_cpu_seconds(master: int) -> float:
    """CPU of gunicorn's master, its live workers and its reaped (dead) workers."""
    fields = Path(f"/proc/{master}/stat").read_text().rsplit(")", 1)[1].split()
    # utime, stime, cutime, cstime: fields 14-17 of stat, 12-15 after the ")".
    total = sum(int(value) for value in fields[11:15])
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    for child in children:
        try:
            stat = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(stat[11]) + int(stat[12])
    return total / TICKS


def cookie_header(session) -> str:
    return "; ".join(f"{name}={value}" for name, value in session.cookies.items())


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    if not found:
        raise SystemExit("no CSRF token in the form")
    return found.group(1)


def staff_log_in(base: str, user, password: str):
    import requests

    from tests.factories import totp_code

    browser = requests.Session()
    page = browser.get(f"{base}/accounts/login/")
    answer = browser.post(
        f"{base}/accounts/login/",
        data={
            "username": user.username,
            "password": password,
            "csrfmiddlewaretoken": csrf_of(page.text),
        },
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise SystemExit(f"log-in of {user.username}: HTTP {answer.status_code}")
    page = browser.get(f"{base}/accounts/second-factor/")
    answer = browser.post(
        f"{base}/accounts/second-factor/",
        data={"code": totp_code(user), "csrfmiddlewaretoken": csrf_of(page.text)},
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise SystemExit(f"second factor of {user.username}: HTTP {answer.status_code}")
    return browser


def patient_opens(base: str, token: str):
    import requests

    from tests.factories import birth_date_post

    browser = requests.Session()
    answer = browser.get(f"{base}/link/{token}/", allow_redirects=False)
    if answer.status_code != 302:
        raise SystemExit(f"the patient's link: HTTP {answer.status_code}")
    page = browser.get(f"{base}/patient/identity/")
    answer = browser.post(
        f"{base}/patient/identity/",
        data={**birth_date_post(), "csrfmiddlewaretoken": csrf_of(page.text)},
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise SystemExit(f"the patient's birth date: HTTP {answer.status_code}")
    return browser


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "consent_site.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            "2",
            "--timeout",
            "120",
            "--graceful-timeout",
            "30",
            "--no-control-socket",
        ]
        # Its output to stderr only: a server left holding the phase's stdout would keep the
        # orchestrator waiting.
        self.process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        import requests

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + FLOOR_PATH, timeout=60).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass
            if self.process.poll() is not None:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.3)
        raise SystemExit("gunicorn did not answer in 120 s")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


def wrk(url: str, seconds: float, cookie: str = "", connections: int = CONNECTIONS) -> dict:
    """One wrk run: 20 connections on 2 threads (or one connection on one thread: a single
    user's answer time); its requests/s, percentiles and errors."""
    threads = min(2, connections)
    command = [WRK, "-c", str(connections), "-t", str(threads), "-d", f"{seconds}s", "--latency"]
    command += ["--timeout", "60s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    result = subprocess.run(  # noqa: S603
        [*command, url], capture_output=True, text=True, check=False
    )
    out = result.stdout
    if result.returncode or "Requests/sec" not in out or "Latency Distribution" not in out:
        raise SystemExit(f"wrk failed: {out[-2000:]} {result.stderr[-2000:]}")
    percentiles = dict(
        re.findall(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+(?:us|ms|s|m))\s*$", out, re.MULTILINE)
    )
    if set(percentiles) != {"50", "99"}:
        raise SystemExit(f"wrk printed no percentiles: {out}")
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    wrong = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": milliseconds(percentiles["50"]),
        "p99_ms": milliseconds(percentiles["99"]),
        "non2xx": int(wrong.group(1)) if wrong else 0,
        "errors": sum(int(n) for n in sockets.groups()[:3]) if sockets else 0,
        "timeouts": int(sockets.group(4)) if sockets else 0,
    }


def load(server: Server, name: str, path: str, cookie: str, seconds: float) -> dict:
    """One target under load; a run that completes fewer than MIN_REQUESTS is made longer."""
    import requests

    url = server.base + path
    # Warm-up, not counted: every worker's first requests (a slow page may finish none in it).
    subprocess.run(  # noqa: S603
        [WRK, "-c", str(CONNECTIONS), "-t", "2", "-d", "2s", "-H", f"Cookie: {cookie}", url],
        capture_output=True,
        check=False,
    )
    for attempt in range(2):
        cpu_before = tree_cpu_seconds(server.process.pid)
        report = wrk(url, seconds, cookie)
        cpu = tree_cpu_seconds(server.process.pid) - cpu_before
        if report["requests"] >= MIN_REQUESTS or attempt:
            break
        # A slow page: long enough for the queue of 20 and MIN_REQUESTS more, within a limit.
        rate = max(report["rps"], 0.1)
        seconds = min(MAX_SECONDS, math.ceil((MIN_REQUESTS + CONNECTIONS) / rate))
        print(f"load: {name}: {report['requests']} requests, again for {seconds} s", flush=True)
    served = report["requests"]
    figures = {**report, "cpu_ms_per_request": cpu * 1000 / served if served else None}
    print(f"load: {name:<28} {json.dumps(figures)}", flush=True)
    # wrk counts a redirect as a success: the page must still answer 200 with this cookie.
    after = requests.get(url, headers={"Cookie": cookie}, allow_redirects=False, timeout=60)
    if report["non2xx"] or report["errors"] or report["timeouts"] or not served:
        raise SystemExit(f"{name}: answers other than 200 under load: {json.dumps(figures)}")
    if after.status_code != 200:
        raise SystemExit(f"{name}: HTTP {after.status_code} after the load run")
    return figures


def alone(server: Server, name: str, path: str, cookie: str, seconds: float) -> dict:
    """One user at a time: wrk on one connection, so p50 is the time a page takes to answer
    (at 20 connections on 2 workers, p50 is mostly the wait in the queue)."""
    report = wrk(server.base + path, seconds, cookie, connections=1)
    print(f"load: {name + ' (one user)':<28} {json.dumps(report)}", flush=True)
    if report["non2xx"] or report["errors"] or report["timeouts"] or not report["requests"]:
        raise SystemExit(f"{name}: answers other than 200 for one user: {json.dumps(report)}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vendor", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--pg-url", default="")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--static-root", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = 5 if args.quick else 10
    if args.quick:
        global MIN_REQUESTS, MAX_SECONDS
        MIN_REQUESTS, MAX_SECONDS = 5, 30
    sizes = (1_000, 10_000) if args.quick else (1_000, 100_000)
    workdir = args.workdir / f"load-{args.vendor}"
    workdir.mkdir(parents=True, exist_ok=True)

    database_url, drop = database_create(args.vendor, args.pg_url, workdir)
    server = None
    try:
        django_setup(database_url, workdir)
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        from consent.services.links import patient_link_issue
        from tests.factories import (
            PASSWORD,
            auditor,
            consent_session,
            mitraclip_version,
            physician,
            second_factor_device,
        )

        version = mitraclip_version()
        doctor, reader = physician(username="dr.bench"), auditor(username="bench.auditor")
        second_factor_device(doctor)
        second_factor_device(reader)
        patient = consent_session(version=version, doctor=doctor)
        _link, token = patient_link_issue(
            session=patient, issued_by=doctor, reason="The bench's patient browser."
        )
        from scripts.bench.fill import fill

        rng = random.Random(20261201)  # noqa: S311 (test data)

        def fill_to(size: int) -> float:
            from consent.models import ConsentSession

            started = time.perf_counter()
            fill(size - ConsentSession.objects.count(), [doctor], [version], rng)
            if connection.vendor == "postgresql":
                # What autovacuum does after a bulk insert: statistics, and the visibility map
                # that lets an index-only scan skip the table (without it, the records list's
                # deep page read 93,691 heap pages: 3 s instead of 7 ms).
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
            return time.perf_counter() - started

        fill_seconds = {str(sizes[0]): fill_to(sizes[0])}
        connection.close()

        env = {
            **os.environ,
            **BENCH_ENV,
            "DATABASE_URL": database_url,
            "BENCH_STATIC_ROOT": str(args.static_root),
        }
        server = Server(env)
        base = server.base
        patient_browser = patient_opens(base, token)
        doctor_browser = staff_log_in(base, doctor, PASSWORD)
        reader_browser = staff_log_in(base, reader, PASSWORD)
        cookies = {
            "patient": cookie_header(patient_browser),
            "doctor": cookie_header(doctor_browser),
            "auditor": cookie_header(reader_browser),
        }
        import requests

        for path, who in (
            ("/patient/section/1/", "patient"),
            ("/staff/", "doctor"),
            ("/audit/", "auditor"),
        ):
            answer = requests.get(
                base + path, headers={"Cookie": cookies[who]}, allow_redirects=False, timeout=60
            )
            if answer.status_code != 200:
                raise SystemExit(f"{path} as the {who}: HTTP {answer.status_code}")

        def audit_filter(data: dict) -> None:
            page = reader_browser.get(f"{base}/audit/")
            answer = reader_browser.post(
                f"{base}/audit/",
                data={**data, "csrfmiddlewaretoken": csrf_of(page.text)},
                allow_redirects=False,
            )
            if answer.status_code not in (200, 302):
                raise SystemExit(f"the records list's filter {data}: HTTP {answer.status_code}")

        results: dict = {"vendor": args.vendor, "seconds": seconds, "sizes": list(sizes)}
        results["h0_first"] = load(server, "h0", FLOOR_PATH, "", seconds)
        results["healthz"] = load(server, "healthz", "/healthz", "", seconds)
        results["patient_section"] = load(
            server, "patient_section", "/patient/section/1/", cookies["patient"], seconds
        )

        def staff_list(name: str, path: str, cookie: str) -> None:
            results[name] = load(server, name, path, cookie, seconds)
            results[f"{name}_alone"] = alone(server, name, path, cookie, seconds)

        def staff_lists(label: str) -> None:
            staff_list(f"dashboard_{label}", "/staff/", cookies["doctor"])
            staff_list(f"records_list_{label}", "/audit/", cookies["auditor"])
            for decision in ("declined", "withdrawn"):
                audit_filter({"decision": decision})
                staff_list(f"records_list_{decision}_{label}", "/audit/", cookies["auditor"])
                audit_filter({"clear": "1"})

        staff_lists("small")
        fill_seconds[str(sizes[1])] = fill_to(sizes[1])
        connection.close()
        print(f"load: filled {fill_seconds}", flush=True)
        staff_lists("large")
        results["h0_last"] = load(server, "h0 (again)", FLOOR_PATH, "", seconds)
        results["fill_seconds"] = fill_seconds
    finally:
        if server:
            server.stop()
        from django.db import connections

        connections.close_all()
        drop()
        shutil.rmtree(workdir, ignore_errors=True)
    emit(results)


if __name__ == "__main__":
    sys.exit(main())
