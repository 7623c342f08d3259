"""Settings for the consent comprehension tool.

Everything a deployment changes comes from the environment; the defaults are safe for a
developer's machine (SQLite in the project folder, DEBUG on only when asked for).
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from consent.objectstore import s3_storages
from consent_site.languages import interface_languages

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# A development key is only acceptable while DEBUG is on; production must set SECRET_KEY:
# with DEBUG off the application refuses to start on this key (consent_site/safety.py, called
# by the WSGI entry point and runserver).
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", "") or DEVELOPMENT_SECRET_KEY
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.admin",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "consent",
]
# The demo app (setup_demo, seed_demo: passwords known to everyone) is for `make run` and the
# tests only, never a deployment: CONSENT_DEMO=1 installs it, and so does running under pytest
# (pytest-django imports these settings before any conftest could set the variable).
if env_bool("CONSENT_DEMO", "pytest" in sys.modules):
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Instead of Django's LocaleMiddleware: patient pages in their session's language, the
    # others in the institution's (consent/middleware.py), never the browser's choice.
    "consent.middleware.PageLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "consent.middleware.StaffIdleTimeoutMiddleware",
    "consent.middleware.PatientIdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

# Background work (django-tasks, the backport of Django 6's tasks): finalization draws and seals
# the record there, so no request waits for WeasyPrint. Tasks are rows in the database; the
# worker `manage.py db_worker` runs them (make run and make serve start one beside the web
# server; docs/deployment.md). TASK_BACKEND=immediate runs them inside the request instead.
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[os.environ.get("TASK_BACKEND", "database")],
    }
}
# How long the physician's "sealing the record" page waits for a task before it says that the
# record's worker may be stopped (seconds).
FINALIZE_WAIT_LIMIT_SECONDS = int(os.environ.get("FINALIZE_WAIT_LIMIT_SECONDS", "300"))

ROOT_URLCONF = "consent_site.urls"
WSGI_APPLICATION = "consent_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "consent.context_processors.institution",
                "consent.context_processors.patient_flags",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time from the start of each transaction: audit-chain appends never fork
    # and a writer never fails half-way on a lock upgrade (consent/chain.py).
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "staff:session_list"
LOGOUT_REDIRECT_URL = "login"

# The institution's language: staff pages, and the staff parts of every record, are in it.
LANGUAGE_CODE = os.environ.get("INSTITUTION_LANGUAGE", "en").strip().lower() or "en"
# Translation catalogues: the project's own (locale/, compiled by make install), after any that a
# deployment adds (EXTRA_LOCALE_PATHS, comma-separated folders laid out like locale/), whose
# strings then take precedence. The languages offered are found from these catalogues, not listed
# here: a third language needs only its catalogue (consent_site/languages.py).
LOCALE_PATHS = [Path(path) for path in env_list("EXTRA_LOCALE_PATHS", "")] + [BASE_DIR / "locale"]
LANGUAGES = interface_languages(LOCALE_PATHS, LANGUAGE_CODE)
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Audit checkpoints (consent/audit/checkpoint.py) live outside the database: by default in a
# folder `audit-checkpoints` beside MEDIA_ROOT; better on another disk or host in production.
AUDIT_CHECKPOINT_ROOT = os.environ.get("AUDIT_CHECKPOINT_ROOT", "")
STORAGES["checkpoints"] = {"BACKEND": "consent.audit.checkpoint.CheckpointStorage"}
# Object storage, for more than one application server (docs/deployment.md): with
# CONSENT_S3_BUCKET set, the records' and addenda's PDFs and the audit checkpoints go to an
# S3-compatible store through django-storages, the checkpoints under their own prefix or in
# their own bucket (consent/objectstore.py names every CONSENT_S3_* variable).
STORAGES.update(s3_storages(os.environ))
# Serve from the app directories without collectstatic (development and tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Staff log-in (consent/views/auth.py, consent/services/accounts.py): django-axes throttles
# password guesses per account and address (the password re-entries for signing count too), and
# django-otp asks every staff account for a second factor (TOTP, with recovery codes). After the
# consent app, so its audit receivers see a failure before axes counts it.
INSTALLED_APPS += [
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Locked after this many wrong passwords from one address for one account, for the cool-off.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A try while locked out does not push the end of the lock-out further: the page says when.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "consent.views.auth.locked_out"
AXES_USERNAME_CALLABLE = "consent.services.accounts.axes_username"
# The audit log records every log-in and log-out; axes keeps only the failures it counts.
AXES_DISABLE_ACCESS_LOG = True
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
AXES_VERBOSE = False
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Consent")
# Recovery codes made at enrolment, each good once (django-otp's static device).
STAFF_RECOVERY_CODES = 10

# Sessions and cookies. The patient's browser session is a cookie; staff sessions also end
# after STAFF_IDLE_TIMEOUT without activity (consent/middleware.py).
# Django's database sessions, read by SQL written once per process (consent/session_store.py).
SESSION_ENGINE = "consent.session_store"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(60 * 60 * 12)))
# A staff member who does nothing for this long is logged out (consent/middleware.py).
STAFF_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("STAFF_IDLE_TIMEOUT_MINUTES", "30")))
# A patient's browser left this long without a request gets a page saying how to go on, and its
# session ends; the answers stay stored and the same link resumes (consent/middleware.py).
PATIENT_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("PATIENT_IDLE_TIMEOUT_MINUTES", "20")))
SECURE_CONTENT_TYPE_NOSNIFF = True
# Same-origin, not no-referrer, for ordinary pages: with no-referrer browsers send "Origin: null"
# on form posts and Django's CSRF check refuses them. The patient link's own responses, whose
# URL carries the token, send no referrer at all (consent/views/patient.py).
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Production safety (issue 12 item 5): HTTPS only with DEBUG off. Django redirects plain HTTP to
# HTTPS and browsers remember it for a year (HSTS, subdomains included, preload-ready), so
# `manage.py check --deploy` has nothing to say. Behind a TLS proxy (TLS_TERMINATED_BY_PROXY=1;
# BEHIND_TLS_PROXY=1 is the older word) Django trusts the proxy's X-Forwarded-Proto, which the
# proxy must set and strip from clients: the redirect then fires only for requests that came in
# over plain HTTP. SECURE_SSL_REDIRECT=0 and SECURE_HSTS_SECONDS=0 turn them off explicitly.
TLS_TERMINATED_BY_PROXY = env_bool("TLS_TERMINATED_BY_PROXY", env_bool("BEHIND_TLS_PROXY", False))
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TLS_TERMINATED_BY_PROXY else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# The load balancer's health probe (consent/views/health.py) may speak plain HTTP to the server.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# The client's address behind proxies (issue 12): how many proxies stand in front of the
# application, each appending to X-Forwarded-For (nginx: $proxy_add_x_forwarded_for). 0, the
# default, trusts no header: the address is REMOTE_ADDR. With N, the client is the N-th entry
# of X-Forwarded-For from the right (consent.audit.events.client_address), for the audit log
# and for the log-in lock-out alike. Set it only when every request comes through those
# proxies: anyone who can reach the application directly could then choose their address.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT is a number of proxies: 0 or more.")
AXES_CLIENT_IP_CALLABLE = "consent.audit.events.client_address"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# The consent flow.
INSTITUTION_NAME = os.environ.get("INSTITUTION_NAME", "Demo University Hospital, Cardiology")
CONSENT_CONTENT_DIR = BASE_DIR / "content"
# How many times a wrong answer is re-taught before the item is flagged for the physician.
CONSENT_MAX_RETEACH = int(os.environ.get("CONSENT_MAX_RETEACH", "2"))
# Content packs without a clinical review (reviewed_by, reviewed_on) are marked "Not clinically
# reviewed: for demonstration only" everywhere; with DEBUG off, sessions can be made on them only
# when this is on (`make run`'s demo turns it on). Never in production.
CONSENT_ALLOW_UNREVIEWED_CONTENT = env_bool("CONSENT_ALLOW_UNREVIEWED_CONTENT", False)
CONSENT_LINK_TTL = timedelta(days=int(os.environ.get("CONSENT_LINK_TTL_DAYS", "14")))
# A session not yet attested this long after its creation expires (manage.py expire_sessions).
CONSENT_SESSION_TTL = timedelta(days=int(os.environ.get("CONSENT_SESSION_TTL_DAYS", "30")))
CONSENT_DOB_MAX_TRIES = int(os.environ.get("CONSENT_DOB_MAX_TRIES", "5"))
# Longest time counted for one look at a section: a tab left open overnight is not reading.
CONSENT_SECTION_TIME_CAP = timedelta(minutes=int(os.environ.get("CONSENT_SECTION_TIME_CAP", "30")))
CONSENT_FREE_TEXT_MAX = 5000
CONSENT_PATIENT_QUESTION_MAX = 2000


def _seal_env(name: str, default: str = "") -> str:
    """SEAL_<name>, or the SIGNING_<name> that deployments set before the seal had its own word."""
    return os.environ.get(f"SEAL_{name}", os.environ.get(f"SIGNING_{name}", default))


# The institution's seal on finalized PDFs (consent/record/seal.py): a PKCS#12 file and its
# passphrase. *Seal* is the institution's; *sign* is what people do.
SEAL_P12_PATH = Path(_seal_env("P12_PATH") or BASE_DIR / "seal" / "seal.p12")
SEAL_P12_PASSPHRASE = _seal_env("P12_PASSPHRASE", "development-only")
# Certificates of earlier seal keys (PEM or DER files, comma-separated): records sealed before a
# key was replaced still verify as made by the institution.
SEAL_TRUSTED_CERTS = [
    Path(item.strip()) for item in _seal_env("TRUSTED_CERTS").split(",") if item.strip()
]
# Optional RFC 3161 timestamp authority for the seal (PAdES B-T); empty means no timestamp.
SEAL_TSA_URL = _seal_env("TSA_URL")
# Roots of the timestamp authorities whose time verification believes (PEM or DER files,
# comma-separated): a token from any other authority is ignored and the seal's own claimed
# time is used.
SEAL_TSA_TRUSTED_CERTS = [
    Path(item.strip()) for item in _seal_env("TSA_TRUSTED_CERTS").split(",") if item.strip()
]
# Where staff open this deployment: the QR code on each record points to its verification page.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Logging never writes patient data, at any level (issue 12 item 5): SQL goes to
# django.db.backends with its parameters (names, dates of birth, free text), so those loggers
# never go below INFO and a filter on them replaces the statement and its parameters, should
# anyone turn them up anyway; a failed template lookup (django.template, DEBUG) prints the whole
# context in its exception, so that logger stays at INFO and its filter drops the exception.
# LOG_LEVEL sets everything else (WARNING by default).
LOG_LEVEL = os.environ.get("LOG_LEVEL", "WARNING").upper()
_NO_SQL = {"level": "INFO", "filters": ["redact_sql"]}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_tokens": {"()": "consent.logging.RedactPatientTokens"},
        "redact_sql": {"()": "consent.logging.RedactSql"},
        "redact_template": {"()": "consent.logging.RedactTemplateContext"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_tokens", "redact_sql", "redact_template"],
        },
    },
    "loggers": {
        "django": {"level": LOG_LEVEL},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django.db.backends": _NO_SQL,
        "django.db.backends.schema": _NO_SQL,
        "django.template": {"level": "INFO", "filters": ["redact_template"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
