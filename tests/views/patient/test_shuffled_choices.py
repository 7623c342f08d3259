"""Shuffled choices through the test client: the order shown is the order stored, a re-ask
shows another order and another wording, choices are posted by key (replayed, reordered or
forged forms cannot score another choice), per-choice feedback and the summary's facts."""

import re

import pytest

from consent.choice_order import choice_key, order_seed, shuffled
from consent.models import Attempt
from tests.factories import (
    consent_session,
    patient_client,
    physician,
    read_all_sections,
    right_answer,
    submit,
    wrong_answer,
)

pytestmark = pytest.mark.django_db

CHOICE = re.compile(r'<input type="(?:radio|checkbox)" name="answer" value="(c[0-9a-f]{16})"')


@pytest.fixture
def session():
    return consent_session()


@pytest.fixture
def patient(session):
    client = patient_client(session)
    read_all_sections(client, session)
    return client


def question(session, key):
    return session.procedure_version.questions.get(key=key)


def reach(session, patient, target):
    for q in session.procedure_version.questions.filter(position__lt=target.position):
        submit(patient, q.position, right_answer(q))


def keys_on_page(patient, number):
    return CHOICE.findall(patient.get(f"/patient/question/{number}/").content.decode())


def test_the_order_stored_is_the_order_shown(session, patient):
    target = question(session, "risk-common")
    reach(session, patient, target)
    shown = keys_on_page(patient, target.position)
    wording = target.wording_for_round(1)
    assert sorted(shown) == sorted(choice_key(text) for text in wording.choices)
    submit(patient, target.position, {"answer": shown[0]})
    attempt = Attempt.objects.get(session=session, question=target)
    assert [choice_key(wording.choices[i]) for i in attempt.shown_order] == shown
    # The first place on the page is what was chosen, whatever the pack's order.
    assert attempt.answer == [attempt.shown_order[0]]
    # The order can be drawn again from the stored seed.
    assert attempt.order_seed == order_seed(session, target, 1)
    assert shuffled(4, attempt.order_seed, correct=[0], previous=None) == attempt.shown_order


def test_the_same_page_shown_twice_keeps_its_order(session, patient):
    target = question(session, "purpose")
    assert keys_on_page(patient, 1) == keys_on_page(patient, 1)
    assert target.position == 1


def test_the_order_differs_between_patients():
    orders = set()
    for number in range(6):
        session = consent_session(doctor=physician(username=f"dr.{number}"))
        client = patient_client(session)
        read_all_sections(client, session)
        orders.add(tuple(keys_on_page(client, 1)))
    assert len(orders) > 1


def test_a_re_ask_shows_another_order_and_another_wording(session, patient):
    target = question(session, "risk-common")
    reach(session, patient, target)
    first = keys_on_page(patient, target.position)
    submit(patient, target.position, wrong_answer(target))
    page = patient.get(f"/patient/question/{target.position}/").content.decode()
    variant = target.wording_for_round(2)
    assert variant.variant == 1
    assert variant.prompt in page
    second = CHOICE.findall(page)
    assert second != first
    submit(patient, target.position, wrong_answer(target), round_number=2)
    one, two = Attempt.objects.filter(session=session, question=target).order_by("round")
    assert two.variant == 1
    assert two.shown_order != one.shown_order
    # The right answer does not stand where it stood before.
    assert one.shown_order.index(0) != two.shown_order.index(variant.correct[0])


def test_a_replayed_form_cannot_score_another_choice(session, patient):
    """The form of round 1 (a wrong choice), posted again as round 2: the variant does not
    have that choice, so its key is refused, with a message, and nothing is stored. (A choice
    with the same text in both wordings has the same key: it is the same answer.)"""
    target = question(session, "risk-common")
    reach(session, patient, target)
    loose = "The clip coming loose"
    assert loose not in target.wording_for_round(2).choices
    wrong = {"answer": choice_key(loose)}
    submit(patient, target.position, wrong)
    response = patient.post(f"/patient/question/{target.position}/", {"round": 2, **wrong})
    assert response.status_code == 400
    assert "That answer is not one of the choices shown here, so nothing was saved." in (
        response.content.decode()
    )
    assert Attempt.objects.filter(session=session, question=target).count() == 1


def test_a_forged_position_instead_of_a_key_is_refused_and_stores_nothing(session, patient):
    target = question(session, "purpose")
    response = submit(patient, target.position, {"answer": "0"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "That answer is not one of the choices shown here, so nothing was saved." in body
    assert "Choose an answer." in body
    assert not Attempt.objects.filter(session=session).exists()


def test_a_forged_key_among_good_ones_keeps_the_good_ones_ticked(session, patient):
    target = question(session, "risks-under-1-in-100")
    reach(session, patient, target)
    good = right_answer(target).for_round(1)["answer"]
    response = submit(patient, target.position, {"answer": [*good, "c0000000000000000"]})
    assert response.status_code == 400
    body = response.content.decode()
    for key in good:
        assert re.search(rf'value="{key}"[^>]*checked', body), key
    assert not Attempt.objects.filter(session=session, question=target).exists()


def test_the_right_choice_is_scored_right_wherever_it_stands(session, patient):
    target = question(session, "purpose")
    submit(patient, target.position, right_answer(target))
    attempt = Attempt.objects.get(session=session, question=target)
    assert attempt.is_correct is True
    assert attempt.answer == [0]


def test_a_wrong_answer_shows_why_that_choice_is_wrong(session, patient):
    target = question(session, "risk-common")
    reach(session, patient, target)
    stroke = target.choices.index("A stroke")
    submit(patient, target.position, {"answer": choice_key("A stroke")})
    body = patient.get(f"/patient/question/{target.position}/result/").content.decode()
    assert "Why “A stroke” is not right:" in body
    assert target.choice_feedback[stroke] in body
    assert target.explanation in body


def test_a_flagged_false_statement_is_summarized_by_its_fact(session, patient):
    target = question(session, "saying-no")
    for q in session.procedure_version.questions.order_by("position"):
        if q == target:
            for round_number in (1, 2, 3):
                submit(patient, q.position, wrong_answer(q), round_number=round_number)
        else:
            submit(patient, q.position, right_answer(q))
    body = patient.get("/patient/summary/").content.decode()
    discuss = body.split("To discuss with your doctor")[1].split("</ul>")[0]
    assert f"The fact:</span> {target.fact}" in discuss
    # The false statement is never there alone: it is marked as what was asked.
    assert f"You were asked: {target.prompt}" in discuss


def test_without_a_fact_a_false_statement_is_marked_not_true(session):
    target = question(session, "saying-no")
    target.fact = ""
    assert target.wording().fact_text == f"Not true: “{target.prompt}”"
    right = question(session, "fasting").wording()
    assert right.fact_text == f"{right.prompt} {right.choices[right.correct[0]]}"


def test_the_review_page_shows_the_order_seen_and_the_place_clicked(session, patient):
    from tests.factories import logged_in

    target = question(session, "purpose")
    shown = keys_on_page(patient, 1)
    submit(patient, 1, {"answer": shown[2]})
    attempt = Attempt.objects.get(session=session, question=target)
    texts = [target.choices[i] for i in attempt.shown_order]
    body = logged_in(session.physician).get(f"/staff/sessions/{session.public_id}/review/")
    rows = body.content.decode().split('id="attempts"')[1].split("</ol>")[0]
    listed = re.findall(r"<li[^>]*>([^<]+)", rows.split('class="small text-body-secondary mb-0')[1])
    assert [text.strip() for text in listed] == texts
    assert "chosen, place 3" in rows
