"""WSGI entry point (gunicorn consent_site.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from consent_site.safety import refuse_unsafe_start

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consent_site.settings")

application = get_wsgi_application()
# With DEBUG off, never serve on the development key (consent_site/safety.py).
refuse_unsafe_start()
