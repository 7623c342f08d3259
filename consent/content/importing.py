"""Import content packs: each validated pack becomes an immutable procedure version."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from consent.audit.events import audit_record
from consent.content.markdown import markdown_to_html
from consent.content.packs import Pack
from consent.content.translation import compare
from consent.models import (
    Alternative,
    AuditEvent,
    ProcedureVersion,
    Question,
    Risk,
    Section,
)
from consent.services import ServiceError

ERROR_VERSION_CONFLICT = (
    "{name}: {slug} ({language}) version {version} is already imported with different content; "
    "give the changed pack a new version"
)


ERROR_SOURCE_MISSING = (
    "{name}: translation_of: its source, {slug} ({language}) version {version}, is not imported "
    "and not among the valid packs of this import; import the source first, or with it"
)


class PackConflict(ServiceError):
    pass


class TranslationMismatch(ServiceError):
    """Translations that do not match their source, or whose source is missing: nothing imported.

    `messages` lists every problem, one a line, each naming the file, entry and field."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class ImportResult:
    version: ProcedureVersion
    created: bool


def translation_problems(packs: list[Pack]) -> list[str]:
    """What is wrong with the translations among `packs`: a source that is neither imported nor
    in `packs` (any order), or content that does not match the source's keys and figures."""
    batch = {pack.identity: pack for pack in packs}
    problems: list[str] = []
    for pack in packs:
        source_identity = pack.source_identity
        if source_identity is None:
            continue
        slug, language, version = source_identity
        in_batch = batch.get(source_identity)
        source_content = None
        if in_batch is not None:
            source_content = in_batch.content
        else:
            stored = ProcedureVersion.objects.filter(
                slug=slug, language=language, version=version
            ).first()
            source_content = stored.content if stored is not None else None
        if source_content is None:
            problems.append(
                ERROR_SOURCE_MISSING.format(
                    name=pack.source_name, slug=slug, language=language, version=version
                )
            )
            continue
        problems += compare(
            pack.content,
            source_content,
            name=pack.source_name,
            source_label=f"{slug} ({language}) version {version}",
        )
    return problems


def pack_import(*, packs: list[Pack]) -> list[ImportResult]:
    """Store validated packs as procedure versions, all of them or none.

    Importing identical content again changes nothing; different content under an existing
    slug, language and version is refused. A translation (`translation_of`) is refused unless its
    source is imported or among `packs` (in any order) and it matches the source
    (consent/content/translation.py); it is stored linked to its source. Results are in the
    order of `packs`.
    """
    results: dict[int, ImportResult] = {}
    with transaction.atomic():
        problems = translation_problems(packs)
        if problems:
            raise TranslationMismatch(problems)
        # Sources first, so that a translation given before its source can link to it.
        order = sorted(range(len(packs)), key=lambda i: packs[i].source_identity is not None)
        for index in order:
            pack = packs[index]
            slug, language, version = pack.identity
            existing = ProcedureVersion.objects.filter(
                slug=slug, language=language, version=version
            ).first()
            if existing is not None:
                if existing.content_hash != pack.content_hash:
                    raise PackConflict(
                        ERROR_VERSION_CONFLICT.format(
                            name=pack.source_name, slug=slug, language=language, version=version
                        )
                    )
                results[index] = ImportResult(version=existing, created=False)
                continue
            results[index] = ImportResult(version=_procedure_version_create(pack), created=True)
    return [results[index] for index in range(len(packs))]


def _source_version(pack: Pack) -> ProcedureVersion | None:
    """The stored version a translation translates (checked to exist by translation_problems)."""
    source_identity = pack.source_identity
    if source_identity is None:
        return None
    slug, language, version = source_identity
    return ProcedureVersion.objects.get(slug=slug, language=language, version=version)


def _review_date(text: str | None) -> datetime.date | None:
    """The pack keeps the review date as "YYYY-MM-DD" text (consent/content/packs.py)."""
    return datetime.date.fromisoformat(text) if text else None


@dataclass(frozen=True)
class ContentInstances:
    """A pack's sections, risks, alternatives and questions as unsaved model instances of one
    version, in the pack's order: what the importer stores and the workbench previews."""

    sections: list[Section]
    risks: list[Risk]
    alternatives: list[Alternative]
    questions: list[Question]


def content_instances(version: ProcedureVersion, content: dict[str, Any]) -> ContentInstances:
    """Build, without saving, every row a validated pack's content becomes under `version`."""
    sections = {
        entry["key"]: Section(
            version=version,
            position=position,
            key=entry["key"],
            kind=entry["kind"],
            title=entry["title"],
            body=entry["body"],
            body_html=markdown_to_html(entry["body"]),
        )
        for position, entry in enumerate(content["sections"], start=1)
    }
    risks = [
        Risk(
            version=version,
            position=position,
            key=entry["key"],
            name=entry["name"],
            description=entry["description"],
            frequency=entry["frequency"],
            frequency_text=entry["frequency_text"],
            max_per_100=entry.get("max_per_100"),
        )
        for position, entry in enumerate(content["risks"], start=1)
    ]
    alternatives = [
        Alternative(version=version, position=position, **entry)
        for position, entry in enumerate(content["alternatives"], start=1)
    ]
    questions = [
        Question(
            version=version,
            position=position,
            key=entry["key"],
            section=sections[entry["section"]],
            kind=entry["kind"],
            prompt=entry["prompt"],
            choices=entry.get("choices", []),
            correct=entry.get("correct"),
            explanation=entry["explanation"],
            key_points=entry.get("key_points", []),
            fact=entry.get("fact", ""),
            choice_feedback=entry.get("choice_feedback", []),
            variants=entry.get("variants", []),
        )
        for position, entry in enumerate(content["questions"], start=1)
    ]
    return ContentInstances(
        sections=list(sections.values()),
        risks=risks,
        alternatives=alternatives,
        questions=questions,
    )


def version_unsaved(content: dict[str, Any], **fields: Any) -> ProcedureVersion:
    """The procedure version a validated pack's content becomes, not yet saved."""
    return ProcedureVersion(
        slug=content["slug"],
        language=content["language"],
        version=content["version"],
        title=content["title"],
        summary=content["summary"],
        reviewed_by=content.get("reviewed_by", ""),
        reviewed_on=_review_date(content.get("reviewed_on")),
        content=content,
        **fields,
    )


def _procedure_version_create(pack: Pack) -> ProcedureVersion:
    content = pack.content
    version = version_unsaved(
        content,
        content_hash=pack.content_hash,
        source_name=pack.source_name,
        translation_of=_source_version(pack),
    )
    version.save()
    rows = content_instances(version, content)
    for section in rows.sections:  # saved one by one: the questions refer to their keys
        section.save()
    Risk.objects.bulk_create(rows.risks)
    Alternative.objects.bulk_create(rows.alternatives)
    Question.objects.bulk_create(rows.questions)
    audit_record(
        action="procedure_version.imported",
        role=AuditEvent.Role.SYSTEM,
        obj=version,
        payload={
            "slug": version.slug,
            "version": version.version,
            "hash": version.content_hash,
            **(
                {"translation_of": version.translation_of.content_hash}
                if version.translation_of is not None
                else {}
            ),
        },
    )
    return version
