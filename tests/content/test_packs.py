"""Content packs: every rule of the format contract, identity, Markdown and the shipped pack.

No database here. Each test starts from a small valid pack (``valid_pack``), breaks one rule,
and asserts the exact message an author reads: file, entry and field.
The contract is docs/content-packs.md.
"""

import copy
import hashlib
import json
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest

from consent.content.markdown import markdown_to_html
from consent.content.packs import (
    QUESTION_KINDS,
    RISK_FREQUENCIES,
    SECTION_KINDS,
    Pack,
    PackError,
    canonical_bytes,
    load_pack,
    parse_pack,
)

NAME = "mitraclip.en.toml"
BASE_DIR = Path(__file__).resolve().parents[2]
MITRACLIP_PATH = BASE_DIR / "content" / "mitraclip.en.toml"


# A small valid pack, and a TOML writer for it (the standard library only reads TOML).


def valid_pack() -> dict[str, Any]:
    """Four sections (one of each required kind), two risks, one alternative, five questions.

    Question 3 is "risk-common", a single-choice question with three choices, as in the
    contract's example message.
    """
    return copy.deepcopy(
        {
            "schema": 1,
            "slug": "mitraclip",
            "language": "en",
            "version": "2026.1",
            "title": "MitraClip: repairing a leaking mitral valve",
            "summary": "A small clip brings the two flaps of the mitral valve together.",
            "sections": [
                {
                    "key": "purpose",
                    "kind": "purpose",
                    "title": "Why this is offered",
                    "body": "Your mitral valve does not close well.",
                },
                {
                    "key": "benefits",
                    "kind": "benefits",
                    "title": "What you can expect",
                    "body": "Less **shortness of breath**.",
                },
                {
                    "key": "risks",
                    "kind": "risks",
                    "title": "What are the risks?",
                    "body": "- Bleeding\n- Stroke\n",
                },
                {
                    "key": "treatment-options",
                    "kind": "alternatives",
                    "title": "Other choices",
                    "body": "Heart surgery can repair the valve.",
                },
            ],
            "risks": [
                {
                    "key": "bleeding",
                    "name": "Bleeding",
                    "description": "Bleeding where the catheter goes in.",
                    "frequency": "most-common",
                    "frequency_text": "the most common problem",
                },
                {
                    "key": "stroke",
                    "name": "Stroke",
                    "description": "Sudden harm to part of the brain.",
                    "frequency": "uncommon",
                    "frequency_text": "fewer than 1 in 100 people",
                    "max_per_100": 1,
                },
            ],
            "alternatives": [
                {
                    "key": "surgery",
                    "name": "Heart surgery",
                    "description": "A surgeon repairs or replaces the valve.",
                },
            ],
            "questions": [
                {
                    "key": "purpose",
                    "section": "purpose",
                    "kind": "single",
                    "prompt": "What is MitraClip for?",
                    "choices": [
                        "To make a leak smaller",
                        "To open a blood vessel",
                        "To fix a fast heartbeat",
                    ],
                    "correct": [0],
                    "explanation": "MitraClip makes a mitral valve leak smaller.",
                },
                {
                    "key": "own-words",
                    "section": "purpose",
                    "kind": "free-text",
                    "prompt": "In your own words, why is MitraClip offered to you?",
                    "explanation": "It makes the leak smaller without open-heart surgery.",
                    "key_points": ["The valve leaks.", "The clip makes the leak smaller."],
                },
                {
                    "key": "clip-loose",
                    "section": "risks",
                    "kind": "true-false",
                    "prompt": "It is common for the clip to come loose.",
                    "correct": False,
                    "explanation": "This is false. It is extremely rare.",
                },
                {
                    "key": "risk-common",
                    "section": "risks",
                    "kind": "single",
                    "prompt": "What is the most common risk?",
                    "choices": ["Bleeding", "Stroke", "The clip coming loose"],
                    "correct": [0],
                    "explanation": "Bleeding is the most common problem.",
                },
                {
                    "key": "risks-rare",
                    "section": "risks",
                    "kind": "multiple",
                    "prompt": "Which happen to fewer than 1 in 100 people?",
                    "choices": ["Stroke", "Fluid around the heart", "Bleeding"],
                    "correct": [0, 1],
                    "explanation": "Stroke and fluid around the heart.",
                },
            ],
        }
    )


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "nan" if isinstance(value, float) and math.isnan(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def _is_array_of_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def to_toml(pack: dict[str, Any]) -> str:
    """Write a pack as an author would: plain values first, then [[arrays]] of tables."""
    lines = [
        f"{key} = {toml_value(value)}"
        for key, value in pack.items()
        if not _is_array_of_tables(value) and not isinstance(value, dict)
    ]
    for key, value in pack.items():
        if isinstance(value, dict):
            lines += ["", f"[{key}]"] + [f"{k} = {toml_value(v)}" for k, v in value.items()]
        elif _is_array_of_tables(value):
            for entry in value:
                lines += ["", f"[[{key}]]"] + [f"{k} = {toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def parse(pack: dict[str, Any] | str | bytes) -> Pack:
    if isinstance(pack, dict):
        pack = to_toml(pack)
    if isinstance(pack, str):
        pack = pack.encode("utf-8")
    return parse_pack(pack, source_name=NAME)


def errors(pack: dict[str, Any] | str | bytes) -> list[str]:
    with pytest.raises(PackError) as excinfo:
        parse(pack)
    assert str(excinfo.value) == "\n".join(excinfo.value.messages)
    return excinfo.value.messages


def error(pack: dict[str, Any] | str | bytes) -> str:
    """The one message for a pack that breaks exactly one rule."""
    messages = errors(pack)
    assert len(messages) == 1, messages
    return messages[0]


def question(pack: dict[str, Any], key: str) -> dict[str, Any]:
    return next(q for q in pack["questions"] if q["key"] == key)


# The starting point


def test_the_small_valid_pack_is_accepted_as_written():
    pack = parse(valid_pack())

    assert pack.content == valid_pack()
    assert pack.source_name == NAME
    assert pack.identity == ("mitraclip", "en", "2026.1")


def test_the_toml_writer_round_trips_the_valid_pack():
    assert tomllib.loads(to_toml(valid_pack())) == valid_pack()


def test_load_pack_reads_a_file_and_names_it_by_its_file_name(tmp_path):
    path = tmp_path / NAME
    path.write_text(to_toml(valid_pack()), encoding="utf-8")

    pack = load_pack(path)

    assert pack.source_name == NAME
    assert pack.content == valid_pack()


def test_a_missing_file_is_reported_by_name():
    with pytest.raises(PackError) as excinfo:
        load_pack(Path("/nonexistent/nope.en.toml"))

    assert excinfo.value.messages == ["nope.en.toml: cannot be read (No such file or directory)"]


# Top level: schema


def test_schema_other_than_1_is_refused():
    pack = valid_pack()
    pack["schema"] = 2

    assert error(pack) == f'{NAME}: field "schema" is 2; this version reads schema 1'


def test_schema_as_a_boolean_is_refused_although_python_counts_true_as_1():
    pack = valid_pack()
    pack["schema"] = True

    assert error(pack) == f'{NAME}: field "schema" must be an integer, not true/false'


def test_schema_as_text_is_refused():
    pack = valid_pack()
    pack["schema"] = "1"

    assert error(pack) == f'{NAME}: field "schema" must be an integer, not text'


def test_schema_as_a_decimal_number_is_refused():
    pack = valid_pack()
    pack["schema"] = 1.0

    assert error(pack) == f'{NAME}: field "schema" must be an integer, not a decimal number'


# Top level: slug and language


@pytest.mark.parametrize("slug", ["mitraclip", "mitra-clip", "tavi-2", "0"])
def test_slug_of_lowercase_letters_digits_and_hyphens_is_accepted(slug):
    pack = valid_pack()
    pack["slug"] = slug

    assert parse(pack).identity[0] == slug


@pytest.mark.parametrize("slug", ["MitraClip", "mitra clip", "mitra_clip", "mitraclip!", "clip/2"])
def test_slug_with_other_characters_is_refused(slug):
    pack = valid_pack()
    pack["slug"] = slug

    assert error(pack) == f'{NAME}: field "slug" "{slug}" may only use a-z, 0-9 and "-"'


def test_empty_slug_is_reported_once_as_empty():
    pack = valid_pack()
    pack["slug"] = ""

    assert error(pack) == f'{NAME}: field "slug" is empty'


@pytest.mark.parametrize(
    "language", ["en", "fr", "gsw", "en-GB", "pt-BR", "zh-Hant-TW", "de-CH-1901"]
)
def test_bcp47_language_tag_is_accepted(language):
    pack = valid_pack()
    pack["language"] = language

    assert parse(pack).identity[1] == language


@pytest.mark.parametrize("language", ["english", "en_GB", "e", "en-", "12", "en-GB-toolongsubtag"])
def test_language_that_is_not_a_bcp47_tag_is_refused(language):
    pack = valid_pack()
    pack["language"] = language

    assert error(pack) == f'{NAME}: field "language" "{language}" is not a BCP 47 tag such as "en"'


# Top level: required and optional fields


@pytest.mark.parametrize(
    "field",
    [
        "schema",
        "slug",
        "language",
        "version",
        "title",
        "summary",
        "sections",
        "risks",
        "alternatives",
        "questions",
    ],
)
def test_missing_top_level_field_is_refused(field):
    pack = valid_pack()
    del pack[field]

    assert error(pack) == f'{NAME}: missing required field "{field}"'


def test_reviewed_by_is_optional():
    assert "reviewed_by" not in parse(valid_pack()).content


def test_reviewed_by_is_kept_when_given():
    pack = valid_pack()
    pack["reviewed_by"] = "Dr A. Martin, cardiology"
    pack["reviewed_on"] = "2026-03-01"

    assert parse(pack).content["reviewed_by"] == "Dr A. Martin, cardiology"


# Unknown fields, at every level, with a hint for typos


def test_unknown_top_level_field_is_refused_with_a_hint():
    pack = valid_pack()
    pack["titel"] = "MitraClip"

    assert error(pack) == f'{NAME}: unknown field "titel" (did you mean "title"?)'


def test_unknown_top_level_field_without_a_close_match_has_no_hint():
    pack = valid_pack()
    pack["author"] = "Someone"

    assert error(pack) == f'{NAME}: unknown field "author"'


def test_unknown_top_level_table_is_refused():
    pack = valid_pack()
    pack["metadata"] = {"owner": "cardiology"}

    assert error(pack) == f'{NAME}: unknown field "metadata"'


def test_singular_section_array_gets_a_hint_to_sections():
    pack = valid_pack()
    pack["section"] = pack.pop("sections")

    assert errors(pack) == [
        f'{NAME}: unknown field "section" (did you mean "sections"?)',
        f'{NAME}: missing required field "sections"',
    ]


def test_unknown_field_in_a_section_is_refused_with_a_hint():
    pack = valid_pack()
    pack["sections"][1]["tilte"] = "What you can expect"

    assert error(pack) == (
        f'{NAME}: sections[1] (key "benefits"): unknown field "tilte" (did you mean "title"?)'
    )


def test_unknown_field_in_a_risk_is_refused_with_a_hint():
    pack = valid_pack()
    pack["risks"][0]["max_per100"] = 5

    assert error(pack) == (
        f'{NAME}: risks[0] (key "bleeding"): unknown field "max_per100" '
        '(did you mean "max_per_100"?)'
    )


def test_unknown_field_in_an_alternative_is_refused_with_a_hint():
    pack = valid_pack()
    pack["alternatives"][0]["descripton"] = "A surgeon repairs the valve."

    assert error(pack) == (
        f'{NAME}: alternatives[0] (key "surgery"): unknown field "descripton" '
        '(did you mean "description"?)'
    )


def test_typo_corect_in_a_question_is_refused_with_a_hint_and_correct_is_missing():
    pack = valid_pack()
    question(pack, "risk-common")["corect"] = question(pack, "risk-common").pop("correct")

    assert errors(pack) == [
        f'{NAME}: questions[3] (key "risk-common"): unknown field "corect" '
        '(did you mean "correct"?)',
        f'{NAME}: questions[3] (key "risk-common"): missing required field "correct" '
        "(a list of choice indexes)",
    ]


def test_entry_without_a_usable_key_is_named_by_position_only():
    pack = valid_pack()
    del pack["alternatives"][0]["key"]

    assert error(pack) == f'{NAME}: alternatives[0]: missing required field "key"'


# Sections


def test_pack_without_sections_is_refused():
    pack = valid_pack()
    pack["sections"] = []

    assert error(pack) == f"{NAME}: needs at least 1 [[sections]] entry, found 0"


def test_a_single_sections_table_instead_of_an_array_of_tables_is_refused():
    pack = valid_pack()
    pack["sections"] = pack["sections"][0]  # written as [sections], not [[sections]]

    assert "\n[sections]\n" in to_toml(pack)
    assert error(pack) == (
        f'{NAME}: field "sections" is a single table; write each entry as [[sections]], '
        "with double brackets"
    )


def test_sections_as_text_is_refused():
    pack = valid_pack()
    pack["sections"] = "purpose"

    assert error(pack) == f'{NAME}: field "sections" must be [[sections]] entries, not text'


def test_section_entry_that_is_not_a_table_is_refused():
    pack = valid_pack()
    pack["sections"].append("in-short")

    assert error(pack) == f"{NAME}: sections[4]: must be a table, not text"


@pytest.mark.parametrize("key", ["Benefits", "what you get", "benefits_1", "bénéfices"])
def test_section_key_outside_the_pattern_is_refused(key):
    pack = valid_pack()
    pack["sections"][1]["key"] = key

    assert error(pack) == (
        f'{NAME}: sections[1] (key "{key}"): field "key" "{key}" may only use a-z, 0-9 and "-"'
    )


def test_duplicate_section_key_is_refused():
    pack = valid_pack()
    pack["sections"][1]["key"] = "purpose"

    assert error(pack) == (
        f'{NAME}: sections[1] (key "purpose"): key "purpose" is already used by sections[0]'
    )


@pytest.mark.parametrize("kind", SECTION_KINDS)
def test_every_section_kind_of_the_contract_is_accepted(kind):
    pack = valid_pack()
    pack["sections"].append({"key": "extra", "kind": kind, "title": "More", "body": "Text."})

    assert parse(pack).content["sections"][4]["kind"] == kind


def test_unknown_section_kind_is_refused():
    pack = valid_pack()
    pack["sections"].append({"key": "intro", "kind": "intro", "title": "Hello", "body": "Hi."})

    assert error(pack) == (
        f'{NAME}: sections[4] (key "intro"): field "kind" "intro" is not one of: background, '
        "purpose, procedure, benefits, risks, alternatives, preparation, recovery, follow-up, other"
    )


@pytest.mark.parametrize("index,kind", [(0, "purpose"), (1, "benefits"), (3, "alternatives")])
def test_pack_missing_a_required_section_kind_is_refused(index, kind):
    pack = valid_pack()
    pack["sections"][index]["kind"] = "other"

    assert error(pack) == f'{NAME}: needs at least one section of kind "{kind}"'


def test_pack_without_a_risks_section_is_refused_and_has_no_question_about_risks():
    pack = valid_pack()
    pack["sections"][2]["kind"] = "other"

    assert errors(pack) == [
        f'{NAME}: needs at least one section of kind "risks"',
        f'{NAME}: needs at least one question whose "section" is a section of kind "risks"',
    ]


# Risks


@pytest.mark.parametrize("frequency", RISK_FREQUENCIES)
def test_every_risk_frequency_of_the_contract_is_accepted(frequency):
    pack = valid_pack()
    pack["risks"][0]["frequency"] = frequency

    assert parse(pack).content["risks"][0]["frequency"] == frequency


def test_unknown_risk_frequency_is_refused():
    pack = valid_pack()
    pack["risks"][0]["frequency"] = "often"

    assert error(pack) == (
        f'{NAME}: risks[0] (key "bleeding"): field "frequency" "often" is not one of: '
        "most-common, common, uncommon, rare, very-rare"
    )


def test_risk_without_max_per_100_is_described_in_words_only():
    content = parse(valid_pack()).content

    assert "max_per_100" not in content["risks"][0]


@pytest.mark.parametrize("value", [0.5, 1, 12.5, 100])
def test_max_per_100_above_0_and_at_most_100_is_accepted(value):
    pack = valid_pack()
    pack["risks"][1]["max_per_100"] = value

    assert parse(pack).content["risks"][1]["max_per_100"] == value


@pytest.mark.parametrize(
    "value,shown", [(0, "0"), (-1, "-1"), (101, "101"), (100.5, "100.5"), (math.nan, "nan")]
)
def test_max_per_100_out_of_range_is_refused(value, shown):
    pack = valid_pack()
    pack["risks"][1]["max_per_100"] = value

    assert error(pack) == (
        f'{NAME}: risks[1] (key "stroke"): field "max_per_100" is {shown}; '
        "it must be above 0 and at most 100"
    )


@pytest.mark.parametrize("value,type_name", [("1", "text"), (True, "true/false"), ([1], "a list")])
def test_max_per_100_that_is_not_a_number_is_refused(value, type_name):
    pack = valid_pack()
    pack["risks"][1]["max_per_100"] = value

    assert error(pack) == (
        f'{NAME}: risks[1] (key "stroke"): field "max_per_100" must be a number, not {type_name}'
    )


def test_duplicate_risk_key_is_refused():
    pack = valid_pack()
    pack["risks"][1]["key"] = "bleeding"

    assert error(pack) == (
        f'{NAME}: risks[1] (key "bleeding"): key "bleeding" is already used by risks[0]'
    )


def test_pack_without_risks_is_refused():
    pack = valid_pack()
    pack["risks"] = []

    assert error(pack) == f"{NAME}: needs at least 1 [[risks]] entry, found 0"


# Alternatives


def test_duplicate_alternative_key_is_refused():
    pack = valid_pack()
    pack["alternatives"].append(
        {"key": "surgery", "name": "Valve replacement", "description": "A new valve."}
    )

    assert error(pack) == (
        f'{NAME}: alternatives[1] (key "surgery"): key "surgery" is already used by alternatives[0]'
    )


def test_pack_without_alternatives_is_refused():
    pack = valid_pack()
    pack["alternatives"] = []

    assert error(pack) == f"{NAME}: needs at least 1 [[alternatives]] entry, found 0"


# Questions: the set


def test_pack_with_fewer_than_three_questions_is_refused():
    pack = valid_pack()
    pack["questions"] = pack["questions"][2:4]

    assert error(pack) == f"{NAME}: needs at least 3 [[questions]] entries, found 2"


def test_pack_without_a_question_about_risks_is_refused():
    pack = valid_pack()
    for entry in pack["questions"]:
        entry["section"] = "purpose"

    assert error(pack) == (
        f'{NAME}: needs at least one question whose "section" is a section of kind "risks"'
    )


def test_question_about_risks_counts_by_section_kind_not_key():
    pack = valid_pack()
    pack["sections"][2]["key"] = "what-can-go-wrong"
    for entry in pack["questions"]:
        if entry["section"] == "risks":
            entry["section"] = "what-can-go-wrong"

    assert parse(pack).content["questions"][3]["section"] == "what-can-go-wrong"


def test_question_naming_a_section_that_does_not_exist_is_refused():
    pack = valid_pack()
    pack["questions"][0]["section"] = "why"

    assert error(pack) == (
        f'{NAME}: questions[0] (key "purpose"): field "section" "why" names no section of this pack'
    )


def test_duplicate_question_key_is_refused():
    pack = valid_pack()
    pack["questions"][4]["key"] = "risk-common"

    assert error(pack) == (
        f'{NAME}: questions[4] (key "risk-common"): key "risk-common" is already used by '
        "questions[3]"
    )


@pytest.mark.parametrize("kind", QUESTION_KINDS)
def test_every_question_kind_of_the_contract_is_in_the_valid_pack(kind):
    assert kind in {entry["kind"] for entry in parse(valid_pack()).content["questions"]}


def test_unknown_question_kind_is_refused():
    pack = valid_pack()
    pack["questions"][0]["kind"] = "essay"

    assert error(pack) == (
        f'{NAME}: questions[0] (key "purpose"): field "kind" "essay" is not one of: '
        "single, multiple, true-false, free-text"
    )


# Questions: choices


@pytest.mark.parametrize("count", [2, 6])
def test_two_to_six_choices_are_accepted(count):
    pack = valid_pack()
    question(pack, "risk-common")["choices"] = [f"Choice {n}" for n in range(count)]

    assert len(parse(pack).content["questions"][3]["choices"]) == count


def test_a_single_choice_is_refused():
    pack = valid_pack()
    question(pack, "risk-common")["choices"] = ["Bleeding"]

    assert error(pack) == (
        f'{NAME}: questions[3] (key "risk-common"): field "choices" has 1 choice; it needs 2 to 6'
    )


def test_seven_choices_are_refused():
    pack = valid_pack()
    question(pack, "risk-common")["choices"] = [f"Choice {n}" for n in range(7)]

    assert error(pack) == (
        f'{NAME}: questions[3] (key "risk-common"): field "choices" has 7 choices; it needs 2 to 6'
    )


def test_missing_choices_for_a_choice_question_are_refused():
    pack = valid_pack()
    del question(pack, "risk-common")["choices"]

    assert error(pack) == (
        f'{NAME}: questions[3] (key "risk-common"): missing required field "choices" '
        'for a "single" question'
    )


def test_choices_given_as_text_instead_of_a_list_are_refused():
    pack = valid_pack()
    question(pack, "risk-common")["choices"] = "Bleeding, Stroke"

    assert error(pack) == (
        f'{NAME}: questions[3] (key "risk-common"): field "choices" must be a list of text, '
        "not text"
    )


@pytest.mark.parametrize("blank", ["", "   "])
def test_empty_choice_is_refused(blank):
    pack = valid_pack()
    question(pack, "risk-common")["choices"][1] = blank

    assert error(pack) == f'{NAME}: questions[3] (key "risk-common"): choices[1] is empty'


def test_choice_that_is_a_number_is_refused_and_not_mistaken_for_a_repeat():
    pack = valid_pack()
    question(pack, "risk-common")["choices"][1] = 5

    assert error(pack) == (
        f'{NAME}: questions[3] (key "risk-common"): choices[1] must be text, not a number'
    )


def test_repeated_choice_is_refused():
    pack = valid_pack()
    question(pack, "risk-common")["choices"][2] = "Bleeding"

    assert error(pack) == (
        f'{NAME}: questions[3] (key "risk-common"): choices[2] "Bleeding" repeats choices[0]'
    )


def test_choices_differing_only_in_case_or_spacing_count_as_repeated():
    pack = valid_pack()
    question(pack, "risk-common")["choices"][2] = " bleeding  "

    assert error(pack) == (
        f'{NAME}: questions[3] (key "risk-common"): choices[2] " bleeding  " repeats choices[0]'
    )


@pytest.mark.parametrize("key,kind", [("clip-loose", "true-false"), ("own-words", "free-text")])
def test_choices_are_refused_for_true_false_and_free_text(key, kind):
    pack = valid_pack()
    question(pack, key)["choices"] = ["Yes", "No"]
    index = [q["key"] for q in pack["questions"]].index(key)

    assert error(pack) == (
        f'{NAME}: questions[{index}] (key "{key}"): field "choices" is not allowed here: '
        f'a "{kind}" question has no choices'
    )


# Questions: correct


def test_correct_index_out_of_range_is_refused_as_in_the_contract():
    pack = valid_pack()
    question(pack, "risk-common")["correct"] = [4]

    assert error(pack) == (
        'mitraclip.en.toml: questions[3] (key "risk-common"): correct index 4 is out of range '
        "for 3 choices"
    )


def test_negative_correct_index_is_refused():
    pack = valid_pack()
    question(pack, "risk-common")["correct"] = [-1]

    assert error(pack) == (
        f'{NAME}: questions[3] (key "risk-common"): correct index -1 is out of range for 3 choices'
    )


@pytest.mark.parametrize("correct", [0, "0", ["0"], [0.0], True, [True]])
def test_correct_that_is_not_a_list_of_indexes_is_refused(correct):
    pack = valid_pack()
    question(pack, "risk-common")["correct"] = correct

    assert error(pack) == (
        f'{NAME}: questions[3] (key "risk-common"): field "correct" must be a list of 0-based '
        "choice indexes, e.g. [0]"
    )


def test_missing_correct_for_a_choice_question_is_refused():
    pack = valid_pack()
    del question(pack, "risk-common")["correct"]

    assert error(pack) == (
        f'{NAME}: questions[3] (key "risk-common"): missing required field "correct" '
        "(a list of choice indexes)"
    )


def test_single_question_with_two_correct_indexes_is_refused():
    pack = valid_pack()
    question(pack, "risk-common")["correct"] = [0, 1]

    assert error(pack) == (
        f'{NAME}: questions[3] (key "risk-common"): a "single" question has exactly one correct '
        "index, found 2"
    )


def test_single_question_with_no_correct_index_is_refused():
    pack = valid_pack()
    question(pack, "risk-common")["correct"] = []

    assert error(pack) == (
        f'{NAME}: questions[3] (key "risk-common"): a "single" question has exactly one correct '
        "index, found 0"
    )


def test_multiple_question_with_several_correct_indexes_is_accepted():
    pack = valid_pack()
    question(pack, "risks-rare")["correct"] = [0, 1, 2]

    assert parse(pack).content["questions"][4]["correct"] == [0, 1, 2]


def test_multiple_question_with_one_correct_index_is_accepted():
    pack = valid_pack()
    question(pack, "risks-rare")["correct"] = [1]

    assert parse(pack).content["questions"][4]["correct"] == [1]


def test_multiple_question_with_no_correct_index_is_refused():
    pack = valid_pack()
    question(pack, "risks-rare")["correct"] = []

    assert error(pack) == (
        f'{NAME}: questions[4] (key "risks-rare"): field "correct" must list at least one index'
    )


def test_correct_listing_an_index_twice_is_refused():
    pack = valid_pack()
    question(pack, "risks-rare")["correct"] = [0, 0]

    assert error(pack) == (
        f'{NAME}: questions[4] (key "risks-rare"): field "correct" lists the same index twice'
    )


@pytest.mark.parametrize("correct", [True, False])
def test_true_false_question_takes_a_boolean(correct):
    pack = valid_pack()
    question(pack, "clip-loose")["correct"] = correct

    assert parse(pack).content["questions"][2]["correct"] is correct


@pytest.mark.parametrize("correct", [[0], "false", 0])
def test_true_false_question_with_a_non_boolean_correct_is_refused(correct):
    pack = valid_pack()
    question(pack, "clip-loose")["correct"] = correct

    assert error(pack) == (
        f'{NAME}: questions[2] (key "clip-loose"): field "correct" must be true or false '
        "for a true-false question"
    )


def test_true_false_question_without_correct_is_refused():
    pack = valid_pack()
    del question(pack, "clip-loose")["correct"]

    assert error(pack) == (
        f'{NAME}: questions[2] (key "clip-loose"): missing required field "correct" (true or false)'
    )


def test_free_text_question_with_correct_is_refused():
    pack = valid_pack()
    question(pack, "own-words")["correct"] = [0]

    assert error(pack) == (
        f'{NAME}: questions[1] (key "own-words"): field "correct" is not allowed here: '
        "a free-text answer is assessed by the physician"
    )


# Questions: key_points


@pytest.mark.parametrize("key,index", [("purpose", 0), ("clip-loose", 2), ("risks-rare", 4)])
def test_key_points_are_refused_outside_free_text(key, index):
    pack = valid_pack()
    question(pack, key)["key_points"] = ["A point."]

    assert error(pack) == (
        f'{NAME}: questions[{index}] (key "{key}"): field "key_points" is not allowed here: '
        "key points are for free-text questions only"
    )


def test_free_text_question_without_key_points_is_refused():
    pack = valid_pack()
    del question(pack, "own-words")["key_points"]

    assert error(pack) == (
        f'{NAME}: questions[1] (key "own-words"): missing required field "key_points" '
        "for a free-text question"
    )


@pytest.mark.parametrize("key_points", [[], "The valve leaks."])
def test_key_points_that_are_not_a_non_empty_list_are_refused(key_points):
    pack = valid_pack()
    question(pack, "own-words")["key_points"] = key_points

    assert error(pack) == (
        f'{NAME}: questions[1] (key "own-words"): field "key_points" must be a non-empty list '
        "of text"
    )


def test_empty_key_point_is_refused():
    pack = valid_pack()
    question(pack, "own-words")["key_points"][1] = " "

    assert error(pack) == f'{NAME}: questions[1] (key "own-words"): key_points[1] is empty'


def test_key_point_that_is_not_text_is_refused():
    pack = valid_pack()
    question(pack, "own-words")["key_points"][0] = 1

    assert error(pack) == (
        f'{NAME}: questions[1] (key "own-words"): key_points[0] must be text, not a number'
    )


# Text fields: empty and wrong types


@pytest.mark.parametrize(
    "path,where",
    [
        (("version",), ""),
        (("title",), ""),
        (("summary",), ""),
        (("reviewed_by",), ""),
        (("sections", 0, "title"), 'sections[0] (key "purpose"): '),
        (("sections", 0, "body"), 'sections[0] (key "purpose"): '),
        (("risks", 0, "name"), 'risks[0] (key "bleeding"): '),
        (("risks", 0, "description"), 'risks[0] (key "bleeding"): '),
        (("risks", 0, "frequency_text"), 'risks[0] (key "bleeding"): '),
        (("alternatives", 0, "name"), 'alternatives[0] (key "surgery"): '),
        (("alternatives", 0, "description"), 'alternatives[0] (key "surgery"): '),
        (("questions", 3, "prompt"), 'questions[3] (key "risk-common"): '),
        (("questions", 3, "explanation"), 'questions[3] (key "risk-common"): '),
    ],
)
@pytest.mark.parametrize("blank", ["", " \n\t "])
def test_empty_text_is_refused(path, where, blank):
    pack = valid_pack()
    target = pack
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = blank

    assert error(pack) == f'{NAME}: {where}field "{path[-1]}" is empty'


def test_number_where_text_belongs_is_refused():
    pack = valid_pack()
    pack["title"] = 5

    assert error(pack) == f'{NAME}: field "title" must be text, not a number'


def test_list_where_text_belongs_is_refused():
    pack = valid_pack()
    pack["sections"][0]["body"] = ["Your mitral valve", "does not close well."]

    assert error(pack) == (
        f'{NAME}: sections[0] (key "purpose"): field "body" must be text, not a list'
    )


def test_boolean_where_text_belongs_is_refused():
    pack = valid_pack()
    question(pack, "risk-common")["prompt"] = True

    assert error(pack) == (
        f'{NAME}: questions[3] (key "risk-common"): field "prompt" must be text, not true/false'
    )


def test_decimal_number_where_text_belongs_is_refused():
    pack = valid_pack()
    pack["version"] = 2026.1

    assert error(pack) == f'{NAME}: field "version" must be text, not a decimal number'


def test_key_that_is_a_number_is_refused_and_the_entry_named_by_position():
    pack = valid_pack()
    pack["alternatives"][0]["key"] = 3

    assert error(pack) == f'{NAME}: alternatives[0]: field "key" must be text, not a number'


def test_date_where_text_belongs_is_refused():
    text = to_toml(valid_pack()).replace('version = "2026.1"', "version = 2026-01-15")

    assert error(text) == f'{NAME}: field "version" must be text, not a date or time'


# Files that are not TOML or not UTF-8


def test_invalid_toml_names_the_file_and_the_position():
    text = 'schema = 1\nslug = \nlanguage = "en"\n'

    assert error(text) == f"{NAME}: is not valid TOML: Invalid value (at line 2, column 8)"


def test_key_given_twice_is_invalid_toml():
    text = to_toml(valid_pack()).replace('slug = "mitraclip"', 'slug = "mitraclip"\nslug = "x"')

    assert (
        error(text) == f"{NAME}: is not valid TOML: Cannot overwrite a value (at line 3, column 11)"
    )


def test_non_utf8_bytes_are_refused_with_the_line():
    raw = (
        to_toml(valid_pack()).replace("MitraClip:", "Caf\udce9:").encode("utf-8", "surrogateescape")
    )

    assert error(raw) == (f"{NAME}: is not UTF-8 text (invalid byte on line 5); save it as UTF-8")


def test_utf8_byte_order_mark_is_accepted():
    raw = to_toml(valid_pack()).encode("utf-8")

    assert parse(b"\xef\xbb\xbf" + raw).content_hash == parse(raw).content_hash


def test_non_ascii_text_is_kept():
    pack = valid_pack()
    pack["title"] = "MitraClip : réparer une valve mitrale qui fuit"

    assert parse(pack).content["title"] == "MitraClip : réparer une valve mitrale qui fuit"


# Several problems at once


def test_every_problem_in_a_pack_is_reported():
    pack = valid_pack()
    pack["schema"] = 2
    pack["sections"][1]["kind"] = "bonus"
    pack["risks"][0]["frequency"] = "often"
    question(pack, "risk-common")["correct"] = [4]
    question(pack, "own-words")["corect"] = True

    assert errors(pack) == [
        f'{NAME}: field "schema" is 2; this version reads schema 1',
        f'{NAME}: questions[1] (key "own-words"): unknown field "corect" (did you mean "correct"?)',
        f'{NAME}: sections[1] (key "benefits"): field "kind" "bonus" is not one of: background, '
        "purpose, procedure, benefits, risks, alternatives, preparation, recovery, follow-up, "
        "other",
        f'{NAME}: needs at least one section of kind "benefits"',
        f'{NAME}: risks[0] (key "bleeding"): field "frequency" "often" is not one of: '
        "most-common, common, uncommon, rare, very-rare",
        f'{NAME}: questions[3] (key "risk-common"): correct index 4 is out of range for 3 choices',
    ]


def test_pack_error_message_holds_one_problem_per_line():
    pack = valid_pack()
    pack["title"] = ""
    pack["summary"] = ""

    with pytest.raises(PackError) as excinfo:
        parse(pack)

    assert str(excinfo.value) == (
        f'{NAME}: field "title" is empty\n{NAME}: field "summary" is empty'
    )


# Identity: SHA-256 of the canonical content


def test_identity_is_the_sha256_of_the_canonical_content():
    pack = parse(valid_pack())

    assert pack.content_hash == hashlib.sha256(canonical_bytes(pack.content)).hexdigest()
    assert len(pack.content_hash) == 64


def test_identity_ignores_comments_blank_lines_and_spacing():
    plain = to_toml(valid_pack())
    lines = ["# NOT YET CLINICALLY REVIEWED.", ""]
    for line in plain.splitlines():
        lines.append(line.replace(" = ", "   =  ") + "   # a note" if line else "\n\n")
    commented = "\n".join(lines)

    assert commented != plain
    assert parse(commented).content_hash == parse(plain).content_hash


def test_identity_ignores_windows_line_endings():
    plain = to_toml(valid_pack())

    assert parse(plain.replace("\n", "\r\n")).content_hash == parse(plain).content_hash


def _reverse_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _reverse_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reverse_keys(item) for item in value]
    return value


def test_identity_ignores_the_order_of_fields():
    reordered = _reverse_keys(valid_pack())

    assert to_toml(reordered) != to_toml(valid_pack())
    assert parse(reordered).content_hash == parse(valid_pack()).content_hash


def test_identity_is_the_same_for_1_and_1_point_0():
    decimal = valid_pack()
    decimal["risks"][1]["max_per_100"] = 1.0

    assert "max_per_100 = 1.0" in to_toml(decimal)
    assert parse(decimal).content_hash == parse(valid_pack()).content_hash


def test_identity_is_the_same_for_a_number_written_with_an_exponent():
    text = to_toml(valid_pack())
    variant = text.replace("max_per_100 = 1\n", "max_per_100 = 1e0\n")

    assert variant != text
    assert parse(variant).content_hash == parse(text).content_hash


def test_identity_is_the_same_for_a_literal_or_multi_line_string():
    text = to_toml(valid_pack())
    variant = text.replace(
        'body = "Your mitral valve does not close well."',
        "body = '''\nYour mitral valve does not close well.'''",
    )

    assert variant != text
    assert parse(variant).content_hash == parse(text).content_hash


@pytest.mark.parametrize(
    "path,value",
    [
        (("title",), "MitraClip: repairing a leaking mitral valve."),
        (("version",), "2026.2"),
        (("sections", 0, "body"), "Your mitral valve does not close well!"),
        (("sections", 1, "title"), "What you can expect "),
        (("risks", 0, "frequency_text"), "the most common problem by far"),
        (("risks", 1, "max_per_100"), 2),
        (("alternatives", 0, "description"), "A surgeon repairs the valve."),
        (("questions", 3, "explanation"), "Bleeding is the most common risk."),
        (("questions", 3, "choices", 2), "The clip comes loose"),
        (("questions", 1, "key_points", 0), "The valve leaks backward."),
        (("questions", 2, "correct"), True),
    ],
)
def test_identity_changes_when_any_value_changes(path, value):
    changed = valid_pack()
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value

    assert parse(changed).content_hash != parse(valid_pack()).content_hash


def test_identity_changes_when_reviewed_by_is_added():
    reviewed = valid_pack()
    reviewed["reviewed_by"] = "Dr A. Martin"
    reviewed["reviewed_on"] = "2026-03-01"

    assert parse(reviewed).content_hash != parse(valid_pack()).content_hash


def test_identity_changes_when_sections_are_reordered():
    reordered = valid_pack()
    reordered["sections"][0], reordered["sections"][1] = (
        reordered["sections"][1],
        reordered["sections"][0],
    )

    assert parse(reordered).content_hash != parse(valid_pack()).content_hash


def test_identity_changes_when_choices_are_reordered():
    reordered = valid_pack()
    entry = question(reordered, "risk-common")
    entry["choices"] = [entry["choices"][1], entry["choices"][0], entry["choices"][2]]
    entry["correct"] = [1]

    assert parse(reordered).content_hash != parse(valid_pack()).content_hash


# Markdown to sanitized HTML


def test_markdown_bullet_list_and_emphasis_are_rendered():
    html = markdown_to_html("- **Bleeding** in the groin\n- *Stroke*\n")

    assert html == (
        "<ul>\n<li><strong>Bleeding</strong> in the groin</li>\n<li><em>Stroke</em></li>\n</ul>\n"
    )


def test_markdown_numbered_list_and_paragraphs_are_rendered():
    html = markdown_to_html("First paragraph.\n\n1. One\n2. Two\n")

    assert html == "<p>First paragraph.</p>\n<ol>\n<li>One</li>\n<li>Two</li>\n</ol>\n"


def test_markdown_https_link_is_kept_and_opens_safely():
    html = markdown_to_html("[The leaflet](https://example.org/leaflet)")

    assert html == (
        '<p><a href="https://example.org/leaflet" rel="noopener noreferrer">The leaflet</a></p>\n'
    )


def test_text_with_a_less_than_sign_is_shown_as_text():
    assert markdown_to_html("Fewer than <1 in 100, and 2 < 3.") == (
        "<p>Fewer than &lt;1 in 100, and 2 &lt; 3.</p>\n"
    )


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "Before.\n\n<script>alert(1)</script>\n\nAfter.",
        "Inline <script>alert(1)</script> script.",
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    ],
)
def test_script_never_gets_through(markdown):
    html = markdown_to_html(markdown)

    assert "<script" not in html.lower()
    assert "alert" not in html


@pytest.mark.parametrize(
    "markdown",
    [
        "<img src=x onerror=alert(1)>",
        "Text <img src=x onerror=alert(1)> inline.",
        '<a href="https://example.org" onclick="alert(1)">link</a>',
        "<p onmouseover=alert(1)>hover</p>",
    ],
)
def test_event_handlers_never_get_through(markdown):
    html = markdown_to_html(markdown).lower()

    assert "onerror" not in html
    assert "onclick" not in html
    assert "onmouseover" not in html
    assert "<img" not in html


@pytest.mark.parametrize(
    "markdown",
    [
        "[click](javascript:alert(1))",
        "[click](JavaScript:alert(1))",
        "[click](jav&#x61;script:alert(1))",
        "[click](<javascript:alert(1)>)",
        "[click][ref]\n\n[ref]: javascript:alert(1)",
        '<a href="javascript:alert(1)">click</a>',
    ],
)
def test_javascript_link_never_gets_through(markdown):
    html = markdown_to_html(markdown)

    assert "javascript:" not in html.lower()
    assert "click" in html


@pytest.mark.parametrize(
    "markdown", ["[click](data:text/html;base64,PHNjcmlwdD4=)", "[click](vbscript:msgbox(1))"]
)
def test_other_active_link_schemes_never_get_through(markdown):
    html = markdown_to_html(markdown)

    assert "href" not in html
    assert "click" in html


@pytest.mark.parametrize(
    "markdown,text",
    [
        ('<div class="warning">Call us</div>', "Call us"),
        ("<iframe src=https://evil.example></iframe>", ""),
        ("<style>body { display: none }</style>", ""),
        ("Some <b>bold</b> text", "Some bold text"),
        ("<!-- a note -->Visible", "Visible"),
    ],
)
def test_raw_html_never_gets_through(markdown, text):
    html = markdown_to_html(markdown)

    for tag in ("<div", "<iframe", "<style", "<b>", "<!--", "display"):
        assert tag not in html
    assert text in html


# The shipped MitraClip pack


@pytest.fixture(scope="module")
def mitraclip() -> dict[str, Any]:
    return load_pack(MITRACLIP_PATH).content


def test_shipped_mitraclip_pack_validates():
    pack = load_pack(MITRACLIP_PATH)

    assert pack.identity == ("mitraclip", "en", "2026.2")


def test_mitraclip_has_at_least_eight_questions(mitraclip):
    assert len(mitraclip["questions"]) >= 8


@pytest.mark.parametrize("kind", ["multiple", "true-false", "free-text"])
def test_mitraclip_has_a_question_of_each_extra_kind(mitraclip, kind):
    assert kind in {entry["kind"] for entry in mitraclip["questions"]}


@pytest.mark.parametrize(
    "key,topic",
    [
        ("purpose", "the purpose of the procedure"),
        ("how-it-works", "how the clip works"),
        ("risk-common", "the most common risk"),
        ("risks-under-1-in-100", "the risks that happen to fewer than 1 in 100 people"),
        ("risk-stroke-per-100", "a risk out of 100 people"),
        ("alternatives", "the alternatives"),
        ("fasting", "fasting"),
        ("antiplatelet", "antiplatelet medication"),
        ("bathing", "bathing"),
    ],
)
def test_mitraclip_asks_about(mitraclip, key, topic):
    assert key in {entry["key"] for entry in mitraclip["questions"]}, topic


def _section_kinds(content: dict[str, Any]) -> dict[str, str]:
    return {section["key"]: section["kind"] for section in content["sections"]}


def test_mitraclip_asks_about_an_under_1_in_100_risk_out_of_100_people(mitraclip):
    kinds = _section_kinds(mitraclip)
    out_of_100 = [q for q in mitraclip["questions"] if q["prompt"].startswith("Out of 100 people")]

    assert out_of_100
    assert all(kinds[q["section"]] == "risks" for q in out_of_100)


def test_mitraclip_asks_which_risks_are_under_1_in_100(mitraclip):
    entry = question(mitraclip, "risks-under-1-in-100")
    right = {entry["choices"][i] for i in entry["correct"]}

    assert entry["kind"] == "multiple"
    assert right == {
        "Fluid around the heart (pericardial effusion)",
        "Stroke",
        "Need for emergency surgery",
    }


def test_mitraclip_questions_on_risks_reshow_the_risks_section(mitraclip):
    kinds = _section_kinds(mitraclip)

    for key in ("risk-common", "risks-under-1-in-100", "risk-stroke-per-100"):
        assert kinds[question(mitraclip, key)["section"]] == "risks"


def _risk(content: dict[str, Any], key: str) -> dict[str, Any]:
    return next(risk for risk in content["risks"] if risk["key"] == key)


def test_mitraclip_bleeding_is_most_common_without_a_number(mitraclip):
    bleeding = _risk(mitraclip, "bleeding")

    assert bleeding["frequency"] == "most-common"
    assert "max_per_100" not in bleeding


@pytest.mark.parametrize("key", ["pericardial-effusion", "stroke", "emergency-surgery"])
def test_mitraclip_under_1_in_100_risks_are_drawn_as_at_most_1_in_100(mitraclip, key):
    risk = _risk(mitraclip, key)

    assert risk["max_per_100"] == 1
    assert risk["frequency_text"] == "fewer than 1 in 100 people"


@pytest.mark.parametrize(
    ("path", "field", "limit"),
    [
        ((), "slug", 100),
        ((), "version", 100),
        (("sections", 0), "key", 100),
        (("risks", 0), "key", 100),
    ],
)
def test_identifiers_longer_than_their_column_are_refused(path, field, limit):
    pack = valid_pack()
    entry = pack
    for part in path:
        entry = entry[part]
    entry[field] = "a" * (limit + 1)
    assert any(
        f'field "{field}" is {limit + 1} characters long; at most {limit}' in message
        for message in errors(pack)
    )
