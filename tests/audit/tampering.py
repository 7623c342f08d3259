"""Raw-SQL tamperings of the audit log, as someone with full database rights would do them."""

from django.db import connection

from consent.audit import triggers
from consent.audit.chain import GENESIS_HASH, event_hash
from consent.models import AuditEvent


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def without_triggers() -> None:
    """Drop the history triggers inside the current transaction (undone on rollback)."""
    for statement in triggers.drop_sql(connection.vendor):
        sql(statement)


def rewrite_chain() -> None:
    """Recompute every event's link and hash from the first one: a chain that verifies."""
    previous = GENESIS_HASH
    for event in AuditEvent.objects.order_by("seq"):
        event.prev_hash = previous
        event.hash = event_hash(event)
        sql(
            "UPDATE consent_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
            [event.prev_hash, event.hash, event.pk],
        )
        previous = event.hash


def delete_tail(count: int) -> None:
    seqs = list(AuditEvent.objects.order_by("-seq").values_list("seq", flat=True)[:count])
    sql("DELETE FROM consent_auditevent WHERE seq >= %s", [min(seqs)])


def truncate_log() -> None:
    sql("DELETE FROM consent_auditevent")
