"""Two tests that must run one after the other in a pytest of their own (the file name keeps
them out of the normal collection; test_live_server_teardown.py runs them): the first leaves a
slow finalization running in the live server when it ends, the second's setup must still get
an empty, usable database, and the finalization must have finished in between."""

import threading
import time
import urllib.error
import urllib.request

import pytest
from pytest_django.live_server_helper import LiveServer

from consent.models import ConsentRecord, ConsentSession
from tests import factories
from tests.browser.conftest import requests_in_flight

pytestmark = pytest.mark.django_db(transaction=True)

# Long enough that the first test is certainly over before the rendering is.
RENDER_SECONDS = 3
CSRF_SECRET = "S" * 32  # a well-formed CSRF cookie; the same value goes in the header
# What the first test's request answered, read by the second test (same process, in order).
ANSWERED: list[int] = []


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _post_finalize(url: str, session_cookie: str) -> None:
    request = urllib.request.Request(  # noqa: S310 (the live server's http URL)
        url,
        data=f"finalize-password={factories.PASSWORD}".encode(),
        headers={
            "Cookie": f"sessionid={session_cookie}; csrftoken={CSRF_SECRET}",
            "X-CSRFToken": CSRF_SECRET,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        ANSWERED.append(opener.open(request, timeout=120).status)
    except urllib.error.HTTPError as answer:  # the redirect after finalizing, not followed
        ANSWERED.append(answer.code)


def test_ends_while_its_finalization_still_renders(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = factories.decided_session()
    rendering = threading.Event()

    def slow_render(_session: ConsentSession, _record_id: str) -> bytes:
        rendering.set()
        time.sleep(RENDER_SECONDS)
        return factories.FAKE_PDF

    monkeypatch.setattr("consent.record.pdf.record_pdf_render", slow_render)
    cookie = factories.logged_in(session.physician).cookies["sessionid"].value
    url = f"{live_server}/staff/sessions/{session.public_id}/finalize/"
    threading.Thread(target=_post_finalize, args=(url, cookie), daemon=True).start()
    assert rendering.wait(60), "the finalization never started rendering"
    assert requests_in_flight(live_server).running == 1


def test_the_next_setup_gets_an_empty_usable_database(live_server: LiveServer) -> None:
    # The earlier request finished (and was answered) before this test's setup emptied the
    # database: its record is gone with the rest, and nothing holds the database.
    assert ANSWERED == [302]
    assert not ConsentRecord.objects.exists()
    assert requests_in_flight(live_server).running == 0
    doctor = factories.physician()
    login = f"{live_server}/accounts/login/"
    with urllib.request.urlopen(login, timeout=60) as page:  # noqa: S310 (the live server's)
        assert page.status == 200
    assert doctor.pk is not None
