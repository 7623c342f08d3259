"""The patient's steps of a session's story: reading, answering, asking, deciding."""

import math
import uuid
from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any

from consent.models import Question
from consent.rules import section_word_count
from consent.services import journey as journey_services
from consent.services import links
from consent.services import signatures as signature_services
from demo.plans import DECLINED, FINALIZED_DECLINE
from demo.story.base import (
    StoryBase,
    first_try_wrong,
    right_answer,
    signature_image,
    wrong_again,
    wrong_answer,
)
from demo.texts import DECLINE_REASONS, OWN_WORDS_ANSWERS, PATIENT_QUESTIONS


class PatientSteps(StoryBase):
    """What the patient does, at home or on the clinic's tablet."""

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
                first = first_try_wrong(question, ability)
                wrong = first
                # Each round in its own wording: a re-ask may use one of the pack's variants.
                while len(attempts) < rounds and what.random() < wrong:
                    attempts.append(
                        wrong_answer(question.wording_for_round(len(attempts) + 1), what)
                    )
                    wrong = wrong_again(first)
                if len(attempts) < rounds:
                    attempts.append(right_answer(question.wording_for_round(len(attempts) + 1)))
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
