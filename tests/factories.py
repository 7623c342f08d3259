"""Small factory functions with keyword-only defaults (no factory framework)."""

import copy
import functools
import time
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from consent import clock
from consent.audit.events import Origin
from consent.content.importing import pack_import
from consent.content.packs import Pack, content_hash, load_pack
from consent.middleware import SESSION_LAST_ACTIVITY
from consent.models import ConsentRecord, ConsentSession, ProcedureVersion, Question, Wording
from consent.roles import AUDITOR, PHYSICIAN, roles_ensure
from consent.rules import Outcome
from consent.selectors.journey import journey_get
from consent.services.links import patient_link_issue
from consent.services.sessions import consent_session_create

MITRACLIP_PATH = settings.BASE_DIR / "content" / "mitraclip.en.toml"
BIRTH_DATE = date(1948, 3, 27)
PASSWORD = "correct-horse-battery"
# The test accounts' authenticator-app key (hex, as django-otp keeps it): RFC 6238's test key.
TOTP_KEY = "12345678901234567890".encode("ascii").hex()
# Where the services are told a change came from, in tests that do not look at it.
ORIGIN = Origin(ip="127.0.0.1", user_agent="tests")
# The read-through story (`ready_session(read_through=True)`): the free-text answer, the
# question the patient asks, and the section passed in two seconds.
FREE_TEXT = "The clip holds the two flaps together so the valve leaks less. No open-heart surgery."
PATIENT_QUESTION = "Can my daughter drive me home on the same day?"
FAST_SECTION = 2
# The own words of the quick story (`ready_session()`), as the patient's page would send them.
OWN_WORDS = "A clip holds the two flaps of the valve together so less blood leaks back."
# An answer in the shape the services store: choice indexes, true or false, or text.
Answer = list[int] | bool | str


@functools.cache
def _pack_parsed(path: str, modified_ns: int) -> Pack:
    """The pack file read and validated once per run (and again if the file changes)."""
    return load_pack(path)


def mitraclip_pack() -> Pack:
    """The shipped MitraClip pack, validated once per run: parsing and validating it took about
    a tenth of a second, and nearly every test imports it. Each caller gets its own copy of
    the content (the imported version keeps the dictionary it is given)."""
    pack = _pack_parsed(str(MITRACLIP_PATH), MITRACLIP_PATH.stat().st_mtime_ns)
    return Pack(
        source_name=pack.source_name,
        content=copy.deepcopy(pack.content),
        content_hash=pack.content_hash,
    )


def mitraclip_version() -> ProcedureVersion:
    return pack_import(packs=[mitraclip_pack()])[0].version


# A few French words of the test translation (`translated_version`): the rest stays English.
FRENCH_TITLE = "MitraClip : réparer une valve mitrale qui fuit sans chirurgie à cœur ouvert"
FRENCH_SECTION_TITLE = "Votre cœur et la valve mitrale"
FRENCH_RISK_NAME = "Saignement"
FRENCH_PROMPT = "Que fait le clip MitraClip ?"


def translated_version(
    *,
    source: ProcedureVersion | None = None,
    language: str = "fr",
    title: str = FRENCH_TITLE,
    section_title: str = FRENCH_SECTION_TITLE,
    risk_name: str = FRENCH_RISK_NAME,
    prompt: str = FRENCH_PROMPT,
    reviewed: bool = False,
    version: str = "",
) -> ProcedureVersion:
    """A translation of the MitraClip pack linked to its source version (`translation_of`, set
    through the ORM as the import does): the same keys and figures, the title, the first
    section's title, the first risk's name and the first question's prompt in `language`."""
    source = source or mitraclip_version()
    content = copy.deepcopy(source.content)
    content["language"] = language
    content["version"] = version or content["version"]
    content["title"] = title
    content["sections"][0]["title"] = section_title
    content["risks"][0]["name"] = risk_name
    content["questions"][0]["prompt"] = prompt
    if reviewed:
        content["reviewed_by"] = "Dr Test Reviewer"
        content["reviewed_on"] = "2026-01-15"
    pack = Pack(
        source_name=f"{content['slug']}.{language}.toml",
        content=content,
        content_hash=content_hash(content),
    )
    translation = pack_import(packs=[pack])[0].version
    ProcedureVersion.objects.filter(pk=translation.pk).update(translation_of=source)
    translation.refresh_from_db()
    return translation


def staff_user(*, username: str, role: str = PHYSICIAN, first_name: str = "Alex"):
    roles_ensure()
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, first_name=first_name, last_name="Martin"
    )
    user.groups.add(Group.objects.get(name=role))
    return user


def physician(*, username: str = "dr.martin"):
    return staff_user(username=username, role=PHYSICIAN)


def auditor(*, username: str = "auditor"):
    return staff_user(username=username, role=AUDITOR, first_name="Sam")


def consent_session(
    *,
    version: ProcedureVersion | None = None,
    doctor=None,
    patient_name: str = "Jeanne Testpatient",
    birth_date: date = BIRTH_DATE,
) -> ConsentSession:
    doctor = doctor or physician()
    return consent_session_create(
        patient_name=patient_name,
        patient_birth_date=birth_date,
        patient_record_number="MRN-123",
        procedure_version=version or mitraclip_version(),
        physician=doctor,
        created_by=doctor,
    )


# Why a test makes a link (needed once the physician has attested; stored on the link).
LINK_REASON = "A link for the patient's own browser."


def issue_link(session: ConsentSession) -> str:
    """Issue a link and return its token-bearing path."""
    _link, token = patient_link_issue(
        session=session, issued_by=session.physician, reason=LINK_REASON
    )
    return f"/link/{token}/"


def birth_date_post(birth_date: date = BIRTH_DATE) -> dict[str, str]:
    return {
        "day": str(birth_date.day),
        "month": str(birth_date.month),
        "year": str(birth_date.year),
    }


def second_factor_device(user: User) -> TOTPDevice:
    """The user's authenticator app (django-otp's TOTP device), with the tests' known key."""
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=True, defaults={"name": "Authenticator app", "key": TOTP_KEY}
    )
    return device


def totp_code(user: User) -> str:
    """The code the user's authenticator app shows now, as the tests' own computation (RFC 6238).

    django-otp refuses a code twice (replay): when this minute's code was used already (two
    log-ins in a row), the next step's is given, which it accepts a step early; past that, wait
    for the clock.
    """
    device = second_factor_device(user)
    while True:
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
        now = totp.t() + device.drift
        step = max(now, device.last_t + 1)
        if step <= now + device.tolerance:
            totp.time = device.t0 + step * device.step
            return f"{totp.token():0{device.digits}d}"
        time.sleep(1)
        device.refresh_from_db()


def second_factor_passed(client: Client, user: User) -> Client:
    """Mark this logged-in browser as past the second factor (the session key django-otp sets)."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = second_factor_device(user).persistent_id
    session.save()
    return client


def logged_in(user: User) -> Client:
    """A browser logged in as this staff user, second factor passed (no log-in page: the session
    is made directly)."""
    client = Client()
    client.force_login(user)
    # As the log-in request would: it starts the idle clock (consent/middleware.py), so the
    # first page does not write the session.
    session = client.session
    session[SESSION_LAST_ACTIVITY] = int(clock.now().timestamp())
    session.save()
    return second_factor_passed(client, user)


def patient_client(session: ConsentSession, client: Client | None = None) -> Client:
    """A browser that opened the patient's link and confirmed the date of birth."""
    client = client or Client()
    response = client.get(issue_link(session))
    assert response.status_code == 302
    response = client.post("/patient/identity/", birth_date_post())
    assert response.status_code == 302, response.content
    return client


class AnswerData(dict):
    """Form data answering a question right or wrong, by meaning: `submit` words it again for
    the round it posts (a re-ask may show another wording, whose choices have other keys)."""

    def __init__(self, question, *, right: bool, round_number: int = 1) -> None:
        self.question = question
        self.right = right
        super().__init__(_answer_form_data(question, right=right, round_number=round_number))

    def for_round(self, round_number: int) -> dict[str, object]:
        return _answer_form_data(self.question, right=self.right, round_number=round_number)


def _answer_form_data(question, *, right: bool, round_number: int) -> dict[str, object]:
    from consent.choice_order import choice_key

    wording = question.wording_for_round(round_number)
    if wording.kind == "free-text":
        if not right:
            raise ValueError("free-text answers are never wrong")
        return {"answer": OWN_WORDS}
    if wording.kind == "true-false":
        return {"answer": "true" if wording.correct == right else "false"}
    value = right_value(wording) if right else wrong_value(wording)
    assert isinstance(value, list)
    keys = [choice_key(wording.choices[i]) for i in value]
    return {"answer": keys[0] if wording.kind == "single" else keys}


def right_answer(question, round_number: int = 1) -> AnswerData:
    """Form data that answers a question correctly (free text: a plausible sentence): the
    choices' keys, as the page posts them."""
    return AnswerData(question, right=True, round_number=round_number)


def wrong_answer(question, round_number: int = 1) -> AnswerData:
    return AnswerData(question, right=False, round_number=round_number)


def read_all_sections(client: Client, session: ConsentSession) -> None:
    """Go through every section with Next, as a patient would."""
    count = session.procedure_version.sections.count()
    for number in range(1, count + 1):
        assert client.get(f"/patient/section/{number}/").status_code == 200
        client.post(f"/patient/section/{number}/", {"go": "next"})


def submit(client: Client, number: int, data: dict[str, object], round_number: int = 1):
    if isinstance(data, AnswerData):
        data = data.for_round(round_number)
    return client.post(f"/patient/question/{number}/", {"round": round_number, **data})


def right_value(question: Question | Wording, *, text: str = FREE_TEXT) -> Answer:
    """A right answer in the shape the services store (free text: `text`). Give the round's
    wording (`question.wording_for_round(n)`) for a re-ask: a variant has its own choices."""
    if question.kind == Question.Kind.FREE_TEXT:
        return text
    correct: Answer | None = question.correct
    assert correct is not None, question.key
    return correct


def wrong_value(question: Question | Wording) -> Answer:
    """A wrong answer in the shape the services store (not for free text)."""
    if question.kind == Question.Kind.TRUE_FALSE:
        return not question.correct
    correct: list[int] = question.correct or []
    return [next(i for i in range(len(question.choices)) if i not in correct)]


def patient_reads_and_answers(session: ConsentSession, *, ask: bool = True) -> ConsentSession:
    """The patient reads every section (FAST_SECTION in two seconds), asks PATIENT_QUESTION
    unless `ask` is false, gets the first question wrong in every round (flagged), the second
    right after one re-teach, and the rest right, with FREE_TEXT in their own words."""
    from consent.services import journey as journey_services
    from consent.services import links

    link, _token = links.patient_link_issue(session=session, issued_by=session.physician)
    assert links.patient_identity_confirm(link=link, birth_date=BIRTH_DATE, origin=ORIGIN)
    journey = journey_get(session=session)
    for number, section in enumerate(journey.sections, start=1):
        journey_services.section_leave(
            session=session,
            section=section,
            seconds=2 if number == FAST_SECTION else 90,
            go_to=min(number + 1, journey.section_count),
            finished_reading=number == journey.section_count,
            origin=ORIGIN,
        )
    if ask:
        journey_services.patient_question_ask(
            session=session,
            text=PATIENT_QUESTION,
            asked_from="/patient/section/3/",
            form_id=uuid.uuid4(),
            origin=ORIGIN,
        )
    for index, progress in enumerate(journey.progress):
        question = progress.question
        # True for a right answer, False for a wrong one, in the round's wording.
        if index == 0:
            answers = [False] * (session.max_reteach + 1)
        elif index == 1:
            answers = [False, True]
        else:
            answers = [True]
        for round_number, meaning in enumerate(answers, start=1):
            wording = question.wording_for_round(round_number)
            journey_services.answer_submit(
                session=session,
                question=question,
                answer=right_value(wording) if meaning else wrong_value(wording),
                round_number=round_number,
                origin=ORIGIN,
            )
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.READY_FOR_DISCUSSION
    return session


def flagged_question(session: ConsentSession) -> Question:
    return next(
        p.question for p in journey_get(session=session).progress if p.outcome == Outcome.FLAGGED
    )


def free_text_question(session: ConsentSession) -> Question:
    return session.procedure_version.questions.get(kind=Question.Kind.FREE_TEXT)


def physician_reviews(session: ConsentSession) -> ConsentSession:
    """The review of a read-through session: the patient's question answered, the flagged item
    resolved, three key points of the own words ticked, the discussion with a witness."""
    from consent.services import review as review_services

    doctor = session.physician
    for question in session.patient_questions.all():
        review_services.patient_question_answer(
            question=question, answer="Yes, if she stays with you tonight.", physician=doctor
        )
    review_services.question_review_save(
        session=session,
        question=flagged_question(session),
        covered_key_points=[],
        note="Explained with the drawing; the patient then said it back correctly.",
        physician=doctor,
    )
    review_services.question_review_save(
        session=session,
        question=free_text_question(session),
        covered_key_points=[0, 1, 2],
        note="Did not mention why surgery is riskier for them; discussed.",
        physician=doctor,
    )
    review_services.discussion_save(
        session=session,
        physician=doctor,
        verbal_teachback=["purpose", "risks"],
        verbal_teachback_notes="Explained the purpose and the main risks back.",
        alternatives_discussed=["surgical-repair", "surgical-replacement"],
        alternatives_notes="Prefers to avoid open-heart surgery.",
        interpreter_name="",
        interpreter_language="",
        witness_name="Marie Témoin",
    )
    return session


def ready_session(
    *,
    wrong_key: str | None = None,
    patient_question: str = "",
    read_through: bool = False,
    reading: Sequence[tuple[int, int]] = (),
    **session_kwargs,
) -> ConsentSession:
    """A session whose patient has answered everything (via the services, no HTTP).

    `wrong_key` names a question answered wrongly in every round, so it ends flagged.
    `reading` lists (section position, seconds) read before answering (reading time counts only
    until the answers lock). `read_through` tells the whole story instead
    (`patient_reads_and_answers`: reading times, a re-teach, PATIENT_QUESTION); `wrong_key`,
    `reading` and `patient_question` then do not apply.
    Other keywords (doctor, patient_name, version, birth_date) go to `consent_session`.
    """
    from consent.services import journey as journey_services
    from consent.services import links

    session = consent_session(**session_kwargs)
    if read_through:
        return patient_reads_and_answers(session)
    link, _token = patient_link_issue(session=session, issued_by=session.physician)
    links.patient_identity_confirm(link=link, birth_date=BIRTH_DATE, origin=ORIGIN)
    ConsentSession.objects.filter(pk=session.pk).update(sections_done=True)
    session.refresh_from_db()
    sections = session.procedure_version.sections
    for position, seconds in reading:
        journey_services.section_leave(
            session=session,
            section=sections.get(position=position),
            seconds=seconds,
            go_to=position + 1,
            finished_reading=False,
            origin=ORIGIN,
        )
    if patient_question:
        journey_services.patient_question_ask(
            session=session,
            text=patient_question,
            asked_from="/patient/summary/",
            form_id=uuid.uuid4(),
            origin=ORIGIN,
        )
    for question in session.procedure_version.questions.order_by("position"):
        rounds = session.max_reteach + 1 if question.key == wrong_key else 1
        for round_number in range(1, rounds + 1):
            wording = question.wording_for_round(round_number)
            if question.key == wrong_key:
                answer = wrong_value(wording)
            else:
                answer = right_value(wording, text=OWN_WORDS)
            journey_services.answer_submit(
                session=session,
                question=question,
                answer=answer,
                round_number=round_number,
                origin=ORIGIN,
            )
    session.refresh_from_db()
    return session


def reviewed_session(*, read_through: bool = False, **kwargs) -> ConsentSession:
    """A ready session whose review is complete: questions answered, free text assessed,
    flagged items resolved, discussion recorded (`physician_reviews` after a read-through)."""
    from consent.services import review as review_services

    session = ready_session(read_through=read_through, **kwargs)
    if read_through:
        return physician_reviews(session)
    doctor = session.physician
    for asked in session.patient_questions.all():
        review_services.patient_question_answer(
            question=asked, answer="Yes, we will talk about it.", physician=doctor
        )
    for progress in journey_get(session=session).progress:
        if progress.outcome in (Outcome.FLAGGED, Outcome.ANSWERED):
            review_services.question_review_save(
                session=session,
                question=progress.question,
                covered_key_points=list(range(len(progress.question.key_points))),
                note="Explained again in person; understood.",
                physician=doctor,
            )
    review_services.discussion_save(
        session=session,
        physician=doctor,
        alternatives_discussed=[a.key for a in session.procedure_version.alternatives.all()],
        alternatives_notes="Surgery discussed.",
    )
    return session


def attested_session(**kwargs) -> ConsentSession:
    from consent.services import signatures as signature_services

    session = reviewed_session(**kwargs)
    signature_services.session_attest(
        session=session, physician=session.physician, password=PASSWORD
    )
    session.refresh_from_db()
    return session


def signature_png(width: int = 300, height: int = 100) -> bytes:
    """A real PNG of a drawn stroke, as the signature pad would send."""
    import io

    from PIL import Image, ImageDraw

    picture = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    ImageDraw.Draw(picture).line([(10, 70), (80, 20), (150, 80), (290, 30)], fill="black", width=3)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


FAKE_PDF = b"%PDF-1.7\n% a stand-in for the record's PDF in tests that do not look inside it\n"


def decided_session(
    *, decline_reason: str | None = None, drawn: bool = True, **kwargs
) -> ConsentSession:
    """An attested session the patient has consented to (or declined, given a reason), with a
    drawn signature unless `drawn` is false (typed name only)."""
    from consent.services import signatures as signature_services

    session = attested_session(**kwargs)
    name = session.patient_name
    if decline_reason is None:
        signature_services.patient_consent_sign(
            session=session,
            confirmed_statements=len(signature_services.PATIENT_CONSENT_STATEMENTS),
            typed_name=name,
            image=signature_png() if drawn else None,
        )
    else:
        signature_services.patient_decline(
            session=session, typed_name=name, reason=decline_reason, image=None
        )
    session.refresh_from_db()
    return session


def fake_pdf_render(_session: ConsentSession, _record_id: str) -> bytes:
    """Stand in for consent.record.pdf.record_pdf_render where the PDF is not under test."""
    return FAKE_PDF


def finalized_record(
    *, real_pdf: bool = False, decline_reason: str | None = None, **kwargs
) -> ConsentRecord:
    """A finalized consent record. Its PDF is FAKE_PDF unless `real_pdf` (rendered and sealed,
    2 to 5 s of CPU: only where the PDF itself is under test)."""
    from consent.services import signatures as signature_services

    session = decided_session(decline_reason=decline_reason, **kwargs)
    return signature_services.session_finalize(
        session=session,
        physician=session.physician,
        password=PASSWORD,
        render_pdf=None if real_pdf else fake_pdf_render,
    )


def finalized_session(**kwargs) -> ConsentSession:
    """The session of a `finalized_record` (same keywords), as read back from the database."""
    record = finalized_record(**kwargs)
    return ConsentSession.objects.get(pk=record.session_id)


FAKE_ADDENDUM_PDF = (
    b"%PDF-1.7\n% a stand-in for an addendum's PDF in tests that do not look inside it\n"
)


def fake_addendum_render(_document: dict, _canonical: bytes) -> bytes:
    """Stand in for consent.record.addendum.addendum_pdf_render where the PDF is not under test."""
    return FAKE_ADDENDUM_PDF


def addendum_added(
    *,
    record: ConsentRecord,
    kind: str,
    text: str,
    author: User | None = None,
    real_pdf: bool = False,
    **kwargs,
):
    """An addendum under `record` by its physician (password given). Its PDF is
    FAKE_ADDENDUM_PDF unless `real_pdf` (rendered and sealed: only where the PDF is under test)."""
    from consent.services import addenda

    return addenda.addendum_add(
        record=record,
        kind=kind,
        text=text,
        author=author or record.session.physician,
        password=PASSWORD,
        render_pdf=None if real_pdf else fake_addendum_render,
        **kwargs,
    )


# The database task backend, as deployed (settings.TASKS in tests is the immediate backend).
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def tasks_run(worker_id: str = "test-worker") -> int:
    """Run every background task that is ready, as `manage.py db_worker` would (claim, run,
    record the outcome), in this thread and its database connection: inside a test's
    transaction, or through the live server's shared in-memory SQLite. Returns how many ran."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    ran = 0
    for row in list(DBTaskResult.objects.ready()):
        row.claim(worker.worker_id)
        worker.run_task(row)
        ran += 1
    return ran


class StandingClock:
    """A clock that stands still until the test moves it (`wait`, or `at` directly); install
    it with `consent.clock.using(StandingClock())`."""

    def __init__(self) -> None:
        self.at: datetime = timezone.now()

    def now(self) -> datetime:
        return self.at

    def wait(self, **delta: float) -> None:
        self.at += timedelta(**delta)


# The plain page a patient's browser gets after the idle time-out.
IDLE_PAGE = (
    "You were away for a while.",
    "To go on, open your link again and confirm your date of birth. Your answers are saved.",
)
