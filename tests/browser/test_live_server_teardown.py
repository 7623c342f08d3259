"""One test's slow request never breaks the next test's setup: the pair of tests in
slow_request_pair.py runs in a pytest of its own, in order, and both pass."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.browser

PAIR = Path(__file__).with_name("slow_request_pair.py")


def test_a_request_still_running_at_the_end_of_a_test_does_not_break_the_next_setup() -> None:
    relative = PAIR.relative_to(settings.BASE_DIR)
    # Its own test database name (pytest-django adds this suffix), beside this run's.
    env = {**os.environ, "TOX_PARALLEL_ENV": "slow_request_pair"}
    result = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-q",
            f"{relative}::test_ends_while_its_finalization_still_renders",
            f"{relative}::test_the_next_setup_gets_an_empty_usable_database",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout, result.stdout
