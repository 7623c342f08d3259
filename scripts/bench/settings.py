"""The application's settings for `make bench` only: the same settings, plus a bare floor view
(scripts/bench/urls.py) and static files collected into the bench's own folder.

Nothing in the application refers to this module; only the bench sets DJANGO_SETTINGS_MODULE to it.
"""

import os
from pathlib import Path

from consent_site.settings import *  # noqa: F403 (the application's settings, unchanged)

ROOT_URLCONF = "scripts.bench.urls"
if os.environ.get("BENCH_STATIC_ROOT"):
    STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
