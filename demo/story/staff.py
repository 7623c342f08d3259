"""The staff's steps of a session's story: the physician's review, finalization, addenda."""

import time
from collections.abc import Generator
from datetime import datetime

from consent.models import Addendum, AuditEvent, PatientLink, Signature
from consent.rules import VERBAL_TEACHBACK_KINDS, Outcome
from consent.selectors.journey import journey_get
from consent.services import addenda, links, sessions
from consent.services import review as review_services
from consent.services import signatures as signature_services
from demo.accounts import DEMO_PHYSICIAN_PASSWORD
from demo.story.base import StoryBase
from demo.texts import (
    CANCEL_REASONS,
    CORRECTION_TEXTS,
    FIRST_NAMES,
    FLAG_NOTES,
    INTERPRETER_LANGUAGES,
    LAST_NAMES,
    OWN_WORDS_ANSWERS,
    PATIENT_QUESTIONS,
    WITHDRAWAL_TEXTS,
)


class StaffSteps(StoryBase):
    """What the physician does: answers, reviews, attests, finalizes, adds addenda."""

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
                share = covered_share.get(progress.last.answer, 0.5) if progress.last else 0.5
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
        if verbal < 0.8:
            explained = sections
        else:
            explained = sorted(what.sample(sections, len(sections) // 2)) if verbal < 0.95 else []
        discussed = alternatives if what.random() < 0.85 else alternatives[: len(alternatives) // 2]
        alternatives_notes = what.choice(
            ("", "Surgery discussed; judged too risky.", "Staying on medicines discussed.")
        )
        interpreter_name = interpreter_language = witness_name = ""
        if interpreter:
            interpreter_name = f"{what.choice(FIRST_NAMES)} {what.choice(LAST_NAMES)}"
            interpreter_language = what.choice(INTERPRETER_LANGUAGES)
        if witness:
            witness_name = f"{what.choice(FIRST_NAMES)} {what.choice(LAST_NAMES)}"
        t = self.minutes(t, 5, 25)
        yield t
        review_services.discussion_save(
            session=self.session,
            physician=self.doctor,
            verbal_teachback=explained,
            verbal_teachback_notes="" if verbal < 0.8 else "Explained the risks back well.",
            alternatives_discussed=discussed,
            alternatives_notes=alternatives_notes,
            interpreter_name=interpreter_name,
            interpreter_language=interpreter_language,
            witness_name=witness_name,
            origin=self.staff,
        )
        if interpreter and what.random() < 0.9:
            self.companions.append((Signature.Kind.INTERPRETER, interpreter_name))
        if witness and what.random() < 0.85:
            self.companions.append((Signature.Kind.WITNESS, witness_name))
        t = self.minutes(t, 1, 3)
        yield t
        signature_services.session_attest(
            session=self.session,
            physician=self.doctor,
            password=DEMO_PHYSICIAN_PASSWORD,
            origin=self.staff,
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
        self.seeder.record_finalized(record, seconds=time.perf_counter() - began)
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
            addenda.addendum_add(
                record=record,
                password=DEMO_PHYSICIAN_PASSWORD,
                kind=Addendum.Kind.WITHDRAWAL,
                text=what.choice(WITHDRAWAL_TEXTS),
                author=self.doctor,
                origin=self.staff,
            )
        if self.plan.corrected:
            t = self.later_at_clinic(t, 1, 20)
            yield t
            addenda.addendum_add(
                record=record,
                password=DEMO_PHYSICIAN_PASSWORD,
                kind=Addendum.Kind.CORRECTION,
                text=what.choice(CORRECTION_TEXTS),
                author=self.doctor,
                origin=self.staff,
            )
        return t
