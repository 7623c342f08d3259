"""setup_demo: the log-ins and a patient link for `make run`; the demo app is for demos only."""

import io
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from consent.models import ConsentSession, PatientLink
from tests.factories import mitraclip_version

pytestmark = pytest.mark.django_db


def setup_demo(**options) -> str:
    out = io.StringIO()
    call_command("setup_demo", base_url="http://demo.test:8000", stdout=out, **options)
    return out.getvalue()


def test_setup_demo_prints_the_log_ins_and_a_patient_link_that_opens(settings, client):
    mitraclip_version()
    settings.DEBUG = True

    output = setup_demo()

    assert "log in at http://demo.test:8000/accounts/login/" in output
    assert re.search(r"physician +user dr\.martin +password demo-physician-pass", output)
    assert re.search(r"auditor +user auditor +password demo-auditor-pass", output)
    prefix = "http://demo.test:8000" + reverse("patient:link", kwargs={"token": "TOKEN"})
    prefix = prefix.removesuffix("TOKEN/")
    (link,) = re.findall(re.escape(prefix) + r"\S+", output)
    response = client.get(link.removeprefix("http://demo.test:8000"))
    assert response.status_code == 302
    assert response.url == reverse("patient:identity")
    session = ConsentSession.objects.get()
    assert session.physician.username == "dr.martin"

    # Run again (make run, a second time): the same session, a fresh link, the old one revoked.
    setup_demo()
    assert ConsentSession.objects.get() == session
    assert PatientLink.objects.filter(session=session, revoked_at__isnull=True).count() == 1


def test_setup_demo_makes_its_session_on_the_source_text_not_on_a_newer_translation(settings):
    content = settings.BASE_DIR / "content"
    call_command(
        "import_pack",
        str(content / "mitraclip.en.toml"),
        str(content / "mitraclip.fr.toml"),
        stdout=io.StringIO(),
    )
    settings.DEBUG = True

    setup_demo()

    assert ConsentSession.objects.get().procedure_version.language == "en"


def test_setup_demo_refuses_a_database_without_debug_unless_forced(settings):
    mitraclip_version()
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        setup_demo()
    assert not ConsentSession.objects.exists()
    assert "Patient link" in setup_demo(force=True)


def test_without_consent_demo_the_demo_commands_do_not_exist(tmp_path):
    """A deployment does not set CONSENT_DEMO: the commands that print passwords are unknown."""
    env = {**os.environ, "CONSENT_DEMO": "0", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    for command in ("setup_demo", "seed_demo"):
        result = subprocess.run(  # noqa: S603 (a fixed command line)
            [sys.executable, "manage.py", command],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode != 0
        assert f"Unknown command: '{command}'" in result.stderr
