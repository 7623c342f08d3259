"""`make serve` refuses, before installing or starting anything, without PostgreSQL."""

import os
import shutil
import subprocess

import pytest
from django.conf import settings

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="no make here")


def make_serve(database_url: str | None) -> subprocess.CompletedProcess[str]:
    # Not the DATABASE_URL of this run, nor the flags of a `make test` this may run under.
    environment = {
        key: value
        for key, value in os.environ.items()
        if key != "DATABASE_URL" and not key.startswith("MAKE")
    }
    if database_url is not None:
        environment["DATABASE_URL"] = database_url
    return subprocess.run(
        ["make", "-s", "serve"],  # noqa: S607 - the project's own Makefile
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_database_url_it_says_what_to_set():
    result = make_serve(None)
    assert result.returncode != 0
    assert "make serve: DATABASE_URL is not set. It serves on PostgreSQL only:" in result.stderr
    assert "DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/NAME make serve" in result.stderr


@pytest.mark.parametrize("url", ["sqlite:///db.sqlite3", "mysql://consent@db/consent"])
def test_any_other_database_is_refused(url):
    result = make_serve(url)
    assert result.returncode != 0
    assert "is not a PostgreSQL URL" in result.stderr
    assert "make run is the development server on SQLite" in result.stderr
