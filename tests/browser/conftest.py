"""Browser tests: the system Chromium driven by Playwright against pytest-django's live server.

One browser for the whole run, a fresh context (cookies, storage) for every test. Every page a
test opens is watched: a Content-Security-Policy violation or an uncaught script error fails the
test. A test's teardown waits for the live server's requests still running (a finalization
can outlast the test that clicked it) before the database is emptied for the next test.
"""

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone as django_timezone
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)
from pytest_django.live_server_helper import LiveServer

from consent import clock as consent_clock
from consent.models import ConsentSession, Question
from consent.views.patient import journey as patient_views
from tests import factories
from tests.browser.steps import DESKTOP

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NO_CHROMIUM = "Debian package chromium is not installed; run make test as root"
SCREENSHOT_DIR = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
# Playwright waits this long at most for a page, an element or an `expect` (auto-waiting,
# never a sleep).
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)
# The outcome of a slow step (finalization renders and seals a PDF: 7 to 25 s on a loaded
# 2-core machine) is awaited this long: `expect(...).to_be_visible(timeout=SLOW_STEP_MS)`.
SLOW_STEP_MS = 120_000
# How long a test's teardown waits for the live server's requests to finish before the
# database is emptied; longer than any step a test may leave running.
DRAIN_SECONDS = 180


class RequestsInFlight:
    """WSGI middleware around the live server's handler: counts requests not yet finished.

    A request counts from the call until the server closes its response (Django closes the
    request's database connection then), so a test's teardown can wait for zero before the
    database is emptied: on SQLite the live server shares the test's connection, on PostgreSQL
    a running transaction would hold its locks against the flush.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.running = 0
        self._holding = False
        self._changed = threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self._changed:
            # While a test holds the server (`held`), a new request waits here.
            self._changed.wait_for(lambda: not self._holding)
            self.running += 1
            self._changed.notify_all()
        try:
            response = self.app(environ, start_response)
        except BaseException:
            self._add(-1)
            raise
        return _ClosingResponse(response, lambda: self._add(-1))

    def _add(self, change: int) -> None:
        with self._changed:
            self.running += change
            self._changed.notify_all()

    @contextmanager
    def held(self, timeout: float) -> Iterator[None]:
        """Let no request run while the block runs: new ones wait, running ones finish first.
        For a test that writes through its own connection, which on SQLite is the live
        server's too, while the browser keeps asking (a page that polls)."""
        with self._changed:
            self._holding = True
            idle = self._changed.wait_for(lambda: self.running == 0, timeout)
        try:
            assert idle, f"the live server still ran {self.running} requests after {timeout} s"
            yield
        finally:
            with self._changed:
                self._holding = False
                self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request runs; False if some still did after `timeout` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self.running == 0, timeout)


class _ClosingResponse:
    """A WSGI response that reports when the server has closed it."""

    def __init__(self, response: Iterable[bytes], closed: Callable[[], None]) -> None:
        self.response, self.closed = response, closed

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.response)

    def close(self) -> None:
        try:
            close = getattr(self.response, "close", None)
            if close is not None:
                close()
        finally:
            self.closed()


@pytest.fixture(scope="session")
def live_server(live_server: LiveServer) -> LiveServer:
    """pytest-django's live server, its handler wrapped in a RequestsInFlight counter."""
    httpd = live_server.thread.httpd
    application = httpd.get_app()
    assert application is not None
    if not isinstance(application, RequestsInFlight):
        httpd.set_app(RequestsInFlight(application))
    return live_server


def requests_in_flight(server: LiveServer) -> RequestsInFlight:
    application = server.thread.httpd.get_app()
    assert isinstance(application, RequestsInFlight)
    return application


@pytest.fixture(autouse=True)
def _live_server_requests_finish(request: pytest.FixtureRequest) -> Iterator[None]:
    """End a live-server test only once the server has finished every request it started.

    Set up after the test database (so torn down before it is emptied): a request still
    rendering when the test ends would otherwise hold the database while the flush runs, and
    the next test would fail in its setup for this test's slowness.
    """
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("transactional_db")
    in_flight = requests_in_flight(request.getfixturevalue("live_server"))
    yield
    if not in_flight.wait_idle(DRAIN_SECONDS):
        pytest.fail(
            f"{in_flight.running} live-server request(s) still running {DRAIN_SECONDS} s after "
            "the test ended"
        )


def _running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if _running_in_ci():
            pytest.fail(f"{NO_CHROMIUM} (CI is set, so browser tests may not be skipped)")
        pytest.skip(NO_CHROMIUM)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageProblems:
    """What the browser complained about while a test ran."""

    messages: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.messages.append(f"CSP: {message.text} ({message.location.get('url')})")

    def page_error(self, error: Exception) -> None:
        self.messages.append(f"Script error: {error}")


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """Make browser contexts (desktop size unless told) that fail the test on CSP errors."""
    contexts: list[BrowserContext] = []
    problems = PageProblems()

    def make(**options: Any) -> BrowserContext:
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)

        def watch(page: Page) -> None:
            page.on("console", problems.console)
            page.on("pageerror", problems.page_error)

        context.on("page", watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    if problems.messages:
        pytest.fail("The browser reported problems:\n" + "\n".join(problems.messages))


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context().new_page()


@dataclass
class Patient:
    session: ConsentSession
    link_path: str

    @property
    def section_count(self) -> int:
        return self.session.procedure_version.sections.count()

    def questions(self) -> list[Question]:
        return list(self.session.procedure_version.questions.order_by("position"))


@pytest.fixture
def patient(transactional_db: None) -> Patient:
    """A consent session for the MitraClip pack with a fresh link (its token-bearing path)."""
    session = factories.consent_session()
    return Patient(session=session, link_path=factories.issue_link(session))


class SteppingClock:
    """The patient pages' clock, moved on a few seconds at every reading, so that the time
    spent on a section is known without waiting for it."""

    step = timedelta(seconds=3)

    def __init__(self) -> None:
        self.readings = 0

    def now(self) -> Any:
        self.readings += 1
        return django_timezone.now() + self.readings * self.step

    def __getattr__(self, name: str) -> Any:
        return getattr(consent_clock, name)


@pytest.fixture
def reading_clock(monkeypatch: pytest.MonkeyPatch) -> SteppingClock:
    """The patient journey's views read this clock (consent.clock, as the views name it)."""
    clock = SteppingClock()
    monkeypatch.setattr(patient_views, "clock", clock)
    return clock


@pytest.fixture
def screenshot() -> Callable[[Page, str], None]:
    """Save a full-page PNG when SCREENSHOTS=1 (into test-artifacts/screenshots/)."""
    enabled = os.environ.get("SCREENSHOTS") == "1"
    if enabled:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def save(page: Page, name: str) -> None:
        if enabled:
            width = page.viewport_size["width"] if page.viewport_size else 0
            page.screenshot(path=SCREENSHOT_DIR / f"{name}-{width}.png", full_page=True)

    return save
