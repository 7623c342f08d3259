"""Test-only settings and shared fixtures (one root conftest, cookiecutter-django style)."""

import os

import pytest

# The fuzz suite's figures per form, printed at the end of the run (tests/fuzz/).
from tests.fuzz.summary import pytest_runtest_logreport, pytest_terminal_summary  # noqa: F401


def pytest_configure(config: pytest.Config) -> None:
    """The test servers speak plain HTTP, for the whole run. Set once, before any live server
    starts: Django's SecurityMiddleware reads SECURE_SSL_REDIRECT when a server builds its
    handler (a session-scoped live server does so before any test's own settings apply)."""
    from django.conf import settings

    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    # Background tasks run inside the request that enqueues them, unless a test says otherwise
    # (tests/views/staff/test_finalizing.py runs the database backend and its worker).
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # The French catalogue compiled as make compiles it, for a run started without make.
    from tests.i18n.compiled import catalogues_compile

    catalogues_compile(settings.BASE_DIR / "locale")


# Playwright's sync API runs an event loop in the test thread; the ORM calls made from the
# test body between browser steps are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def _seal_key(tmp_path_factory):
    """One development seal for the whole run (made once: key generation is not free)."""
    from consent.record.seal import seal_key_create

    path = tmp_path_factory.mktemp("seal") / "seal.p12"
    seal_key_create(path, passphrase=b"test-passphrase", common_name="Test Hospital seal")
    return path


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path, _seal_key):
    # The shipped pack is not clinically reviewed: the tests use it as the demo does (tests of
    # the rule itself turn this off, tests/services/test_content_review.py).
    settings.CONSENT_ALLOW_UNREVIEWED_CONTENT = True
    settings.SEAL_P12_PATH = _seal_key
    settings.SEAL_P12_PASSPHRASE = "test-passphrase"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # The live server speaks plain HTTP.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    # Background tasks run inside the request that enqueues them, unless a test says otherwise
    # (tests/views/staff/test_finalizing.py runs the database backend and its worker).
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def fake_pdf_renderer(monkeypatch: pytest.MonkeyPatch) -> bytes:
    """Finalize without rendering or sealing a PDF (2 to 5 s of CPU each): views and services
    that are not given a renderer store FAKE_PDF instead. For tests whose subject is not the
    PDF; returns the bytes stored."""
    from tests.factories import FAKE_PDF, fake_pdf_render

    monkeypatch.setattr("consent.record.pdf.record_pdf_render", fake_pdf_render)
    return FAKE_PDF


@pytest.fixture
def timestamp_authority(tmp_path):
    """An RFC 3161 responder on a free local port (tests/record/ca.py): its URL, the requests
    it got, and the path of its certificate (for SEAL_TSA_TRUSTED_CERTS). The record tests
    seal with it; the audit tests timestamp checkpoints with it."""
    from tests.record.ca import TimestampServer

    server = TimestampServer()
    yield server.url, server.requests_seen, server.certificate_pem(tmp_path / "tsa.pem")
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def _flush_past_history_triggers():
    """Let test teardown empty the database although history tables refuse DELETE/TRUNCATE.

    Django's flush runs its statements in one transaction: the triggers are dropped, the
    tables emptied and the triggers created again, all or nothing. Only tests do this.
    """
    from django.db import connection

    from consent.audit import triggers

    operations = type(connection.ops)
    original = operations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if not statements:
            return statements
        vendor = self.connection.vendor
        return [*triggers.drop_sql(vendor), *statements, *triggers.create_sql(vendor)]

    setattr(operations, "sql_flush", sql_flush)  # noqa: B010 (mypy refuses assigning a method)
    yield
    setattr(operations, "sql_flush", original)  # noqa: B010
