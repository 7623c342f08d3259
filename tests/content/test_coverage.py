"""Coverage of what matters (issue 11, item 2): each pack declares its decision-critical facts,
each question names the facts it tests, and import refuses a pack that leaves a critical fact
untested or names an unknown one; risk groups and figures (item 3). The contract is
docs/content-packs.md, "Decision-critical facts" and "Risks and the picture"."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from consent.content.packs import coverage_lines, fact_coverage, risk_figure
from consent.content.warnings import pack_warnings
from consent.models import ProcedureVersion
from tests.content.test_packs import NAME, error, errors, parse, question, to_toml, valid_pack
from tests.factories import MITRACLIP_PATH

FACTS = [
    {"key": "purpose", "kind": "purpose", "text": "MitraClip makes a leak smaller."},
    {"key": "benefit", "kind": "benefit", "text": "It eases shortness of breath."},
    {"key": "bleeding", "kind": "risk", "risks": ["bleeding"], "text": "Bleeding is common."},
    {"key": "stroke", "kind": "risk", "risks": ["stroke"], "text": "Stroke: fewer than 1 in 100."},
    {"key": "surgery", "kind": "alternative", "text": "Heart surgery can repair the valve."},
    {"key": "say-no", "kind": "saying-no", "text": "You may say no."},
    {"key": "stay", "kind": "after", "text": "You stay one or two days."},
]


def covered_pack():
    """The valid pack with facts, and a question testing each one."""
    pack = valid_pack()
    pack["facts"] = [dict(fact) for fact in FACTS]
    question(pack, "purpose")["tests"] = ["purpose"]
    question(pack, "risk-common")["tests"] = ["bleeding"]
    question(pack, "risks-rare")["tests"] = ["stroke"]
    for key, fact, prompt, correct in (
        ("benefit-q", "benefit", "MitraClip aims to ease shortness of breath.", True),
        ("surgery-q", "surgery", "Heart surgery can repair the valve.", True),
        ("say-no-q", "say-no", "You must have MitraClip.", False),
        ("stay-q", "stay", "The stay is usually one or two days.", True),
    ):
        pack["questions"].append(
            {
                "key": key,
                "section": "purpose",
                "kind": "true-false",
                "prompt": prompt,
                "correct": correct,
                "explanation": "See the section.",
                "tests": [fact],
            }
        )
    return pack


def write(tmp_path, pack):
    path = tmp_path / NAME
    path.write_text(to_toml(pack), encoding="utf-8")
    return path


def test_a_pack_with_every_critical_fact_tested_is_valid_and_keeps_facts_and_tests():
    content = parse(covered_pack()).content
    assert [fact["key"] for fact in content["facts"]] == [fact["key"] for fact in FACTS]
    assert question(content, "purpose")["tests"] == ["purpose"]
    coverage = {fact.key: fact.questions for fact in fact_coverage(content)}
    assert coverage["purpose"] == ("purpose",)
    assert coverage["say-no"] == ("say-no-q",)


def test_a_critical_fact_no_question_tests_is_refused_naming_the_fact_and_the_file():
    pack = covered_pack()
    del question(pack, "say-no-q")["tests"]
    assert error(pack) == (
        f'{NAME}: facts[5] (key "say-no"): no question tests this decision-critical fact; '
        'add a question with tests = ["say-no"]'
    )


def test_a_question_naming_an_unknown_fact_is_refused_with_a_hint():
    pack = covered_pack()
    question(pack, "purpose")["tests"] = ["purpose", "benefits"]
    assert error(pack) == (
        f'{NAME}: questions[0] (key "purpose"): field "tests" names "benefits", no fact of '
        'this pack (did you mean "benefit"?)'
    )


def test_tests_without_facts_is_refused():
    pack = valid_pack()
    question(pack, "purpose")["tests"] = ["purpose"]
    assert error(pack) == (
        f'{NAME}: questions[0] (key "purpose"): field "tests" names facts, but the pack '
        "declares no [[facts]]"
    )


@pytest.mark.parametrize("kind", ["purpose", "benefit", "alternative", "saying-no", "after"])
def test_each_critical_kind_is_required_once_facts_are_declared(kind):
    pack = covered_pack()
    removed = {fact["key"] for fact in pack["facts"] if fact["kind"] == kind}
    pack["facts"] = [fact for fact in pack["facts"] if fact["kind"] != kind]
    for entry in pack["questions"]:
        if "tests" in entry:
            fallback = "say-no" if kind == "after" else "stay"
            entry["tests"] = [key for key in entry["tests"] if key not in removed] or [fallback]
    assert error(pack) == (
        f'{NAME}: [[facts]] needs at least one decision-critical fact of kind "{kind}"'
    )


def test_every_risk_must_be_stated_by_a_risk_fact():
    pack = covered_pack()
    pack["facts"][3]["risks"] = ["bleeding"]
    assert error(pack) == (
        f'{NAME}: risks[1] (key "stroke"): no [[facts]] entry of kind "risk" states this risk '
        '(name its key in "risks")'
    )


def test_a_risk_fact_naming_an_unknown_risk_and_a_bad_fact_are_refused():
    pack = covered_pack()
    pack["facts"][3]["risks"] = ["stroke", "strok"]
    pack["facts"][0]["kind"] = "goal"
    pack["facts"][1]["risks"] = ["bleeding"]
    pack["facts"][2]["critical"] = "yes"
    messages = errors(pack)
    assert (
        f'{NAME}: facts[3] (key "stroke"): field "risks" names "strok", no risk of this pack'
        in (messages)
    )
    assert any('facts[0] (key "purpose"): field "kind" "goal" is not one of' in m for m in messages)
    assert (
        f'{NAME}: facts[1] (key "benefit"): field "risks" is not allowed here: only a "risk" '
        "fact names risks"
    ) in messages
    assert f'{NAME}: facts[2] (key "bleeding"): field "critical" must be true or false' in messages


def test_a_fact_marked_not_critical_needs_no_question():
    pack = covered_pack()
    pack["facts"].append(
        {"key": "fasting", "kind": "other", "text": "Fast from midnight.", "critical": False}
    )
    assert [line.split()[0:2] for line in coverage_lines(parse(pack).content)[-1:]] == [
        ["fasting", "0"]
    ]


# Backward compatible: a pack without facts (schema 1, as before) imports with a warning; strict
# refuses it.


@pytest.mark.django_db
def test_an_older_pack_without_facts_still_imports_with_a_warning(tmp_path):
    pack = valid_pack()
    assert parse(pack).content.get("facts") is None
    assert pack_warnings(parse(pack))[0].startswith(f"{NAME}: warning [no-facts]: ")
    stderr, stdout = StringIO(), StringIO()
    call_command("import_pack", str(write(tmp_path, pack)), stdout=stdout, stderr=stderr)
    assert "warning [no-facts]" in stderr.getvalue()
    assert "coverage: the pack declares no [[facts]]" in stdout.getvalue()


@pytest.mark.django_db
def test_strict_refuses_a_pack_without_facts_and_imports_nothing(tmp_path):
    stderr = StringIO()
    with pytest.raises(CommandError):
        call_command("import_pack", "--strict", str(write(tmp_path, valid_pack())), stderr=stderr)
    assert "warning [no-facts]" in stderr.getvalue()
    assert not ProcedureVersion.objects.exists()


@pytest.mark.django_db
def test_import_refuses_an_untested_fact_and_imports_nothing(tmp_path):
    pack = covered_pack()
    del question(pack, "benefit-q")["tests"]
    stderr = StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_pack", str(write(tmp_path, pack)), stderr=stderr)
    assert 'facts[1] (key "benefit"): no question tests this decision-critical fact' in (
        stderr.getvalue()
    )
    assert not ProcedureVersion.objects.exists()


# The shipped pack


def test_the_mitraclip_pack_tests_every_critical_fact_and_prints_its_coverage(db):
    stdout = StringIO()
    call_command("import_pack", "--strict", str(MITRACLIP_PATH), stdout=stdout)
    output = stdout.getvalue()
    content = ProcedureVersion.objects.get().content
    coverage = {fact.key: fact for fact in fact_coverage(content)}
    critical = [fact for fact in coverage.values() if fact.critical]
    assert {fact.kind for fact in critical} == {
        "purpose",
        "benefit",
        "risk",
        "alternative",
        "saying-no",
        "after",
    }
    assert all(fact.questions for fact in critical)
    # The items the issue found missing: benefits, the right to say no, the alternatives.
    assert coverage["benefit"].questions == ("benefit",)
    assert coverage["saying-no"].questions == ("saying-no",)
    assert coverage["alternative-surgery"].questions == ("alternatives",)
    assert coverage["hospital-stay"].questions == ("hospital-stay",)
    assert coverage["follow-up"].questions == ("follow-up",)
    # The event practically never seen is stated, not examined.
    assert coverage["risk-clip-loose"].critical is False
    assert "device-detachment" not in {q["key"] for q in content["questions"]}
    assert "  coverage (questions per fact):" in output
    assert "    saying-no            1  (saying-no) saying-no" in output


def test_the_mitraclip_pack_has_no_warnings_left():
    assert pack_warnings(parse(MITRACLIP_PATH.read_bytes())) == []


def test_the_mitraclip_numeracy_items_use_natural_frequencies_with_close_wrong_answers():
    content = parse(MITRACLIP_PATH.read_bytes()).content
    item = question(content, "risk-stroke-per-100")
    for wording in (item, *item["variants"]):
        right = wording["choices"][wording["correct"][0]]
        assert right == "Fewer than 1 in 100"
        wrong = [c for i, c in enumerate(wording["choices"]) if i not in wording["correct"]]
        assert sorted(wrong) == ["About 10 in 100", "About 3 in 100", "About 5 in 100"]


def test_the_mitraclip_true_false_items_make_one_claim_and_teach_the_right_to_say_no():
    content = parse(MITRACLIP_PATH.read_bytes()).content
    saying_no = question(content, "saying-no")
    assert saying_no["correct"] is False
    assert saying_no["fact"] == "The choice is yours, made freely. You may say no to MitraClip."
    assert question(content, "bathing")["prompt"] == (
        "For the first three to four days at home, you should not take a bath."
    )


# Risk figures and groups


def test_the_less_common_risks_are_one_group_with_one_figure():
    content = parse(MITRACLIP_PATH.read_bytes()).content
    grouped = [risk for risk in content["risks"] if risk.get("group") == "less-common"]
    assert [risk["key"] for risk in grouped] == [
        "pericardial-effusion",
        "stroke",
        "emergency-surgery",
    ]
    assert {(r["max_per_100"], r["frequency_text"], r["figure"]) for r in grouped} == {
        (1, "fewer than 1 in 100 people", "fewer-than")
    }


def test_a_group_must_share_its_figure_and_have_two_risks():
    pack = valid_pack()
    pack["risks"].append(
        {
            "key": "effusion",
            "name": "Fluid around the heart",
            "description": "Fluid collects around the heart.",
            "frequency": "uncommon",
            "frequency_text": "about 2 in 100 people",
            "max_per_100": 2,
            "group": "rare",
        }
    )
    pack["risks"][1]["group"] = "rare"
    messages = errors(pack)
    assert messages == [
        f'{NAME}: risks[2] (key "effusion"): field "max_per_100" differs from risks[1] in group '
        '"rare"; the risks of a group share one figure, said one way',
        f'{NAME}: risks[2] (key "effusion"): field "frequency_text" differs from risks[1] in '
        'group "rare"; the risks of a group share one figure, said one way',
    ]
    alone = valid_pack()
    alone["risks"][1]["group"] = "rare"
    assert error(alone) == (
        f'{NAME}: risks[1] (key "stroke"): group "rare" has only this risk; a group is two '
        "risks or more that the source gives one figure for"
    )


def test_a_figure_needs_a_number_and_a_known_reading():
    pack = valid_pack()
    pack["risks"][0]["figure"] = "about"
    pack["risks"][1]["figure"] = "roughly"
    assert errors(pack) == [
        f'{NAME}: risks[0] (key "bleeding"): field "figure" says how "max_per_100" reads; '
        "give both",
        f'{NAME}: risks[1] (key "stroke"): field "figure" "roughly" is not one of: '
        "fewer-than, about, up-to",
    ]


def test_without_figure_the_wording_decides_how_a_number_reads():
    assert risk_figure(1, "fewer than 1 in 100 people") == "fewer-than"
    assert risk_figure(1, "less than 1 in 100 cases") == "fewer-than"
    assert risk_figure(5, "about 5 in 100 people") == "up-to"
    assert risk_figure(5, "fewer than 1 in 100 people", "about") == "about"
    assert risk_figure(None, "the most common problem") == ""
