"""One consent session's story, from its creation to its end stage, step by step in time."""

from collections.abc import Generator
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from consent.audit.events import Origin
from consent.services import links, sessions
from demo.plans import ATTESTED, CANCELLED, CREATED, DECLINED, READY, REVIEWING, SIGNED, SessionPlan
from demo.story.patient import PatientSteps
from demo.story.staff import StaffSteps
from demo.texts import CLINIC_TABLET_CLIENT, FIRST_NAMES, LAST_NAMES, PATIENT_CLIENTS, STAFF_CLIENT

if TYPE_CHECKING:
    from demo.seeding import HistorySeeder


class Story(PatientSteps, StaffSteps):
    """The whole story: how far it goes is the plan's stage."""

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


def story_script(
    seeder: "HistorySeeder", plan: SessionPlan, start: datetime
) -> Generator[datetime, None, None]:
    """The story of one planned session: who the patient is, from where everyone connects."""
    what = plan.what
    doctor = plan.physician
    staff = Origin(ip=f"10.20.1.{10 + doctor.pk % 200}", user_agent=STAFF_CLIENT)
    home = Origin(
        ip=f"{what.choice(('198.51.100', '203.0.113', '192.0.2'))}.{what.randint(2, 254)}",
        user_agent=what.choice(PATIENT_CLIENTS),
    )
    tablet = Origin(ip=f"10.20.5.{what.randint(2, 60)}", user_agent=CLINIC_TABLET_CLIENT)
    birth_date = date(1935, 1, 1) + timedelta(days=what.randrange(31 * 365))
    name = f"{what.choice(FIRST_NAMES)} {what.choice(LAST_NAMES)}"
    story = Story(seeder, plan, doctor, staff, home, tablet, birth_date, name)
    yield from story.play(start)
