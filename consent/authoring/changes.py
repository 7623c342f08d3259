"""What a new pack changes from the version it replaces, said plainly.

Sections, risks, alternatives, questions and facts are matched by their `key`: an entry is
added, removed or changed, and a changed entry lists its changed fields (and its `position`
when it moved among the entries both versions have). A figure (a number,
`correct`, a kind or a frequency) is shown before -> after (`max_per_100` 1 -> 2); changed
wording is shown word by word, the words taken out and put in marked. Nested wordings (a
question's `variants`) are compared field by field (`variants[0].prompt`).
"""

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

PARTS = ("sections", "risks", "alternatives", "questions", "facts")
# Top-level fields compared as the pack's own (the entries are compared by part).
TOP_FIELDS = ("version", "title", "summary", "reviewed_by", "reviewed_on")
# The field that names an entry for a reader.
LABEL_FIELDS = {
    "sections": "title",
    "risks": "name",
    "alternatives": "name",
    "questions": "prompt",
    "facts": "text",
}
# Fields shown as before -> after, never word by word.
FIGURE_FIELDS = {
    "max_per_100",
    "correct",
    "kind",
    "frequency",
    "figure",
    "group",
    "section",
    "critical",
    "version",
    "reviewed_on",
}
WORDS = re.compile(r"\S+")


@dataclass(frozen=True)
class WordPiece:
    text: str
    kind: str  # "same", "added", "removed"


@dataclass(frozen=True)
class FieldChange:
    name: str
    before: str
    after: str
    # Word by word for wording; empty for a figure (shown before -> after).
    words: tuple[WordPiece, ...] = ()

    @property
    def is_figure(self) -> bool:
        return not self.words


@dataclass(frozen=True)
class EntryChange:
    part: str
    key: str
    label: str
    status: str  # "added", "removed", "changed"
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class Comparison:
    top: tuple[FieldChange, ...]
    entries: tuple[EntryChange, ...]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def unchanged(self) -> bool:
        return not self.top and not self.entries

    def part(self, name: str) -> list[EntryChange]:
        return [entry for entry in self.entries if entry.part == name]


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list) and all(not isinstance(item, dict | list) for item in value):
        if all(isinstance(item, str) for item in value):
            return " | ".join(value)
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    return str(value)


def word_diff(before: str, after: str) -> tuple[WordPiece, ...]:
    """The words of `after`, with those taken out of `before` and put in marked."""
    old, new = WORDS.findall(before), WORDS.findall(after)
    pieces: list[WordPiece] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(WordPiece(" ".join(old[i1:i2]), "same"))
            continue
        if i2 > i1:
            pieces.append(WordPiece(" ".join(old[i1:i2]), "removed"))
        if j2 > j1:
            pieces.append(WordPiece(" ".join(new[j1:j2]), "added"))
    return tuple(pieces)


def _flat(entry: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """An entry's fields, a list of tables (a question's variants) spelt out field by field."""
    flat: dict[str, Any] = {}
    for name, value in entry.items():
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            for index, item in enumerate(value):
                flat.update(_flat(item, f"{prefix}{name}[{index}]."))
        else:
            flat[prefix + name] = value
    return flat


def _field_change(name: str, before: Any, after: Any) -> FieldChange:
    old, new = _shown(before), _shown(after)
    plain_name = name.rsplit(".", 1)[-1]
    figure = (
        plain_name in FIGURE_FIELDS
        or not isinstance(before, str | list)
        or not isinstance(after, str | list)
        or before is None
        or after is None
    )
    return FieldChange(
        name=name, before=old, after=new, words=() if figure else word_diff(old, new)
    )


def fields_compared(
    before: dict[str, Any], after: dict[str, Any], names: Any = None
) -> list[FieldChange]:
    old, new = _flat(before), _flat(after)
    order = list(names) if names is not None else [*new, *(n for n in old if n not in new)]
    return [
        _field_change(name, old.get(name), new.get(name))
        for name in order
        if old.get(name) != new.get(name)
    ]


def _by_key(entries: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(entries, list):
        return {}
    return {e["key"]: e for e in entries if isinstance(e, dict) and isinstance(e.get("key"), str)}


def _label(part: str, entry: dict[str, Any]) -> str:
    return str(entry.get(LABEL_FIELDS[part], ""))


def pack_compare(before: dict[str, Any], after: dict[str, Any]) -> Comparison:
    """Everything `after` (a new pack's content) changes from `before` (the replaced one's)."""
    entries: list[EntryChange] = []
    counts: dict[str, dict[str, int]] = {}
    for part in PARTS:
        old, new = _by_key(before.get(part)), _by_key(after.get(part))
        found = {"added": 0, "removed": 0, "changed": 0}
        # The order patients see them in: an entry kept but moved says from where to where.
        kept_old = [key for key in old if key in new]
        kept_new = [key for key in new if key in old]
        for key, entry in new.items():
            if key not in old:
                entries.append(EntryChange(part, key, _label(part, entry), "added"))
                found["added"] += 1
                continue
            changed = fields_compared(old[key], entry)
            if kept_old.index(key) != kept_new.index(key):
                moved = FieldChange(
                    name="position",
                    before=str(list(old).index(key) + 1),
                    after=str(list(new).index(key) + 1),
                )
                changed = [moved, *changed]
            if changed:
                entries.append(
                    EntryChange(part, key, _label(part, entry), "changed", tuple(changed))
                )
                found["changed"] += 1
        for key, entry in old.items():
            if key not in new:
                entries.append(EntryChange(part, key, _label(part, entry), "removed"))
                found["removed"] += 1
        counts[part] = found
    top = fields_compared(
        {name: before.get(name) for name in TOP_FIELDS},
        {name: after.get(name) for name in TOP_FIELDS},
        TOP_FIELDS,
    )
    return Comparison(top=tuple(top), entries=tuple(entries), counts=counts)
