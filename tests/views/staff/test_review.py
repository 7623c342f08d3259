"""The physician's workspace: dashboard, review, attestation, countersignature, the record,
and the idle time-out of staff sessions."""

import hashlib
import importlib
import re
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from consent import services
from consent.middleware import SESSION_LAST_ACTIVITY
from consent.models import (
    AuditEvent,
    ConsentRecord,
    ConsentSession,
    Discussion,
    PatientQuestion,
    QuestionReview,
    Signature,
)
from consent.rules import Outcome
from consent.selectors.journey import journey_get
from consent.selectors.session import record_data_get
from consent.services import journey as journey_services
from consent.services import links
from consent.services import signatures as signature_services
from consent.views.staff.sessions import qr_code_svg
from tests.factories import (
    BIRTH_DATE,
    FAKE_PDF,
    FREE_TEXT,
    ORIGIN,
    PASSWORD,
    PATIENT_QUESTION,
    attested_session,
    auditor,
    consent_session,
    decided_session,
    finalized_session,
    flagged_question,
    free_text_question,
    logged_in,
    patient_client,
    patient_reads_and_answers,
    physician,
    physician_reviews,
    ready_session,
    reviewed_session,
    wrong_value,
)

pytestmark = pytest.mark.django_db

Status = ConsentSession.Status


def changes_logged(session) -> int:
    """Audit events that record a change (page views are logged too, as access)."""
    return AuditEvent.objects.filter(session=session).exclude(action="session.viewed").count()


# Clients for each role


def role_clients(session: ConsentSession, *, with_patient: bool = True) -> dict[str, Client]:
    """Every role a request can come from. A patient client needs a session still open."""
    clients = {"anonymous": Client()}
    if with_patient:
        clients["patient"] = patient_client(session)
    clients["other_physician"] = logged_in(physician(username="dr.other"))
    clients["auditor"] = logged_in(auditor())
    # The responsible physician last: the others must have changed nothing before.
    clients["physician"] = logged_in(session.physician)
    return clients


def url(session: ConsentSession, suffix: str = "") -> str:
    return f"/staff/sessions/{session.public_id}/{suffix}"


def page(response) -> str:
    return response.content.decode()


def follow_text(client: Client, path: str, data: dict | None = None) -> str:
    return page(client.post(path, data or {}, follow=True))


READ = {"anonymous": 302, "patient": 302, "other_physician": 404, "physician": 200, "auditor": 200}
WRITE = {"anonymous": 302, "patient": 302, "other_physician": 404, "physician": 302, "auditor": 403}


def assert_status(response, role: str, expected: dict[str, int]) -> None:
    assert response.status_code == expected[role], role
    if response.status_code == 302:
        location = response["Location"]
        if role in ("anonymous", "patient"):
            assert location.startswith("/accounts/login/"), role
        else:
            assert location.startswith("/staff/sessions/"), role


# Who gets in


def test_review_page_access_for_each_role():
    session = ready_session(read_through=True)
    for role, client in role_clients(session).items():
        assert_status(client.get(url(session, "review/")), role, READ)


def test_unknown_session_review_is_404_like_another_physicians():
    client = logged_in(physician())
    assert client.get(url(ConsentSession(), "review/")).status_code == 404


def test_record_pdf_access_for_each_role(fake_pdf_renderer):
    session = decided_session(read_through=True, drawn=False)
    clients = role_clients(session)
    signature_services.session_finalize(
        session=session, physician=session.physician, password=PASSWORD
    )
    for role, client in clients.items():
        response = client.get(url(session, "record.pdf"))
        assert_status(response, role, READ)
        if response.status_code == 200:
            assert b"".join(response.streaming_content) == FAKE_PDF


def test_record_pdf_is_404_before_finalization():
    session = decided_session(read_through=True, drawn=False)
    assert logged_in(session.physician).get(url(session, "record.pdf")).status_code == 404
    assert logged_in(auditor()).get(url(session, "record.pdf")).status_code == 404


def _write_cases():
    """Each changing view with a session in the state where it applies and valid form data."""
    return {
        "patient_question_answer": (
            lambda: ready_session(read_through=True),
            lambda s: url(s, f"patient-questions/{s.patient_questions.get().pk}/answer/"),
            lambda s: {f"pq{s.patient_questions.get().pk}-answer": "Yes."},
        ),
        "question_review": (
            lambda: ready_session(read_through=True),
            lambda s: url(s, f"questions/{flagged_question(s).pk}/review/"),
            lambda s: {f"q{flagged_question(s).pk}-note": "Explained again."},
        ),
        "discussion": (
            lambda: ready_session(read_through=True),
            lambda s: url(s, "discussion/"),
            lambda s: {"verbal_teachback": ["purpose"], "witness_name": "A Witness"},
        ),
        "attest": (
            lambda: reviewed_session(read_through=True),
            lambda s: url(s, "attest/"),
            lambda s: {"attest-password": PASSWORD},
        ),
        "finalize": (
            lambda: decided_session(read_through=True, drawn=False),
            lambda s: url(s, "finalize/"),
            lambda s: {"finalize-password": PASSWORD},
        ),
        "addendum": (
            lambda: finalized_session(read_through=True, drawn=False),
            lambda s: url(s, "addenda/"),
            lambda s: {
                "kind": "correction",
                "text": "The record number is MRN-124.",
                "password": PASSWORD,
                "submission_key": "k" * 32,
            },
        ),
    }


@pytest.mark.parametrize("action", list(_write_cases()))
def test_changing_views_access_for_each_role(action, fake_pdf_renderer):
    make, path, data = _write_cases()[action]
    session = make()
    clients = role_clients(session, with_patient=session.status != Status.FINALIZED)
    for role, client in clients.items():
        events = changes_logged(session)
        response = client.post(path(session), data(session))
        assert_status(response, role, WRITE)
        if role != "physician":
            assert changes_logged(session) == events, role
    # The responsible physician's post went through: it left its audit event.
    assert changes_logged(session) > events


def test_changing_views_refuse_get():
    session = ready_session(read_through=True)
    client = logged_in(session.physician)
    for suffix in ("discussion/", "attest/", "finalize/", "addenda/"):
        assert client.get(url(session, suffix)).status_code == 405, suffix


def test_a_patient_link_never_opens_a_staff_page():
    session = ready_session(read_through=True)
    patient = patient_client(session)
    for suffix in ("review/", "record.pdf", ""):
        response = patient.get(url(session, suffix))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert patient.get("/staff/").status_code == 302


# The dashboard


def test_dashboard_shows_progress_score_flags_and_open_questions():
    session = ready_session(read_through=True)
    body = page(logged_in(session.physician).get("/staff/"))
    row = body.split(session.patient_name)[1].split("</tr>")[0]
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
    # status, sections read, questions answered, right first time, flagged, questions open
    assert cells[:6] == ["Ready for discussion", "20 of 20", "16 of 16", "13 of 15", "1", "1"]


def test_the_dashboards_cards_say_what_its_table_says():
    """Phones get cards, wide screens the table: the same figures, worded the same way."""
    session = ready_session(read_through=True)
    fresh = consent_session(doctor=session.physician, patient_name="Nina Fresh")
    body = page(logged_in(session.physician).get("/staff/"))
    table, cards = body.split('class="list-unstyled d-md-none session-cards"')

    def text(html):
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()

    for shown, figures in (
        (session, ["Ready for discussion", "20 of 20", "16 of 16", "13 of 15", "1", "1"]),
        (fresh, ["Created", "0 of 20", "0 of 16", "—", "0", "0"]),
    ):
        row = table.split(shown.patient_name)[1].split("</tr>")[0]
        cells = [text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        assert cells[:6] == figures
        card = cards.split(shown.patient_name)[1].split("</li>")[0]
        assert text(card.split("</h2>")[0]) == figures[0]
        dd = [text(d) for d in re.findall(r"<dd[^>]*>(.*?)</dd>", card)]
        assert dd == [*figures[1:4], f"{figures[4]} · {figures[5]}"]
        link = f'href="/staff/sessions/{shown.public_id}/"'
        assert row.count(link) == 0 and link in table.split(shown.patient_name)[0][-300:]
        assert link in cards.split(shown.patient_name)[0][-200:]


def test_dashboard_figures_match_the_teach_back_rules_while_the_patient_is_answering():
    session = consent_session(doctor=physician(username="dr.own"))
    link, _token = links.patient_link_issue(session=session, issued_by=session.physician)
    links.patient_identity_confirm(link=link, birth_date=BIRTH_DATE, origin=ORIGIN)
    journey = journey_get(session=session)
    first, second = journey.progress[0].question, journey.progress[1].question
    for round_number in (1, 2, 3):
        journey_services.answer_submit(
            session=session,
            question=first,
            answer=wrong_value(first),
            round_number=round_number,
            origin=ORIGIN,
        )
    journey_services.answer_submit(
        session=session,
        question=second,
        answer=wrong_value(second),
        round_number=1,
        origin=ORIGIN,
    )
    from consent.selectors.dashboard import consent_sessions_dashboard

    row = consent_sessions_dashboard(user=session.physician).get(pk=session.pk)
    journey = journey_get(session=session)
    assert row.questions_answered == sum(p.done for p in journey.progress) == 1
    assert row.flagged == len(journey.with_outcome(Outcome.FLAGGED)) == 1
    assert (row.first_try_correct, row.first_try_graded) == (0, 2)
    assert (row.sections_read, row.sections_total) == (0, 20)


def test_dashboard_filters_by_status_with_a_plain_get_form():
    doctor = physician(username="dr.own")
    ready = ready_session(read_through=True, doctor=doctor)
    waiting = consent_session(doctor=doctor, patient_name="Paul Waiting")
    client = logged_in(doctor)
    body = page(client.get("/staff/"))
    assert '<select name="status"' in body
    assert '<button class="btn btn-outline-secondary" type="submit">Show</button>' in body
    filtered = page(client.get("/staff/", {"status": "ready_for_discussion"}))
    assert ready.patient_name in filtered
    assert waiting.patient_name not in filtered
    assert '<option value="ready_for_discussion" selected>' in filtered
    nothing = page(client.get("/staff/", {"status": "finalized"}))
    assert "No consent session has this status." in nothing
    # A made-up status is ignored rather than an error.
    assert client.get("/staff/", {"status": "nonsense"}).status_code == 200


def test_dashboard_names_the_physician_only_to_those_who_see_everyone():
    session = ready_session(read_through=True)
    assert '<th scope="col">Physician</th>' in page(logged_in(auditor()).get("/staff/"))
    own = logged_in(session.physician).get("/staff/")
    assert own.status_code == 200
    # The physician's own dashboard, with the session's row, only without that column.
    assert ">Consent sessions</h1>" in page(own)
    assert session.patient_name in page(own)
    assert '<th scope="col">Physician</th>' not in page(own)


def _dashboard_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/staff/")
    assert response.status_code == 200
    return len(captured)


def test_dashboard_query_count_is_the_same_for_2_and_10_sessions():
    doctor = physician(username="dr.own")
    version = ready_session(read_through=True, doctor=doctor).procedure_version
    consent_session(doctor=doctor, version=version)
    client = logged_in(doctor)
    two = _dashboard_queries(client)
    for n in range(8):
        session = consent_session(doctor=doctor, version=version, patient_name=f"Patient {n}")
        if n % 2:
            patient_reads_and_answers(session)
    assert ConsentSession.objects.filter(physician=doctor).count() == 10
    assert _dashboard_queries(client) == two


# The session page: the patient link as a link and a QR code


def test_a_new_link_is_shown_once_as_a_link_and_a_qr_code():
    session = consent_session(doctor=physician(username="dr.own"))
    client = logged_in(session.physician)
    client.post(url(session, "link/"))
    body = page(client.get(url(session)))
    token = re.search(r"http://testserver/link/([A-Za-z0-9_-]+)/", body).group(1)
    assert '<svg width="' in body and 'class="qr-code"' in body
    assert "style=" not in body.split('class="qr-code"')[1].split("</svg>")[0]
    # The QR code encodes that very link, and the link works.
    assert qr_code_svg(f"http://testserver/link/{token}/") in body
    assert Client().get(f"/link/{token}/").status_code == 302
    again = page(client.get(url(session)))
    assert "qr-code" not in again and token not in again


def test_session_page_offers_no_link_or_cancel_once_finalized(fake_pdf_renderer):
    session = finalized_session(read_through=True, drawn=False)
    response = logged_in(session.physician).get(url(session))
    assert response.status_code == 200
    body = page(response)
    # The finalized session's own page, only without the link and cancel forms.
    assert f'<h1 class="h3 mb-0">{session.patient_name}</h1>' in body
    assert f'session-status">{Status.FINALIZED.label}</span>' in body
    assert "Make a new link" not in body
    assert "Cancel the session" not in body


# The review page


def test_review_page_shows_every_attempt_reading_times_and_what_to_review():
    session = ready_session(read_through=True)
    body = page(logged_in(session.physician).get(url(session, "review/")))
    journey = journey_get(session=session)
    first = journey.progress[0].question
    # Each round asks in its own wording (a re-ask may use a variant of the question).
    wordings = [first.wording_for_round(round_number) for round_number in (1, 2, 3)]
    wrong_texts = [wording.choices[wrong_value(wording)[0]] for wording in wordings]
    # Every attempt, with its answer as the patient saw it, right or wrong, and its time.
    attempts = body.split('id="attempts"')[1].split("</section>")[0]
    answers = [part.split("</span>")[0] for part in attempts.split('attempt-answer">')[1:]]
    assert answers[:3] == wrong_texts
    assert attempts.count(">wrong<") == 4
    assert attempts.count(">right<") == 14
    assert attempts.count(">own words<") == 1
    assert FREE_TEXT in attempts
    # The section passed in two seconds is pointed out, and only that one.
    reading = body.split('id="reading"')[1].split("</section>")[0]
    assert reading.count("Read far faster than the text allows</strong>") == 1
    fast_row = reading.split("When the mitral valve leaks")[1].split("</tr>")[0]
    assert "2 s" in fast_row and "Read far faster" in fast_row
    # Free text with its key points as a checklist, the flagged item, the patient's question.
    for point in free_text_question(session).key_points:
        assert point in body
    assert body.count('type="checkbox"') >= 4 + 4 + 2  # key points, teach-back, alternatives
    assert PATIENT_QUESTION in body
    assert "How it was resolved" in body
    # What still stands before attesting.
    for blocker in signature_services.attestation_blockers(record_data_get(session=session)):
        assert escape(blocker) in body
    assert "Sign the attestation" not in body


def test_review_page_is_read_only_for_the_auditor():
    session = ready_session(read_through=True)
    body = page(logged_in(auditor()).get(url(session, "review/")))
    assert PATIENT_QUESTION in body
    assert '<form method="post" action="/staff/sessions/' not in body
    assert "nothing on it can be changed by you now" in body


def test_review_page_has_no_form_for_the_patients_answers():
    session = ready_session(read_through=True)
    body = page(logged_in(session.physician).get(url(session, "review/")))
    actions = set(re.findall(r'<form method="post" action="(/staff/[^"]+)"', body))
    allowed = re.compile(r"/(patient-questions/\d+/answer|questions/\d+/review|discussion)/#")
    assert actions and all(allowed.search(action) for action in actions), actions


def test_review_page_query_count_does_not_grow_with_questions_and_answers():
    doctor = physician(username="dr.own")
    few = ready_session(read_through=True, doctor=doctor)
    client = logged_in(doctor)

    def count(session):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(session, "review/")).status_code == 200
        return len(captured)

    before = count(few)
    for n in range(6):
        journey_services.patient_question_ask(
            session=few, text=f"Question {n}?", asked_from="", form_id=uuid.uuid4(), origin=ORIGIN
        )
    physician_reviews(few)
    assert count(few) == before


def test_physician_answers_the_patients_question():
    session = ready_session(read_through=True)
    question = session.patient_questions.get()
    client = logged_in(session.physician)
    response = client.post(
        url(session, f"patient-questions/{question.pk}/answer/"),
        {f"pq{question.pk}-answer": "  Yes, if someone stays with you tonight.  "},
    )
    assert response["Location"] == url(session, f"review/#patient-question-{question.pk}")
    question.refresh_from_db()
    assert question.answer == "Yes, if someone stays with you tonight."
    assert question.answered_by == session.physician
    assert "Your answer to the patient&#x27;s question was saved." in page(
        client.get(url(session, "review/"))
    )


def test_an_empty_answer_to_a_patients_question_is_refused_with_a_message():
    session = ready_session(read_through=True)
    question = session.patient_questions.get()
    response = logged_in(session.physician).post(
        url(session, f"patient-questions/{question.pk}/answer/"), {f"pq{question.pk}-answer": ""}
    )
    assert response.status_code == 400
    assert "Write your answer to the patient&#x27;s question." in page(response)
    question.refresh_from_db()
    assert question.answer == ""


def test_a_question_of_another_session_is_404():
    session = ready_session(read_through=True)
    other = ready_session(read_through=True, doctor=physician(username="dr.other"))
    client = logged_in(session.physician)
    foreign = other.patient_questions.get()
    path = url(session, f"patient-questions/{foreign.pk}/answer/")
    assert client.post(path, {f"pq{foreign.pk}-answer": "x"}).status_code == 404
    assert client.post(url(session, "questions/999999/review/"), {}).status_code == 404


def test_physician_ticks_the_key_points_of_an_answer_in_own_words():
    session = ready_session(read_through=True)
    question = free_text_question(session)
    client = logged_in(session.physician)
    response = client.post(
        url(session, f"questions/{question.pk}/review/"),
        {f"q{question.pk}-covered_key_points": ["0", "2"], f"q{question.pk}-note": "Good."},
    )
    assert response["Location"] == url(session, f"review/#question-{question.pk}")
    review = QuestionReview.objects.get(session=session, question=question)
    assert (review.covered_key_points, review.note) == ([0, 2], "Good.")
    body = page(client.get(url(session, "review/")))
    assert f'name="q{question.pk}-covered_key_points" value="2"' in body
    assert re.search(r'value="2"[^>]*checked|checked[^>]*value="2"', body)


def test_a_flagged_item_needs_a_note_on_how_it_was_resolved():
    session = ready_session(read_through=True)
    question = flagged_question(session)
    client = logged_in(session.physician)
    path = url(session, f"questions/{question.pk}/review/")
    response = client.post(path, {f"q{question.pk}-note": "  "})
    assert response.status_code == 400
    assert "Write how this item was resolved with the patient." in page(response)
    assert f'Nothing was saved. <a href="#question-{question.pk}">' in page(response)
    assert not QuestionReview.objects.filter(session=session).exists()
    client.post(path, {f"q{question.pk}-note": "Explained again; understood."})
    assert QuestionReview.objects.get(session=session, question=question).note == (
        "Explained again; understood."
    )


def test_physician_records_the_discussion():
    session = ready_session(read_through=True)
    client = logged_in(session.physician)
    response = client.post(
        url(session, "discussion/"),
        {
            "verbal_teachback": ["purpose", "treatment-options"],
            "verbal_teachback_notes": "Said it back well.",
            "alternatives_discussed": ["surgical-repair"],
            "alternatives_notes": "",
            "interpreter_name": "Ana Lopes",
            "interpreter_language": "Portuguese",
            "witness_name": "",
        },
    )
    assert response["Location"] == url(session, "review/#discussion")
    discussion = Discussion.objects.get(session=session)
    assert discussion.verbal_teachback == ["purpose", "treatment-options"]
    assert discussion.alternatives_discussed == ["surgical-repair"]
    assert (discussion.interpreter_name, discussion.interpreter_language) == (
        "Ana Lopes",
        "Portuguese",
    )
    body = page(client.get(url(session, "review/")))
    assert 'value="Ana Lopes"' in body


def test_discussion_form_refuses_unknown_choices_and_an_interpreter_without_a_language():
    session = ready_session(read_through=True)
    client = logged_in(session.physician)
    response = client.post(
        url(session, "discussion/"),
        {"verbal_teachback": ["not-a-section"], "interpreter_name": "Ana Lopes"},
    )
    assert response.status_code == 400
    body = page(response)
    assert "Select a valid choice." in body
    assert "Give the language the interpreter used." in body
    assert 'value="Ana Lopes"' in body
    assert not Discussion.objects.filter(session=session).exists()


# Attestation


def test_attestation_is_refused_while_something_stands_in_its_way():
    session = ready_session(read_through=True)
    client = logged_in(session.physician)
    body = follow_text(client, url(session, "attest/"), {"attest-password": PASSWORD})
    assert str(signature_services.ERROR_QUESTIONS_UNANSWERED) in body
    session.refresh_from_db()
    assert session.status == Status.READY_FOR_DISCUSSION
    assert not Signature.objects.filter(session=session).exists()


def test_physician_attests_with_their_password_and_sees_the_signature():
    session = reviewed_session(read_through=True)
    client = logged_in(session.physician)
    before = page(client.get(url(session, "review/")))
    assert escape(str(signature_services.ATTESTATION_STATEMENT)) in before
    assert "Sign the attestation" in before
    response = client.post(url(session, "attest/"), {"attest-password": PASSWORD})
    assert response["Location"] == url(session, "review/#attestation")
    session.refresh_from_db()
    assert session.status == Status.ATTESTED
    signature = Signature.objects.get(session=session, kind=Signature.Kind.ATTESTATION)
    body = page(client.get(url(session, "review/")))
    attestation = body.split('id="attestation"')[1].split("</section>")[0]
    assert "Alex Martin" in attestation
    assert signature.signed_at.strftime("%Y-%m-%d %H:%M:%S") in attestation
    assert str(signature_services.MEANINGS[Signature.Kind.ATTESTATION]) in attestation
    assert "You signed the attestation." in body
    # Afterwards the page is read-only: no review forms are left.
    assert "Save how it was resolved" not in body
    assert "Save the discussion" not in body


def test_a_wrong_password_at_attestation_is_refused_and_recorded():
    session = reviewed_session(read_through=True)
    client = logged_in(session.physician)
    body = follow_text(client, url(session, "attest/"), {"attest-password": "not-my-password"})
    assert "That password is not right. Nothing was signed." in body
    session.refresh_from_db()
    assert session.status == Status.READY_FOR_DISCUSSION
    assert not Signature.objects.filter(session=session).exists()
    refused = AuditEvent.objects.get(session=session, action="signature.refused")
    assert refused.actor == session.physician
    assert refused.payload["kind"] == Signature.Kind.ATTESTATION


def test_an_empty_password_signs_nothing_and_says_so():
    session = reviewed_session(read_through=True)
    response = logged_in(session.physician).post(url(session, "attest/"), {"attest-password": ""})
    assert response.status_code == 400
    assert "Enter your password to sign. Nothing was signed." in page(response)
    assert not Signature.objects.filter(session=session).exists()


def test_attesting_twice_changes_nothing_and_says_why():
    session = reviewed_session(read_through=True)
    client = logged_in(session.physician)
    client.post(url(session, "attest/"), {"attest-password": PASSWORD})
    events = changes_logged(session)
    body = follow_text(client, url(session, "attest/"), {"attest-password": PASSWORD})
    assert "This step is not possible now: the consent session is attested by physician." in body
    assert Signature.objects.filter(session=session).count() == 1
    assert changes_logged(session) == events


def test_attesting_before_the_patient_has_answered_everything_is_refused():
    session = consent_session(doctor=physician(username="dr.own"))
    patient_client(session)  # the patient has opened the link and is reading
    session.refresh_from_db()
    assert session.status == Status.REVIEWING
    body = follow_text(
        logged_in(session.physician), url(session, "attest/"), {"attest-password": PASSWORD}
    )
    assert "This step is not possible now: the consent session is patient reviewing." in body
    session.refresh_from_db()
    assert session.status == Status.REVIEWING


@pytest.mark.parametrize("target", ["question_review", "discussion", "patient_question_answer"])
def test_a_stale_review_form_after_attestation_changes_nothing(target):
    session = attested_session(read_through=True)
    question = flagged_question(session)
    patient_question = session.patient_questions.get()
    path, data = {
        "question_review": (
            url(session, f"questions/{question.pk}/review/"),
            {f"q{question.pk}-note": "Changed afterwards."},
        ),
        "discussion": (url(session, "discussion/"), {"witness_name": "Someone Else"}),
        "patient_question_answer": (
            url(session, f"patient-questions/{patient_question.pk}/answer/"),
            {f"pq{patient_question.pk}-answer": "Changed afterwards."},
        ),
    }[target]
    events = changes_logged(session)
    body = follow_text(logged_in(session.physician), path, data)
    assert "This step is not possible now: the consent session is attested by physician." in body
    assert changes_logged(session) == events
    assert QuestionReview.objects.get(session=session, question=question).note != (
        "Changed afterwards."
    )
    assert Discussion.objects.get(session=session).witness_name == "Marie Témoin"
    assert PatientQuestion.objects.get(pk=patient_question.pk).answer != "Changed afterwards."


# Countersignature, finalization and the record


def test_finalizing_before_the_patient_signed_is_refused(fake_pdf_renderer):
    session = attested_session(read_through=True)
    body = follow_text(
        logged_in(session.physician), url(session, "finalize/"), {"finalize-password": PASSWORD}
    )
    assert "This step is not possible now: the consent session is attested by physician." in body
    session.refresh_from_db()
    assert session.status == Status.ATTESTED
    assert not ConsentRecord.objects.filter(session=session).exists()


def test_a_wrong_password_at_finalization_is_refused_and_recorded(fake_pdf_renderer):
    session = decided_session(read_through=True, drawn=False)
    body = follow_text(
        logged_in(session.physician), url(session, "finalize/"), {"finalize-password": "nope"}
    )
    assert "That password is not right. Nothing was signed." in body
    session.refresh_from_db()
    assert session.status == Status.SIGNED
    assert not ConsentRecord.objects.filter(session=session).exists()
    refused = AuditEvent.objects.get(session=session, action="signature.refused")
    assert refused.payload["kind"] == Signature.Kind.COUNTERSIGNATURE


def test_physician_countersigns_finalizes_and_downloads_the_stored_record(fake_pdf_renderer):
    session = decided_session(read_through=True, drawn=False)
    client = logged_in(session.physician)
    before = page(client.get(url(session, "review/")))
    assert escape(str(signature_services.COUNTERSIGNATURE_STATEMENT)) in before
    assert "Jeanne Testpatient" in before.split('id="decision"')[1]
    response = client.post(url(session, "finalize/"), {"finalize-password": PASSWORD})
    assert response["Location"] == url(session, "review/#record")
    record = ConsentRecord.objects.get(session=session)
    body = page(client.get(url(session, "review/")))
    assert f"The record {record.record_id} is finalized." in body
    assert record.pdf_sha256 in body
    assert str(signature_services.MEANINGS[Signature.Kind.COUNTERSIGNATURE]) in body
    download = client.get(url(session, "record.pdf"))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == f'attachment; filename="{record.record_id}.pdf"'
    assert b"".join(download.streaming_content) == FAKE_PDF


def test_the_record_pdf_is_served_as_stored_never_rendered_again(fake_pdf_renderer, monkeypatch):
    session = finalized_session(read_through=True, drawn=False)

    def render_again(*args, **kwargs):
        raise AssertionError("the PDF was rendered again")

    monkeypatch.setattr("consent.record.pdf.record_pdf_render", render_again)
    response = logged_in(auditor()).get(url(session, "record.pdf"))
    assert b"".join(response.streaming_content) == FAKE_PDF


def test_finalizing_twice_keeps_one_record(fake_pdf_renderer):
    session = decided_session(read_through=True, drawn=False)
    client = logged_in(session.physician)
    client.post(url(session, "finalize/"), {"finalize-password": PASSWORD})
    body = follow_text(client, url(session, "finalize/"), {"finalize-password": PASSWORD})
    assert "This step is not possible now: the consent session is finalized." in body
    assert ConsentRecord.objects.filter(session=session).count() == 1


def test_an_addendum_is_added_under_the_finalized_record(fake_pdf_renderer):
    session = finalized_session(read_through=True, drawn=False)
    client = logged_in(session.physician)
    response = client.post(
        url(session, "addenda/"),
        {
            "kind": "withdrawal",
            "text": "The patient withdrew consent by phone on 3 March.",
            "password": PASSWORD,
            "submission_key": "k" * 32,
        },
    )
    assert response["Location"] == url(session, "review/#record")
    body = page(client.get(url(session, "review/")))
    record = body.split('id="record"')[1]
    assert "Withdrawal of consent" in record
    assert "The patient withdrew consent by phone on 3 March." in record
    assert ConsentRecord.objects.get(session=session).addenda.count() == 1


def test_an_addendum_before_finalization_is_refused():
    session = decided_session(read_through=True, drawn=False)
    body = follow_text(
        logged_in(session.physician),
        url(session, "addenda/"),
        {"kind": "correction", "text": "Too early.", "password": PASSWORD, "submission_key": "k"},
    )
    assert str(signature_services.ERROR_NOT_FINALIZED) in body
    assert not AuditEvent.objects.filter(session=session, action__startswith="addendum").exists()


def test_an_addendum_without_text_is_refused(fake_pdf_renderer):
    session = finalized_session(read_through=True, drawn=False)
    response = logged_in(session.physician).post(
        url(session, "addenda/"),
        {"kind": "correction", "text": "", "password": PASSWORD, "submission_key": "k"},
    )
    assert response.status_code == 400
    assert "Write the text of the addendum." in page(response)


# Staff sessions end after inactivity


def test_staff_are_logged_out_after_the_idle_time_out(settings):
    settings.STAFF_IDLE_TIMEOUT = timedelta(minutes=30)
    session = ready_session(read_through=True)
    client = logged_in(session.physician)
    assert client.get("/staff/").status_code == 200
    stored = client.session
    assert time.time() - stored[SESSION_LAST_ACTIVITY] < 60
    stored[SESSION_LAST_ACTIVITY] = int(time.time()) - 31 * 60
    stored.save()
    response = client.get(url(session, "review/"))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url(session, 'review/')}"
    login_page = page(client.get(response["Location"]))
    assert "You were logged out after 30 minutes without activity." in login_page
    # Logged out for good, not only for that request.
    assert client.get("/staff/").status_code == 302


def test_activity_within_the_time_out_keeps_staff_logged_in(settings):
    settings.STAFF_IDLE_TIMEOUT = timedelta(minutes=30)
    client = logged_in(physician())
    client.get("/staff/")
    stored = client.session
    stored[SESSION_LAST_ACTIVITY] = int(time.time()) - 29 * 60
    stored.save()
    assert client.get("/staff/").status_code == 200
    assert time.time() - client.session[SESSION_LAST_ACTIVITY] < 60


def test_a_post_after_the_time_out_changes_nothing(settings):
    settings.STAFF_IDLE_TIMEOUT = timedelta(minutes=5)
    session = reviewed_session(read_through=True)
    client = logged_in(session.physician)
    client.get("/staff/")
    stored = client.session
    stored[SESSION_LAST_ACTIVITY] = int(time.time()) - 6 * 60
    stored.save()
    response = client.post(url(session, "attest/"), {"attest-password": PASSWORD})
    assert response["Location"].startswith("/accounts/login/")
    session.refresh_from_db()
    assert session.status == Status.READY_FOR_DISCUSSION


def test_logging_in_starts_the_idle_clock():
    client = Client()
    doctor = physician()
    client.post("/accounts/login/", {"username": doctor.username, "password": PASSWORD})
    assert time.time() - client.session[SESSION_LAST_ACTIVITY] < 60


def test_patients_have_no_idle_clock():
    session = ready_session(read_through=True)
    patient = patient_client(session)
    assert patient.get("/patient/summary/").status_code == 200
    assert SESSION_LAST_ACTIVITY not in patient.session


def test_idle_time_out_comes_from_the_environment(monkeypatch):
    import consent_site.settings as site_settings

    monkeypatch.setenv("STAFF_IDLE_TIMEOUT_MINUTES", "15")
    configured = importlib.reload(site_settings).STAFF_IDLE_TIMEOUT
    monkeypatch.delenv("STAFF_IDLE_TIMEOUT_MINUTES")
    default = importlib.reload(site_settings).STAFF_IDLE_TIMEOUT
    assert (configured, default) == (timedelta(minutes=15), timedelta(minutes=30))


def test_a_physician_who_may_see_every_session_still_cannot_sign_anothers():
    from django.contrib.auth.models import Permission

    session = reviewed_session(read_through=True)
    colleague = physician(username="dr.colleague")
    colleague.user_permissions.add(Permission.objects.get(codename="view_all_sessions"))
    client = logged_in(colleague)
    body = page(client.get(url(session, "review/")))
    assert "Sign the attestation" not in body
    assert "Only the responsible physician can attest." in body
    body = follow_text(client, url(session, "attest/"), {"attest-password": PASSWORD})
    assert str(services.ERROR_NOT_RESPONSIBLE) in body
    session.refresh_from_db()
    assert session.status == Status.READY_FOR_DISCUSSION


def test_finalizing_through_the_page_stores_the_real_pdf():
    """The one test that lets consent.record.pdf render: the view relies on its default renderer."""
    session = decided_session(read_through=True, drawn=False)
    client = logged_in(session.physician)
    client.post(url(session, "finalize/"), {"finalize-password": PASSWORD})
    record = ConsentRecord.objects.get(session=session)
    download = b"".join(client.get(url(session, "record.pdf")).streaming_content)
    assert download.startswith(b"%PDF-")
    assert hashlib.sha256(download).hexdigest() == record.pdf_sha256
