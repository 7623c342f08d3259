"""Queries of the auditor's workspace: the records list, a record's history, the CSV export.

After finalization the record page reads the STORED canonical record (`record_document_get`),
not the live tables: what the page says about the patient, the procedure, the decision and the
signatures is what was sealed. Only what is not part of the record comes from the tables: the
session's status, addenda, who looked at it and the audit timeline.

Every query here costs the same number of round trips however many sessions exist: the list is
one query for the page plus one count, the decision and flags are annotated, not fetched per
row. Filters that can narrow 100,000 sessions use indexed columns (see the model indexes).
"""

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.models import (
    Addendum,
    Attempt,
    AuditEvent,
    ConsentRecord,
    ConsentSession,
    Signature,
)
from consent.rules import Decision, Outcome, decision_case, decision_of, flagged_attempts_q
from consent.selectors.session import utc_moment

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class RecordAnnotations(TypedDict):
    """What `records_annotated` adds to each session."""

    consented: bool
    declined: bool
    withdrawn: bool
    has_flags: bool
    decision: str  # a consent.rules.Decision


# key -> (label, order_by fields). The last field makes every order total (stable pages).
SORTS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "-created": (_("Newest first"), ("-created_at", "-pk")),
    "created": (_("Oldest first"), ("created_at", "pk")),
    "patient": (_("Patient name"), ("patient_name", "pk")),
    "status": (_("Status"), ("status", "-created_at", "-pk")),
    "-finalized": (_("Finalized, newest first"), ("-finalized_at", "-pk")),
}
DEFAULT_SORT = "-created"
RECORD_ID = re.compile(r"CR-\d{4}-\d{6,}", re.IGNORECASE)

# Actions that are someone looking at health data, for a record's "who looked" list.
ACCESS_ACTIONS = (
    "record.viewed",
    "record.downloaded",
    "record.verified",
    "record.exported",
    "session.viewed",
)


CALENDAR_EDGE = timedelta(days=2)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _consented() -> Exists:
    return Exists(
        Signature.objects.filter(session=OuterRef("pk"), kind=Signature.Kind.PATIENT_CONSENT)
    )


def _declined() -> Exists:
    return Exists(
        Signature.objects.filter(session=OuterRef("pk"), kind=Signature.Kind.PATIENT_REFUSAL)
    )


def _withdrawn() -> Exists:
    return Exists(
        Addendum.objects.filter(record__session=OuterRef("pk"), kind=Addendum.Kind.WITHDRAWAL)
    )


def decision_q(decision: str) -> Q:
    """The sessions whose `decision_case` is this decision, as plain EXISTS conditions.

    Filtering on the CASE itself made the database evaluate all three subqueries on every
    session; these conditions are semi- and anti-joins over the signatures' (session, kind)
    and the addenda's record index, which the planner can drive either way.
    """
    consented, declined, withdrawn = _consented(), _declined(), _withdrawn()
    if decision == Decision.WITHDRAWN:
        return Q(withdrawn)
    if decision == Decision.CONSENTED:
        return Q(consented) & ~Q(withdrawn)
    if decision == Decision.DECLINED:
        return Q(declined) & ~Q(consented) & ~Q(withdrawn)
    return ~Q(consented) & ~Q(declined) & ~Q(withdrawn)


def records_annotated() -> "QuerySet[WithAnnotations[ConsentSession, RecordAnnotations]]":
    """Every session with its physician, version, record, decision and flags, in one query."""
    return (
        ConsentSession.objects.select_related(
            "procedure_version", "physician", "record", "record__finalized_by"
        )
        .annotate(
            consented=_consented(),
            declined=_declined(),
            withdrawn=_withdrawn(),
            has_flags=_flagged(),
        )
        .annotate(
            decision=decision_case(
                consented=Q(consented=True), declined=Q(declined=True), withdrawn=Q(withdrawn=True)
            )
        )
    )


def _flagged() -> Exists:
    return Exists(
        Attempt.objects.filter(flagged_attempts_q(OuterRef("max_reteach")), session=OuterRef("pk"))
    )


def _filtered(sessions: QuerySet[ConsentSession], filters: dict[str, Any]) -> QuerySet:
    """These sessions narrowed by the filters (none refers to an annotation), in their sort."""
    if query := filters.get("q", "").strip():
        if RECORD_ID.fullmatch(query):
            # A record id is unique and indexed: no need to scan every name.
            sessions = sessions.filter(record__record_id=query.upper())
        else:
            sessions = sessions.filter(
                Q(patient_name__icontains=query) | Q(patient_record_number__iexact=query)
            )
    # A day at the calendar's very edge (year 1 or 9999) bounds nothing: the day after
    # 9999-12-31, or midnight of 0001-01-01 in UTC from a time zone ahead of it, is no datetime.
    if (first := filters.get("date_from")) and first > date.min + CALENDAR_EDGE:
        sessions = sessions.filter(created_at__gte=_day_start(first))
    if (last := filters.get("date_to")) and last < date.max - CALENDAR_EDGE:
        sessions = sessions.filter(created_at__lt=_day_start(last + timedelta(days=1)))
    if version := filters.get("version"):
        sessions = sessions.filter(procedure_version_id=version)
    if physician := filters.get("physician"):
        sessions = sessions.filter(physician_id=physician)
    if status := filters.get("status"):
        sessions = sessions.filter(status=status)
    if decision := filters.get("decision"):
        sessions = sessions.filter(decision_q(decision))
    if filters.get("flagged"):
        sessions = sessions.filter(_flagged())
    sort = filters.get("sort") or DEFAULT_SORT
    return sessions.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT])[1])


def records_filtered(
    filters: dict[str, Any],
) -> "QuerySet[WithAnnotations[ConsentSession, RecordAnnotations]]":
    """The records list for these filters (see consent.forms_audit.RecordFilterForm)."""
    return _filtered(records_annotated(), filters)


def records_ids(filters: dict[str, Any]) -> "QuerySet[ConsentSession, int]":
    """The ids of the sessions these filters keep, in the list's order: what the list pages.

    Paging the bare ids lets the database skip the rows before a page on an index alone; the
    joins and flags of `records_annotated`, computed for every skipped row when the annotated
    query itself is offset, are read only for the page's rows (`records_listed`).
    """
    return _filtered(ConsentSession.objects.all(), filters).values_list("pk", flat=True)


def records_listed(
    ids: list[int],
) -> "list[WithAnnotations[ConsentSession, RecordAnnotations]]":
    """These sessions, annotated as `records_annotated`, in the order of `ids`; without what a
    row never shows: the version's pack JSON (21 KB, decoded once per row otherwise) and the
    stored canonical record."""
    rows = records_annotated().defer(
        "procedure_version__content", "record__record_json", "record__pdf_sha256"
    )
    by_id = {session.pk: session for session in rows.filter(pk__in=ids)}
    return [by_id[pk] for pk in ids if pk in by_id]


def filters_for_log(filters: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a search: the filters, never the searched text itself
    (a patient's name is health data; the log says that a search was made)."""
    kept: dict[str, Any] = {}
    for key, value in filters.items():
        if key == "q":
            kept["searched_text"] = True
        elif isinstance(value, date):
            kept[key] = value.isoformat()
        else:
            kept[key] = value
    return kept


class StoredRecordChanged(Exception):
    """The stored canonical record no longer has the SHA-256 noted at finalization."""


def record_document_get(*, record: ConsentRecord) -> dict[str, Any]:
    """The canonical record exactly as stored at finalization, parsed (docs/record-format.md).

    Refused when its bytes no longer hash to `record_sha256`: a changed record is never shown
    or exported as if it were the one that was sealed (the verification page says what changed).
    """
    stored = record.record_json.encode("utf-8")
    if not record.record_sha256 or hashlib.sha256(stored).hexdigest() != record.record_sha256:
        raise StoredRecordChanged(record.record_id)
    document = json.loads(stored)
    if not isinstance(document, dict) or document.get("record_id") != record.record_id:
        raise StoredRecordChanged(record.record_id)
    return document


@dataclass(frozen=True)
class SignatureRow:
    """One signature as the record page lists it (21 CFR 11.50 manifestation)."""

    kind_label: str
    printed_name: str
    meaning: str
    method_label: str
    signed: datetime | None
    # The patient's decision signed by a legal representative: their relationship (else "").
    representative_relationship: str = ""
    # Signed in a browser where this staff account was logged in (flagged); "" otherwise.
    staff_browser_user: str = ""
    staff_browser: bool = False


@dataclass(frozen=True)
class RecordSummary:
    """What the record page says about a session: read from the stored record once finalized
    (`from_record`), from the live session before."""

    from_record: bool
    patient_name: str
    patient_birth_date: date | None
    patient_record_number: str
    procedure_title: str
    procedure_slug: str
    procedure_version: str
    procedure_language: str
    physician: str
    decision: str  # a consent.rules.Decision
    decided: datetime | None
    has_flags: bool
    created: datetime | None
    finalized: datetime | None
    signatures: list[SignatureRow]


def _summary_stored(
    document: dict[str, Any], session: "WithAnnotations[ConsentSession, RecordAnnotations]"
) -> RecordSummary:
    patient, procedure, decision = document["patient"], document["procedure"], document["decision"]
    consented = decision["outcome"] == Decision.CONSENTED
    return RecordSummary(
        from_record=True,
        patient_name=patient["name"],
        patient_birth_date=date.fromisoformat(patient["birth_date"]),
        patient_record_number=patient["record_number"],
        procedure_title=procedure["title"],
        procedure_slug=procedure["slug"],
        procedure_version=procedure["version"],
        procedure_language=procedure["language"],
        physician=document["physician"],
        # A withdrawal is an addendum, after the record: it ends only a consent that was given.
        decision=decision_of(
            consented=consented,
            declined=decision["outcome"] == Decision.DECLINED,
            withdrawn=consented and session.withdrawn,
        ),
        decided=utc_moment(decision["decided_at"]),
        has_flags=any(q["outcome"] == Outcome.FLAGGED for q in document["questions"]),
        created=utc_moment(document["created_at"]),
        finalized=utc_moment(document["finalized_at"]),
        signatures=[
            SignatureRow(
                kind_label=signature["kind_label"],
                printed_name=signature["printed_name"],
                meaning=signature["meaning"],
                method_label=signature["method_label"],
                signed=utc_moment(signature["signed_at"]),
                # Records made before the right-signer fields lack them.
                representative_relationship=signature.get("representative_relationship", ""),
                staff_browser_user=signature.get("staff_browser_user", ""),
                staff_browser=bool(signature.get("staff_browser")),
            )
            for signature in document["signatures"]
        ],
    )


def _summary_live(
    session: "WithAnnotations[ConsentSession, RecordAnnotations]", signatures: list[Signature]
) -> RecordSummary:
    version = session.procedure_version
    return RecordSummary(
        from_record=False,
        patient_name=session.patient_name,
        patient_birth_date=session.patient_birth_date,
        patient_record_number=session.patient_record_number,
        procedure_title=version.title,
        procedure_slug=version.slug,
        procedure_version=version.version,
        procedure_language=version.language,
        physician=session.physician.get_full_name() or session.physician.get_username(),
        decision=session.decision,
        decided=session.decided_at,
        has_flags=session.has_flags,
        created=session.created_at,
        finalized=session.finalized_at,
        signatures=[
            SignatureRow(
                kind_label=signature.get_kind_display(),
                printed_name=signature.printed_name,
                meaning=signature.meaning,
                method_label=signature.get_method_display(),
                signed=signature.signed_at,
                representative_relationship=signature.representative_relationship,
                staff_browser_user=(
                    signature.staff_browser_user.get_full_name()
                    or signature.staff_browser_user.get_username()
                    if signature.staff_browser_user
                    else ""
                ),
                staff_browser=signature.staff_browser,
            )
            for signature in signatures
        ],
    )


@dataclass(frozen=True)
class RecordHistory:
    """One session as the auditor's record page shows it."""

    session: ConsentSession
    record: ConsentRecord | None
    summary: RecordSummary
    # True when the session has a record whose stored data no longer matches its SHA-256: the
    # summary is then the live tables' (possibly altered) and the page says so.
    record_changed: bool
    addenda: list[Addendum]
    events: list[AuditEvent]
    access: list[AuditEvent]

    def with_event(self, event: AuditEvent) -> "RecordHistory":
        """The same history with one more event of the session (one just written)."""
        access = [*self.access, event] if event.action in ACCESS_ACTIONS else self.access
        return replace(self, events=[*self.events, event], access=access)


def record_history_get(*, public_id: Any) -> RecordHistory | None:
    session = records_annotated().filter(public_id=public_id).first()
    if session is None:
        return None
    try:
        record = session.record
    except ConsentRecord.DoesNotExist:
        record = None
    summary, changed = None, False
    if record is not None:
        try:
            summary = _summary_stored(record_document_get(record=record), session)
        except StoredRecordChanged:
            changed = True
    if summary is None:
        signatures = list(
            session.signatures.select_related("staff_browser_user").order_by("signed_at", "pk")
        )
        summary = _summary_live(session, signatures)
    addenda = list(Addendum.objects.filter(record__session=session).select_related("created_by"))
    events = list(
        AuditEvent.objects.filter(session=session).select_related("actor").order_by("seq")
    )
    access = [event for event in events if event.action in ACCESS_ACTIONS]
    return RecordHistory(session, record, summary, changed, addenda, events, access)


CSV_HEADER = (
    "session",
    "record_id",
    "patient_record_number",
    "procedure",
    "procedure_version",
    "language",
    "physician",
    "status",
    "decision",
    "flagged_items",
    "created_at",
    "decided_at",
    "finalized_at",
    "pdf_sha256",
    # Each addendum as `<addendum id> <kind> <time>`, separated by "; " (oldest first).
    "addenda",
)


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def csv_safe(value: str) -> str:
    """Text a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def records_csv_rows(
    sessions: "QuerySet[WithAnnotations[ConsentSession, RecordAnnotations]]",
) -> Iterator[tuple[str, ...]]:
    """The CSV export's rows: identifiers and outcomes, no names, dates of birth or free text."""
    yield CSV_HEADER
    for session in sessions.prefetch_related("record__addenda").iterator(chunk_size=2000):
        try:
            record = session.record
        except ConsentRecord.DoesNotExist:
            record = None
        version = session.procedure_version
        yield (
            str(session.public_id),
            record.record_id if record else "",
            csv_safe(session.patient_record_number),
            version.slug,
            version.version,
            version.language,
            session.physician.get_username(),
            session.status,
            session.decision,
            "yes" if session.has_flags else "no",
            _utc(session.created_at),
            _utc(session.decided_at),
            _utc(session.finalized_at),
            record.pdf_sha256 if record else "",
            "; ".join(
                f"{a.addendum_id or a.pk} {a.kind} {_utc(a.created_at)}"
                for a in (record.addenda.all() if record else [])
            ),
        )


# The audit log's verification page


def audit_event_or_none(*, pk: int) -> AuditEvent | None:
    """One audit event with its session (the one where the chain breaks)."""
    return AuditEvent.objects.select_related("session").filter(pk=pk).first()


def audit_events_count() -> int:
    return AuditEvent.objects.count()


def record_addenda_list(*, record: ConsentRecord | None) -> list[Addendum]:
    """A record's addenda (withdrawals, corrections), oldest first; none without a record."""
    if record is None:
        return []
    return list(Addendum.objects.filter(record=record).select_related("created_by"))
