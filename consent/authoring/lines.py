"""Where in an uploaded pack each problem is: the line number, and the lines around it.

The parser (consent/content/packs.py) names what is wrong by entry and field, e.g.
`questions[3] (key "risk-common"): correct index 4 is out of range for 3 choices`; a TOML
syntax error names its line itself. An author fixes a file by line, so this module finds the
line the message is about by reading the text as TOML is written: the fourth `[[questions]]`
header is `questions[3]`, and inside it the line that starts with `correct =`. Lines inside
multi-line strings (a section's Markdown body) are never taken for headers or keys.

When the message names no entry (a rule about the whole pack) or the entry is written in a way
this reader does not follow (an inline table), no line is given and the message still says
what is wrong.
"""

import re
from dataclasses import dataclass

# `[[questions]]`, `[[questions.variants]]`, `[facts]`: array-of-tables and table headers.
HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
# Where a message names an entry: `questions[3]`, then maybe `: variants[0]` or ` variants[0]`.
ENTRY = re.compile(r"^(?P<table>[a-z_]+)\[(?P<index>\d+)\](?: \(key \"[^\"]*\"\))?")
SUB_ENTRY = re.compile(r"^:? ?(?P<table>[a-z_]+)\[(?P<index>\d+)\]")
# The field a message is about.
FIELD_NAMED = re.compile(r"\bfield \"(?P<field>[A-Za-z0-9_-]+)\"")
FIELD_INDEXED = re.compile(r"^(?P<field>choices|key_points|choice_feedback|correct)\[\d+\]")
FIELD_WORDS = (
    (re.compile(r"^correct index\b"), "correct"),
    (re.compile(r"^key \"[^\"]*\" is already used"), "key"),
    # Warnings (consent/content/warnings.py) name a rule: each is about one field.
    (re.compile(r"^warning \[(long-right-answer|all-or-none-of-the-above)\]"), "choices"),
    (re.compile(r"^warning \[(stem-contains-answer|true-false-several-claims)\]"), "prompt"),
)
# A message about one top-level field may start with its name: `translation_of: its source ...`.
FIELD_FIRST = re.compile(r"^(?P<field>[a-z_]+): ")
MISSING = "missing required field"
SYNTAX_LINE = re.compile(r"\(at line (?P<line>\d+), column \d+\)|\bon line (?P<byte_line>\d+)\b")
# Lines shown on each side of the line a problem is on.
CONTEXT_LINES = 1


@dataclass(frozen=True)
class SourceLine:
    number: int
    text: str
    offending: bool


@dataclass(frozen=True)
class LocatedProblem:
    """One problem as the workbench shows it: the message, its line, and the lines around it."""

    message: str
    line: int | None
    excerpt: tuple[SourceLine, ...]


@dataclass(frozen=True)
class _Header:
    line: int  # 1-based
    name: str
    array: bool


class PackText:
    """An uploaded pack's text, read for its headers and keys."""

    def __init__(self, text: str) -> None:
        # Lines as TOML counts them: ended by "\n" only (str.splitlines would also break at
        # a form feed or U+2028, and every line number after it would be wrong).
        self.lines = [line.removesuffix("\r") for line in text.split("\n")]
        self.in_string = _multiline_string_lines(self.lines)
        self.headers = [
            _Header(line=number, name=_table_name(match.group(2)), array=match.group(1) == "[[")
            for number, line in enumerate(self.lines, start=1)
            if not self.in_string[number - 1] and (match := HEADER.match(line))
        ]

    def entry_range(
        self, table: str, index: int, within: tuple[int, int] | None = None
    ) -> tuple[int, int] | None:
        """The lines (first, last) of the `index`-th `[[table]]` entry, inside `within`."""
        low, high = within or (1, len(self.lines))
        found = [
            header
            for header in self.headers
            if header.array and header.name == table and low <= header.line <= high
        ]
        if index >= len(found):
            return None
        start = found[index].line
        end = high
        for header in self.headers:
            if header.line > start and not header.name.startswith(table + "."):
                end = min(end, header.line - 1)
                break
        return start, end

    def key_line(self, field: str, first: int, last: int) -> int | None:
        """The line where `field = ...` is written between `first` and `last`, in that table's
        own part (before any sub-table header)."""
        pattern = re.compile(rf"^\s*([\"']?){re.escape(field)}\1\s*=")
        for number in range(first, last + 1):
            if number > first and self._is_header(number):
                break
            if not self.in_string[number - 1] and pattern.match(self.lines[number - 1]):
                return number
        return None

    def _is_header(self, number: int) -> bool:
        return any(header.line == number for header in self.headers)

    def top_level_end(self) -> int:
        return self.headers[0].line - 1 if self.headers else len(self.lines)

    def excerpt(self, line: int) -> tuple[SourceLine, ...]:
        first = max(1, line - CONTEXT_LINES)
        last = min(len(self.lines), line + CONTEXT_LINES)
        return tuple(
            SourceLine(number=n, text=self.lines[n - 1], offending=n == line)
            for n in range(first, last + 1)
        )


def _table_name(raw: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in raw.split("."))


def _multiline_string_lines(lines: list[str]) -> list[bool]:
    """For each line, whether it starts inside a multi-line string (\"\"\" or ''')."""
    inside: str | None = None
    flags = []
    for line in lines:
        flags.append(inside is not None)
        position = 0
        while True:
            if inside is None:
                found = [(line.find(q, position), q) for q in ('"""', "'''")]
                found = [(at, q) for at, q in found if at >= 0]
                if not found:
                    break
                at, quote = min(found)
                inside, position = quote, at + 3
            else:
                at = line.find(inside, position)
                if at < 0:
                    break
                inside, position = None, at + 3
    return flags


def _field_of(message: str) -> str | None:
    for pattern, field in FIELD_WORDS:
        if pattern.search(message):
            return field
    indexed = FIELD_INDEXED.match(message)
    if indexed:
        return indexed.group("field")
    named = FIELD_NAMED.search(message)
    return named.group("field") if named else None


def problem_line(text: PackText, message: str) -> int | None:
    """The line a parser message (without its file name) is about, or None."""
    syntax = SYNTAX_LINE.search(message)
    if syntax:
        return int(syntax.group("line") or syntax.group("byte_line"))
    entry = ENTRY.match(message)
    if entry is None:
        first = FIELD_FIRST.match(message)
        field = first.group("field") if first else _field_of(message)
        if field is None or MISSING in message:
            return None
        return text.key_line(field, 1, text.top_level_end())
    span = text.entry_range(entry.group("table"), int(entry.group("index")))
    if span is None:
        return text.key_line(entry.group("table"), 1, text.top_level_end())
    rest = message[entry.end() :]
    sub = SUB_ENTRY.match(rest)
    if sub is not None:
        table = f"{entry.group('table')}.{sub.group('table')}"
        inner = text.entry_range(table, int(sub.group("index")), within=span)
        if inner is not None:
            span, rest = inner, rest[sub.end() :]
    rest = rest.lstrip(": ")
    field = _field_of(rest)
    if field is None or MISSING in rest:
        return span[0]
    return text.key_line(field, *span) or span[0]


def problems_located(text: str, messages: list[str], *, source_name: str) -> list[LocatedProblem]:
    """Each message without the file's name in front, with its line and the lines around it."""
    pack_text = PackText(text)
    prefix = f"{source_name}: "
    located = []
    for message in messages:
        shown = message[len(prefix) :] if message.startswith(prefix) else message
        line = problem_line(pack_text, shown)
        if line is not None and not 1 <= line <= len(pack_text.lines):
            line = None
        excerpt = pack_text.excerpt(line) if line is not None else ()
        located.append(LocatedProblem(message=shown, line=line, excerpt=excerpt))
    return located
