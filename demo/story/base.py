"""What every step of a session's story shares: who and where, the waits, the patient's way in.

A story is a generator: each `yield` names the moment of its next step, and the seeder
(demo/seeding.py) resumes it when the simulated clock reaches that moment.
"""

import io
import random
from collections.abc import Generator
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import User
from PIL import Image, ImageDraw

from consent.audit.events import Origin
from consent.models import ConsentSession, PatientLink, Question, Wording
from consent.services import links
from demo.plans import SessionPlan

if TYPE_CHECKING:
    from demo.seeding import HistorySeeder

# Why the demo's staff make a new link (required once the physician has attested).
LINK_REASON = "The earlier link expired or was lost, or the patient signs on the clinic tablet."
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


def wrong_answer(question: Question | Wording, rng: random.Random) -> Any:
    if question.kind == Question.Kind.TRUE_FALSE:
        return not question.correct
    count = len(question.choices)
    correct = sorted(question.correct or ())
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


def right_answer(question: Question | Wording) -> Any:
    if question.kind == Question.Kind.TRUE_FALSE:
        return bool(question.correct)
    return sorted(question.correct or ())


def first_try_wrong(question: Question, ability: float) -> float:
    """The chance that this patient misses this question at the first try."""
    base = FIRST_TRY_WRONG.get(question.key, FIRST_TRY_WRONG_BY_KIND.get(question.kind, 0.15))
    return min(0.9, base * ability)


def wrong_again(first_try: float) -> float:
    """The chance of missing it again after a re-teach: re-teaching settles most easy
    questions, while the hard ones stay hard for some patients (they end up flagged)."""
    return min(0.8, 0.08 + 0.35 * first_try)


def typo_of(birth_date: date) -> date:
    """A wrong date of birth as people mistype it: day and month swapped, or the year off."""
    if birth_date.day <= 12 and birth_date.day != birth_date.month:
        return birth_date.replace(day=birth_date.month, month=birth_date.day)
    try:
        return birth_date.replace(year=birth_date.year + 1)
    except ValueError:  # born on 29 February
        return birth_date.replace(year=birth_date.year + 1, day=28)


class StoryBase:
    """One session's people and places, and the steps that both sides take."""

    def __init__(
        self,
        seeder: "HistorySeeder",
        plan: SessionPlan,
        doctor: User,
        staff: Origin,
        home: Origin,
        tablet: Origin,
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

    # The patient's way in, which staff steps take too (a new link; the record's patient copy)

    def link_issue(self) -> None:
        """Staff make a new link (the old one expired, was lost or locked; or for the tablet),
        saying why: after the attestation a new link needs a reason."""
        self.link, self.token = links.patient_link_issue(
            session=self.session, issued_by=self.doctor, origin=self.staff, reason=LINK_REASON
        )

    def enter(
        self, t: datetime, device: Origin, *, typos: int = 0
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
                link=self.link, birth_date=typo_of(self.birth_date), origin=device
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
