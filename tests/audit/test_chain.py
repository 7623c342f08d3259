"""The audit log's hash chain: appends link up, and any tampering is found at the right event."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent.audit import triggers
from consent.audit.chain import GENESIS_HASH, chain_head, chain_verify, event_hash
from consent.audit.events import audit_record
from consent.models import AuditEvent

pytestmark = pytest.mark.django_db

CHAIN_LENGTH = 1000
TEXT_COLUMNS = ("actor_label", "role", "action", "object_type", "object_id", "client", "hash")


def append(count: int) -> None:
    with transaction.atomic():
        for n in range(count):
            audit_record(
                action=f"test.event-{n % 7}",
                role="system",
                actor_label=f"tester {n}",
                payload={"n": n, "even": n % 2 == 0},
            )


@pytest.fixture
def chain():
    append(CHAIN_LENGTH)
    return list(AuditEvent.objects.order_by("seq").values_list("pk", "seq"))


def sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def without_triggers() -> None:
    """Drop the history triggers inside the current transaction (undone on rollback)."""
    for statement in triggers.drop_sql(connection.vendor):
        sql(statement, [])


def tampered(tamper) -> "ChainReport":  # noqa: F821
    """Drop the triggers, apply a raw-SQL tampering, verify, and undo it all (a savepoint)."""
    with transaction.atomic():
        point = transaction.savepoint()
        without_triggers()
        tamper()
        report = chain_verify()
        transaction.savepoint_rollback(point)
    return report


def test_events_link_to_their_predecessor():
    append(3)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert all(event_hash(e) == e.hash for e in events)
    assert chain_head() == (3, events[2].hash)


def test_verify_audit_command_reports_count_and_head(capsys):
    append(5)
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert f"audit chain intact: 5 events, head 5 sha256 {chain_head()[1]}" in out


def test_verify_audit_command_fails_naming_the_broken_event():
    append(5)
    third = AuditEvent.objects.get(seq=3)
    without_triggers()
    sql("UPDATE consent_auditevent SET action = %s WHERE id = %s", ["forged", third.pk])
    with pytest.raises(CommandError, match=r"broken at event 3 .*altered"):
        call_command("verify_audit")


def test_the_chain_is_intact_after_a_thousand_appends(chain):
    report = chain_verify()
    assert report.intact
    assert (report.count, report.head_seq) == (CHAIN_LENGTH, CHAIN_LENGTH)


HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@HYPOTHESIS
@given(
    index=st.integers(0, CHAIN_LENGTH - 1),
    column=st.sampled_from(TEXT_COLUMNS),
    position=st.integers(0, 63),
    replacement=st.characters(min_codepoint=33, max_codepoint=126),
)
def test_any_single_character_edit_is_found_at_that_event(
    chain, index, column, position, replacement
):
    pk, seq = chain[index]
    value = AuditEvent.objects.values_list(column, flat=True).get(pk=pk)
    if not value:  # an empty column: the one-byte edit writes a character into it
        edited = replacement
    else:
        position %= len(value)
        if value[position] == replacement:
            replacement = "#" if replacement != "#" else "%"
        edited = value[:position] + replacement + value[position + 1 :]
    report = tampered(
        lambda: sql(f"UPDATE consent_auditevent SET {column} = %s WHERE id = %s", [edited, pk])  # noqa: S608
    )
    assert (report.broken_seq, report.broken_id) == (seq, pk)


@HYPOTHESIS
@given(index=st.integers(0, CHAIN_LENGTH - 1), n=st.integers(-5, 5))
def test_an_edited_payload_is_found_at_that_event(chain, index, n):
    pk, seq = chain[index]
    payload = '{"n": %d, "even": true, "added": 1}' % n  # noqa: UP031
    report = tampered(
        lambda: sql("UPDATE consent_auditevent SET payload = %s WHERE id = %s", [payload, pk])
    )
    assert report.broken_seq == seq


@HYPOTHESIS
@given(index=st.integers(0, CHAIN_LENGTH - 2))
def test_a_deleted_event_is_found_where_it_was(chain, index):
    pk, seq = chain[index]
    report = tampered(lambda: sql("DELETE FROM consent_auditevent WHERE id = %s", [pk]))
    assert report.broken_seq == seq
    assert "removed or inserted" in report.reason


@HYPOTHESIS
@given(first=st.integers(0, CHAIN_LENGTH - 1), second=st.integers(0, CHAIN_LENGTH - 1))
def test_two_swapped_events_are_found_at_the_earlier_place(chain, first, second):
    if first == second:
        second = (first + 1) % CHAIN_LENGTH
    (pk_a, seq_a), (pk_b, seq_b) = sorted([chain[first], chain[second]], key=lambda x: x[1])

    def swap():
        sql("UPDATE consent_auditevent SET seq = %s WHERE id = %s", [10**9, pk_a])
        sql("UPDATE consent_auditevent SET seq = %s WHERE id = %s", [seq_a, pk_b])
        sql("UPDATE consent_auditevent SET seq = %s WHERE id = %s", [seq_b, pk_a])

    report = tampered(swap)
    assert report.broken_seq == seq_a


def insert_forged(at_seq: int, *, consistent: bool) -> None:
    """Shift the tail by one and insert a forged event at `at_seq`.

    A consistent forgery carries the right previous hash and its own correct hash, so the
    break shows at the event after it, whose hash covered its old place.
    """
    sql("UPDATE consent_auditevent SET seq = seq + %s WHERE seq >= %s", [10**9, at_seq])
    sql("UPDATE consent_auditevent SET seq = seq - %s WHERE seq >= %s", [10**9 - 1, 10**9])
    previous = AuditEvent.objects.filter(seq=at_seq - 1).values_list("hash", flat=True).first()
    forged = AuditEvent(
        seq=at_seq,
        prev_hash=(previous or GENESIS_HASH) if consistent else "f" * 64,
        occurred_at=AuditEvent.objects.get(seq=at_seq + 1).occurred_at,
        actor_label="intruder",
        role="system",
        action="forged",
        payload={},
    )
    forged.hash = event_hash(forged) if consistent else "e" * 64
    sql(
        "INSERT INTO consent_auditevent (seq, prev_hash, hash, occurred_at, actor_label, role, "
        "action, object_type, object_id, client, payload) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, '', '', '', %s)",
        [
            forged.seq,
            forged.prev_hash,
            forged.hash,
            forged.occurred_at,
            forged.actor_label,
            forged.role,
            forged.action,
            "{}",
        ],
    )


@HYPOTHESIS
@given(index=st.integers(0, CHAIN_LENGTH - 1), consistent=st.booleans())
def test_an_inserted_event_is_found(chain, index, consistent):
    _pk, seq = chain[index]
    report = tampered(lambda: insert_forged(seq, consistent=consistent))
    # A naive forgery breaks at itself; a consistent one at the event it pushed along.
    assert report.broken_seq == (seq + 1 if consistent else seq)


def rehash_as_version_1(seqs: list[int]) -> None:
    """Rewrite the given events, and relink those after them, as version 1 of the chain would
    have hashed them (events written before RFC 8785); later events keep version 2."""
    previous = GENESIS_HASH
    for event in AuditEvent.objects.order_by("seq"):
        event.prev_hash = previous
        event.hash = event_hash(event, version=1 if event.seq in seqs else 2)
        sql(
            "UPDATE consent_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
            [event.prev_hash, event.hash, event.pk],
        )
        previous = event.hash


def test_events_hashed_before_rfc_8785_keep_verifying_before_newer_ones():
    append(6)
    report = tampered(lambda: rehash_as_version_1([1, 2, 3]))
    assert report.intact
    assert report.count == 6


def test_an_event_hashed_in_version_1_after_a_version_2_event_is_reported():
    """Versions never go back along the chain: an event rewritten in the older form after a
    newer one is named, even though its hash matches that older form."""
    append(6)
    report = tampered(lambda: rehash_as_version_1([1, 4]))
    assert report.broken_seq == 4
    assert "versions never go back" in report.reason


def test_new_events_are_hashed_in_rfc_8785_form():
    from consent.audit.chain import event_version

    append(2)
    assert [event_version(e) for e in AuditEvent.objects.order_by("seq")] == [2, 2]
