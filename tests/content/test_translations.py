"""Linked translations (docs/content-packs.md, "Translations"): a pack declares the version it
translates with `translation_of`; import refuses a translation whose source is missing or that
does not match its source's keys and figures, names every mismatch, imports nothing, and links
the stored version to its source. The shipped French MitraClip pack is such a translation.
"""

import copy
import tomllib
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from consent.content.importing import TranslationMismatch, pack_import
from consent.content.packs import load_pack, parse_pack
from consent.models import Alternative, AuditEvent, ProcedureVersion, Question, Risk, Section
from tests.content.test_packs import error, errors, to_toml, valid_pack

CONTENT = settings.BASE_DIR / "content"
EN_PATH = CONTENT / "mitraclip.en.toml"
FR_PATH = CONTENT / "mitraclip.fr.toml"
FR_NAME = "mitraclip.fr.toml"
EN = tomllib.loads(EN_PATH.read_text(encoding="utf-8"))
FR = tomllib.loads(FR_PATH.read_text(encoding="utf-8"))
MODELS = (ProcedureVersion, Section, Risk, Alternative, Question, AuditEvent)


def french() -> dict[str, Any]:
    return copy.deepcopy(FR)


def entry(pack: dict[str, Any], name: str, key: str) -> dict[str, Any]:
    return next(item for item in pack[name] if item["key"] == key)


def write(directory: Path, pack: dict[str, Any], name: str = FR_NAME) -> Path:
    path = directory / name
    path.write_text(to_toml(pack), encoding="utf-8")
    return path


def import_pack(*paths: Path | str) -> str:
    stdout = StringIO()
    call_command("import_pack", *map(str, paths), stdout=stdout, stderr=StringIO())
    return stdout.getvalue()


def refused(*paths: Path | str) -> list[str]:
    """Run import_pack expecting a refusal; return the problems it printed, one a line."""
    stdout, stderr = StringIO(), StringIO()
    with pytest.raises(CommandError, match=r"problem\(s\) found; nothing was imported\.$"):
        call_command("import_pack", *map(str, paths), stdout=stdout, stderr=stderr)
    assert stdout.getvalue() == ""
    return stderr.getvalue().splitlines()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


NOTHING = dict.fromkeys((model.__name__ for model in MODELS), 0)


# The field `translation_of` (no database)


def translation(**declared: Any) -> dict[str, Any]:
    pack = valid_pack()
    pack["language"] = "fr"
    pack["translation_of"] = declared
    return pack


def test_translation_of_names_the_source_language_and_version_of_the_same_slug():
    pack = parse_pack(
        to_toml(translation(language="en", version="2026.1")).encode(), source_name="x"
    )

    assert pack.content["translation_of"] == {"language": "en", "version": "2026.1"}
    assert pack.source_identity == ("mitraclip", "en", "2026.1")
    assert parse_pack(to_toml(valid_pack()).encode(), source_name="x").source_identity is None


def test_translation_of_is_part_of_the_identity_of_the_content():
    one = parse_pack(
        to_toml(translation(language="en", version="2026.1")).encode(), source_name="x"
    )
    other = parse_pack(
        to_toml(translation(language="en", version="2026.2")).encode(), source_name="x"
    )

    assert one.content_hash != other.content_hash


def test_an_unknown_field_of_translation_of_is_refused_with_a_hint():
    messages = errors(translation(language="en", versoin="2026.1"))

    assert messages == [
        'mitraclip.en.toml: translation_of: unknown field "versoin" (did you mean "version"?); '
        'the source is named by "language" and "version" (its slug is this pack\'s)',
        'mitraclip.en.toml: translation_of: missing required field "version" (of the source)',
    ]


def test_translation_of_without_a_version_is_refused():
    assert error(translation(language="en")) == (
        'mitraclip.en.toml: translation_of: missing required field "version" (of the source)'
    )


def test_translation_of_written_as_text_is_refused():
    pack = valid_pack()
    pack["translation_of"] = "en"

    assert error(pack) == (
        'mitraclip.en.toml: translation_of: must be a table such as { language = "en", '
        'version = "2026.2" }, not text'
    )


def test_translation_of_in_the_pack_s_own_language_is_refused():
    pack = translation(language="FR", version="2026.1")

    assert error(pack) == (
        'mitraclip.en.toml: translation_of: field "language" "FR" is this pack\'s own language; '
        "a translation names the source it was translated from, in another language"
    )


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        (
            {"language": "english", "version": "2026.1"},
            'field "language" "english" is not a BCP 47',
        ),
        ({"language": "en", "version": ""}, 'field "version" is empty'),
        ({"language": "en", "version": 2026}, 'field "version" must be text, not a number'),
    ],
)
def test_a_malformed_translation_of_value_is_refused(declared, message):
    assert error(translation(**declared)).startswith(
        f"mitraclip.en.toml: translation_of: {message}"
    )


# The shipped French pack


def test_the_french_pack_translates_the_english_version_it_matches():
    assert (FR["slug"], FR["language"], FR["version"]) == ("mitraclip", "fr", EN["version"])
    assert FR["translation_of"] == {"language": "en", "version": EN["version"]}


def test_the_french_pack_is_not_clinically_reviewed_and_says_it_is_an_unreviewed_translation():
    assert "reviewed_by" not in FR and "reviewed_on" not in FR
    header = FR_PATH.read_text(encoding="utf-8").split("\nschema = ")[0]
    assert "UNREVIEWED TRANSLATION, NOT YET CLINICALLY REVIEWED" in header


def test_the_french_pack_has_the_english_keys_in_the_english_order():
    for name in ("sections", "risks", "alternatives", "questions", "facts"):
        assert [e["key"] for e in FR[name]] == [e["key"] for e in EN[name]], name


def test_the_french_pack_says_fewer_than_1_in_100_as_moins_de_1_sur_100():
    risks = entry(FR, "sections", "risks")["body"]

    assert "moins de 1 personne sur 100" in risks
    assert {r["frequency_text"] for r in FR["risks"] if r.get("group")} == {
        "moins de 1 personne sur 100"
    }


# The figures the English pack gives in its sections (tests/content/test_readability.py,
# SOURCE_FIGURES), as the French pack writes them; numbers in words are not checked by import.
FRENCH_FIGURES = {
    "fewer than 1 in 100": "moins de 1 personne sur 100",
    "one or two days": "un ou deux jours",
    "24 to 48 hours": "24 à 48 heures",
    "six months": "six mois",
    "three to four days": "trois à quatre premiers jours",
}


@pytest.mark.parametrize(("english", "french_words"), FRENCH_FIGURES.items())
def test_the_french_sections_give_each_figure_of_the_english_sections(english, french_words):
    english_text = " ".join(" ".join(s["body"].split()) for s in EN["sections"])
    french_text = " ".join(" ".join(s["body"].split()) for s in FR["sections"])

    assert english in english_text
    assert english_text.count(english) == french_text.count(french_words) > 0


def test_the_french_pack_keeps_extremely_rare_as_the_source_says_it():
    assert entry(FR, "risks", "device-detachment")["frequency_text"] == (
        "extrêmement rare ; pratiquement jamais observé"
    )
    assert (
        "extrêmement rare que le clip se détache complètement"
        in (entry(FR, "sections", "risks")["body"])
    )


def test_the_french_pack_uses_the_agreed_vocabulary():
    text = FR_PATH.read_text(encoding="utf-8")
    for word in (
        "valve mitrale",
        "feuillets",
        "fuite",
        "insuffisance mitrale",
        "cathéter",
        "aine",
        "saignement",
        "épanchement péricardique",
        "accident vasculaire cérébral (AVC)",
        "chirurgie cardiaque en urgence",
    ):
        assert word in text.lower() or word in text, word


# Import: the French pack with its English source


@pytest.mark.django_db
@pytest.mark.parametrize("order", [(EN_PATH, FR_PATH), (FR_PATH, EN_PATH)])
def test_the_french_pack_imports_with_its_source_in_either_order_and_is_linked_to_it(order):
    out = import_pack(*order)

    english = ProcedureVersion.objects.get(language="en")
    french_version = ProcedureVersion.objects.get(language="fr")
    assert french_version.translation_of == english
    assert english.translation_of is None
    assert list(english.translations.all()) == [french_version]
    assert (
        f"mitraclip.fr.toml: mitraclip (fr) version {EN['version']} imported [sha256 "
        f"{french_version.content_hash[:16]}]\n  translation of mitraclip (en) version "
        f"{EN['version']} [sha256 {english.content_hash[:16]}]: same keys and figures\n"
    ) in out
    event = AuditEvent.objects.get(
        action="procedure_version.imported", object_id=str(french_version.pk)
    )
    assert event.payload["translation_of"] == english.content_hash


@pytest.mark.django_db
def test_the_french_pack_imports_later_onto_the_english_version_already_imported():
    import_pack(EN_PATH)

    import_pack(FR_PATH)

    assert ProcedureVersion.objects.get(language="fr").translation_of == (
        ProcedureVersion.objects.get(language="en")
    )


@pytest.mark.django_db
def test_make_run_imports_every_pack_of_content_in_one_command():
    out = import_pack(*sorted(CONTENT.glob("*.toml")))

    assert out.count(" imported [sha256 ") == 2
    assert import_pack(*sorted(CONTENT.glob("*.toml"), reverse=True)).count("unchanged") == 2


@pytest.mark.django_db
def test_a_translation_whose_source_is_missing_is_refused_and_imports_nothing():
    assert refused(FR_PATH) == [
        f"mitraclip.fr.toml: translation_of: its source, mitraclip (en) version {EN['version']}, "
        "is not imported and not among the valid packs of this import; import the source "
        "first, or with it"
    ]
    assert row_counts() == NOTHING


@pytest.mark.django_db
def test_a_translation_of_another_version_of_the_source_is_refused(tmp_path):
    pack = french()
    pack["translation_of"]["version"] = "2026.1"

    problems = refused(EN_PATH, write(tmp_path, pack))

    assert problems == [
        "mitraclip.fr.toml: translation_of: its source, mitraclip (en) version 2026.1, is not "
        "imported and not among the valid packs of this import; import the source first, or "
        "with it"
    ]
    assert row_counts() == NOTHING


# Every kind of mismatch: refused with its message, with the source in the same command, and
# nothing imported (not even the source).


def mismatch(tmp_path: Path, pack: dict[str, Any]) -> list[str]:
    problems = refused(EN_PATH, write(tmp_path, pack))
    assert row_counts() == NOTHING
    return problems


@pytest.mark.django_db
def test_a_changed_figure_is_refused(tmp_path):
    pack = french()
    for risk in pack["risks"]:
        if risk.get("group") == "less-common":
            risk["max_per_100"] = 2

    problems = mismatch(tmp_path, pack)

    assert problems == [
        f'mitraclip.fr.toml: risks[{i}] (key "{key}"): field "max_per_100" is 2; the source has 1'
        for i, key in ((1, "pericardial-effusion"), (2, "stroke"), (3, "emergency-surgery"))
    ]


@pytest.mark.django_db
def test_1_sur_10_where_the_source_says_1_in_100_is_refused(tmp_path):
    pack = french()
    section = entry(pack, "sections", "risks")
    section["body"] = section["body"].replace("1 personne sur 100", "1 personne sur 10")
    for risk in pack["risks"]:
        if risk.get("group") == "less-common":
            risk["frequency_text"] = "moins de 1 personne sur 10"

    problems = mismatch(tmp_path, pack)

    numbers = (
        "has the numbers 1, 10; the source has 1, 100 (a translation keeps every figure, in "
        "digits where the source writes digits)"
    )
    assert problems == [
        f'mitraclip.fr.toml: sections[7] (key "risks"): field "body" {numbers}',
        *(
            f'mitraclip.fr.toml: risks[{i}] (key "{key}"): field "frequency_text" {numbers}'
            for i, key in ((1, "pericardial-effusion"), (2, "stroke"), (3, "emergency-surgery"))
        ),
    ]


@pytest.mark.django_db
def test_a_number_in_a_choice_that_differs_from_the_source_is_refused(tmp_path):
    pack = french()
    entry(pack, "questions", "risk-stroke-per-100")["choices"][1] = "Environ 2 sur 100"

    assert mismatch(tmp_path, pack) == [
        'mitraclip.fr.toml: questions[5] (key "risk-stroke-per-100"): field "choices[1]" has the '
        "numbers 2, 100; the source has 3, 100 (a translation keeps every figure, in digits "
        "where the source writes digits)"
    ]


@pytest.mark.django_db
def test_a_missing_question_is_refused(tmp_path):
    pack = french()
    pack["questions"] = [q for q in pack["questions"] if q["key"] != "how-it-works"]

    assert mismatch(tmp_path, pack) == [
        'mitraclip.fr.toml: missing the question with key "how-it-works" (the source\'s '
        "questions[1]); a translation has every question of its source"
    ]


@pytest.mark.django_db
def test_a_renamed_risk_key_is_refused(tmp_path):
    pack = french()
    entry(pack, "risks", "stroke")["key"] = "avc"
    entry(pack, "facts", "risk-less-common")["risks"] = [
        "pericardial-effusion",
        "avc",
        "emergency-surgery",
    ]

    problems = mismatch(tmp_path, pack)

    assert problems == [
        'mitraclip.fr.toml: risks[2] (key "avc"): the source has no risk with key "avc"; a '
        "translation keeps the source's keys (is it the source's \"stroke\", renamed?)",
        'mitraclip.fr.toml: missing the risk with key "stroke" (the source\'s risks[2]); a '
        "translation has every risk of its source",
        'mitraclip.fr.toml: facts[4] (key "risk-less-common"): field "risks" is '
        '["pericardial-effusion", "avc", "emergency-surgery"]; the source has '
        '["pericardial-effusion", "stroke", "emergency-surgery"]',
    ]


@pytest.mark.django_db
def test_a_different_correct_answer_is_refused(tmp_path):
    pack = french()
    entry(pack, "questions", "fasting")["correct"] = [3]

    assert mismatch(tmp_path, pack) == [
        'mitraclip.fr.toml: questions[9] (key "fasting"): field "correct" is [3]; the source '
        "has [0]"
    ]


@pytest.mark.django_db
def test_choices_moved_with_the_right_answer_are_refused_as_the_numbers_in_them_move(tmp_path):
    pack = french()
    question = entry(pack, "questions", "risk-stroke-per-100")
    # A translator who reordered the choices and moved the right answer with them.
    question["choices"] = [question["choices"][1], question["choices"][0], *question["choices"][2:]]
    question["correct"] = [1]
    question["choice_feedback"] = [
        question["choice_feedback"][1],
        "",
        *question["choice_feedback"][2:],
    ]

    problems = mismatch(tmp_path, pack)

    assert problems[0] == (
        'mitraclip.fr.toml: questions[5] (key "risk-stroke-per-100"): field "correct" is [1]; '
        "the source has [0]"
    )
    assert (
        'mitraclip.fr.toml: questions[5] (key "risk-stroke-per-100"): field "choices[0]" has the '
        "numbers 3, 100; the source has 1, 100 (a translation keeps every figure, in digits where "
        "the source writes digits)"
    ) in problems


@pytest.mark.django_db
def test_a_different_answer_in_a_variant_is_refused(tmp_path):
    pack = french()
    entry(pack, "questions", "saying-no")["variants"][0]["correct"] = False

    assert mismatch(tmp_path, pack) == [
        'mitraclip.fr.toml: questions[8] (key "saying-no"): variants[0]: field "correct" is '
        "false; the source has true"
    ]


@pytest.mark.django_db
def test_a_question_with_fewer_choices_or_key_points_is_refused(tmp_path):
    pack = french()
    question = entry(pack, "questions", "fasting")
    question["choices"] = question["choices"][:3]
    own_words = entry(pack, "questions", "own-words")
    own_words["key_points"] = own_words["key_points"][:3]

    assert mismatch(tmp_path, pack) == [
        'mitraclip.fr.toml: questions[9] (key "fasting"): field "choices" has 3 choices; the '
        "source has 4",
        'mitraclip.fr.toml: questions[15] (key "own-words"): field "key_points" has 3 key '
        "points; the source has 4",
    ]


@pytest.mark.django_db
def test_a_question_of_another_kind_or_section_is_refused(tmp_path):
    pack = french()
    question = entry(pack, "questions", "follow-up")
    question["section"] = "at-home"

    assert mismatch(tmp_path, pack) == [
        'mitraclip.fr.toml: questions[13] (key "follow-up"): field "section" is "at-home"; the '
        'source has "follow-up"'
    ]


@pytest.mark.django_db
def test_sections_in_another_order_or_of_another_kind_are_refused(tmp_path):
    pack = french()
    pack["sections"][0], pack["sections"][1] = pack["sections"][1], pack["sections"][0]
    entry(pack, "sections", "in-short")["kind"] = "follow-up"

    assert mismatch(tmp_path, pack) == [
        'mitraclip.fr.toml: sections[0] (key "mitral-regurgitation"): is out of order: the '
        'source has key "heart-and-valve" at this place and this one at sections[1]; keep the '
        "source's order",
        'mitraclip.fr.toml: sections[19] (key "in-short"): field "kind" is "follow-up"; the '
        'source has "other"',
    ]


@pytest.mark.django_db
def test_a_missing_fact_statement_and_alternative_are_refused(tmp_path):
    pack = french()
    del entry(pack, "questions", "hospital-stay")["fact"]
    pack["alternatives"] = pack["alternatives"][:1]

    assert mismatch(tmp_path, pack) == [
        'mitraclip.fr.toml: missing the alternative with key "surgical-replacement" (the '
        "source's alternatives[1]); a translation has every alternative of its source",
        'mitraclip.fr.toml: questions[10] (key "hospital-stay"): field "fact" is absent; the '
        "source has one",
    ]


@pytest.mark.django_db
def test_a_translation_of_a_translation_is_refused(tmp_path):
    import_pack(EN_PATH, FR_PATH)
    pack = french()
    pack["language"] = "de"
    pack["translation_of"] = {"language": "fr", "version": FR["version"]}

    problems = refused(write(tmp_path, pack, "mitraclip.de.toml"))

    assert problems == [
        f"mitraclip.de.toml: translation_of: mitraclip (fr) version {FR['version']} is itself a "
        f"translation (of its en version {EN['version']}); translate the source text"
    ]
    assert ProcedureVersion.objects.count() == 2


# The service the workbench publishes with refuses the same way


@pytest.mark.django_db
def test_pack_import_refuses_a_mismatched_translation_and_stores_nothing():
    pack = french()
    entry(pack, "questions", "fasting")["correct"] = [2]
    packs = [load_pack(EN_PATH), parse_pack(to_toml(pack).encode(), source_name=FR_NAME)]

    with pytest.raises(TranslationMismatch) as excinfo:
        pack_import(packs=packs)

    assert excinfo.value.messages == [
        'mitraclip.fr.toml: questions[9] (key "fasting"): field "correct" is [2]; the source '
        "has [0]"
    ]
    assert row_counts() == NOTHING


@pytest.mark.django_db
def test_pack_import_returns_results_in_the_order_given_with_the_source_stored_first():
    results = pack_import(packs=[load_pack(FR_PATH), load_pack(EN_PATH)])

    assert [r.version.language for r in results] == ["fr", "en"]
    assert results[1].version.pk < results[0].version.pk
    assert results[0].version.translation_of == results[1].version
