"""A realistic, reproducible history of consent sessions for demos and the auditor's workspace.

Everything goes through the service layer (`consent.services`, `consent.signing`), exactly as
the views call it: every row has its audit event, the audit chain stays intact, and each
finalized record has its real, sealed PDF. Nothing is written behind the services' back.

Time: the services stamp everything with `django.utils.timezone.now()`. While seeding, that
function answers from a simulated clock which only moves forward, so that the history spreads
over the past months and the audit log's times never go backwards. Each consent session is a
script (a generator) that yields the moment of its next step; a scheduler runs the steps of all
sessions in the order of their moments, so sessions overlap as they do in a clinic. The PDF
seal's own signing time comes from pyHanko and is the real time of seeding: the seal was
really applied then.

Reproducible: the mix of outcomes, every answer, reading time and patient question follow from
`seed` alone (one random generator per session for what happens, another for when), whatever
the calendar or the database already holds. Running again adds sessions; nothing is deleted.
The history ends when the run starts: events that others write meanwhile (someone using the
app during the run) come before the seeded ones in the chain but carry later times.

Names, dates of birth and record numbers are generated from short lists: they are fictitious.
"""

import heapq
import io
import math
import random
import time
import uuid
import zoneinfo
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from PIL import Image, ImageDraw

from consent.audit.chain import ChainReport, chain_verify
from consent.audit.events import Origin
from consent.content import importing
from consent.content.packs import load_pack
from consent.management.commands.setup_demo import DEMO_ACCOUNTS
from consent.models import (
    Addendum,
    AuditEvent,
    ConsentRecord,
    ConsentSession,
    PatientLink,
    PatientQuestion,
    ProcedureVersion,
    Question,
    Section,
    Signature,
)
from consent.roles import PHYSICIAN, roles_ensure
from consent.rules import Outcome
from consent.selectors.journey import journey_get
from consent.selectors.review import VERBAL_TEACHBACK_KINDS, section_word_count
from consent.services import journey as journey_services
from consent.services import links, sessions
from consent.services import review as review_services
from consent.services import signatures as signature_services

# dr.martin comes from setup_demo; these four physicians share his demo password.
DEMO_PHYSICIANS = (
    ("dr.okafor", "Ngozi", "Okafor"),
    ("dr.lindqvist", "Erik", "Lindqvist"),
    ("dr.moreau", "Claire", "Moreau"),
    ("dr.tanaka", "Kenji", "Tanaka"),
)
DEMO_PHYSICIAN_PASSWORD = next(a[1] for a in DEMO_ACCOUNTS if a[4] == PHYSICIAN)
# dr.martin sees more patients than each of the others.
PHYSICIAN_WEIGHTS = (0.3, 0.175, 0.175, 0.175, 0.175)

# Where each session's script ends: the status it is left in.
FINALIZED_CONSENT = "finalized-consent"
FINALIZED_DECLINE = "finalized-decline"
CANCELLED = "cancelled"
CREATED = "created"
REVIEWING = "reviewing"
READY = "ready"
ATTESTED = "attested"
SIGNED = "signed"  # consented, not yet countersigned
DECLINED = "declined"  # declined, not yet countersigned
STAGE_SHARES = (
    (FINALIZED_CONSENT, 0.63),
    (FINALIZED_DECLINE, 0.07),
    (CANCELLED, 0.07),
    (CREATED, 0.04),
    (REVIEWING, 0.04),
    (READY, 0.05),
    (ATTESTED, 0.04),
    (SIGNED, 0.04),
    (DECLINED, 0.02),
)
IN_PROGRESS = (CREATED, REVIEWING, READY, ATTESTED, SIGNED, DECLINED)
DIVERSITY_ORDER = (
    FINALIZED_CONSENT,
    FINALIZED_DECLINE,
    CANCELLED,
    READY,
    REVIEWING,
    ATTESTED,
    SIGNED,
    CREATED,
    DECLINED,
)
# Sessions still in progress are mostly recent: their chance falls by e every this many days.
IN_PROGRESS_AGE_DAYS = 30
WITHDRAWAL_SHARE = 0.06  # of finalized consents
CORRECTION_SHARE = 0.03  # of finalized records

# How often a question is missed at the first try, by an average patient (MitraClip pack, from
# where patients stumble in teach-back studies: numbers and "choose all" questions most).
# Questions of other packs fall back on their kind.
FIRST_TRY_WRONG = {
    "purpose": 0.05,
    "how-it-works": 0.12,
    "risk-common": 0.18,
    "risk-stroke-per-100": 0.45,
    "risks-under-1-in-100": 0.55,
    "device-detachment": 0.2,
    "alternatives": 0.25,
    "fasting": 0.1,
    "antiplatelet": 0.3,
    "teeth-and-infection": 0.06,
    "bathing": 0.08,
}
FIRST_TRY_WRONG_BY_KIND = {"single": 0.15, "multiple": 0.3, "true-false": 0.1}

FIRST_NAMES = (
    "Jeanne", "Robert", "Maria", "Hans", "Aiko", "Giulia", "Thomas", "Fatima", "Pieter",
    "Ingrid", "Samuel", "Rosa", "Ahmed", "Margaret", "Luis", "Elena", "Walter", "Nadia",
    "George", "Helen", "Olga", "Kwame", "Dorothy", "Antonio", "Mei", "Bernard", "Agnes",
    "Rajesh", "Irene", "Frank",
)  # fmt: skip
LAST_NAMES = (
    "Dubois", "Hartmann", "Rossi", "Novak", "Andersen", "Costa", "Yamamoto", "Byrne",
    "Schmidt", "Haddad", "Kowalski", "Fischer", "Moreno", "Jansen", "Papadopoulos", "Sato",
    "Okonkwo", "Lambert", "Nilsson", "Ferreira", "Keller", "Murphy", "Horvat", "Silva",
    "Brennan", "Weber", "Mensah", "Laurent", "Petrov", "Quinn",
)  # fmt: skip
INTERPRETER_LANGUAGES = (
    "Spanish", "Portuguese", "Arabic", "Mandarin", "Polish", "Vietnamese", "Italian",
    "Turkish", "Russian", "Somali",
)  # fmt: skip
PATIENT_QUESTIONS = (
    ("How long will I stay in hospital?", "Usually one to three nights; we will plan it."),
    ("Can I keep taking my blood thinner?", "We will tell you when to stop it before the day."),
    ("When can I drive again?", "Usually after about a week, if you feel well."),
    ("Will I be awake during the procedure?", "No, you will be asleep under general anaesthetic."),
    ("Is the clip made of metal? Can I still have an MRI scan?", "Yes, scans are still possible."),
    ("What happens if the clip does not work?", "We talked about surgery and medicines."),
    ("Can my daughter stay with me on the ward?", "Yes, during visiting hours."),
    ("How big is the cut in my leg?", "A small puncture in the groin, no big cut."),
    ("Will I feel the clip in my heart?", "No, you will not feel it."),
    ("When can I go back to my garden work?", "Light work after a week; heavy lifting later."),
    ("Do I need antibiotics before the dentist?", "Yes, tell your dentist about the clip."),
    ("What does 1 in 100 mean for me?", "We went through the picture of 100 people together."),
)
OWN_WORDS_ANSWERS = (
    # (text, share of the key points it covers)
    ("A clip pinches the two flaps of the valve together so less blood leaks back. "
     "Surgery would be too risky for me.", 1.0),
    ("They put a clip on the leaking valve through a vein in the leg, so the heart works "
     "better and I get less short of breath.", 1.0),
    ("The clip holds the valve so it leaks less. It goes in through the leg.", 0.67),
    ("It fixes the leak in my heart valve.", 0.34),
    ("To help my heart. The doctor said it is better than an operation for me.", 0.34),
    ("I am not sure. Something to make the valve close better.", 0.0),
)  # fmt: skip
FLAG_NOTES = (
    "Explained again with the picture of 100 people; the patient then explained it correctly.",
    "Went through the section together; the patient repeated it back in their own words.",
    "Discussed with the family present; understood after a second explanation.",
)
CANCEL_REASONS = (
    "Procedure postponed by the heart team.",
    "The patient chose to be treated at another hospital.",
    "Created for the wrong procedure version.",
    "The link was never used; consent will restart at the next visit.",
    "The patient was admitted elsewhere; consent to be taken later.",
)
DECLINE_REASONS = (
    "I want more time to think about it.",
    "I prefer to keep taking my medicines for now.",
    "I am worried about the risk of stroke.",
    "My family and I decided against it.",
    "",
)
WITHDRAWAL_TEXTS = (
    "The patient phoned the clinic to withdraw consent; the procedure is cancelled.",
    "At the pre-admission visit the patient withdrew consent after talking with family.",
)
CORRECTION_TEXTS = (
    "Correction: the follow-up visit discussed is at six weeks, not four.",
    "Correction: the patient's son was present during the discussion and did not sign.",
)
STAFF_CLIENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari"
PATIENT_CLIENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile Safari",
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 Chrome/124.0 Mobile Safari",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile Safari",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15",
)
CLINIC_TABLET_CLIENT = PATIENT_CLIENTS[2]
# Commit after this many steps or this much work, whichever comes first: one transaction per
# service call would spend most of the run in fsync, and one for the whole run would hold the
# database's write lock for minutes.
BATCH_STEPS = 400
BATCH_SECONDS = 2.0


class SeedError(Exception):
    """The history cannot be seeded; the message says why."""


# The simulated clock


class SimulatedClock:
    """A clock that only moves forward; `installed()` makes it Django's `timezone.now`."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def move_to(self, moment: datetime) -> None:
        self._now = max(self._now, moment)

    @contextmanager
    def installed(self) -> Iterator["SimulatedClock"]:
        with mock.patch.object(timezone, "now", self.now):
            yield self


# Accounts and content


def demo_accounts_ensure() -> list[Any]:
    """The demo accounts of setup_demo and four more physicians; return the physicians."""
    roles_ensure()
    users = get_user_model().objects
    physicians = []
    accounts = [
        *DEMO_ACCOUNTS,
        *((u, DEMO_PHYSICIAN_PASSWORD, f, last, PHYSICIAN) for u, f, last in DEMO_PHYSICIANS),
    ]
    with transaction.atomic():
        for username, password, first, last, role in accounts:
            user, _created = users.get_or_create(username=username)
            user.first_name, user.last_name = first, last
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            if role == PHYSICIAN:
                physicians.append(user)
    return physicians


def content_packs_ensure() -> list[ProcedureVersion]:
    """Import the packs of `content/` that are not imported yet; return the newest version of
    each procedure, in a fixed order."""
    present = set(ProcedureVersion.objects.values_list("slug", "language", "version"))
    packs = [load_pack(path) for path in sorted(settings.CONSENT_CONTENT_DIR.glob("*.toml"))]
    missing = [pack for pack in packs if pack.identity not in present]
    if missing:
        importing.pack_import(packs=missing)
    newest: dict[tuple[str, str], ProcedureVersion] = {}
    for version in ProcedureVersion.objects.order_by("slug", "language", "-imported_at", "-pk"):
        newest.setdefault((version.slug, version.language), version)
    return [newest[key] for key in sorted(newest)]


def _remember_password(user: Any) -> Any:
    """Check the password once per run, not at every signature.

    Signing re-checks the physician's password (PBKDF2, about 0.3 s). The password is really
    checked the first time; later signatures with the same password reuse that answer.
    """
    checked: set[str] = set()
    check = user.check_password

    def check_password(raw_password: str) -> bool:
        if raw_password in checked:
            return True
        ok = check(raw_password)
        if ok:
            checked.add(raw_password)
        return ok

    user.check_password = check_password
    return user


# The plan: what each session's story is


@dataclass
class SessionPlan:
    """The part of a session's story fixed before it starts: whose, when, and how it ends."""

    index: int
    start: datetime
    physician: Any
    version: ProcedureVersion
    stage: str
    withdrawn: bool
    corrected: bool
    # What happens (answers, reading times...): the same for the same seed, always.
    what: random.Random
    # When it happens: the gaps between steps. Kept apart, so that a branch taken because of
    # the calendar (an expired link, say) never changes what happens afterwards.
    when: random.Random


def _quotas(total: int) -> list[str]:
    """The stages of `total` sessions: one of each stage first (up to half of them, so that
    even a small run shows the whole lifecycle), the rest in the shares of STAGE_SHARES."""
    counts = Counter(DIVERSITY_ORDER[: max(1, total // 2)])
    rest = total - sum(counts.values())
    exact = [(stage, share * rest) for stage, share in STAGE_SHARES]
    for stage, value in exact:
        counts[stage] += math.floor(value)
    left = total - sum(counts.values())
    by_remainder = sorted(exact, key=lambda item: item[1] - math.floor(item[1]), reverse=True)
    for stage, _value in by_remainder[:left]:
        counts[stage] += 1
    return [stage for stage, _share in STAGE_SHARES for _ in range(counts[stage])]


def _weighted_sample(rng: random.Random, log_weights: list[float], k: int) -> list[int]:
    """k distinct indexes, each drawn in proportion to exp(its log weight) (Gumbel top-k)."""
    keys = [w - math.log(-math.log(max(rng.random(), 1e-300))) for w in log_weights]
    return sorted(range(len(keys)), key=keys.__getitem__, reverse=True)[:k]


def plans_make(
    *,
    sessions: int,
    seed: int,
    days: int,
    start: datetime,
    physicians: list[Any],
    versions: list[ProcedureVersion],
) -> list[SessionPlan]:
    """Decide every session's start, physician, procedure and final stage, in time order."""
    rng = random.Random(f"seed-demo:{seed}")  # noqa: S311 (demo data, not secrets)
    span = days * 86400
    offsets = sorted(rng.uniform(0.02, 0.995) * span for _ in range(sessions))
    stages = _quotas(sessions)
    in_progress = [s for s in stages if s in IN_PROGRESS]
    rng.shuffle(in_progress)
    complete = [s for s in stages if s not in IN_PROGRESS]
    rng.shuffle(complete)
    # Sessions still in progress are mostly recent ones; a few were left behind months ago.
    recent = [-(span - offset) / (IN_PROGRESS_AGE_DAYS * 86400) for offset in offsets]
    chosen = set(_weighted_sample(rng, recent, len(in_progress)))
    assigned = [
        in_progress.pop() if index in chosen else complete.pop() for index in range(sessions)
    ]
    # Withdrawals and corrections come weeks after finalization: prefer older records.
    consents = [i for i, stage in enumerate(assigned) if stage == FINALIZED_CONSENT]
    withdrawals = round(len(consents) * WITHDRAWAL_SHARE) or (1 if len(consents) >= 5 else 0)
    ages = [math.log(span - offsets[i] + 1) for i in consents]
    withdrawn = {consents[i] for i in _weighted_sample(rng, ages, withdrawals)}
    records = [i for i, s in enumerate(assigned) if s in (FINALIZED_CONSENT, FINALIZED_DECLINE)]
    corrected = set(rng.sample(records, round(len(records) * CORRECTION_SHARE)))
    plans = []
    for index, offset in enumerate(offsets):
        plans.append(
            SessionPlan(
                index=index,
                start=start + timedelta(seconds=offset),
                physician=rng.choices(physicians, weights=PHYSICIAN_WEIGHTS[: len(physicians)])[0],
                version=versions[rng.randrange(len(versions))],
                stage=assigned[index],
                withdrawn=index in withdrawn,
                corrected=index in corrected,
                what=random.Random(f"seed-demo:{seed}:{index}:what"),  # noqa: S311
                when=random.Random(f"seed-demo:{seed}:{index}:when"),  # noqa: S311
            )
        )
    return plans


# Helpers for the scripts


def _request(address: str, client: str) -> Origin:
    return Origin(ip=address, user_agent=client)


def signature_image(rng: random.Random) -> bytes:
    """A drawn signature: a few strokes across a 300 x 100 pad, as the signature pad sends."""
    picture = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    draw = ImageDraw.Draw(picture)
    x = rng.randint(8, 30)
    points = []
    while x < 285:
        points.append((x, rng.randint(20, 85)))
        x += rng.randint(12, 40)
    draw.line(points, fill="black", width=3, joint="curve")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _wrong_answer(question: Question, rng: random.Random) -> Any:
    if question.kind == Question.Kind.TRUE_FALSE:
        return not question.correct
    count = len(question.choices)
    correct = sorted(question.correct)
    if question.kind == Question.Kind.SINGLE:
        return [rng.choice([i for i in range(count) if i not in correct])]
    # Several answers: one right choice left out, or one wrong choice added.
    wrong = [i for i in range(count) if i not in correct]
    if len(correct) > 1 and (not wrong or rng.random() < 0.6):
        left_out = rng.choice(correct)
        answer = [i for i in correct if i != left_out]
    else:
        answer = sorted([*correct, rng.choice(wrong)])
    return answer


def _right_answer(question: Question) -> Any:
    if question.kind == Question.Kind.TRUE_FALSE:
        return bool(question.correct)
    return sorted(question.correct)


def _first_try_wrong(question: Question, ability: float) -> float:
    """The chance that this patient misses this question at the first try."""
    base = FIRST_TRY_WRONG.get(question.key, FIRST_TRY_WRONG_BY_KIND.get(question.kind, 0.15))
    return min(0.9, base * ability)


def _wrong_again(first_try_wrong: float) -> float:
    """The chance of missing it again after a re-teach: re-teaching settles most easy
    questions, while the hard ones stay hard for some patients (they end up flagged)."""
    return min(0.8, 0.08 + 0.35 * first_try_wrong)


def _typo_of(birth_date: date) -> date:
    """A wrong date of birth as people mistype it: day and month swapped, or the year off."""
    if birth_date.day <= 12 and birth_date.day != birth_date.month:
        return birth_date.replace(day=birth_date.month, month=birth_date.day)
    try:
        return birth_date.replace(year=birth_date.year + 1)
    except ValueError:  # born on 29 February
        return birth_date.replace(year=birth_date.year + 1, day=28)


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
        self._batch_files: list[tuple[Any, str]] = []
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
            queue.append((start, plan.index, self._script(plan, start)))
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

    def sections(self, version: ProcedureVersion) -> list[Section]:
        if version.pk not in self._sections:
            self._sections[version.pk] = list(version.sections.order_by("position"))
        return self._sections[version.pk]

    def questions(self, version: ProcedureVersion) -> list[Question]:
        if version.pk not in self._questions:
            self._questions[version.pk] = list(version.questions.order_by("position"))
        return self._questions[version.pk]

    # One session's story

    def _script(self, plan: SessionPlan, start: datetime) -> Generator[datetime, None, None]:
        what = plan.what
        doctor = plan.physician
        staff = _request(f"10.20.1.{10 + doctor.pk % 200}", STAFF_CLIENT)
        home = _request(
            f"{what.choice(('198.51.100', '203.0.113', '192.0.2'))}.{what.randint(2, 254)}",
            what.choice(PATIENT_CLIENTS),
        )
        tablet = _request(f"10.20.5.{what.randint(2, 60)}", CLINIC_TABLET_CLIENT)
        birth_date = date(1935, 1, 1) + timedelta(days=what.randrange(31 * 365))
        name = f"{what.choice(FIRST_NAMES)} {what.choice(LAST_NAMES)}"
        story = _Story(self, plan, doctor, staff, home, tablet, birth_date, name)
        yield from story.play(start)


class _Story:
    """The steps of one consent session; each `yield` waits until the moment it names."""

    def __init__(
        self,
        seeder: HistorySeeder,
        plan: SessionPlan,
        doctor: Any,
        staff: HttpRequest,
        home: HttpRequest,
        tablet: HttpRequest,
        birth_date: date,
        name: str,
    ) -> None:
        self.seeder, self.plan, self.doctor = seeder, plan, doctor
        self.staff, self.home, self.tablet = staff, home, tablet
        self.birth_date, self.name = birth_date, name
        self.what, self.when = plan.what, plan.when
        self.session: ConsentSession
        self.link: PatientLink
        self.token = ""
        # Who signs after the patient: decided at the discussion.
        self.companions: list[tuple[str, str]] = []

    # Small waits

    def minutes(self, t: datetime, low: float, high: float) -> datetime:
        return t + timedelta(minutes=self.when.uniform(low, high))

    def later_at_clinic(self, t: datetime, low_days: float, high_days: float) -> datetime:
        moment = t + timedelta(days=self.when.uniform(low_days, high_days))
        moment = self.seeder.weekday_of_week(moment, self.when, following=True)
        return self.seeder.clinic(moment, self.when)

    def later_at_home(self, t: datetime, low_hours: float, high_hours: float) -> datetime:
        moment = t + timedelta(hours=self.when.uniform(low_hours, high_hours))
        return self.seeder.patient_time(moment, self.when)

    # The story

    def play(self, t: datetime) -> Generator[datetime, None, None]:
        plan, what = self.plan, self.what
        self.session = sessions.consent_session_create(
            patient_name=self.name,
            patient_birth_date=self.birth_date,
            patient_record_number=f"MRN-{what.randint(1_000_000, 9_999_999)}",
            procedure_version=plan.version,
            physician=self.doctor,
            created_by=self.doctor,
            origin=self.staff,
        )
        self.seeder.session_begun(self.session)
        self.link, self.token = links.patient_link_issue(
            session=self.session, issued_by=self.doctor, origin=self.staff
        )
        cancel_after = what.choices((CREATED, REVIEWING, READY), weights=(4, 3.5, 2.5))[0]
        if plan.stage == CREATED or (plan.stage == CANCELLED and cancel_after == CREATED):
            if what.random() < 0.3:  # opened the link, never confirmed the date of birth
                t = self.later_at_home(t, 2, 96)
                yield t
                links.patient_link_open(token=self.token, origin=self.home)
            if plan.stage == CANCELLED:
                t = yield from self.cancel(t)
            return
        if what.random() < 0.05:  # the patient lost the link: the clinic makes a new one
            t = self.later_at_clinic(t, 1, 5)
            yield t
            self.link_issue()
        t = self.later_at_home(t, 1, 72)
        yield t
        typos = what.choices((0, 1, 2, 5), weights=(90, 7, 1.5, 1.5))[0]
        t = yield from self.enter(t, self.home, typos=typos)
        stop = plan.stage == REVIEWING or (plan.stage == CANCELLED and cancel_after == REVIEWING)
        t, stopped = yield from self.read(t, stop_reading=stop and what.random() < 0.6)
        if not stopped:
            t, stopped = yield from self.answer(t, stop_answering=stop)
        if plan.stage == CANCELLED and cancel_after in (REVIEWING, READY):
            t = yield from self.cancel(t)
            return
        if plan.stage in (REVIEWING, CANCELLED):
            return
        if plan.stage == READY:
            if what.random() < 0.5:  # the physician has begun the review
                t = self.later_at_clinic(t, 0.5, 4)
                yield t
                t = yield from self.answer_patient_questions(t)
            return
        t = self.later_at_clinic(t, 1, 10)
        yield t
        t = yield from self.review(t)
        if plan.stage == ATTESTED:
            return
        t = yield from self.decide(t)
        if plan.stage in (SIGNED, DECLINED):
            return
        t = yield from self.finalize(t)

    def cancel(self, t: datetime) -> Generator[datetime, None, datetime]:
        t = self.later_at_clinic(t, 2, 25)
        yield t
        sessions.session_cancel(
            session=self.session,
            cancelled_by=self.doctor,
            reason=self.what.choice(CANCEL_REASONS),
            origin=self.staff,
        )
        return t

    def link_issue(self) -> None:
        """Staff make a new link (the old one expired, was lost or locked; or for the tablet)."""
        self.link, self.token = links.patient_link_issue(
            session=self.session, issued_by=self.doctor, origin=self.staff
        )

    def enter(
        self, t: datetime, device: HttpRequest, *, typos: int = 0
    ) -> Generator[datetime, None, datetime]:
        """Open the link and confirm the date of birth (mistyping it `typos` times first)."""
        if links.patient_link_open(token=self.token, origin=device) is None:
            # Expired: the patient calls the clinic, which sends a new link.
            t = self.later_at_clinic(t, 0, 2)
            yield t
            self.link_issue()
            t = self.later_at_home(t, 1, 24) if device is self.home else self.minutes(t, 1, 3)
            yield t
            links.patient_link_open(token=self.token, origin=device)
        for _ in range(typos):
            t = self.minutes(t, 0.3, 1.5)
            yield t
            links.patient_identity_confirm(
                link=self.link, birth_date=_typo_of(self.birth_date), origin=device
            )
        if typos >= settings.CONSENT_DOB_MAX_TRIES:  # locked: a new link from the clinic
            t = self.later_at_clinic(t, 0.5, 2)
            yield t
            self.link_issue()
            t = self.later_at_home(t, 1, 24)
            yield t
            links.patient_link_open(token=self.token, origin=device)
        t = self.minutes(t, 0.2, 1)
        yield t
        confirmed = links.patient_identity_confirm(
            link=self.link, birth_date=self.birth_date, origin=device
        )
        if not confirmed:
            raise RuntimeError("seed_demo: the patient's date of birth was refused")
        return t

    def ask(self, t: datetime, asked_from: str) -> Generator[datetime, None, datetime]:
        t = self.minutes(t, 1, 4)
        yield t
        text, _answer = self.what.choice(PATIENT_QUESTIONS)
        journey_services.patient_question_ask(
            session=self.session,
            text=text,
            asked_from=asked_from,
            form_id=uuid.UUID(int=self.what.getrandbits(128), version=4),
            origin=self.home,
        )
        return t

    def read(
        self, t: datetime, *, stop_reading: bool
    ) -> Generator[datetime, None, tuple[datetime, bool]]:
        """Read every section with Next (now and then Back), maybe in two sittings."""
        what = self.what
        sections = self.seeder.sections(self.plan.version)
        count = len(sections)
        # Words a minute: most read at 120 to 300; a few skim through some pages.
        pace = min(400.0, max(80.0, what.lognormvariate(math.log(180), 0.35)))
        skims = what.random() < 0.12
        pause_after = what.randrange(2, count) if count > 2 and what.random() < 0.15 else None
        stop_at = what.randrange(1, count + 1) if stop_reading else None
        asks = {
            what.randrange(1, count + 1) for _ in range(what.choices((0, 1, 2), (80, 16, 4))[0])
        }
        backs = furthest = 0
        number = 1
        while True:
            section = sections[number - 1]
            words = section_word_count(section.body)
            seconds = words * 60 / pace * what.uniform(0.8, 1.3) + what.uniform(4, 15)
            if section.kind == "risks":
                seconds += what.uniform(20, 90)  # the pictures of 100 people
            if skims and what.random() < 0.4:
                seconds = words * 60 / what.uniform(700, 1500) + what.uniform(0, 2)
            if number <= furthest:  # read again after going Back: a quicker look
                seconds *= what.uniform(0.2, 0.5)
            furthest = max(furthest, number)
            seconds = int(seconds)
            back = number > 2 and backs < 2 and what.random() < 0.05
            go_to = number - 1 if back else min(number + 1, count)
            finished = not back and number == count
            t += timedelta(seconds=seconds)
            yield t
            journey_services.section_leave(
                session=self.session,
                section=section,
                seconds=seconds,
                go_to=go_to,
                finished_reading=finished,
                origin=self.home,
            )
            if number in asks:
                asks.discard(number)
                t = yield from self.ask(t, f"/patient/section/{number}/")
            if finished:
                return t, False
            if back:
                backs += 1
            elif number == stop_at:
                return t, True
            elif number == pause_after:  # "Save and leave", then back another day
                t = self.later_at_home(t, 3, 48)
                yield t
                t = yield from self.enter(t, self.home)
            number = go_to

    def answer(
        self, t: datetime, *, stop_answering: bool
    ) -> Generator[datetime, None, tuple[datetime, bool]]:
        """Answer the teach-back questions: wrong, re-taught, right; or flagged at the end."""
        what = self.what
        questions = self.seeder.questions(self.plan.version)
        rounds = self.session.max_reteach + 1
        # Some patients find it all harder than others.
        ability = min(2.5, max(0.4, what.lognormvariate(0, 0.45)))
        stop_at = what.randrange(1, len(questions) + 1) if stop_answering else None
        asks = what.choices((0, 1, 2), (85, 12, 3))[0]
        ask_at = {what.randrange(1, len(questions) + 1) for _ in range(asks)}
        for number, question in enumerate(questions, start=1):
            if number == stop_at:
                return t, True
            attempts: list[Any] = []
            if question.kind == Question.Kind.FREE_TEXT:
                text, _covered = what.choice(OWN_WORDS_ANSWERS)
                attempts.append(text)
            else:
                first = _first_try_wrong(question, ability)
                wrong = first
                while len(attempts) < rounds and what.random() < wrong:
                    attempts.append(_wrong_answer(question, what))
                    wrong = _wrong_again(first)
                if len(attempts) < rounds:
                    attempts.append(_right_answer(question))
            for round_number, answer in enumerate(attempts, start=1):
                t += timedelta(seconds=what.uniform(15, 90))
                if round_number > 1:
                    t += timedelta(seconds=what.uniform(30, 150))  # the section, taught again
                yield t
                journey_services.answer_submit(
                    session=self.session,
                    question=question,
                    answer=answer,
                    round_number=round_number,
                    origin=self.home,
                )
            if number in ask_at:
                t = yield from self.ask(t, f"/patient/question/{number}/")
        if what.random() < 0.15:
            t = yield from self.ask(t, "/patient/summary/")
        return t, False

    def answer_patient_questions(self, t: datetime) -> Generator[datetime, None, datetime]:
        answers = dict(PATIENT_QUESTIONS)
        for asked in self.session.patient_questions.order_by("created_at", "pk"):
            t = self.minutes(t, 1, 4)
            yield t
            review_services.patient_question_answer(
                question=asked,
                answer=answers.get(asked.text, "We talked about it in person."),
                physician=self.doctor,
                origin=self.staff,
            )
        return t

    def review(self, t: datetime) -> Generator[datetime, None, datetime]:
        """The physician's review and the conversation in person, then the attestation."""
        what = self.what
        t = yield from self.answer_patient_questions(t)
        covered_share = dict(OWN_WORDS_ANSWERS)
        for progress in journey_get(session=self.session).progress:
            question = progress.question
            outcome = progress.outcome
            if outcome == Outcome.FLAGGED:
                covered, note = [], what.choice(FLAG_NOTES)
            elif outcome == Outcome.ANSWERED:
                points = len(question.key_points)
                share = covered_share.get(progress.last.answer, 0.5)
                covered = list(range(round(points * share)))
                note = "" if share >= 0.99 else "Went over the missing points with the drawing."
            elif outcome == Outcome.CORRECT_AFTER_RETEACH and what.random() < 0.2:
                covered, note = [], "Checked again in person: understood."
            else:
                continue
            t = self.minutes(t, 1, 4)
            yield t
            review_services.question_review_save(
                session=self.session,
                question=question,
                covered_key_points=covered,
                note=note,
                physician=self.doctor,
                origin=self.staff,
            )
        sections = [
            s.key
            for s in self.seeder.sections(self.plan.version)
            if s.kind in VERBAL_TEACHBACK_KINDS
        ]
        alternatives = list(self.plan.version.alternatives.values_list("key", flat=True))
        verbal = what.random()
        interpreter = what.random() < 0.12
        witness = what.random() < 0.15
        fields = {
            "verbal_teachback": sections
            if verbal < 0.8
            else (sorted(what.sample(sections, len(sections) // 2)) if verbal < 0.95 else []),
            "verbal_teachback_notes": "" if verbal < 0.8 else "Explained the risks back well.",
            "alternatives_discussed": alternatives
            if what.random() < 0.85
            else alternatives[: len(alternatives) // 2],
            "alternatives_notes": what.choice(
                ("", "Surgery discussed; judged too risky.", "Staying on medicines discussed.")
            ),
            "interpreter_name": "",
            "interpreter_language": "",
            "witness_name": "",
        }
        if interpreter:
            fields["interpreter_name"] = f"{what.choice(FIRST_NAMES)} {what.choice(LAST_NAMES)}"
            fields["interpreter_language"] = what.choice(INTERPRETER_LANGUAGES)
        if witness:
            fields["witness_name"] = f"{what.choice(FIRST_NAMES)} {what.choice(LAST_NAMES)}"
        t = self.minutes(t, 5, 25)
        yield t
        review_services.discussion_save(
            session=self.session, physician=self.doctor, origin=self.staff, **fields
        )
        if interpreter and what.random() < 0.9:
            self.companions.append((Signature.Kind.INTERPRETER, fields["interpreter_name"]))
        if witness and what.random() < 0.85:
            self.companions.append((Signature.Kind.WITNESS, fields["witness_name"]))
        t = self.minutes(t, 1, 3)
        yield t
        signature_services.session_attest(
            session=self.session,
            physician=self.doctor,
            password=DEMO_PHYSICIAN_PASSWORD,
            origin=self.staff,
        )
        return t

    def decide(self, t: datetime) -> Generator[datetime, None, datetime]:
        """The patient consents or declines (on the clinic tablet, or later at home); an
        interpreter or a witness signs after them."""
        what = self.what
        declines = self.plan.stage in (FINALIZED_DECLINE, DECLINED)
        drawn = what.random() < 0.75
        typed_name = self.name.lower() if what.random() < 0.1 else self.name
        reason = what.choice(DECLINE_REASONS)
        image = signature_image(what) if drawn else None
        if what.random() < 0.7:  # on the clinic tablet, straight after the discussion
            device = self.tablet
            t = self.minutes(t, 2, 10)
            yield t
            self.link_issue()
            t = self.minutes(t, 0.5, 2)
            yield t
            links.patient_link_open(token=self.token, origin=device)
            t = self.minutes(t, 0.2, 1)
            yield t
            links.patient_identity_confirm(
                link=self.link, birth_date=self.birth_date, origin=device
            )
        else:
            device = self.home
            t = self.later_at_home(t, 3, 72)
            yield t
            t = yield from self.enter(t, device)
        t = self.minutes(t, 2, 8)
        yield t
        if declines:
            signature_services.patient_decline(
                session=self.session,
                typed_name=typed_name,
                reason=reason,
                image=image,
                origin=device,
            )
        else:
            signature_services.patient_consent_sign(
                session=self.session,
                confirmed_statements=len(signature_services.PATIENT_CONSENT_STATEMENTS),
                typed_name=typed_name,
                image=image,
                origin=device,
            )
        for kind, name in self.companions:
            image = signature_image(what) if what.random() < 0.7 else None
            t = self.minutes(t, 1, 4)
            yield t
            signature_services.companion_sign(
                session=self.session, kind=kind, typed_name=name, image=image, origin=device
            )
        return t

    def finalize(self, t: datetime) -> Generator[datetime, None, datetime]:
        """Countersign and finalize (a real PDF, sealed); downloads; a withdrawal later."""
        what = self.what
        same_day = what.random() < 0.6
        if same_day:  # if the patient decided at home in the evening, the next clinic day
            t = self.seeder.clinic(self.minutes(t, 3, 60), self.when)
        else:
            t = self.later_at_clinic(t, 0.5, 3)
        downloaded = what.random() < 0.6
        patient_copy = what.random() < 0.25
        yield t
        began = time.perf_counter()
        record = signature_services.session_finalize(
            session=self.session,
            physician=self.doctor,
            password=DEMO_PHYSICIAN_PASSWORD,
            origin=self.staff,
        )
        self.seeder.record_seconds += time.perf_counter() - began
        self.seeder.records += 1
        self.seeder._batch_files.append((record.pdf.storage, record.pdf.name))
        if downloaded:
            t = self.minutes(t, 0.5, 5)
            yield t
            signature_services.record_downloaded(
                record=record, role=AuditEvent.Role.PHYSICIAN, origin=self.staff, actor=self.doctor
            )
        if patient_copy:
            t = self.later_at_home(t, 2, 72)
            yield t
            link = PatientLink.objects.get(pk=self.link.pk)
            if links.patient_link_usable(link):
                t = yield from self.enter(t, self.home)
                signature_services.record_downloaded(
                    record=record, role=AuditEvent.Role.PATIENT, origin=self.home
                )
        if self.plan.withdrawn:
            t = self.later_at_clinic(t, 5, 60)
            yield t
            signature_services.addendum_add(
                record=record,
                kind=Addendum.Kind.WITHDRAWAL,
                text=what.choice(WITHDRAWAL_TEXTS),
                author=self.doctor,
                origin=self.staff,
            )
        if self.plan.corrected:
            t = self.later_at_clinic(t, 1, 20)
            yield t
            signature_services.addendum_add(
                record=record,
                kind=Addendum.Kind.CORRECTION,
                text=what.choice(CORRECTION_TEXTS),
                author=self.doctor,
                origin=self.staff,
            )
        return t


# The whole run


def demo_history_seed(
    *,
    sessions: int,
    seed: int,
    days: int = 365,
    progress: Callable[[Progress], None] | None = None,
    progress_every: int = 50,
    verify: bool = True,
) -> SeedReport:
    """Add `sessions` consent sessions spread over the last `days` days, through the services.

    The history ends now. It starts `days` ago, or at the audit log's last event if that is
    later (the log's times never go backwards): then the same story is told faster.
    """
    if sessions < 1 or days < 1:
        raise SeedError("Give at least one session and one day.")
    began = time.perf_counter()
    end = timezone.now()
    nominal_start = end - timedelta(days=days)
    last_event = AuditEvent.objects.aggregate(last=Max("occurred_at"))["last"]
    real_start = max(nominal_start, last_event) if last_event else nominal_start
    # Should the log's last event lie ahead of this machine's clock, follow the log.
    end = max(end, real_start)
    events_before = AuditEvent.objects.count()
    clock = SimulatedClock(real_start)
    with clock.installed():
        physicians = [_remember_password(p) for p in demo_accounts_ensure()]
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
