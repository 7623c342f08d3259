"""Production settings that refuse to be unsafe (issue 12 item 5), tried as an operator would:
`manage.py check --deploy` with production-like environments, and the WSGI application on the
development key, each in a fresh process."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

from consent_site.safety import MESSAGE_DEVELOPMENT_KEY


def run(code_or_args: list[str], tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    """This interpreter in the project folder, with only what a deployment sets."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "DJANGO_SETTINGS_MODULE": "consent_site.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "ALLOWED_HOSTS": "consent.example.org",
        **env,
    }
    return subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, *code_or_args],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("proxy", ["0", "1"], ids=["TLS at the server", "TLS at a proxy"])
def test_check_deploy_reports_nothing(proxy, tmp_path):
    done = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        SECRET_KEY=secrets.token_urlsafe(50),
        TLS_TERMINATED_BY_PROXY=proxy,
    )
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout
    assert "WARNINGS" not in done.stderr + done.stdout


SHOW = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
    "s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SECURE)"
)


def test_https_only_by_default_with_debug_off_and_a_proxy_switch(tmp_path):
    key = secrets.token_urlsafe(50)
    direct = run(["-c", SHOW], tmp_path, SECRET_KEY=key)
    assert direct.stdout.split() == ["True", "31536000", "True", "None", "True"], direct.stderr
    proxied = run(["-c", SHOW], tmp_path, SECRET_KEY=key, TLS_TERMINATED_BY_PROXY="1")
    assert proxied.stdout.strip() == (
        "True 31536000 True ('HTTP_X_FORWARDED_PROTO', 'https') True"
    ), proxied.stderr
    development = run(["-c", SHOW], tmp_path, DEBUG="1")
    assert development.stdout.split()[:2] == ["False", "0"], development.stderr


@pytest.mark.parametrize("key", [None, settings.DEVELOPMENT_SECRET_KEY], ids=["unset", "dev key"])
def test_the_application_will_not_start_on_the_development_key(key, tmp_path):
    env = {} if key is None else {"SECRET_KEY": key}
    done = run(["-c", "import consent_site.wsgi"], tmp_path, **env)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert MESSAGE_DEVELOPMENT_KEY in done.stderr


def test_the_application_starts_with_a_key_or_in_development(tmp_path):
    started = run(
        ["-c", "import consent_site.wsgi"], tmp_path, SECRET_KEY=secrets.token_urlsafe(50)
    )
    assert started.returncode == 0, started.stderr
    development = run(["-c", "import consent_site.wsgi"], tmp_path, DEBUG="1")
    assert development.returncode == 0, development.stderr


def test_plain_http_is_redirected_to_https_and_https_gets_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    secure = client.get("/accounts/login/", secure=True)
    assert "max-age=31536000; includeSubDomains; preload" in secure["Strict-Transport-Security"]
    # The load balancer's probe from inside stays plain HTTP.
    assert client.get("/healthz").status_code != 301


def test_behind_a_proxy_only_requests_it_marks_https_are_trusted_as_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    marked = client.get("/accounts/login/", headers={"x-forwarded-proto": "https"})
    assert marked.status_code != 301
    assert client.get("/accounts/login/").status_code == 301
