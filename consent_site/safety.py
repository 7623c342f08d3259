"""What a server refuses to start with (issue 12 item 5): called by the WSGI entry point, which
gunicorn and runserver load, so `migrate`, the tests and the checks still run anywhere."""

from django.core.exceptions import ImproperlyConfigured

MESSAGE_DEVELOPMENT_KEY = (
    "DEBUG is off but SECRET_KEY is not set (or is the public development key). Set SECRET_KEY "
    "to a long random secret kept out of the code, for example the output of: python -c "
    '"import secrets; print(secrets.token_urlsafe(50))". For development, set DEBUG=1 instead.'
)


def refuse_unsafe_start() -> None:
    """Raise ImproperlyConfigured when this server would serve on the development key."""
    from django.conf import settings

    if not settings.DEBUG and settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        raise ImproperlyConfigured(MESSAGE_DEVELOPMENT_KEY)
