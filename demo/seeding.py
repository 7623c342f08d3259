"""A realistic, reproducible history of consent sessions for demos and the auditor's workspace.

Everything goes through the services (`consent.services`), exactly as the views call them:
every row has its audit event, the audit chain stays intact, and each finalized record has its
real, sealed PDF. Nothing is written behind the services' back.

Time: the caller passes a simulated clock (demo/clock.py), which only moves forward; while
seeding it is installed for this context (`consent.clock.using`), so that every service stamps
what it writes from it, the history spreads over the past months and the audit log's times
never go backwards. Each consent session is a script (demo/story/) that yields the moment of
its next step; a scheduler runs the steps of all sessions in the order of their moments, so
sessions overlap as they do in a clinic. The PDF seal's own signing time comes from pyHanko and
is the real time of seeding: the seal was really applied then.

Reproducible: the mix of outcomes, every answer, reading time and patient question follow from
`seed` alone (demo/plans.py: one random generator per session for what happens, another for
when), whatever the calendar or the database already holds. Running again adds sessions;
nothing is deleted. The history ends when the run starts: events that others write meanwhile
(someone using the app during the run) come before the seeded ones in the chain but carry
later times.
"""

import heapq
import random
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import Max

from consent import clock as consent_clock
from consent.audit.chain import ChainReport, chain_verify
from consent.models import (
    Addendum,
    AuditEvent,
    ConsentRecord,
    ConsentSession,
    PatientQuestion,
    ProcedureVersion,
    Question,
    Section,
    Signature,
)
from consent.rules import Outcome
from consent.selectors.journey import journey_get
from demo.accounts import content_packs_ensure, demo_physicians_ensure, password_remembered
from demo.clock import SimulatedClock, row_times_follow
from demo.plans import SessionPlan, plans_make
from demo.story import story_script

# Commit after this many steps or this much work, whichever comes first: one transaction per
# service call would spend most of the run in fsync, and one for the whole run would hold the
# database's write lock for minutes.
BATCH_STEPS = 400
BATCH_SECONDS = 2.0


class SeedError(Exception):
    """The history cannot be seeded; the message says why."""


@dataclass
class SeedReport:
    """What a run added, in counts only (never a patient's data)."""

    sessions: int
    statuses: Counter
    consented: int
    declined: int
    withdrawn: int
    corrected: int
    records: int
    record_seconds: float
    attempts: int
    first_try_right: int
    first_try_graded: int
    flagged: int
    patient_questions: int
    interpreter_signatures: int
    witness_signatures: int
    events: int
    seconds: float
    window_start: datetime
    window_end: datetime
    compressed: bool
    chain: ChainReport | None = None


@dataclass(frozen=True)
class Progress:
    begun: int
    total: int
    records: int
    seconds: float


# The seeder


class HistorySeeder:
    """Runs the scripts of all sessions, step by step, in the order of their moments."""

    def __init__(
        self,
        *,
        plans: list[SessionPlan],
        clock: SimulatedClock,
        nominal_start: datetime,
        real_start: datetime,
        end: datetime,
        progress: Callable[[Progress], None] | None,
        progress_every: int,
    ) -> None:
        self.plans = plans
        self.clock = clock
        self.nominal_start = nominal_start
        self.real_start = real_start
        self.end = end
        span = (end - nominal_start).total_seconds()
        self.scale = max(0.0, (end - real_start).total_seconds() / span) if span > 0 else 0.0
        self.local = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.progress = progress
        self.progress_every = progress_every
        self.session_ids: list[int] = []
        self.records = 0
        self.record_seconds = 0.0
        self.began = time.perf_counter()
        self._batch_files: list[tuple[Storage, str]] = []
        self._sections: dict[int, list[Section]] = {}
        self._questions: dict[int, list[Question]] = {}

    # Time

    def real(self, nominal: datetime) -> datetime:
        """Map the story's time onto the free part of the audit log's time line."""
        nominal = min(nominal, self.end)
        return self.real_start + (nominal - self.nominal_start) * self.scale

    def _within(
        self, moment: datetime, rng: random.Random, hours: tuple[int, int], weekdays: bool
    ) -> datetime:
        """The moment itself if it falls within the hours given; else a time within those
        hours on the next day that has them."""
        first, last = hours
        local = moment.astimezone(self.local)
        if first <= local.hour < last and not (weekdays and local.weekday() >= 5):
            return moment
        day = local.date() if local.hour < first else local.date() + timedelta(days=1)
        while weekdays and day.weekday() >= 5:
            day += timedelta(days=1)
        midnight = datetime.combine(day, datetime.min.time(), tzinfo=self.local)
        fitted = midnight + timedelta(seconds=rng.uniform(first * 3600, (last - 0.5) * 3600))
        return fitted.astimezone(moment.tzinfo)

    def weekday_of_week(
        self, moment: datetime, rng: random.Random, *, following: bool = False
    ) -> datetime:
        """A moment on a weekend moved to any weekday of the same week, or of the following
        one (never earlier): not all of them to Monday."""
        local = moment.astimezone(self.local)
        if local.weekday() < 5:
            return moment
        return moment + timedelta(days=rng.randrange(5) - local.weekday() + 7 * following)

    def clinic(self, moment: datetime, rng: random.Random) -> datetime:
        """Staff work on weekdays from 8:00 to 18:00."""
        return self._within(moment, rng, (8, 18), weekdays=True)

    def patient_time(self, moment: datetime, rng: random.Random) -> datetime:
        """Patients open their link at home between 7:00 and 22:00, any day."""
        return self._within(moment, rng, (7, 22), weekdays=False)

    # Running

    def run(self) -> None:
        queue: list[tuple[datetime, int, Generator[datetime, None, None]]] = []
        for plan in self.plans:
            # A session is created in clinic hours, on a weekday of the week its plan gives.
            start = self.clinic(self.weekday_of_week(plan.start, plan.when), plan.when)
            queue.append((start, plan.index, story_script(self, plan, start)))
        heapq.heapify(queue)
        order = len(self.plans)
        while queue:
            steps, batch_began = 0, time.perf_counter()
            try:
                with transaction.atomic():
                    while queue and steps < BATCH_STEPS:
                        moment, _order, script = heapq.heappop(queue)
                        self.clock.move_to(self.real(moment))
                        try:
                            upcoming = next(script)
                        except StopIteration:
                            continue
                        order += 1
                        heapq.heappush(queue, (max(upcoming, moment), order, script))
                        steps += 1
                        if time.perf_counter() - batch_began > BATCH_SECONDS:
                            break
            except BaseException:
                # The batch rolled back: remove the PDFs its finalizations had stored.
                for storage, name in self._batch_files:
                    storage.delete(name)
                raise
            self._batch_files.clear()

    def session_begun(self, session: ConsentSession) -> None:
        self.session_ids.append(session.pk)
        begun = len(self.session_ids)
        if self.progress and (begun % self.progress_every == 0 or begun == len(self.plans)):
            self.progress(
                Progress(
                    begun=begun,
                    total=len(self.plans),
                    records=self.records,
                    seconds=time.perf_counter() - self.began,
                )
            )

    def record_finalized(self, record: ConsentRecord, *, seconds: float) -> None:
        """Count a finalized record; its PDF is deleted again if its batch rolls back."""
        self.records += 1
        self.record_seconds += seconds
        if record.pdf.name:
            self._batch_files.append((record.pdf.storage, record.pdf.name))

    def sections(self, version: ProcedureVersion) -> list[Section]:
        if version.pk not in self._sections:
            self._sections[version.pk] = list(version.sections.order_by("position"))
        return self._sections[version.pk]

    def questions(self, version: ProcedureVersion) -> list[Question]:
        if version.pk not in self._questions:
            self._questions[version.pk] = list(version.questions.order_by("position"))
        return self._questions[version.pk]

    # One session's story


# The whole run


def history_start(*, days: int, end: datetime) -> datetime:
    """Where a history of `days` days that ends at `end` can begin: `days` before `end`, or at
    the audit log's last event if that is later (the log's times never go backwards)."""
    nominal_start = end - timedelta(days=days)
    last_event = AuditEvent.objects.aggregate(last=Max("occurred_at"))["last"]
    return max(nominal_start, last_event) if last_event else nominal_start


def demo_history_seed(
    *,
    sessions: int,
    seed: int,
    clock: SimulatedClock,
    days: int = 365,
    end: datetime | None = None,
    progress: Callable[[Progress], None] | None = None,
    progress_every: int = 50,
    verify: bool = True,
) -> SeedReport:
    """Add `sessions` consent sessions through the services, told on `clock`.

    The story spans the `days` days before `end` (by default now). It happens between the
    clock's time and `end`: when the clock starts later than `days` before `end` (the audit log
    already reaches further, see `history_start`), the same story is told faster.
    """
    if sessions < 1 or days < 1:
        raise SeedError("Give at least one session and one day.")
    began = time.perf_counter()
    end = end or consent_clock.now()
    nominal_start = end - timedelta(days=days)
    real_start = clock.now()
    last_event = AuditEvent.objects.aggregate(last=Max("occurred_at"))["last"]
    if last_event and real_start < last_event:
        raise SeedError(
            f"The audit log already has events up to {last_event:%Y-%m-%d %H:%M} UTC and its "
            "times never go backwards: start the simulated clock after them."
        )
    # Should the log's last event lie ahead of this machine's clock, follow the log.
    end = max(end, real_start)
    events_before = AuditEvent.objects.count()
    with consent_clock.using(clock), row_times_follow(clock):
        physicians = [password_remembered(p) for p in demo_physicians_ensure()]
        versions = content_packs_ensure()
        if not versions:
            raise SeedError(f"No content pack in {settings.CONSENT_CONTENT_DIR} or the database.")
        plans = plans_make(
            sessions=sessions,
            seed=seed,
            days=days,
            start=nominal_start,
            physicians=physicians,
            versions=versions,
        )
        seeder = HistorySeeder(
            plans=plans,
            clock=clock,
            nominal_start=nominal_start,
            real_start=real_start,
            end=end,
            progress=progress,
            progress_every=progress_every,
        )
        seeder.run()
    return _report(seeder, began=began, events_before=events_before, verify=verify)


def _report(seeder: HistorySeeder, *, began: float, events_before: int, verify: bool) -> SeedReport:
    ids = seeder.session_ids
    sessions = ConsentSession.objects.filter(pk__in=ids)
    signatures = Counter(
        Signature.objects.filter(session_id__in=ids).values_list("kind", flat=True)
    )
    addenda = Counter(
        Addendum.objects.filter(record__session_id__in=ids).values_list("kind", flat=True)
    )
    attempts = first_right = first_graded = flagged = 0
    for session in sessions.select_related("procedure_version"):
        for progress in journey_get(session=session).progress:
            attempts += len(progress.attempts)
            flagged += progress.outcome == Outcome.FLAGGED
            first = progress.attempts[0] if progress.attempts else None
            if first is not None and first.is_correct is not None:
                first_graded += 1
                first_right += bool(first.is_correct)
    return SeedReport(
        sessions=len(ids),
        statuses=Counter(sessions.values_list("status", flat=True)),
        consented=signatures[Signature.Kind.PATIENT_CONSENT],
        declined=signatures[Signature.Kind.PATIENT_REFUSAL],
        withdrawn=addenda[Addendum.Kind.WITHDRAWAL],
        corrected=addenda[Addendum.Kind.CORRECTION],
        records=ConsentRecord.objects.filter(session_id__in=ids).count(),
        record_seconds=seeder.record_seconds,
        attempts=attempts,
        first_try_right=first_right,
        first_try_graded=first_graded,
        flagged=flagged,
        patient_questions=PatientQuestion.objects.filter(session_id__in=ids).count(),
        interpreter_signatures=signatures[Signature.Kind.INTERPRETER],
        witness_signatures=signatures[Signature.Kind.WITNESS],
        events=AuditEvent.objects.count() - events_before,
        seconds=time.perf_counter() - began,
        window_start=seeder.real_start,
        window_end=seeder.end,
        compressed=seeder.scale < 0.999,
        chain=chain_verify() if verify else None,
    )
