"""Translations: a pack that declares `translation_of` must match its source (no database here).

A translation says the same things as its source in another language, so everything that is
not prose must be the same (docs/content-packs.md, "Translations"):

- the sections, risks, alternatives, questions and facts, by key, in the same order;
- each section's kind; each risk's frequency, `max_per_100`, `figure` and `group`;
- each question's section, kind, number of choices, right answers (`correct`), `tests`, number
  of key points, whether it states a `fact`, which choices have feedback, and its variants (the
  same checks); each fact's kind, `critical` and risks;
- the numbers written in digits in every text: "1 sur 100" for "1 in 100" passes, "1 sur 10"
  does not. (Numbers written in words, "six months", are the translator's to keep.)

Every mismatch is one message naming the translation's file, the entry (with its key), the field
and what the source has, like the format's own messages.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from typing import Any

# The entries of a pack, as (field of the pack, name of one entry in messages).
ENTRY_LISTS = (
    ("sections", "section"),
    ("risks", "risk"),
    ("alternatives", "alternative"),
    ("questions", "question"),
    ("facts", "fact"),
)
# Fields that are not prose: they must equal the source's.
SAME_FIELDS = {
    "sections": ("kind",),
    "risks": ("frequency", "max_per_100", "figure", "group"),
    "alternatives": (),
    "questions": ("section", "kind", "correct", "tests"),
    "facts": ("kind", "critical", "risks"),
}
# Prose: translated freely, but with the same numbers in digits. Lists are checked item by item.
PROSE_FIELDS = {
    "": ("title", "summary"),
    "sections": ("title", "body"),
    "risks": ("name", "description", "frequency_text"),
    "alternatives": ("name", "description"),
    "questions": ("prompt", "choices", "explanation", "fact", "choice_feedback", "key_points"),
    "facts": ("text",),
}
VARIANT_PROSE_FIELDS = ("prompt", "choices", "explanation", "choice_feedback")
# Prose lists whose length is part of the structure (one entry per choice, per key point).
COUNTED_LISTS = {"choices": "choice", "key_points": "key point", "choice_feedback": "entry"}
# Optional prose fields whose presence matters (the summary states a question's `fact`).
OPTIONAL_PROSE = ("fact",)

_DIGITS = re.compile(r"\d+")


def numbers(text: str) -> list[str]:
    """The numbers written in digits in a text, in order ("1 in 100" -> ["1", "100"]).

    Each run of digits is one number, so "1,5" and "1.5", or "1 000" and "1,000", give the same
    runs whatever the language's separators; any script's digits count, read as their value.
    """
    return [str(int(run)) for run in _DIGITS.findall(text)]


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


def _where(name: str, index: int, entry: dict[str, Any]) -> str:
    key = entry.get("key")
    return f'{name}[{index}] (key "{key}")' if isinstance(key, str) else f"{name}[{index}]"


def _numbers_text(found: list[str]) -> str:
    return ", ".join(found) if found else "no number"


class _Comparison:
    def __init__(self, name: str, source_label: str) -> None:
        self.name = name
        self.source_label = source_label
        self.messages: list[str] = []

    def error(self, where: str, message: str) -> None:
        prefix = f"{self.name}: {where}: " if where else f"{self.name}: "
        self.messages.append(prefix + message)

    # Numbers in prose

    def same_numbers(self, where: str, field: str, text: Any, source_text: Any) -> None:
        if not isinstance(text, str) or not isinstance(source_text, str):
            return
        mine, theirs = numbers(text), numbers(source_text)
        if Counter(mine) != Counter(theirs):
            self.error(
                where,
                f'field "{field}" has the numbers {_numbers_text(mine)}; the source has '
                f"{_numbers_text(theirs)} (a translation keeps every figure, in digits where "
                "the source writes digits)",
            )

    def prose(
        self, where: str, entry: dict[str, Any], source: dict[str, Any], fields: tuple[str, ...]
    ) -> None:
        for field in fields:
            value, theirs = entry.get(field), source.get(field)
            if field in OPTIONAL_PROSE and (field in entry) != (field in source):
                self.error(
                    where,
                    f'field "{field}" is {"given" if field in entry else "absent"}; the source '
                    f"{'has none' if field in entry else 'has one'}",
                )
                continue
            if isinstance(value, list) and isinstance(theirs, list):
                if len(value) != len(theirs):
                    noun = COUNTED_LISTS.get(field, "item")
                    self.error(
                        where,
                        f'field "{field}" has {_count(len(value), noun)}; the source has '
                        f"{len(theirs)}",
                    )
                    continue
                for i, (item, source_item) in enumerate(zip(value, theirs, strict=True)):
                    if field == "choice_feedback" and bool(str(item).strip()) != bool(
                        str(source_item).strip()
                    ):
                        self.error(
                            where,
                            f"choice_feedback[{i}] is "
                            f"{'given' if str(item).strip() else 'empty'}; the source's is "
                            f"{'given' if str(source_item).strip() else 'empty'}",
                        )
                    self.same_numbers(where, f"{field}[{i}]", item, source_item)
            elif (value is None) != (theirs is None):
                self.error(
                    where,
                    f'field "{field}" is {"absent" if value is None else "given"}; the source '
                    f"{'has one' if value is None else 'has none'}",
                )
            else:
                self.same_numbers(where, field, value, theirs)

    # Entries

    def entries(self, list_name: str, noun: str, mine: Any, theirs: Any) -> None:
        mine = [e for e in mine if isinstance(e, dict)] if isinstance(mine, list) else []
        theirs = [e for e in theirs if isinstance(e, dict)] if isinstance(theirs, list) else []
        my_keys = [e.get("key") for e in mine]
        their_keys = [e.get("key") for e in theirs]
        their_index = {key: i for i, key in enumerate(their_keys)}
        my_index = {key: i for i, key in enumerate(my_keys)}
        missing = [key for key in their_keys if key not in my_index]
        for index, entry in enumerate(mine):
            key = entry.get("key")
            if key not in their_index:
                hint = _renamed(key, index, their_keys, missing)
                self.error(
                    _where(list_name, index, entry),
                    f'the source has no {noun} with key "{key}"; a translation keeps the '
                    f"source's keys{hint}",
                )
        for key in missing:
            i = their_index[key]
            self.error(
                "",
                f'missing the {noun} with key "{key}" (the source\'s {list_name}[{i}]); a '
                f"translation has every {noun} of its source",
            )
        # The same order: the keys both have, in the order each gives them.
        common_mine = [key for key in my_keys if key in their_index]
        common_theirs = [key for key in their_keys if key in my_index]
        if common_mine != common_theirs:
            for key, expected in zip(common_mine, common_theirs, strict=True):
                if key != expected:
                    index = my_index[key]
                    self.error(
                        _where(list_name, index, mine[index]),
                        f'is out of order: the source has key "{expected}" at this place and '
                        f"this one at {list_name}[{their_index[key]}]; keep the source's order",
                    )
                    break
        for index, entry in enumerate(mine):
            key = entry.get("key")
            if key not in their_index:
                continue
            source = theirs[their_index[key]]
            where = _where(list_name, index, entry)
            for field in SAME_FIELDS[list_name]:
                if entry.get(field) != source.get(field):
                    self.error(
                        where,
                        f'field "{field}" is {_show(entry.get(field))}; the source has '
                        f"{_show(source.get(field))}",
                    )
            self.prose(where, entry, source, PROSE_FIELDS[list_name])
            if list_name == "questions":
                self.variants(where, entry, source)

    def variants(self, where: str, question: dict[str, Any], source: dict[str, Any]) -> None:
        mine, theirs = question.get("variants") or [], source.get("variants") or []
        if not isinstance(mine, list) or not isinstance(theirs, list):
            return
        if len(mine) != len(theirs):
            self.error(
                where,
                f'field "variants" has {_count(len(mine), "wording")}; the source has '
                f"{len(theirs)}",
            )
            return
        for i, (variant, source_variant) in enumerate(zip(mine, theirs, strict=True)):
            if not isinstance(variant, dict) or not isinstance(source_variant, dict):
                continue
            place = f"{where}: variants[{i}]"
            if variant.get("correct") != source_variant.get("correct"):
                self.error(
                    place,
                    f'field "correct" is {_show(variant.get("correct"))}; the source has '
                    f"{_show(source_variant.get('correct'))}",
                )
            self.prose(place, variant, source_variant, VARIANT_PROSE_FIELDS)


def compare(
    translation: dict[str, Any], source: dict[str, Any], *, name: str, source_label: str
) -> list[str]:
    """Every way a translation's content differs from its source's, one message each."""
    comparison = _Comparison(name, source_label)
    if source.get("translation_of"):
        declared = source["translation_of"]
        comparison.error(
            "translation_of",
            f"{source_label} is itself a translation (of its {declared.get('language')} version "
            f"{declared.get('version')}); translate the source text",
        )
        return comparison.messages
    comparison.prose("", translation, source, PROSE_FIELDS[""])
    if ("facts" in translation) != ("facts" in source):
        comparison.error(
            "",
            "declares [[facts]] and the source does not"
            if "facts" in translation
            else "declares no [[facts]]; the source does",
        )
    for list_name, noun in ENTRY_LISTS:
        comparison.entries(list_name, noun, translation.get(list_name), source.get(list_name))
    return comparison.messages


def _renamed(key: Any, index: int, source_keys: list[Any], missing: list[Any]) -> str:
    """A hint when a key looks renamed: the source's key at this place, or the closest one."""
    if index < len(source_keys) and source_keys[index] in missing:
        return f' (is it the source\'s "{source_keys[index]}", renamed?)'
    names = [k for k in missing if isinstance(k, str)]
    close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
    return f' (is it the source\'s "{close[0]}", renamed?)' if close else ""


def _count(number: int, noun: str) -> str:
    plural = "entries" if noun == "entry" else f"{noun}s"
    return f"{number} {noun if number == 1 else plural}"
