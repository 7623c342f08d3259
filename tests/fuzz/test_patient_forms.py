"""Fuzzing every patient form through the test client: the date of birth, an answer of each
kind, a question for the doctor, and the decision (consent, refusal, companion) with its drawn
signature. No input gets a server error; a refused one says why and stores nothing."""

import base64

import pytest
from django.test import Client
from hypothesis import strategies as st

from consent.choice_order import choice_key
from consent.models import ConsentSession, Question
from consent.selectors.journey import journey_get
from consent.services import journey as journey_services
from consent.services import signatures as signature_services
from tests.factories import (
    BIRTH_DATE,
    ORIGIN,
    attested_session,
    consent_session,
    issue_link,
    mitraclip_version,
    right_value,
    translated_version,
)
from tests.fuzz.harness import either, form_data, fuzz
from tests.fuzz.strategies import (
    BOOLEAN_TEXT,
    INTEGER_TEXT,
    NASTY,
    PNG,
    SHORT,
    SIGNATURE,
    TEXT,
    patient,
    post_to,
    values,
)

pytestmark = pytest.mark.django_db

NAME = "Jeanne Testpatient"


def test_birth_date(record_property):
    session = consent_session()
    client = Client(raise_request_exception=False)
    assert client.get(issue_link(session)).status_code == 302
    part = st.one_of(INTEGER_TEXT, st.integers(0, 3000).map(str))
    right = {
        "day": str(BIRTH_DATE.day),
        "month": str(BIRTH_DATE.month),
        "year": str(BIRTH_DATE.year),
    }
    strategy = st.one_of(
        form_data({"day": part, "month": part, "year": part}), st.just(right), st.just({})
    )
    fuzz(
        name="patient: date of birth",
        client=client,
        strategy=strategy,
        send=post_to("/patient/identity/"),
        record_property=record_property,
        may_add=(),
    )


def test_language(record_property):
    """The first page's language choice: a language of the procedure, another, or junk."""
    english = mitraclip_version()
    translated_version(source=english)
    client = patient(consent_session(version=english))
    language = st.one_of(st.sampled_from(["fr", "en", "de", "FR", "fr-FR", ""]), SHORT)
    fuzz(
        name="patient: language",
        client=client,
        strategy=st.one_of(form_data({"language": language}), st.just({"language": "fr"})),
        send=post_to("/patient/language/"),
        record_property=record_property,
        may_add=(),
    )


def _answered_up_to(kind: str) -> tuple[Client, int, Question]:
    """The browser of a patient who has read everything and answered right up to the first
    question of this kind; its number and the question."""
    session = consent_session()
    client = patient(session)
    ConsentSession.objects.filter(pk=session.pk).update(sections_done=True)
    session.refresh_from_db()
    for progress in journey_get(session=session).progress:
        question = progress.question
        if question.kind == kind:
            return client, progress.number, question
        journey_services.answer_submit(
            session=session,
            question=question,
            answer=right_value(question.wording_for_round(1)),
            round_number=1,
            origin=ORIGIN,
        )
    raise AssertionError(f"no {kind} question in the pack")


@pytest.mark.parametrize(
    "kind",
    [
        Question.Kind.SINGLE,
        Question.Kind.MULTIPLE,
        Question.Kind.TRUE_FALSE,
        Question.Kind.FREE_TEXT,
    ],
)
def test_answer(kind, record_property):
    client, number, question = _answered_up_to(kind)
    keys = [
        choice_key(choice)
        for round_number in (1, 2, 3)
        for choice in question.wording_for_round(round_number).choices
    ] or ["true", "false"]
    answer = st.one_of(
        values(st.sampled_from(keys)), values(TEXT), st.just("The clip holds the flaps.")
    )
    rounds = st.one_of(st.sampled_from(["1", "2", "3"]), INTEGER_TEXT)
    fuzz(
        name=f"patient: answer ({kind})",
        client=client,
        strategy=form_data({"answer": answer, "round": rounds}),
        send=post_to(f"/patient/question/{number}/"),
        record_property=record_property,
        may_add=("Attempt",),
    )


def test_ask(record_property):
    session = consent_session()
    client = patient(session)
    next_path = st.one_of(
        st.sampled_from(
            ["/patient/section/1/", "/patient/%00", "/patient/\x00", "//evil.example/", ""]
        ),
        st.text(max_size=40).map(lambda tail: "/patient/" + tail),
        SHORT,
    )
    form_id = st.one_of(st.uuids().map(str), SHORT)
    strategy = st.tuples(
        st.sampled_from(["GET", "POST"]),
        next_path,
        form_data({"text": st.one_of(TEXT, st.just("May I drive home?")), "form_id": form_id}),
    )

    def send(client, value):
        method, where, data = value
        if method == "GET":
            return client.get("/patient/ask/", {"next": where})
        return client.post(f"/patient/ask/?{_query(where)}", data)

    fuzz(
        name="patient: ask a question",
        client=client,
        strategy=strategy,
        send=send,
        record_property=record_property,
        may_add=("PatientQuestion",),
    )


def _query(where: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": where})


def _png_url() -> str:
    return "data:image/png;base64," + base64.b64encode(PNG).decode()


VALID_SIGNED = {"typed_name": NAME, "signature": _png_url()}
SIGNED = {
    "typed_name": st.one_of(st.just(NAME), st.just("Mickey Mouse"), SHORT),
    "as_representative": BOOLEAN_TEXT,
    "relationship": st.one_of(st.just("Daughter"), SHORT),
    "signature": SIGNATURE,
}


@pytest.fixture
def decision_client():
    session = attested_session(read_through=True)
    return session, patient(session)


def test_decision_consent(decision_client, record_property):
    _session, client = decision_client
    statements = values(st.one_of(st.sampled_from(["0", "1", "2"]), SHORT))
    strategy = either(
        {**VALID_SIGNED, "statements": ["0", "1", "2"]}, {"statements": statements, **SIGNED}
    )
    fuzz(
        name="patient: consent (signature PNG)",
        client=client,
        strategy=strategy,
        send=post_to("/patient/decision/"),
        record_property=record_property,
        may_add=("Signature",),
    )


def test_decision_decline(decision_client, record_property):
    _session, client = decision_client
    fuzz(
        name="patient: decline (signature PNG)",
        client=client,
        strategy=either({**VALID_SIGNED, "reason": "Not now."}, {"reason": TEXT, **SIGNED}),
        send=post_to("/patient/decision/decline/"),
        record_property=record_property,
        may_add=("Signature",),
    )


def test_decision_companion(record_property):
    session = attested_session(read_through=True)
    signature_services.patient_consent_sign(
        session=session,
        confirmed_statements=len(signature_services.PATIENT_CONSENT_STATEMENTS),
        typed_name=session.patient_name,
        image=None,
    )
    client = patient(session)
    strategy = either(
        {"role": "witness", "typed_name": "Marie Témoin", "signature": _png_url()},
        {
            "role": st.one_of(st.sampled_from(["witness", "interpreter"]), NASTY),
            "typed_name": st.one_of(st.just("Marie Témoin"), SHORT),
            "signature": SIGNATURE,
        },
    )
    fuzz(
        name="patient: companion (signature PNG)",
        client=client,
        strategy=strategy,
        send=post_to("/patient/decision/companion/"),
        record_property=record_property,
        may_add=("Signature",),
    )
