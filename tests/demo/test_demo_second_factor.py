"""The demo accounts' second factor: one documented secret, printed with the current code."""

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo.accounts import DEMO_TOTP_SECRET
from tests.factories import mitraclip_version

pytestmark = pytest.mark.django_db


def test_setup_demo_prints_the_demo_secret_and_a_code_that_completes_the_log_in(settings):
    mitraclip_version()
    settings.DEBUG = True
    out = io.StringIO()
    call_command("setup_demo", base_url="http://demo.test:8000", stdout=out)
    output = out.getvalue()
    assert DEMO_TOTP_SECRET in output
    code = re.search(r"the code now is (\d{6})", output)
    assert code is not None
    assert "python manage.py demo_code" in output
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "dr.martin", "password": "demo-physician-pass"}
    )
    response = client.post(response["Location"], {"code": code.group(1)})
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    # Run again: still one device per account, the same secret.
    call_command("setup_demo", base_url="http://demo.test:8000", stdout=io.StringIO())
    assert TOTPDevice.objects.filter(user__username="dr.martin").count() == 1


def test_demo_code_prints_the_current_code():
    out = io.StringIO()
    call_command("demo_code", stdout=out)
    assert DEMO_TOTP_SECRET in out.getvalue()
    assert re.search(r"the code now is \d{6}", out.getvalue())
