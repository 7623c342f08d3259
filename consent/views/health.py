"""GET /healthz: is this application server able to serve? For the load balancer.

It asks the database for one row (`SELECT 1`) and both storages (the records' files and the
audit checkpoints) whether they can be reached (`consent.objectstore.storage_probe`), and
answers 200 `{"database": "ok", "storage": "ok"}`, or 503 with `"error: ..."` beside what
failed (and `"failed"`, the list of their names): the kind of error only, never a message,
a host or a key. It needs no log-in, reads no patient data, sets no cookie and writes no audit
event (it is not an access to health data), so a probe every few seconds adds nothing to the
audit log. SECURE_SSL_REDIRECT leaves it alone, so a probe in plain HTTP behind the TLS proxy
is answered rather than redirected.
"""

import logging
from collections.abc import Callable
from functools import partial

from django.core.files.storage import storages
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from consent.objectstore import storage_probe

logger = logging.getLogger(__name__)

OK = "ok"
# The storages a server needs: records and addenda ("default"), audit checkpoints.
STORAGE_ALIASES = (("default", "records"), ("checkpoints", "checkpoints"))


def _database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _checked(name: str, check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as error:  # anything a driver or a client raises means "not reachable"
        logger.warning("health check: %s unreachable (%s)", name, type(error).__name__)
        return f"error: {name} unreachable ({type(error).__name__})"
    return OK


def _probe(alias: str) -> None:
    storage_probe(storages[alias])


def _storage() -> str:
    for alias, name in STORAGE_ALIASES:
        state = _checked(f"{name} storage", partial(_probe, alias))
        if state != OK:
            return state
    return OK


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    states = {"database": _checked("database", _database), "storage": _storage()}
    failed = [name for name, state in states.items() if state != OK]
    body: dict[str, object] = dict(states)
    if failed:
        body["failed"] = failed
    response = JsonResponse(body, status=503 if failed else 200)
    add_never_cache_headers(response)
    return response
