"""Prints the fuzz figures per form at the end of the run (tests/fuzz/harness.py records them
in each test's user_properties, which also reach the controller under pytest-xdist)."""

from typing import Any

import pytest

_FIGURES: list[dict[str, Any]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == "fuzz" and isinstance(value, dict):
            _FIGURES.append(value)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FIGURES:
        return
    write = terminalreporter.write_line
    terminalreporter.section("fuzz figures (inputs tried, 4xx, 2xx/3xx, 5xx)")
    write(f"{'form':<42} {'database':<10} {'tried':>6} {'4xx':>6} {'2xx/3xx':>8} {'5xx':>5}")
    totals = {"tried": 0, "4xx": 0, "2xx/3xx": 0, "5xx": 0}
    for row in sorted(_FIGURES, key=lambda r: (r["database"], r["form"])):
        write(
            f"{row['form']:<42} {row['database']:<10} {row['tried']:>6} {row['4xx']:>6} "
            f"{row['2xx/3xx']:>8} {row['5xx']:>5}"
        )
        for key in totals:
            totals[key] += row[key]
    write(
        f"{'all forms':<42} {'':<10} {totals['tried']:>6} {totals['4xx']:>6} "
        f"{totals['2xx/3xx']:>8} {totals['5xx']:>5}"
    )
