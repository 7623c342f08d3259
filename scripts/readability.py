"""Report the reading level of content packs, as the patient reads them.

Usage::

    python scripts/readability.py content/mitraclip.en.toml [more.toml ...]

For every pack given, prints Markdown tables of its sections and questions, measured with the
formulas of the pack's language: words, sentences, the longest sentence and, for English,
Flesch-Kincaid grade, SMOG and Dale-Chall, and what is over target (Flesch-Kincaid above 6
anywhere; SMOG above 8 in purpose, benefits, risks and alternatives sections); for French,
words per sentence, syllables per word and Kandel-Moles reading ease (below 60 is over target);
for a language without a formula, counts only. The measuring is consent/content/readability.py;
see its docstring.

Exits with status 1 if a section is over target (questions are flagged but do not change the
status), and with status 2 if a file cannot be read. Never uses the network.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consent.content.readability import pack_report, render_markdown, syllable_source


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("packs", nargs="+", type=Path, help="content pack TOML files")
    args = parser.parse_args(argv)

    source = syllable_source()
    if not source.startswith(("NLTK", "cmudict")):
        print(f"note: syllables counted with {source}", file=sys.stderr)

    all_ok = True
    for path in args.packs:
        try:
            with path.open("rb") as handle:
                content = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as error:
            print(f"{path}: cannot read pack: {error}", file=sys.stderr)
            return 2
        report = pack_report(content, source=str(path))
        print(render_markdown(report))
        all_ok = all_ok and not report.sections_over
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
