"""The finalized consent record: its data, its PDF, and WeasyPrint locked to our own files.

The session is built through the services, as the patient and the physician would build it,
then finalized with the real renderer; the stored PDF is read back with pypdf.
"""

import base64
import hashlib
import io
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image, ImageDraw
from pypdf import PdfReader

from consent.audit import triggers
from consent.audit.events import Origin
from consent.models import (
    AuditEvent,
    ConsentRecord,
    ConsentSession,
    PatientQuestion,
    Question,
    Signature,
    Wording,
)
from consent.record import pdf
from consent.selectors.session import record_data_get
from consent.services import ServiceError, links
from consent.services import journey as journey_services
from consent.services import review as review_services
from consent.services import signatures as signature_services
from tests.factories import BIRTH_DATE, PASSWORD, consent_session, physician

pytestmark = pytest.mark.django_db

Status = ConsentSession.Status

# Builders: a fully signed session, made through the services (no HTTP).

OWN_WORDS = (
    "The clip holds the two flaps of my valve together so less blood leaks back. "
    "It goes in through the groin, so they do not open my chest."
)
PATIENT_QUESTION = "Can I go home the same day, and who drives me?"
PHYSICIAN_ANSWER = "Most people stay one or two nights. Someone should drive you home."


def signature_png(width: int = 480, height: int = 140) -> bytes:
    """A small drawn-looking signature: a dark stroke on a transparent background, as PNG."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = []
    for step in range(0, 400, 4):
        x = 30 + step
        y = 80 + 35 * ((step // 40) % 2 * 2 - 1) * ((step % 40) / 40 - 0.5)
        points.append((x, y + (step % 23) / 3))
    draw.line(points, fill=(20, 30, 90, 255), width=4, joint="curve")
    draw.line([(60, 110), (300, 104), (420, 112)], fill=(20, 30, 90, 255), width=3)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _request() -> Any:
    return Origin(ip="10.0.0.7", user_agent="RecordTest/1.0")


def answer_value(question: Question | Wording, *, right: bool, text: str = OWN_WORDS) -> Any:
    """An answer in the shape the services store: choice indexes, a boolean, or text."""
    if question.kind == Question.Kind.FREE_TEXT:
        return text
    if question.kind == Question.Kind.TRUE_FALSE:
        return question.correct if right else not question.correct
    if right:
        return sorted(question.correct)
    return [next(i for i in range(len(question.choices)) if i not in question.correct)]


@dataclass
class Plan:
    """What happens in a built session; the defaults make a realistic, busy record."""

    patient_name: str = "Jeanne Testpatient"
    doctor_username: str = "dr.martin"
    # Question keys answered wrongly once and then right.
    wrong_once: tuple[str, ...] = ("risk-stroke-per-100",)
    # A question answered wrongly in every round, so it ends flagged for the physician.
    flagged: str | None = "risks-under-1-in-100"
    own_words: str = OWN_WORDS
    patient_question: str | None = PATIENT_QUESTION
    # Section keys never opened (no time recorded).
    unread: tuple[str, ...] = ("at-home",)
    interpreter: tuple[str, str] | None = ("Amira Haddad", "Arabic")
    witness: str = "Paul Durand"
    decline_reason: str | None = None
    drawn: bool = True
    # The drawn signature's bytes; a real PNG unless a test says otherwise.
    image: bytes | None = None
    section_seconds: dict[str, int] = field(default_factory=dict)


def reviewed(plan: Plan | None = None) -> ConsentSession:
    """A session ready for attestation: read, answered, asked, reviewed and discussed."""
    plan = plan or Plan()
    session = consent_session(
        patient_name=plan.patient_name, doctor=physician(username=plan.doctor_username)
    )
    request = _request()
    doctor = session.physician
    link, _token = links.patient_link_issue(session=session, issued_by=doctor)
    assert links.patient_identity_confirm(link=link, birth_date=BIRTH_DATE, origin=request)
    version = session.procedure_version
    sections = list(version.sections.order_by("position"))
    for section in sections:
        if section.key in plan.unread:
            continue
        seconds = plan.section_seconds.get(section.key, 35 + (section.position * 17) % 140)
        session = journey_services.section_leave(
            session=session,
            section=section,
            seconds=seconds,
            go_to=min(section.position + 1, len(sections)),
            finished_reading=section.position == len(sections),
            origin=request,
        )
    ConsentSession.objects.filter(pk=session.pk).update(sections_done=True)
    session.refresh_from_db()
    if plan.patient_question:
        journey_services.patient_question_ask(
            session=session,
            text=plan.patient_question,
            asked_from="/patient/section/9/",
            form_id=uuid.uuid4(),
            origin=request,
        )
    for question in version.questions.order_by("position"):
        if question.key == plan.flagged:
            answers = [False] * (session.max_reteach + 1)
        elif question.key in plan.wrong_once:
            answers = [False, True]
        else:
            answers = [True]
        for round_number, right in enumerate(answers, start=1):
            journey_services.answer_submit(
                session=session,
                question=question,
                # In the round's wording: a re-ask may use a variant (other choices).
                answer=answer_value(
                    question.wording_for_round(round_number), right=right, text=plan.own_words
                ),
                round_number=round_number,
                origin=request,
            )
    session.refresh_from_db()
    assert session.status == Status.READY_FOR_DISCUSSION
    for asked in session.patient_questions.all():
        review_services.patient_question_answer(
            question=asked, answer=PHYSICIAN_ANSWER, physician=doctor
        )
    for question in version.questions.all():
        if question.kind == Question.Kind.FREE_TEXT:
            review_services.question_review_save(
                session=session,
                question=question,
                covered_key_points=[0, 1, 3],
                note="Did not mention the groin; explained it again in person.",
                physician=doctor,
            )
        elif question.key == plan.flagged:
            review_services.question_review_save(
                session=session,
                question=question,
                covered_key_points=[],
                note="Went through the icon arrays together; she now names all three.",
                physician=doctor,
            )
    alternatives = list(version.alternatives.order_by("position"))
    interpreter_name, interpreter_language = plan.interpreter or ("", "")
    review_services.discussion_save(
        session=session,
        physician=doctor,
        verbal_teachback=["purpose", "how-it-works", "risks"],
        verbal_teachback_notes="Explained the clip with her own hands as a clothespin.",
        alternatives_discussed=[alternatives[0].key],
        alternatives_notes="Surgical repair discussed; she prefers to avoid open-heart surgery.",
        interpreter_name=interpreter_name,
        interpreter_language=interpreter_language,
        witness_name=plan.witness,
    )
    return session


def decided(plan: Plan | None = None) -> ConsentSession:
    """A session attested by the physician, then decided by the patient; companions sign."""
    plan = plan or Plan()
    session = reviewed(plan)
    signature_services.session_attest(
        session=session, physician=session.physician, password=PASSWORD
    )
    image = (plan.image or signature_png()) if plan.drawn else None
    if plan.decline_reason is None:
        signature_services.patient_consent_sign(
            session=session, confirmed_statements=3, typed_name=plan.patient_name, image=image
        )
    else:
        signature_services.patient_decline(
            session=session, typed_name=plan.patient_name, reason=plan.decline_reason, image=image
        )
    if plan.interpreter:
        signature_services.companion_sign(
            session=session,
            kind=Signature.Kind.INTERPRETER,
            typed_name=plan.interpreter[0],
            image=image,
        )
    if plan.witness:
        signature_services.companion_sign(
            session=session, kind=Signature.Kind.WITNESS, typed_name=plan.witness, image=None
        )
    session.refresh_from_db()
    return session


def finalized(plan: Plan | None = None, **kwargs: Any) -> ConsentRecord:
    session = decided(plan)
    return signature_services.session_finalize(
        session=session, physician=session.physician, password=PASSWORD, **kwargs
    )


def pdf_pages(record: ConsentRecord) -> list[str]:
    """The stored PDF's text, page by page, with runs of whitespace made single spaces."""
    with record.pdf.open("rb") as stored:
        reader = PdfReader(io.BytesIO(stored.read()))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def flat(text: str) -> str:
    return " ".join(text.split())


# The record of a consented session


@pytest.fixture
def record(settings) -> ConsentRecord:
    return finalized()


def test_record_pdf_shows_patient_procedure_and_every_question(record):
    session = record.session
    pages = pdf_pages(record)
    text = " ".join(pages)
    assert "Informed consent record" in text
    assert session.patient_name in text
    assert "27 Mar 1948" in text
    assert session.procedure_version.content_hash in text
    assert "The patient consented to the procedure." in text
    for question in session.procedure_version.questions.all():
        assert flat(question.prompt) in text, question.key


def test_record_pdf_shows_every_attempt_including_the_wrong_one(record):
    text = " ".join(pdf_pages(record))
    question = record.session.procedure_version.questions.get(key="risk-stroke-per-100")
    wrong = question.choices[answer_value(question, right=False)[0]]
    assert f"Round 1 · {wrong} · ✗ wrong" in text
    assert f"Round 2 · {question.choices[0]} · ✓ right" in text
    assert "Right after re-teaching" in text
    assert "Flagged: to discuss" in text
    assert flat(OWN_WORDS) in text
    assert "Went through the icon arrays together" in text


def test_record_pdf_shows_signatures_with_printed_name_and_meaning(record):
    text = " ".join(pdf_pages(record))
    signatures = list(record.session.signatures.all())
    assert {s.kind for s in signatures} == set(Signature.Kind.values) - {"patient_refusal"}
    for signature in signatures:
        assert f"Printed name {signature.printed_name}" in text
        assert flat(signature.meaning) in text
    assert "Amira Haddad (Arabic)" in text


def test_record_pdf_numbers_every_page_with_the_record_id(record):
    pages = pdf_pages(record)
    assert len(pages) >= 3
    assert f"Page 1 of {len(pages)}" in pages[0]
    for number, page in enumerate(pages, start=1):
        assert f"Record {record.record_id}" in page, number
        assert f"Page {number} of {len(pages)}" in page
        assert "Jeanne Testpatient · born 27 Mar 1948" in page, number


def test_record_pdf_shows_the_patients_question_the_answer_and_the_audit_trail(record):
    text = " ".join(pdf_pages(record))
    assert PATIENT_QUESTION in text
    assert PHYSICIAN_ANSWER in text
    # The trail up to the chain head the record prints: the head when it was drawn, before
    # its own countersignature and finalization events (services/signatures.py).
    head = json.loads(record.record_json)["audit_chain_head_seq"]
    events = AuditEvent.objects.filter(session=record.session)
    actions = set(events.filter(seq__lte=head).values_list("action", flat=True))
    assert "signature.patient_consent" in actions
    for action in actions:
        assert action in text, action
    assert "session.finalized" not in text


def test_record_pdf_is_stored_in_default_storage_with_its_digest(record, settings):
    assert record.pdf.storage is default_storage
    assert record.pdf.name.startswith("records/")
    assert (settings.MEDIA_ROOT / record.pdf.name).is_file()
    with default_storage.open(record.pdf.name, "rb") as stored:
        data = stored.read()
    assert data.startswith(b"%PDF-")
    assert record.pdf_sha256 == hashlib.sha256(data).hexdigest()
    assert record.pdf_size == len(data)


def test_rendering_again_gives_the_same_document_and_the_stored_file_is_it_sealed(record):
    document = pdf.record_document_pdf(record.session, record.record_id)
    assert pdf.record_document_pdf(record.session, record.record_id) == document
    with record.pdf.open("rb") as stored:
        data = stored.read()
    # The seal is an incremental update appended to the document's exact bytes.
    assert data.startswith(document)
    assert len(data) > len(document)
    assert hashlib.sha256(data).hexdigest() == record.pdf_sha256


# Declined


def test_declined_record_says_declined_with_the_reason():
    record = finalized(
        Plan(decline_reason="I would rather wait until after my grandson's wedding.")
    )
    text = " ".join(pdf_pages(record))
    assert "The patient declined the procedure (informed refusal)." in text
    assert "I would rather wait until after my grandson's wedding." in text
    assert "Patient informed refusal" in text
    assert "consented" not in text


def test_unreadable_drawn_signature_is_said_not_silently_dropped():
    # The services refuse a broken PNG; this stands for bytes damaged in storage afterwards.
    session = decided(Plan(interpreter=None))
    with connection.cursor() as cursor:  # bypass the history triggers, as damage would
        for statement in triggers.drop_sql(connection.vendor):
            cursor.execute(statement)
    Signature.objects.filter(session=session, kind="patient_consent").update(
        image=b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    )
    record = signature_services.session_finalize(
        session=session, physician=session.physician, password=PASSWORD
    )
    text = " ".join(pdf_pages(record))
    assert "[The drawn signature image could not be read.]" in text


def test_a_question_slipped_in_after_signing_voids_the_signatures_and_nothing_finalizes():
    session = decided()
    # Written straight into the database (the services refuse questions after attestation).
    PatientQuestion.objects.create(
        session=session, text="And the stitches?", asked_from="/patient/", form_id=uuid.uuid4()
    )
    with pytest.raises(ServiceError, match="changed after Alex Martin signed it"):
        signature_services.session_finalize(
            session=session, physician=session.physician, password=PASSWORD
        )
    assert not ConsentRecord.objects.exists()
    voided = AuditEvent.objects.get(session=session, action="signature.voided")
    assert voided.payload["kind"] == "attestation"


# Patient text is text


HOSTILE = (
    '<img src="file:///etc/passwd"> <script>alert(1)</script> <link href="http://x.test/a.css">'
)


def test_patient_markup_is_shown_as_text_and_never_fetched(monkeypatch):
    asked = []
    original = pdf.StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        asked.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(pdf.StaticOnlyFetcher, "fetch", spy)
    monkeypatch.setattr(pdf, "_THREAD", threading.local())  # the stylesheet is read again
    record = finalized(
        Plan(own_words=f"It is a clip. {HOSTILE}", patient_question=f"Why? {HOSTILE}")
    )
    # Lines may wrap anywhere in a table cell: compare without whitespace.
    text = "".join("".join(pdf_pages(record)).split())
    assert text.count('<imgsrc="file:///etc/passwd">') == 2
    assert text.count("<script>alert(1)</script>") == 2
    assert text.count('<linkhref="http://x.test/a.css">') == 2
    assert not any(url.startswith(("file:", "http:")) for url in asked), asked
    assert any(url.endswith("/static/consent/pdf.css") for url in asked)
    assert any(url.startswith("data:image/png;base64,") for url in asked)


def test_record_template_never_marks_text_safe(settings):
    source = (settings.BASE_DIR / "templates" / pdf.TEMPLATE).read_text()
    assert "|safe" not in source
    assert "autoescape off" not in source
    assert "safeseq" not in source


def test_record_html_escapes_patient_text():
    session = decided(Plan(own_words="<b>bold</b> & <script>x()</script>"))
    html = pdf.record_html(record_data_get(session=session), "CR-TEST")
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;x()&lt;/script&gt;" in html
    assert "<script>" not in html


# The URL fetcher


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "http://example.com/a.css",
        "https://example.com/static/consent/pdf.css",
        "ftp://example.com/x",
        f"{pdf.DOCUMENT_ORIGIN}/etc/passwd",
        f"{pdf.DOCUMENT_ORIGIN}/static/../../../../etc/passwd",
        f"{pdf.DOCUMENT_ORIGIN}/static/%2e%2e/%2e%2e/settings.py",
        f"{pdf.DOCUMENT_ORIGIN}/static/consent/..%2f..%2fmodels.py",
        f"{pdf.DOCUMENT_ORIGIN}/static/consent/pdf.css?x=1",
        f"{pdf.DOCUMENT_ORIGIN}/static/no/such/file.css",
        f"{pdf.DOCUMENT_ORIGIN}/static/",
        "http://consent-record.invalid/static/consent/pdf.css",
        "/static/consent/pdf.css",
    ],
)
def test_fetcher_refuses_everything_but_static_files_and_data(url):
    with pytest.raises(ValueError, match=r"(?i)refused|not|outside|unexpected|no such|protocol"):
        pdf.StaticOnlyFetcher().fetch(url)


def test_fetcher_serves_static_files_and_data_uris():
    fetcher = pdf.StaticOnlyFetcher()
    css = fetcher.fetch(pdf.static_url("consent/pdf.css"))
    assert css.content_type == "text/css"
    assert b"@page" in css.read()
    png = signature_png()
    image = fetcher.fetch("data:image/png;base64," + base64.b64encode(png).decode())
    assert image.read() == png


def test_a_refused_fetch_stops_rendering(monkeypatch):
    session = decided()
    monkeypatch.setattr(pdf, "qr_data_uri", lambda url: "file:///etc/passwd")
    with pytest.raises(pdf.PdfRenderError):
        pdf.record_pdf_render(session, "CR-TEST")


def test_a_refused_stylesheet_stops_rendering(monkeypatch):
    session = decided()
    monkeypatch.setattr(pdf, "_THREAD", threading.local())
    monkeypatch.setattr(
        pdf, "static_url", lambda path: f"{pdf.DOCUMENT_ORIGIN}/static/no/such/file.css"
    )
    with pytest.raises(ValueError, match="no such static file"):
        pdf.record_pdf_render(session, "CR-TEST")


# Rendering tools kept between renders (speed and memory, issue 13)


def test_a_thread_keeps_one_font_configuration_and_stylesheet_until_the_file_changes(
    settings, tmp_path, monkeypatch
):
    monkeypatch.setattr(pdf, "_THREAD", threading.local())
    first = pdf._render_tools()
    assert pdf._render_tools() is first
    # Another thread has its own (Pango's font map is not shared between threads).
    other = []
    thread = threading.Thread(target=lambda: other.append(pdf._render_tools()))
    thread.start()
    thread.join()
    assert other[0] is not first and other[0].font_config is not first.font_config
    # An edited stylesheet is read again, with the same font configuration.
    static = tmp_path / "static"
    (static / "consent").mkdir(parents=True)
    edited = static / "consent" / "pdf.css"
    edited.write_text((settings.BASE_DIR / "consent/static/consent/pdf.css").read_text())
    settings.STATICFILES_DIRS = [static]
    monkeypatch.setattr(pdf, "static_file_for", lambda url: str(edited))
    again = pdf._render_tools()
    assert again is not first and again.font_config is first.font_config
    edited.write_text(edited.read_text() + "\n.end { color: #000; }\n")
    assert pdf._render_tools() is not again


def test_the_record_holds_every_section_risk_alternative_answer_and_audit_row(record):
    """Nothing is lost in the layout: every item of the record's data is in the PDF's text."""
    text = " ".join(pdf_pages(record))
    squeezed = "".join(text.split())
    data = record_data_get(session=record.session)
    for section in data.sections:
        assert f"{section.number} {flat(section.title)}" in text, section.title
    for risk in data.risks:
        assert flat(risk.name) in text and flat(risk.description) in text, risk.name
        if risk.picture_description:
            assert "".join(risk.picture_description.split()) in squeezed, risk.name
    for alternative in data.alternatives:
        assert flat(alternative.name) in text and flat(alternative.description) in text
    for question in data.questions:
        for attempt in question.attempts:
            assert "".join(str(attempt.answer).split()) in squeezed, question.prompt
            # Each answer on its own line, after its round (the tables lost their headers).
            assert "".join(f"Round {attempt.round} · {attempt.answer}".split()) in squeezed
            for place, choice, _chosen in attempt.shown:
                assert "".join(f"{place}. {choice}".split()) in squeezed, choice
    # One row per event up to the head, in order: each action as often as it happened, on a
    # line with its time, actor and role.
    actions = [event.action for event in data.audit_events]
    position = 0
    for event in data.audit_events:
        moment = (event.occurred_at or "").replace("T", " ").removesuffix("Z")
        line = flat(f"{moment} {event.actor_label} {event.role_label} {event.action}")
        found = text.find(line, position)
        assert found >= 0, line
        position = found + len(line)
    assert actions and actions[-1] in text
    for action in set(actions):
        assert len(re.findall(rf"(?<![\w.]){re.escape(action)}(?![\w])", text)) == actions.count(
            action
        ), action


# Finalization is all or nothing


def test_a_failing_render_leaves_nothing_finalized(settings):
    session = decided()

    def broken(session, record_id):
        raise RuntimeError("renderer crashed")

    with pytest.raises(signature_services.RecordNotMade, match="nothing was finalized") as raised:
        signature_services.session_finalize(
            session=session, physician=session.physician, password=PASSWORD, render_pdf=broken
        )
    assert str(raised.value.__cause__) == "renderer crashed"
    session.refresh_from_db()
    assert session.status == Status.SIGNED
    assert session.finalized_at is None
    assert not ConsentRecord.objects.filter(session=session).exists()
    assert not session.signatures.filter(kind=Signature.Kind.COUNTERSIGNATURE).exists()
    assert not AuditEvent.objects.filter(session=session, action="session.finalized").exists()
    media = settings.MEDIA_ROOT / "records"
    assert not media.exists() or not any(media.rglob("*.pdf"))


# The data


def test_record_data_is_plain_and_complete():
    session = decided()
    data = record_data_get(session=session)
    plain = data.as_dict()
    json.dumps(plain)  # strings, numbers, booleans, lists and dicts only
    assert plain["patient"] == {
        "name": "Jeanne Testpatient",
        "birth_date": "1948-03-27",
        "record_number": "MRN-123",
    }
    sections = {s["key"]: s for s in plain["sections"]}
    assert sections["at-home"]["seconds"] == 0 and sections["at-home"]["visits"] == 0
    assert sections["purpose"]["visits"] == 1 and sections["purpose"]["explained_back"]
    risks = plain["risks"]
    assert all((r["picture_svg"] is None) == (r["max_per_100"] is None) for r in risks)
    assert any(r["picture_svg"] is None for r in risks)
    assert [a["discussed"] for a in plain["alternatives"]] == [True, False]
    own_words = next(q for q in plain["questions"] if q["kind"] == "free-text")
    assert [p["covered"] for p in own_words["review"]["key_points"]] == [True, True, False, True]
    assert own_words["attempts"][0]["result"] == "\u2014"
    assert plain["decision"]["outcome"] == "consented"
    assert plain["discussion"]["interpreter_language"] == "Arabic"
    assert plain["finalized_at"] is None  # not countersigned yet
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", plain["audit_events"][0]["occurred_at"])
    drawn = [s for s in plain["signatures"] if s["image_png_base64"]]
    assert {s["kind"] for s in drawn} == {"patient_consent", "interpreter"}


def test_record_data_query_count_does_not_grow_with_the_session():
    small = decided(Plan(wrong_once=(), flagged=None, patient_question=None, interpreter=None))
    big = decided(Plan(patient_name="Marie Curieuse", doctor_username="dr.other", unread=()))
    with CaptureQueriesContext(connection) as few:
        record_data_get(session=small)
    with CaptureQueriesContext(connection) as many:
        record_data_get(session=big)
    assert len(few) == len(many) == 12  # the procedure version from the content cache (3ffff6a)


def test_record_carries_the_audit_chain_head_at_its_finalization():
    record = finalized(Plan(interpreter=None))
    # The head when the record was drawn: the event just before its countersignature's.
    countersigned = AuditEvent.objects.get(
        session=record.session, action="signature.countersignature"
    )
    event = AuditEvent.objects.get(seq=countersigned.seq - 1)
    text = " ".join(pdf_pages(record))
    assert f"#{event.seq} {event.hash[:16]}" in text
    data = record_data_get(session=record.session)
    assert data.audit_chain_head_seq == event.seq


def test_pdf_is_pdf_a_3b_with_the_canonical_record_attached_and_its_hash_on_every_page():
    import io

    from pypdf import PdfReader

    record = finalized(Plan(interpreter=None))
    reader = PdfReader(io.BytesIO(record.pdf.open("rb").read()))
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in metadata
    assert 'pdfaid:conformance="B"' in metadata
    (attached,) = reader.attachments["consent-record.json"]
    assert attached == record.record_json.encode("utf-8")
    for page in pdf_pages(record):
        assert f"SHA-256 {record.record_sha256[:16]}" in page
