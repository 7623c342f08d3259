"""No level of logging writes patient data, and no patient identifier goes into a URL (issue 12
item 5). A canary patient (name, date of birth, MRN, free text, a question) goes through the
flow with DEBUG on and logging at DEBUG and at INFO, SQL logging included: the canary is never
in what was logged. Then the admin and the staff pages are crawled: no link, form action or
redirect carries it."""

import io
import logging
import logging.config
import re
from copy import deepcopy
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from consent.admin import ConsentSessionAdmin
from consent.models import ConsentSession
from tests.factories import (
    auditor,
    issue_link,
    logged_in,
    mitraclip_version,
    physician,
    read_all_sections,
    right_answer,
    submit,
)

pytestmark = pytest.mark.django_db

NAME = "Zebulon Canarywood"
BIRTH = date(1931, 7, 19)
MRN = "MRN-CANARY-7781"
FREE_TEXT = "Canaryword the clip pinches the flaps together"
QUESTION = "Canaryquestion can my parrot visit me?"
CANARIES = ("Canarywood", "1931-07-19", "CANARY-7781", "Canaryword", "Canaryquestion")


def captured_flow(settings, level: str) -> str:
    """Run the canary's flow with DEBUG on, everything logged at `level` (SQL too)."""
    settings.DEBUG = True
    config = deepcopy(settings.LOGGING)
    config["root"]["level"] = level
    for name in ("django", "django.db.backends", "django.db.backends.schema", "django.template"):
        config["loggers"].setdefault(name, {})["level"] = level
    logging.config.dictConfig(config)
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    capture.setLevel(logging.DEBUG)
    loggers = [logging.getLogger(), logging.getLogger("django.request")]
    loggers.append(logging.getLogger("django.server"))
    for logger in loggers:
        logger.addHandler(capture)
    connection.force_debug_cursor = True
    try:
        _flow()
    finally:
        connection.force_debug_cursor = False
        for logger in loggers:
            logger.removeHandler(capture)
        logging.config.dictConfig(settings.LOGGING)
    return stream.getvalue()


def _flow() -> ConsentSession:
    doctor = physician()
    staff = logged_in(doctor)
    version = mitraclip_version()
    created = staff.post(
        "/staff/sessions/new/",
        {
            "patient_name": NAME,
            "patient_birth_date": BIRTH.isoformat(),
            "patient_record_number": MRN,
            "procedure_version": version.pk,
            "physician": doctor.pk,
        },
    )
    assert created.status_code in (200, 302), created.status_code
    session = ConsentSession.objects.get(patient_record_number=MRN)
    staff.get(f"/staff/sessions/{session.public_id}/")
    from django.test import Client

    patient = Client()
    patient.get(issue_link(session))
    wrong = patient.post("/patient/identity/", {"day": "1", "month": "1", "year": "1931"})
    assert wrong.status_code == 200
    patient.post("/patient/identity/", {"day": "19", "month": "7", "year": "1931"})
    read_all_sections(patient, session)
    patient.post(
        "/patient/ask/", {"text": QUESTION, "form_id": "6d1c3f0e-2b8a-4a39-9f52-1d8f8a1f2c3b"}
    )
    for number, question in enumerate(session.procedure_version.questions.order_by("position"), 1):
        data = right_answer(question)
        if question.kind == "free-text":
            data = {"answer": FREE_TEXT}
        submit(patient, number, data)
    patient.get("/patient/summary/")
    staff.get(f"/staff/sessions/{session.public_id}/review/")
    staff.get("/staff/")
    watcher = logged_in(auditor())
    watcher.post("/audit/", {"q": NAME}, follow=True)
    watcher.get(f"/audit/sessions/{session.public_id}/")
    return session


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_no_canary_in_the_logs(level, settings):
    logged = captured_flow(settings, level)
    if level == "DEBUG":
        # SQL was logged (so the test looks at it), but never its statement or parameters.
        assert "SQL query (statement and parameters not logged)" in logged
    for canary in CANARIES:
        assert canary not in logged, f"{canary} logged at {level}"


def test_the_admin_search_takes_no_patient_identifier():
    assert ConsentSessionAdmin.search_fields == ("=public_id",)


URL_IN_PAGE = re.compile(r'(?:href|action|src)="([^"]+)"')


def test_no_canary_in_any_admin_or_staff_url(client, settings):
    session = _flow()
    root = get_user_model().objects.create_superuser(username="root", password="x-long-pw-123")
    browsers = [logged_in(root), logged_in(session.physician), logged_in(auditor(username="aud2"))]
    starts = [
        "/admin/",
        f"/admin/consent/consentsession/{session.pk}/change/",
        "/staff/",
        "/audit/",
    ]
    starts += [f"/staff/sessions/{session.public_id}/", f"/audit/sessions/{session.public_id}/"]
    seen: set[str] = set()
    urls: list[str] = []
    for browser in browsers:
        queue = list(starts)
        visited = 0
        while queue and visited < 60:
            url = queue.pop(0)
            if (browser, url) in seen or "logout" in url or url.endswith((".pdf", ".csv")):
                continue
            seen.add((browser, url))
            visited += 1
            response = browser.get(url)
            urls.append(url)
            if response.has_header("Location"):
                urls.append(response["Location"])
            if "text/html" not in response.get("Content-Type", ""):
                continue
            for found in URL_IN_PAGE.findall(response.content.decode()):
                found = found.replace("&amp;", "&")
                urls.append(found)
                if found.startswith(("/admin/", "/staff/", "/audit/")):
                    queue.append(found)
    assert len(set(urls)) > 40
    from urllib.parse import unquote_plus

    for url in urls:
        for canary in CANARIES:
            assert canary not in unquote_plus(url), url
