"""Content packs: parse, validate and hash a procedure's TOML file (no database here).

The format is a public contract, documented in docs/content-packs.md. Validation is strict:
every rule is checked, unknown fields are refused (they are usually typos), and every message
names the file, the entry and the field, so an author can fix the pack without reading code.
"""

import datetime
import difflib
import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from consent.canonical import canonical_bytes, nfc

SCHEMA_VERSION = 1
# Identifiers are stored in indexed columns; prose fields have no limit.
MAX_LENGTHS = {"slug": 100, "key": 100, "version": 100, "language": 35}
KEY_PATTERN = re.compile(r"^[a-z0-9-]+$")
# BCP 47: a primary language subtag, then optional script/region/variant subtags.
LANGUAGE_PATTERN = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
SECTION_KINDS = (
    "background",
    "purpose",
    "procedure",
    "benefits",
    "risks",
    "alternatives",
    "preparation",
    "recovery",
    "follow-up",
    "other",
)
REQUIRED_SECTION_KINDS = ("purpose", "benefits", "risks", "alternatives")
RISK_FREQUENCIES = ("most-common", "common", "uncommon", "rare", "very-rare")
QUESTION_KINDS = ("single", "multiple", "true-false", "free-text")
MIN_CHOICES, MAX_CHOICES = 2, 6
MIN_QUESTIONS = 3

TOP_FIELDS = {
    "schema": True,
    "slug": True,
    "language": True,
    "version": True,
    "title": True,
    "summary": True,
    "reviewed_by": False,
    "reviewed_on": False,
    "sections": True,
    "risks": True,
    "alternatives": True,
    "questions": True,
    # Optional (docs/content-packs.md, "Decision-critical facts"): required by `--strict`.
    "facts": False,
    # Optional (docs/content-packs.md, "Translations"): the version of the same slug, in another
    # language, that this pack translates; import checks it matches its source.
    "translation_of": False,
}
TRANSLATION_FIELDS = {"language": True, "version": True}
SECTION_FIELDS = {"key": True, "kind": True, "title": True, "body": True}
RISK_FIELDS = {
    "key": True,
    "name": True,
    "description": True,
    "frequency": True,
    "frequency_text": True,
    "max_per_100": False,
    # Optional: how `max_per_100` reads ("fewer-than", "about", "up-to"), and the group of
    # risks the source gives one figure for (one picture for the group).
    "figure": False,
    "group": False,
}
# How the figure reads. Without `figure`, a `frequency_text` saying "fewer than" or "less than"
# reads "fewer-than", any other "up-to" (the upper bound, as before the field existed).
RISK_FIGURES = ("fewer-than", "about", "up-to")
FEWER_THAN = re.compile(r"\b(fewer|less)\s+than\b", re.IGNORECASE)
FACT_FIELDS = {"key": True, "kind": True, "text": True, "critical": False, "risks": False}
# A pack that declares facts declares at least one of each of these kinds, critical.
CRITICAL_FACT_KINDS = ("purpose", "benefit", "risk", "alternative", "saying-no", "after")
FACT_KINDS = (*CRITICAL_FACT_KINDS, "other")
ALTERNATIVE_FIELDS = {"key": True, "name": True, "description": True}
QUESTION_FIELDS = {
    "key": True,
    "section": True,
    "kind": True,
    "prompt": True,
    "choices": False,
    "correct": False,
    "explanation": True,
    "key_points": False,
    # Optional additions (docs/content-packs.md): the right fact in one statement, why each
    # wrong choice is wrong, and other wordings asked after a re-teach.
    "fact": False,
    "choice_feedback": False,
    "variants": False,
    # Optional: the keys of the [[facts]] this question tests (all its wordings test them).
    "tests": False,
}
VARIANT_FIELDS = {
    "prompt": True,
    "choices": False,
    "correct": False,
    "explanation": False,
    "choice_feedback": False,
}


class PackError(Exception):
    """A content pack that breaks the format; `messages` lists every problem found."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Pack:
    """A validated pack: its canonical content and the SHA-256 that identifies it."""

    source_name: str
    content: dict[str, Any]
    content_hash: str

    @property
    def identity(self) -> tuple[str, str, str]:
        return self.content["slug"], self.content["language"], self.content["version"]

    @property
    def source_identity(self) -> tuple[str, str, str] | None:
        """The slug, language and version this pack translates; None for a source text."""
        declared = self.content.get("translation_of")
        if not declared:
            return None
        return self.content["slug"], declared["language"], declared["version"]


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(content)).hexdigest()


def load_pack(path: str | Path) -> Pack:
    """Read and validate one pack file; raise PackError listing every problem."""
    path = Path(path)
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise PackError([f"{name}: cannot be read ({error.strerror or error})"]) from error
    return parse_pack(raw, source_name=name)


def parse_pack(raw: bytes, *, source_name: str) -> Pack:
    try:
        # "utf-8-sig" also accepts the byte order mark some Windows editors put first.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise PackError(
            [f"{source_name}: is not UTF-8 text (invalid byte on line {line}); save it as UTF-8"]
        ) from error
    try:
        # Text is stored, and hashed, in NFC (consent/text.py).
        data = nfc(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise PackError([f"{source_name}: is not valid TOML: {error}"]) from error
    content = _Validator(source_name).validate(data)
    return Pack(source_name=source_name, content=content, content_hash=content_hash(content))


class _Validator:
    def __init__(self, source_name: str) -> None:
        self.source_name = source_name
        self.errors: list[str] = []

    def error(self, where: str, message: str) -> None:
        prefix = f"{self.source_name}: {where}: " if where else f"{self.source_name}: "
        self.errors.append(prefix + message)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        content = self.table(data, TOP_FIELDS)
        if "schema" in content:
            schema = content["schema"]
            if not isinstance(schema, int) or isinstance(schema, bool):
                self.error("", f'field "schema" must be an integer, not {_type_name(schema)}')
            elif schema != SCHEMA_VERSION:
                self.error("", f'field "schema" is {schema}; this version reads schema 1')
        for field in ("slug", "language", "version", "title", "summary"):
            self.text(content, field, "")
        self.check_review(content)
        self.check_translation_of(content)
        slug = content.get("slug")
        if isinstance(slug, str) and slug.strip() and not KEY_PATTERN.match(slug):
            self.error("", f'field "slug" "{slug}" may only use a-z, 0-9 and "-"')
        language = content.get("language")
        if isinstance(language, str) and language.strip() and not LANGUAGE_PATTERN.match(language):
            self.error("", f'field "language" "{language}" is not a BCP 47 tag such as "en"')

        sections = self.entries(content, "sections", SECTION_FIELDS, minimum=1)
        risks = self.entries(content, "risks", RISK_FIELDS, minimum=1)
        alternatives = self.entries(content, "alternatives", ALTERNATIVE_FIELDS, minimum=1)
        questions = self.entries(content, "questions", QUESTION_FIELDS, minimum=MIN_QUESTIONS)

        section_kinds = self.check_sections(sections)
        self.check_risks(risks)
        for index, alternative in enumerate(alternatives):
            where = self.where("alternatives", index, alternative)
            for field in ("key", "name", "description"):
                self.text(alternative, field, where)
        self.unique_keys("alternatives", alternatives)
        self.check_questions(questions, section_kinds)
        if "facts" in content:
            facts = self.entries(content, "facts", FACT_FIELDS, minimum=1)
            self.check_facts(facts, risks, questions)
        else:
            for index, question in enumerate(questions):
                if "tests" in question:
                    self.error(
                        self.where("questions", index, question),
                        'field "tests" names facts, but the pack declares no [[facts]]',
                    )

        if self.errors:
            raise PackError(self.errors)
        # Types were checked on the values as written (so `schema = 1.0` is refused); only now
        # are equal values made to serialize equally.
        return _normalize(content)

    def check_review(self, content: dict[str, Any]) -> None:
        """`reviewed_by` and `reviewed_on` together, or neither (the pack is then unreviewed).

        `reviewed_on` is a TOML date (2026-03-01) or the same as text; it is kept as the text
        "YYYY-MM-DD", so the canonical content stays plain JSON.
        """
        by_valid = self.text(content, "reviewed_by", "")
        on_valid = False
        if "reviewed_on" in content:
            value = content["reviewed_on"]
            day = _review_date(value)
            if day is None:
                self.error(
                    "",
                    'field "reviewed_on" must be a date such as 2026-03-01, not '
                    + (f'"{value}"' if isinstance(value, str) else _type_name(value)),
                )
            else:
                content["reviewed_on"] = day.isoformat()
                on_valid = True
        # (A field given but wrong is reported once, above.)
        by_alone = by_valid and "reviewed_on" not in content
        on_alone = on_valid and "reviewed_by" not in content
        if by_alone or on_alone:
            given, missing = (
                ("reviewed_by", "reviewed_on") if by_alone else ("reviewed_on", "reviewed_by")
            )
            self.error(
                "",
                f'field "{given}" needs "{missing}" too: a clinical review names who approved '
                "the text and on which date (leave both out while the text is not reviewed)",
            )

    def check_translation_of(self, content: dict[str, Any]) -> None:
        """`translation_of = { language = "en", version = "2026.2" }`: the source, same slug."""
        if "translation_of" not in content:
            return
        value = content["translation_of"]
        where = "translation_of"
        if not isinstance(value, dict):
            self.error(
                where,
                f'must be a table such as {{ language = "en", version = "2026.2" }}, '
                f"not {_type_name(value)}",
            )
            return
        for field in value:
            if field not in TRANSLATION_FIELDS:
                hint = _closest(field, TRANSLATION_FIELDS)
                suffix = f' (did you mean "{hint}"?)' if hint else ""
                self.error(
                    where,
                    f'unknown field "{field}"{suffix}; the source is named by "language" and '
                    '"version" (its slug is this pack\'s)',
                )
        for field in TRANSLATION_FIELDS:
            if field not in value:
                self.error(where, f'missing required field "{field}" (of the source)')
        self.text(value, "version", where)
        if self.text(value, "language", where):
            language = value["language"]
            if not LANGUAGE_PATTERN.match(language):
                self.error(where, f'field "language" "{language}" is not a BCP 47 tag such as "en"')
            elif isinstance(content.get("language"), str) and (
                language.casefold() == content["language"].casefold()
            ):
                self.error(
                    where,
                    f'field "language" "{language}" is this pack\'s own language; a translation '
                    "names the source it was translated from, in another language",
                )
        content["translation_of"] = {f: v for f, v in value.items() if f in TRANSLATION_FIELDS}

    # Structure

    def table(
        self, data: Any, fields: dict[str, bool], name: str = "", index: int = 0
    ) -> dict[str, Any]:
        """Check one table's fields; `name` and `index` place an entry of an array."""
        where = f"{name}[{index}]" if name else ""
        if not isinstance(data, dict):
            self.error(where, f"must be a table, not {_type_name(data)}")
            return {}
        if name:
            where = self.where(name, index, data)
        for field in data:
            if field not in fields:
                hint = _closest(field, fields)
                suffix = f' (did you mean "{hint}"?)' if hint else ""
                self.error(where, f'unknown field "{field}"{suffix}')
        for field, required in fields.items():
            if required and field not in data:
                self.error(where, f'missing required field "{field}"')
        return {field: value for field, value in data.items() if field in fields}

    def entries(
        self, content: dict[str, Any], name: str, fields: dict[str, bool], *, minimum: int
    ) -> list[dict[str, Any]]:
        if name not in content:
            return []
        value = content[name]
        if isinstance(value, dict):
            self.error(
                "",
                f'field "{name}" is a single table; write each entry as [[{name}]], '
                "with double brackets",
            )
        elif not isinstance(value, list):
            self.error("", f'field "{name}" must be [[{name}]] entries, not {_type_name(value)}')
        if not isinstance(value, list):
            content[name] = []
            return []
        if len(value) < minimum:
            entries = "entry" if minimum == 1 else "entries"
            self.error("", f"needs at least {minimum} [[{name}]] {entries}, found {len(value)}")
        checked = [self.table(entry, fields, name, i) for i, entry in enumerate(value)]
        content[name] = checked
        return checked

    def where(self, name: str, index: int, entry: dict[str, Any]) -> str:
        key = entry.get("key")
        return f'{name}[{index}] (key "{key}")' if isinstance(key, str) else f"{name}[{index}]"

    def text(self, entry: dict[str, Any], field: str, where: str) -> bool:
        if field not in entry:
            return False
        value = entry[field]
        if not isinstance(value, str):
            self.error(where, f'field "{field}" must be text, not {_type_name(value)}')
            return False
        if not value.strip():
            self.error(where, f'field "{field}" is empty')
            return False
        limit = MAX_LENGTHS.get(field)
        if limit is not None and len(value) > limit:
            self.error(where, f'field "{field}" is {len(value)} characters long; at most {limit}')
            return False
        return True

    def unique_keys(self, name: str, entries: list[dict[str, Any]]) -> None:
        seen: dict[str, int] = {}
        for index, entry in enumerate(entries):
            key = entry.get("key")
            if not isinstance(key, str):
                continue
            if key in seen:
                self.error(
                    self.where(name, index, entry),
                    f'key "{key}" is already used by {name}[{seen[key]}]',
                )
            else:
                seen[key] = index

    # Entries

    def check_sections(self, sections: list[dict[str, Any]]) -> dict[str, str]:
        kinds: dict[str, str] = {}
        for index, section in enumerate(sections):
            where = self.where("sections", index, section)
            for field in ("key", "title", "body"):
                self.text(section, field, where)
            key = section.get("key")
            if isinstance(key, str) and key and not KEY_PATTERN.match(key):
                self.error(where, f'field "key" "{key}" may only use a-z, 0-9 and "-"')
            if self.text(section, "kind", where) and section["kind"] not in SECTION_KINDS:
                self.error(
                    where,
                    f'field "kind" "{section["kind"]}" is not one of: {", ".join(SECTION_KINDS)}',
                )
            if isinstance(key, str) and isinstance(section.get("kind"), str):
                kinds.setdefault(key, section["kind"])
        self.unique_keys("sections", sections)
        if sections:
            present = {section.get("kind") for section in sections}
            for kind in REQUIRED_SECTION_KINDS:
                if kind not in present:
                    self.error("", f'needs at least one section of kind "{kind}"')
        return kinds

    def check_risks(self, risks: list[dict[str, Any]]) -> None:
        for index, risk in enumerate(risks):
            where = self.where("risks", index, risk)
            for field in ("key", "name", "description", "frequency_text"):
                self.text(risk, field, where)
            if self.text(risk, "frequency", where) and risk["frequency"] not in RISK_FREQUENCIES:
                self.error(
                    where,
                    f'field "frequency" "{risk["frequency"]}" is not one of: '
                    + ", ".join(RISK_FREQUENCIES),
                )
            if "max_per_100" in risk:
                value = risk["max_per_100"]
                if not isinstance(value, int | float) or isinstance(value, bool):
                    self.error(
                        where, f'field "max_per_100" must be a number, not {_type_name(value)}'
                    )
                elif not 0 < value <= 100:
                    self.error(
                        where, f'field "max_per_100" is {value}; it must be above 0 and at most 100'
                    )
            if "figure" in risk:
                if "max_per_100" not in risk:
                    self.error(where, 'field "figure" says how "max_per_100" reads; give both')
                elif self.text(risk, "figure", where) and risk["figure"] not in RISK_FIGURES:
                    self.error(
                        where,
                        f'field "figure" "{risk["figure"]}" is not one of: '
                        + ", ".join(RISK_FIGURES),
                    )
            if self.text(risk, "group", where) and not KEY_PATTERN.match(risk["group"]):
                self.error(where, f'field "group" "{risk["group"]}" may only use a-z, 0-9 and "-"')
        self.unique_keys("risks", risks)
        self.check_risk_groups(risks)

    def check_risk_groups(self, risks: list[dict[str, Any]]) -> None:
        """Risks sharing a `group` are the ones the source gives ONE figure for: they must say
        the same figure the same way, since they are drawn as one picture."""
        groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for index, risk in enumerate(risks):
            if isinstance(risk.get("group"), str) and risk["group"].strip():
                groups.setdefault(risk["group"], []).append((index, risk))
        for group, members in groups.items():
            first_index, first = members[0]
            if len(members) == 1:
                self.error(
                    self.where("risks", first_index, first),
                    f'group "{group}" has only this risk; a group is two risks or more that the '
                    "source gives one figure for",
                )
                continue
            if "max_per_100" not in first:
                self.error(
                    self.where("risks", first_index, first),
                    f'group "{group}" has no "max_per_100": a group shares one figure',
                )
            for index, risk in members[1:]:
                for field in ("max_per_100", "frequency_text", "figure"):
                    if risk.get(field) != first.get(field):
                        self.error(
                            self.where("risks", index, risk),
                            f'field "{field}" differs from risks[{first_index}] in group '
                            f'"{group}"; the risks of a group share one figure, said one way',
                        )

    def check_facts(
        self,
        facts: list[dict[str, Any]],
        risks: list[dict[str, Any]],
        questions: list[dict[str, Any]],
    ) -> None:
        """Decision-critical facts: declared, each tested by a question, none unknown."""
        risk_keys = {risk.get("key") for risk in risks}
        named_risks: set[str] = set()
        kinds: set[str] = set()
        for index, fact in enumerate(facts):
            where = self.where("facts", index, fact)
            for field in ("key", "text"):
                self.text(fact, field, where)
            key = fact.get("key")
            if isinstance(key, str) and key and not KEY_PATTERN.match(key):
                self.error(where, f'field "key" "{key}" may only use a-z, 0-9 and "-"')
            if "critical" in fact and not isinstance(fact["critical"], bool):
                self.error(where, 'field "critical" must be true or false')
            kind = fact.get("kind")
            if self.text(fact, "kind", where):
                if kind not in FACT_KINDS:
                    self.error(
                        where, f'field "kind" "{kind}" is not one of: {", ".join(FACT_KINDS)}'
                    )
                elif fact.get("critical", True) is True:
                    kinds.add(kind)
            if kind == "risk":
                named = fact.get("risks")
                if not (
                    isinstance(named, list) and named and all(isinstance(k, str) for k in named)
                ):
                    self.error(
                        where, 'a "risk" fact needs "risks", the keys of the [[risks]] it states'
                    )
                    continue
                for risk_key in named:
                    if risk_key not in risk_keys:
                        self.error(where, f'field "risks" names "{risk_key}", no risk of this pack')
                    named_risks.add(risk_key)
            else:
                self.refuse(fact, "risks", where, 'only a "risk" fact names risks')
        self.unique_keys("facts", facts)
        for kind in CRITICAL_FACT_KINDS:
            if kind not in kinds:
                self.error(
                    "", f'[[facts]] needs at least one decision-critical fact of kind "{kind}"'
                )
        for index, risk in enumerate(risks):
            if isinstance(risk.get("key"), str) and risk["key"] not in named_risks:
                self.error(
                    self.where("risks", index, risk),
                    'no [[facts]] entry of kind "risk" states this risk (name its key in "risks")',
                )
        fact_keys: set[str] = {fact["key"] for fact in facts if isinstance(fact.get("key"), str)}
        tested: set[str] = set()
        for index, question in enumerate(questions):
            if "tests" not in question:
                continue
            where = self.where("questions", index, question)
            names = question["tests"]
            if not (isinstance(names, list) and names and all(isinstance(k, str) for k in names)):
                self.error(
                    where, 'field "tests" must be a list of [[facts]] keys, e.g. ["purpose"]'
                )
                continue
            for name in names:
                if name in fact_keys:
                    tested.add(name)
                else:
                    hint = _closest(name, dict.fromkeys(fact_keys, True))
                    suffix = f' (did you mean "{hint}"?)' if hint else ""
                    self.error(where, f'field "tests" names "{name}", no fact of this pack{suffix}')
        for index, fact in enumerate(facts):
            key = fact.get("key")
            if fact.get("critical", True) is True and isinstance(key, str) and key not in tested:
                self.error(
                    self.where("facts", index, fact),
                    "no question tests this decision-critical fact; add a question with "
                    f'tests = ["{key}"]',
                )

    def check_questions(
        self, questions: list[dict[str, Any]], section_kinds: dict[str, str]
    ) -> None:
        about_risks = False
        for index, question in enumerate(questions):
            where = self.where("questions", index, question)
            for field in ("key", "prompt", "explanation"):
                self.text(question, field, where)
            if self.text(question, "section", where):
                section = question["section"]
                if not section_kinds:
                    pass  # no usable sections: that is reported once, not for every question
                elif section not in section_kinds:
                    self.error(where, f'field "section" "{section}" names no section of this pack')
                elif section_kinds[section] == "risks":
                    about_risks = True
            if not self.text(question, "kind", where):
                continue
            kind = question["kind"]
            if kind not in QUESTION_KINDS:
                self.error(
                    where, f'field "kind" "{kind}" is not one of: {", ".join(QUESTION_KINDS)}'
                )
                continue
            if kind in ("single", "multiple"):
                self.check_choice_question(question, where)
                self.check_choice_feedback(question, where)
            else:
                self.refuse(question, "choices", where, f'a "{kind}" question has no choices')
                self.refuse(
                    question, "choice_feedback", where, f'a "{kind}" question has no choices'
                )
            if "fact" in question:
                self.text(question, "fact", where)
            self.check_variants(question, where)
            if kind == "true-false":
                if "correct" not in question:
                    self.error(where, 'missing required field "correct" (true or false)')
                elif not isinstance(question["correct"], bool):
                    self.error(
                        where, 'field "correct" must be true or false for a true-false question'
                    )
            if kind == "free-text":
                self.refuse(
                    question, "correct", where, "a free-text answer is assessed by the physician"
                )
                self.check_key_points(question, where)
            else:
                self.refuse(
                    question, "key_points", where, "key points are for free-text questions only"
                )
        self.unique_keys("questions", questions)
        if questions and section_kinds and not about_risks:
            self.error(
                "", 'needs at least one question whose "section" is a section of kind "risks"'
            )

    def check_choice_question(self, question: dict[str, Any], where: str) -> None:
        choices = question.get("choices")
        if choices is None:
            self.error(
                where, f'missing required field "choices" for a "{question["kind"]}" question'
            )
            return
        if not isinstance(choices, list):
            self.error(where, f'field "choices" must be a list of text, not {_type_name(choices)}')
            return
        if not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
            self.error(
                where,
                f'field "choices" has {_count(len(choices), "choice")}; '
                f"it needs {MIN_CHOICES} to {MAX_CHOICES}",
            )
        seen: dict[str, int] = {}
        for i, choice in enumerate(choices):
            if not isinstance(choice, str):
                self.error(where, f"choices[{i}] must be text, not {_type_name(choice)}")
                continue
            if not choice.strip():
                self.error(where, f"choices[{i}] is empty")
                continue
            # Choices that differ only in case or spacing look the same to a patient.
            same = " ".join(choice.split()).casefold()
            if same in seen:
                self.error(where, f'choices[{i}] "{choice}" repeats choices[{seen[same]}]')
            else:
                seen[same] = i
        if "correct" not in question:
            self.error(where, 'missing required field "correct" (a list of choice indexes)')
            return
        correct = question["correct"]
        if not isinstance(correct, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in correct
        ):
            self.error(where, 'field "correct" must be a list of 0-based choice indexes, e.g. [0]')
            return
        for i in correct:
            if not 0 <= i < len(choices):
                self.error(
                    where, f"correct index {i} is out of range for {_count(len(choices), 'choice')}"
                )
        if len(set(correct)) != len(correct):
            self.error(where, 'field "correct" lists the same index twice')
        if question["kind"] == "single" and len(correct) != 1:
            self.error(
                where, f'a "single" question has exactly one correct index, found {len(correct)}'
            )
        if question["kind"] == "multiple" and not correct:
            self.error(where, 'field "correct" must list at least one index')

    def check_choice_feedback(self, question: dict[str, Any], where: str) -> None:
        """`choice_feedback`: one text per choice, "" for a right choice or where none is given."""
        if "choice_feedback" not in question:
            return
        feedback = question["choice_feedback"]
        choices = question.get("choices")
        if not isinstance(feedback, list) or not all(isinstance(item, str) for item in feedback):
            self.error(where, 'field "choice_feedback" must be a list of text, one per choice')
            return
        if isinstance(choices, list) and len(feedback) != len(choices):
            self.error(
                where,
                f'field "choice_feedback" has {len(feedback)} '
                f"{'entry' if len(feedback) == 1 else 'entries'} for "
                f"{_count(len(choices), 'choice')}; "
                'give one per choice, in the same order ("" where there is nothing to say)',
            )
            return
        correct = question.get("correct")
        if isinstance(correct, list):
            for i in correct:
                if isinstance(i, int) and 0 <= i < len(feedback) and feedback[i].strip():
                    self.error(
                        where,
                        f'choice_feedback[{i}] is for a right choice; leave it "" (feedback '
                        "says why a wrong choice is wrong)",
                    )

    def check_variants(self, question: dict[str, Any], where: str) -> None:
        """`variants`: other wordings of the same fact, each checked like the question."""
        if "variants" not in question:
            return
        variants = question["variants"]
        kind = question.get("kind")
        if kind == "free-text":
            self.refuse(question, "variants", where, "a free-text question has no variants")
            return
        if not isinstance(variants, list) or not variants:
            self.error(where, 'field "variants" must be [[questions.variants]] entries')
            return
        seen = {" ".join(str(question.get("prompt", "")).split()).casefold()}
        for index, variant in enumerate(variants):
            place = f"{where}: variants[{index}]"
            if not isinstance(variant, dict):
                self.error(place, f"must be a table, not {_type_name(variant)}")
                continue
            for field in variant:
                if field not in VARIANT_FIELDS:
                    hint = _closest(field, VARIANT_FIELDS)
                    suffix = f' (did you mean "{hint}"?)' if hint else ""
                    self.error(place, f'unknown field "{field}"{suffix}')
            if "prompt" not in variant:
                self.error(place, 'missing required field "prompt"')
            elif self.text(variant, "prompt", place):
                same = " ".join(variant["prompt"].split()).casefold()
                if same in seen:
                    self.error(place, "repeats the prompt of another wording of this question")
                seen.add(same)
            if "explanation" in variant:
                self.text(variant, "explanation", place)
            shaped = {**variant, "kind": kind}
            if kind in ("single", "multiple"):
                self.check_choice_question(shaped, place)
                self.check_choice_feedback(shaped, place)
            elif kind == "true-false":
                self.refuse(variant, "choices", place, 'a "true-false" question has no choices')
                self.refuse(
                    variant, "choice_feedback", place, 'a "true-false" question has no choices'
                )
                if "correct" not in variant:
                    self.error(place, 'missing required field "correct" (true or false)')
                elif not isinstance(variant["correct"], bool):
                    self.error(
                        place, 'field "correct" must be true or false for a true-false question'
                    )

    def check_key_points(self, question: dict[str, Any], where: str) -> None:
        points = question.get("key_points")
        if points is None:
            self.error(where, 'missing required field "key_points" for a free-text question')
            return
        if not isinstance(points, list) or not points:
            self.error(where, 'field "key_points" must be a non-empty list of text')
            return
        for i, point in enumerate(points):
            if not isinstance(point, str):
                self.error(where, f"key_points[{i}] must be text, not {_type_name(point)}")
            elif not point.strip():
                self.error(where, f"key_points[{i}] is empty")

    def refuse(self, question: dict[str, Any], field: str, where: str, why: str) -> None:
        if field in question:
            self.error(where, f'field "{field}" is not allowed here: {why}')


def _normalize(value: Any) -> Any:
    """Make equal content serialize equally: 1.0 and 1 are the same number."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.replace("\r\n", "\n")
    if isinstance(value, list):
        return [_normalize(item) for item in value]
    if isinstance(value, dict):
        return {key: _normalize(item) for key, item in value.items()}
    return value


def _review_date(value: Any) -> datetime.date | None:
    """A TOML local date, or "YYYY-MM-DD" text; None for anything else (a date-time too)."""
    if isinstance(value, datetime.datetime):
        return None
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime.date | datetime.time):  # TOML dates and times
        return "a date or time"
    return type(value).__name__


def _count(number: int, noun: str) -> str:
    """'1 choice', '3 choices'."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _closest(field: str, fields: dict[str, bool]) -> str | None:
    matches = difflib.get_close_matches(field, list(fields), n=1, cutoff=0.7)
    return matches[0] if matches else None


def risk_figure(max_per_100: float | None, frequency_text: str, figure: str | None = None) -> str:
    """How a risk's `max_per_100` reads: the pack's `figure`, else what its wording says."""
    if max_per_100 is None:
        return ""
    if figure in RISK_FIGURES:
        return figure
    return "fewer-than" if FEWER_THAN.search(frequency_text) else "up-to"


@dataclass(frozen=True)
class FactCoverage:
    key: str
    kind: str
    text: str
    critical: bool
    questions: tuple[str, ...]  # keys of the questions that test it, in the pack's order


def fact_coverage(content: dict[str, Any]) -> list[FactCoverage]:
    """Each declared fact with the questions that test it ([] for a pack without facts)."""
    questions = content.get("questions", [])
    return [
        FactCoverage(
            key=fact["key"],
            kind=fact["kind"],
            text=fact["text"],
            critical=fact.get("critical", True),
            questions=tuple(q["key"] for q in questions if fact["key"] in q.get("tests", ())),
        )
        for fact in content.get("facts", [])
    ]


def coverage_lines(content: dict[str, Any]) -> list[str]:
    """The questions per decision-critical fact, one line each, as import_pack prints them."""
    coverage = fact_coverage(content)
    if not coverage:
        return ["  coverage: the pack declares no [[facts]]; coverage is not checked"]
    lines = ["  coverage (questions per fact):"]
    width = max(len(fact.key) for fact in coverage)
    for fact in coverage:
        label = fact.kind if fact.critical else f"{fact.kind}, not critical"
        asked = ", ".join(fact.questions) or "none"
        lines.append(f"    {fact.key:<{width}}  {len(fact.questions)}  ({label}) {asked}")
    return lines
