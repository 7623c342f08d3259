"""Readability per language (consent/content/readability.py): each pack is measured with formulas
meant for its language. English keeps Flesch-Kincaid, SMOG and Dale-Chall; French gets Kandel
and Moles's reading ease with syllables from pyphen's French dictionary; a language with no
formula here gets counts and a report that says so, never an English formula on its text.
"""

import tomllib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from consent.content.readability import (
    KM_TARGET,
    FrenchScores,
    Scores,
    french_syllables,
    french_words,
    kandel_moles,
    measure_french,
    pack_report,
    reading_ease_band,
    render_markdown,
    split_sentences,
    summary_lines,
    targets_line,
)
from tests.content.test_translations import EN_PATH, FR, FR_PATH, french, import_pack, write

# Kandel-Moles by hand.
#
# "La valve mitrale fuit. Le médecin place un petit clip."
# Sentences: 2. Words: La, valve, mitrale, fuit (4) + Le, médecin, place, un, petit, clip (6) = 10.
# Syllables, as pyphen's French dictionary hyphenates: la 1, valve 1, mi-trale 2, fuit 1,
# le 1, mé-de-cin 3, place 1, un 1, pe-tit 2, clip 1 = 14.
# Words per sentence 10 / 2 = 5; syllables per word 14 / 10 = 1.4.
# 207 - 1.015 x 5 - 73.6 x 1.4 = 207 - 5.075 - 103.04 = 98.885.
KNOWN_TEXT = "La valve mitrale fuit. Le médecin place un petit clip."
KNOWN_SCORE = 98.885


def test_kandel_moles_on_a_known_french_text_gives_the_value_computed_by_hand():
    scores = measure_french(split_sentences([KNOWN_TEXT]))

    assert (scores.words, scores.sentences, scores.syllables) == (10, 2, 14)
    assert scores.words_per_sentence == 5
    assert scores.syllables_per_word == pytest.approx(1.4)
    assert scores.kandel_moles == pytest.approx(KNOWN_SCORE)
    assert scores.band == "very easy"


def test_the_formula_is_kandel_and_moles_1958():
    # 207 - 1.015 x 20 - 73.6 x 1.6 = 207 - 20.3 - 117.76 = 68.94
    assert kandel_moles(20, 1.6) == pytest.approx(68.94)


@pytest.mark.parametrize(
    ("word", "syllables"),
    [
        ("médecin", 3),  # mé-de-cin
        ("cathéter", 3),  # ca-thé-ter
        ("hôpital", 3),  # hô-pi-tal
        ("insuffisance", 4),  # in-suf-fi-sance
        ("chirurgie", 3),  # chi-rur-gie
        ("ventricule", 3),  # ven-tri-cule
        ("cœur", 1),
        ("sang", 1),
        ("aujourd\u2019hui", 3),  # au-jourd + hui: an apostrophe joins two parts
        ("c\u2019est-à-dire", 3),  # c'est + à + dire
        ("l\u2019aine", 1),  # the "l" of an elision has no vowel: no syllable
        ("100", 1),  # a number in digits is one unit
    ],
)
def test_french_syllables_come_from_pyphen_s_french_dictionary(word, syllables):
    assert french_syllables(word) == syllables


def test_a_hyphenation_dictionary_does_not_split_off_a_lone_first_vowel():
    # The known limit, said in the module's docstring: "o-pé-ra-tion" counts 3, not 4.
    assert french_syllables("opération") == 3


def test_french_words_keep_elisions_and_hyphenated_words_whole_and_drop_punctuation():
    assert french_words("« L\u2019aine, c\u2019est-à-dire ici ! » Moins de 1 sur 100.") == [
        "L\u2019aine",
        "c\u2019est-à-dire",
        "ici",
        "Moins",
        "de",
        "1",
        "sur",
        "100",
    ]


def test_a_sentence_starting_with_an_accented_capital_is_a_sentence_of_its_own():
    assert split_sentences(["Il fait froid. À la maison, reposez-vous ! Écoutez bien."]) == [
        "Il fait froid.",
        "À la maison, reposez-vous !",
        "Écoutez bien.",
    ]


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (95, "very easy"),
        (85, "easy"),
        (75, "fairly easy"),
        (60, "standard"),
        (59.9, "fairly difficult"),
        (40, "difficult"),
        (10, "very difficult"),
    ],
)
def test_reading_ease_bands_are_flesch_s(score, band):
    assert reading_ease_band(score) == band


# The French pack's report


def test_the_french_pack_is_measured_with_the_french_formula_only():
    report = pack_report(FR, source="mitraclip.fr.toml")

    assert report.formula == "fr" and report.language == "fr"
    assert all(isinstance(row.scores, FrenchScores) for row in report.sections + report.questions)
    assert not any(isinstance(row.scores, Scores) for row in report.sections)
    text = render_markdown(report)
    assert "Kandel-Moles" in text and "Kandel and Moles's (1958)" in text
    assert "Flesch-Kincaid" not in text and "SMOG" not in text and "Dale-Chall" not in text
    assert f"Target: at least {KM_TARGET:g} (standard or easier)" in text


def test_every_section_of_the_french_pack_is_within_the_french_target():
    report = pack_report(FR, source="mitraclip.fr.toml")

    assert [row.key for row in report.sections] == [s["key"] for s in FR["sections"]]
    for row in report.sections:
        assert row.scores.kandel_moles >= KM_TARGET, (row.key, row.scores)
        assert row.scores.words_per_sentence <= 15, (row.key, row.scores)
    assert report.sections_over == []
    assert report.overall is not None and report.overall.scores.kandel_moles >= KM_TARGET


def test_a_hard_french_section_is_flagged_below_the_target():
    hard = (
        "L\u2019insuffisance mitrale dégénérative ou fonctionnelle nécessite une évaluation "
        "échocardiographique transœsophagienne approfondie avant toute intervention percutanée "
        "ou chirurgicale conventionnelle."
    )
    pack = french()
    pack["sections"][3]["body"] = hard

    row = pack_report(pack, source="x").sections[3]

    assert row.scores.kandel_moles < KM_TARGET
    assert row.flags == (f"Kandel-Moles {row.scores.kandel_moles:.1f} < {KM_TARGET:g}",)


def test_the_summary_gives_words_per_sentence_and_kandel_moles_per_section_and_overall():
    report = pack_report(FR, source="mitraclip.fr.toml")

    lines = summary_lines(report)

    assert targets_line(report) == "French: Kandel-Moles reading ease >= 60, higher is easier"
    assert len(lines) == len(FR["sections"]) + 2
    assert lines[0].startswith("  heart-and-valve: ") and " words/sentence, " in lines[0]
    assert ", Kandel-Moles " in lines[0]
    assert lines[-2].startswith("  (all sections): ")
    assert lines[-1] == f"  all {len(FR['sections'])} sections within target"


# A language without a formula


def test_a_language_without_a_formula_gets_counts_and_a_report_that_says_so():
    pack = french()
    pack["language"] = "de"
    pack["sections"][0]["body"] = "Ein sehr langer und schwieriger Satz " * 20

    report = pack_report(pack, source="x.de.toml")

    assert report.formula is None
    assert report.sections_over == []
    assert type(report.sections[0].scores).__name__ == "Counts"
    text = render_markdown(report)
    assert 'Language: "de". There is no readability formula for this language here' in text
    assert "Kandel-Moles" not in text and "Flesch-Kincaid" not in text
    assert summary_lines(report)[-1] == ('  no readability formula for language "de": counts only')


def test_a_pack_without_a_language_and_an_english_region_are_measured_as_english():
    english = {"sections": [{"key": "a", "kind": "purpose", "body": "The clip is small."}]}

    assert pack_report(english, source="x").formula == "en"
    assert pack_report(english | {"language": "en-GB"}, source="x").formula == "en"
    assert pack_report(english | {"language": "fr-CA"}, source="x").formula == "fr"


# The commands


def test_the_readability_command_reports_the_french_pack_with_kandel_moles():
    stdout = StringIO()
    call_command("readability", str(FR_PATH), stdout=stdout)

    text = stdout.getvalue()
    assert text.startswith(f"## {FR_PATH}\n")
    assert f"All {len(FR['sections'])} sections are within target." in text
    assert "| key | title | words | sentences | words/sentence | longest sentence | " in text
    assert "syllables/word | Kandel-Moles (band) | over target |" in text


def test_the_readability_command_fails_on_a_french_section_below_target(tmp_path):
    pack = french()
    pack["sections"][3]["body"] = (
        "L\u2019insuffisance mitrale dégénérative nécessite une évaluation échocardiographique "
        "transœsophagienne approfondie préalablement à toute intervention percutanée."
    )

    with pytest.raises(CommandError, match=r"^1 section\(s\) over target\.$"):
        call_command("readability", str(write(tmp_path, pack)), stdout=StringIO())


@pytest.mark.django_db
def test_import_prints_the_french_readability_of_the_french_pack():
    out = import_pack(FR_PATH.parent / "mitraclip.en.toml", FR_PATH)

    french_part = out[out.index("mitraclip.fr.toml: ") :]
    lines = french_part.splitlines()
    assert lines[2] == "  readability (French: Kandel-Moles reading ease >= 60, higher is easier):"
    assert lines[3].startswith("  heart-and-valve: ") and "Kandel-Moles" in lines[3]
    assert "FK " not in french_part.split("NOT clinically reviewed")[0]


def test_a_page_can_show_any_language_s_figures_without_knowing_the_language():
    english = pack_report(tomllib.loads(EN_PATH.read_text(encoding="utf-8")), source="en")
    french_report = pack_report(FR, source="fr")
    german = pack_report(french() | {"language": "de"}, source="de")

    assert english.figure_headings == ["FK", "SMOG", "Dale-Chall (grade)"]
    assert french_report.figure_headings == ["syllables/word", "Kandel-Moles (band)"]
    assert german.figure_headings == []
    row = french_report.sections[0]
    assert row.figure_cells == [
        f"{row.scores.syllables_per_word:.2f}",
        f"{row.scores.kandel_moles:.1f} ({row.scores.band})",
    ]
    assert len(english.sections[0].figure_cells) == 3 and german.sections[0].figure_cells == []
    assert french_report.targets.startswith("Language: French, measured with Kandel and Moles")
    assert english.targets.startswith("Targets: Flesch-Kincaid (FK) at most 6")
