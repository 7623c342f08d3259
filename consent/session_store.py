"""Django's database sessions, read by SQL written once per process instead of an ORM query.

Every page a patient or staff member opens reads its session first. Django's database backend
builds that read through the ORM each time (`Session.objects.get(...)`): compiling the query
costs about as much as the whole bare view it guards (issue 13, the patient page's profile).
This store reads the same row by the same rule (the key, and an expiry date still ahead) with
SQL written once per process from the model's own table and column names; everything else
(creating, saving, deleting, cycling keys, clearing expired rows) is Django's, unchanged.

    SESSION_ENGINE = "consent.session_store"
"""

from functools import cache
from types import SimpleNamespace
from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

_FIELDS = ("session_key", "session_data", "expire_date")


@cache
def _read_sql(model: Any, alias: str) -> str:
    quote = connections[alias].ops.quote_name
    column = {name: quote(model._meta.get_field(name).column) for name in _FIELDS}
    # Identifiers from the model's metadata, quoted by the backend; values are parameters.
    return (
        f"SELECT {column['session_data']} FROM {quote(model._meta.db_table)} "  # noqa: S608
        f"WHERE {column['session_key']} = %s AND {column['expire_date']} > %s"
    )


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> Any:
        """The stored session if its key is known and it has not expired; else None, and the
        key is forgotten (a new one is made on save), as Django's own store does."""
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(_read_sql(self.model, alias), [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return SimpleNamespace(session_data=row[0])
