"""The decision page opens with a recap (issue 11 item 4), through the test client: purpose,
main benefit, each risk's figure in the pack's own words, the alternatives with saying no, and
the doctor's written answers, before any statement or signature; and "My questions have been
answered" cannot be confirmed while a question of the patient's has no written answer.

How a question can be open at the decision: the state machine refuses the attestation while
one is open (`attestation_blockers`) and any new written question after it (`ASK` ends at the
attestation, test_no_new_written_question_after_attestation), so in the application's own
flow every question is answered by then. What is left is an answer taken away behind the
application's back (a row rewritten): the form and the service both refuse the consent, name
the question and store nothing; declining stays open."""

import html
import re

import pytest
from django.utils.html import strip_tags

from consent.models import AuditEvent, ConsentSession, PatientQuestion, Risk, Signature
from consent.selectors.recap import decision_recap_get
from consent.services import signatures as signature_services
from tests.factories import ORIGIN, PATIENT_QUESTION, attested_session, patient_client

pytestmark = pytest.mark.django_db

Status = ConsentSession.Status
Kind = Signature.Kind
DECISION = "/patient/decision/"
DECLINE = "/patient/decision/decline/"
ANSWER = "Yes, if she stays with you tonight."  # physician_reviews' answer to PATIENT_QUESTION
SECOND_QUESTION = "Will I need to stop my blood thinner?"
QUESTIONS_STATEMENT = str(signature_services.STATEMENT_QUESTIONS_ANSWERED)


@pytest.fixture
def session():
    return attested_session(read_through=True)


@pytest.fixture
def patient(session):
    return patient_client(session)


def page_of(response) -> str:
    return response.content.decode()


def text(fragment: str) -> str:
    """What a reader sees of an HTML fragment: tags gone, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(strip_tags(fragment)).split())


def recap_of(page: str) -> str:
    match = re.search(
        r'<section class="card recap[^"]*" id="recap".*?</section>\s*</div>\s*</section>',
        page,
        re.S,
    )
    assert match, "no recap on the page"
    return match.group(0)


def risk_lines(page: str) -> list[str]:
    return [
        text(item) for item in re.findall(r'<li class="recap-risk[^"]*">(.*?)</li>', page, re.S)
    ]


def expected_risk_lines(session: ConsentSession) -> list[str]:
    """From the pinned version: each risk's name and figure as the pack words it; risks of one
    `group` (one figure in the source) on one line, the figure once."""
    groups = {r["key"]: r.get("group", "") for r in session.procedure_version.content["risks"]}
    lines: list[tuple[str, list[str], Risk]] = []
    for risk in Risk.objects.filter(version=session.procedure_version).order_by("position"):
        group = groups.get(risk.key, "")
        if group and lines and lines[-1][0] == group:
            lines[-1][1].append(risk.name)
            continue
        lines.append((group, [risk.name], risk))
    expected = []
    for group, names, risk in lines:
        joined = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        if group:
            note = " (one figure for all of these)"
        elif risk.max_per_100 is None:
            note = " (no number is given)"
        else:
            note = ""
        expected.append(f"{joined}: {risk.frequency_text}{note}")
    return expected


def take_answers_away(session: ConsentSession, *texts: str) -> None:
    """Behind the application's back: the written answers go (a rewritten row)."""
    PatientQuestion.objects.filter(session=session, text__in=texts).update(
        answer="", answered_by=None, answered_at=None
    )


def add_question_behind_the_back(session: ConsentSession, text: str) -> None:
    import uuid

    PatientQuestion.objects.create(session=session, text=text, form_id=uuid.uuid4())


def consent_post(session: ConsentSession, statements=("0", "1", "2")) -> dict:
    return {"statements": list(statements), "typed_name": session.patient_name, "signature": ""}


def assert_nothing_signed(session: ConsentSession) -> None:
    session.refresh_from_db()
    assert session.status == Status.ATTESTED
    assert not Signature.objects.filter(session=session).exclude(kind=Kind.ATTESTATION).exists()
    assert not AuditEvent.objects.filter(
        session=session, action__in=["signature.patient_consent", "session.signed"]
    ).exists()


# The recap


def test_the_decision_page_opens_with_the_recap_in_order(session, patient):
    page = page_of(patient.get(DECISION))
    order = [
        'id="recap-title"',
        'id="recap-purpose"',
        'id="recap-benefits"',
        'id="recap-risks"',
        'id="recap-alternatives"',
        'id="recap-questions"',
        # Only then the doctor's signature, the choice, the statements and the name.
        'id="attestation-title"',
        'id="path-agree"',
        'name="statements"',
        'name="typed_name"',
    ]
    places = [page.find(marker) for marker in order]
    assert -1 not in places, [m for m, p in zip(order, places, strict=True) if p == -1]
    assert places == sorted(places)
    # Nothing to sign or tick comes before the recap.
    assert "<form" not in page[: page.find('id="recap"')].split("<main", 1)[-1]


def part_of(page: str, part: str) -> str:
    return re.search(rf'id="{part}".*?</section>', recap_of(page), re.S).group(0)


def test_purpose_and_benefit_are_the_packs_critical_facts(session, patient):
    """The shipped pack declares [[facts]]: the recap says its critical purpose and benefit
    facts, in the pack's order and words."""
    page = page_of(patient.get(DECISION))
    facts = session.procedure_version.content["facts"]
    for kind, part in (("purpose", "recap-purpose"), ("benefit", "recap-benefits")):
        wanted = [f["text"] for f in facts if f["kind"] == kind and f.get("critical", True)]
        assert wanted
        found = [text(p) for p in re.findall(r"<p>(.*?)</p>", part_of(page, part), re.S)]
        assert found == wanted
    assert decision_recap_get(session=session).source == "facts"


def version_without_facts():
    """The shipped pack as an older pack: no [[facts]], no `tests` (valid schema 1)."""
    import tomllib

    from consent.content.importing import pack_import
    from consent.content.packs import parse_pack
    from tests.content.test_packs import to_toml
    from tests.factories import MITRACLIP_PATH

    pack = tomllib.loads(MITRACLIP_PATH.read_text(encoding="utf-8"))
    del pack["facts"]
    for question in pack["questions"]:
        question.pop("tests", None)
    pack["version"] = "2026.2-no-facts"
    parsed = parse_pack(to_toml(pack).encode(), source_name="no-facts.toml")
    return pack_import(packs=[parsed])[0].version


def test_without_facts_purpose_and_benefit_are_the_packs_sections():
    """A pack without [[facts]] has no short purpose or benefit: the recap shows its sections
    of kind purpose and benefits, as the patient read them; the risks stay one line a group."""
    version = version_without_facts()
    session = attested_session(read_through=True, version=version)
    page = page_of(patient_client(session).get(DECISION))
    for kind, part in (("purpose", "recap-purpose"), ("benefits", "recap-benefits")):
        sections = version.sections.filter(kind=kind)
        assert sections
        shown = text(part_of(page, part))
        for section in sections:
            assert text(section.body_html) in shown
    assert decision_recap_get(session=session).source == "sections"
    assert risk_lines(recap_of(page)) == expected_risk_lines(session)


def test_each_risk_figure_is_the_pack_text_verbatim(session, patient):
    recap = recap_of(page_of(patient.get(DECISION)))
    assert risk_lines(recap) == expected_risk_lines(session)
    # The shipped pack, read as a patient: the three risks the source gives one figure for on
    # one line, the figure said once (nothing to add up to "3 in 100").
    assert risk_lines(recap) == [
        "Bleeding: the most common problem with this procedure (no number is given)",
        "Fluid around the heart (pericardial effusion), Stroke and Need for emergency surgery: "
        "fewer than 1 in 100 people (one figure for all of these)",
        "The clip coming completely loose (device detachment): extremely rare; practically "
        "never seen (no number is given)",
    ]
    assert text(recap).count("1 in 100") == 1
    # "fewer than 1 in 100" is never rounded to "1 in 100".
    for line in risk_lines(recap):
        if "1 in 100" in line:
            assert "fewer than 1 in 100 people" in line


def test_the_alternatives_and_saying_no_are_in_the_recap(session, patient):
    block = text(
        re.search(
            r'id="recap-alternatives".*?</section>', page_of(patient.get(DECISION)), re.S
        ).group(0)
    )
    for alternative in session.procedure_version.alternatives.all():
        assert f"{alternative.name}. {alternative.description}" in block
    assert "Saying no. You can always say no. Your care team will still care for you." in block


def test_the_doctors_written_answer_is_shown_with_who_answered(session, patient):
    block = text(
        re.search(r'id="recap-questions".*?</section>', page_of(patient.get(DECISION)), re.S).group(
            0
        )
    )
    assert f"You asked: {PATIENT_QUESTION}" in block
    assert f"Alex Martin answered: {ANSWER}" in block
    assert "Not answered yet" not in block


def test_without_questions_the_recap_says_so():
    session = attested_session()
    block = text(
        re.search(
            r'id="recap-questions".*?</section>',
            page_of(patient_client(session).get(DECISION)),
            re.S,
        ).group(0)
    )
    assert (
        "You did not write any questions. If you have one now, ask your doctor or nurse." in block
    )


def test_a_question_cannot_be_written_from_the_decision_page(session, patient):
    """After the attestation a new question is asked in person: the page offers no form, and
    one posted anyway is refused, so the recap's answers are all there are."""
    page = page_of(patient.get(DECISION))
    assert "/patient/ask/" not in page
    response = patient.post(
        "/patient/ask/",
        {"text": "One more?", "form_id": "6f1c1d1e-0000-4000-8000-000000000001"},
        follow=True,
    )
    assert "ask this one in person" in page_of(response)
    assert list(PatientQuestion.objects.filter(session=session).values_list("text", flat=True)) == [
        PATIENT_QUESTION
    ]


# "My questions have been answered" and an open question


def test_with_every_question_answered_the_statement_can_be_ticked_and_signed(session, patient):
    page = page_of(patient.get(DECISION))
    assert "disabled" not in re.search(r'<input[^>]*id="id_statements_1"[^>]*>', page).group(0)
    assert "statement-blocked" not in page
    response = patient.post(DECISION, consent_post(session))
    assert response.status_code == 302
    assert Signature.objects.filter(session=session, kind=Kind.PATIENT_CONSENT).exists()


def test_an_open_question_disables_the_statement_and_says_which(session, patient):
    take_answers_away(session, PATIENT_QUESTION)
    page = page_of(patient.get(DECISION))
    checkbox = re.search(r'<input[^>]*id="id_statements_1"[^>]*>', page).group(0)
    assert "disabled" in checkbox
    assert 'aria-describedby="statement-questions-open"' in checkbox
    note = text(
        re.search(r'<p[^>]*id="statement-questions-open"[^>]*>.*?</p>', page, re.S).group(0)
    )
    assert note == (
        f"You cannot tick this yet. Your doctor has not answered your question "
        f"“{PATIENT_QUESTION}”."
    )
    # The other statements can still be ticked; the recap marks the question as open.
    for other in ("id_statements_0", "id_statements_2"):
        assert "disabled" not in re.search(rf'<input[^>]*id="{other}"[^>]*>', page).group(0)
    block = text(re.search(r'id="recap-questions".*?</section>', page, re.S).group(0))
    assert f"You asked: {PATIENT_QUESTION} Not answered yet. Ask your doctor or nurse now." in block


def test_ticking_it_anyway_is_refused_naming_the_question_and_nothing_is_stored(session, patient):
    take_answers_away(session, PATIENT_QUESTION)
    response = patient.post(DECISION, consent_post(session))
    assert response.status_code == 400
    page = page_of(response)
    message = (
        f"Your doctor has not answered this question yet: “{PATIENT_QUESTION}”. So you cannot "
        f"tick “{QUESTIONS_STATEMENT}” yet. Ask your doctor or nurse about it now."
    )
    assert message in text(page)
    # In the list of what to fix, and beside the statements.
    assert text(re.search(r'id="form-errors".*?</div>', page, re.S).group(0)).count(message) == 1
    assert message in text(re.search(r'id="statements-error"[^>]*>.*?</p>', page, re.S).group(0))
    # What was typed is kept; nothing was signed.
    assert f'value="{session.patient_name}"' in page
    assert_nothing_signed(session)


def test_two_open_questions_are_both_named(session, patient):
    add_question_behind_the_back(session, SECOND_QUESTION)
    take_answers_away(session, PATIENT_QUESTION)
    response = patient.post(DECISION, consent_post(session, statements=("0", "2")))
    assert response.status_code == 400
    page = text(page_of(response))
    both = f"“{PATIENT_QUESTION}”, “{SECOND_QUESTION}”"
    assert f"Your doctor has not answered these questions yet: {both}." in page
    assert f"your questions {both}." in page
    assert_nothing_signed(session)


def test_the_service_refuses_too_when_the_answer_goes_after_the_page_was_read(session, patient):
    """The form saw every question answered; the answer is taken away before the signature is
    stored: the service, under the session's lock, refuses and names the question."""
    take_answers_away(session, PATIENT_QUESTION)
    with pytest.raises(
        signature_services.QuestionsUnanswered, match="has not answered this question yet"
    ):
        signature_services.patient_consent_sign(
            session=session,
            confirmed_statements=3,
            typed_name=session.patient_name,
            image=None,
            origin=ORIGIN,
        )
    assert_nothing_signed(session)


def test_a_late_refusal_from_the_service_lands_beside_the_statements(session, patient, monkeypatch):
    """The page was read with every answer there; the row changes between the form's check and
    the service's: the refusal goes beside the statements, nothing is stored."""
    import consent.views.patient.decision as decision_view

    real = decision_view.decision_recap_get

    def read_then_rewrite(*, session):
        recap = real(session=session)
        take_answers_away(session, PATIENT_QUESTION)
        return recap

    monkeypatch.setattr(decision_view, "decision_recap_get", read_then_rewrite)
    response = patient.post(DECISION, consent_post(session))
    assert response.status_code == 400
    assert "has not answered this question yet" in text(
        re.search(r'id="statements-error"[^>]*>.*?</p>', page_of(response), re.S).group(0)
    )
    assert_nothing_signed(session)


def test_declining_stays_open_with_an_open_question(session, patient):
    """Saying no is always allowed: an open question does not stop a refusal."""
    take_answers_away(session, PATIENT_QUESTION)
    response = patient.post(
        DECLINE, {"typed_name": session.patient_name, "reason": "", "signature": ""}
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == Status.DECLINED


def test_the_words_the_recap_adds_read_at_grade_6_or_below(session, patient):
    """Flesch-Kincaid <= 6 for what the page itself writes (the pack's text has its own check)."""
    from consent.content.readability import measure_sentences, split_sentences
    from consent.forms.patient import ConsentForm

    take_answers_away(session, PATIENT_QUESTION)
    page = page_of(patient.get(DECISION))
    recap = recap_of(page)
    ours = [
        text(part)
        for part in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", recap, re.S)
        + re.findall(r'<p class="mb-0[^"]*recap-unanswered">(.*?)</p>', recap, re.S)
    ]
    ours += [
        "Here is what matters most, in short. Read it again before you choose.",
        "You can always say no. Your care team will still care for you.",
        "You did not write any questions. If you have one now, ask your doctor or nurse.",
        ConsentForm(unanswered=[PATIENT_QUESTION]).unanswered_note,
        signature_services.questions_unanswered_message([PATIENT_QUESTION, SECOND_QUESTION]),
    ]
    for sentence in ours:
        assert measure_sentences(split_sentences([sentence])).fk <= 6, sentence
