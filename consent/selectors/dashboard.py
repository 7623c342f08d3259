"""Reads for the staff pages: which sessions a user may see, the dashboard, one session's page."""

from typing import TYPE_CHECKING, TypedDict
from uuid import UUID

from django.contrib.auth.models import User
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from consent.models import (
    Attempt,
    ConsentRecord,
    ConsentSession,
    PatientLink,
    PatientQuestion,
    ProcedureVersion,
    Question,
    Section,
    SectionView,
)
from consent.rules import flagged_attempts_q

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class DashboardAnnotations(TypedDict):
    """What `consent_sessions_dashboard` adds to each session."""

    sections_total: int
    sections_read: int
    questions_total: int
    questions_answered: int
    first_try_correct: int
    first_try_graded: int
    flagged: int
    patient_questions_open: int


def procedure_versions_available() -> QuerySet[ProcedureVersion]:
    return ProcedureVersion.objects.order_by("slug", "language", "-imported_at")


def consent_sessions_visible(*, user: User) -> QuerySet[ConsentSession]:
    """The sessions a staff member may see: their own, or all with the explicit permission."""
    sessions = ConsentSession.objects.select_related("procedure_version", "physician")
    if user.has_perm("consent.view_all_sessions"):
        return sessions
    return sessions.filter(physician=user)


def _count(queryset: QuerySet, group_by: str) -> Coalesce:
    """Count the rows of a correlated queryset in a subquery of its own.

    Subqueries rather than joins: several joined counts would multiply each other's rows.
    """
    counted = queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted[:1]), Value(0))


def consent_sessions_dashboard(
    *, user: User, status: str = ""
) -> "QuerySet[WithAnnotations[ConsentSession, DashboardAnnotations]]":
    """The sessions a staff member may see, each with its progress figures, in one query.

    - `sections_read` of `sections_total`: sections the patient spent time on;
    - `questions_answered` of `questions_total`: questions settled, by the rule of
      `teachback.DONE` (right, answered in own words, or still wrong after the last re-teach);
    - `first_try_correct` of `first_try_graded`: first attempts that were right, out of the
      first attempts graded so far (free-text answers are not graded);
    - `flagged`: questions still wrong after the last re-teach, to discuss;
    - `patient_questions_open`: the patient's questions not yet answered.
    """
    # The procedure version of each row comes from the content cache (`with_cached_versions`),
    # not a join that reads and decodes its pack JSON once per row.
    sessions = consent_sessions_visible(user=user).select_related(None).select_related("physician")
    if status:
        sessions = sessions.filter(status=status)
    attempts = Attempt.objects.filter(session=OuterRef("pk"))
    flagged = flagged_attempts_q(OuterRef("max_reteach"))
    return sessions.annotate(
        sections_total=_count(
            Section.objects.filter(version=OuterRef("procedure_version")), "version"
        ),
        sections_read=_count(SectionView.objects.filter(session=OuterRef("pk")), "session"),
        questions_total=_count(
            Question.objects.filter(version=OuterRef("procedure_version")), "version"
        ),
        # A question has at most one settling attempt: nothing is asked after it.
        questions_answered=_count(
            attempts.filter(Q(is_correct__isnull=True) | Q(is_correct=True) | flagged),
            "session",
        ),
        first_try_correct=_count(attempts.filter(round=1, is_correct=True), "session"),
        first_try_graded=_count(attempts.filter(round=1, is_correct__isnull=False), "session"),
        flagged=_count(attempts.filter(flagged), "session"),
        patient_questions_open=_count(
            PatientQuestion.objects.filter(session=OuterRef("pk"), answer=""), "session"
        ),
    )


def consent_sessions_dashboard_ids(
    *, user: User, status: str = ""
) -> "QuerySet[ConsentSession, int]":
    """The ids of the dashboard's sessions, newest first: what it pages (on the physician's
    (physician, created_at) index), so the progress figures of `consent_sessions_dashboard`
    are counted for one page's rows, not for every row before it too."""
    sessions = consent_sessions_visible(user=user).select_related(None)
    if status:
        sessions = sessions.filter(status=status)
    return sessions.values_list("pk", flat=True)


def consent_sessions_dashboard_rows(
    *, user: User, ids: list[int]
) -> "list[WithAnnotations[ConsentSession, DashboardAnnotations]]":
    """These sessions, as `consent_sessions_dashboard` gives them, in the order of `ids`."""
    by_id = {s.pk: s for s in consent_sessions_dashboard(user=user).filter(pk__in=ids)}
    return [by_id[pk] for pk in ids if pk in by_id]


def session_visible_or_none(*, user: User, public_id: UUID | str) -> ConsentSession | None:
    """The session with this public id if the user may see it, else None."""
    return consent_sessions_visible(user=user).filter(public_id=public_id).first()


def session_links_recent(*, session: ConsentSession, limit: int = 10) -> list[PatientLink]:
    """The session's patient links, newest first, for its page."""
    return list(session.links.all()[:limit])


def session_visible_exists(*, user: User, session_id: int) -> bool:
    return consent_sessions_visible(user=user).filter(pk=session_id).exists()


def record_visible_or_none(*, user: User, record_id: str) -> ConsentRecord | None:
    """The finalized record with this id if its session is visible to the user, else None."""
    return (
        ConsentRecord.objects.select_related("session", "finalized_by")
        .filter(
            record_id=record_id,
            session__in=consent_sessions_visible(user=user).values("pk"),
        )
        .first()
    )
