"""Import content packs: each validated pack becomes an immutable procedure version."""

import datetime
from dataclasses import dataclass

from django.db import transaction

from consent.audit.events import audit_record
from consent.content.markdown import markdown_to_html
from consent.content.packs import Pack
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


class PackConflict(ServiceError):
    pass


@dataclass(frozen=True)
class ImportResult:
    version: ProcedureVersion
    created: bool


def pack_import(*, packs: list[Pack]) -> list[ImportResult]:
    """Store validated packs as procedure versions, all of them or none.

    Importing identical content again changes nothing; different content under an existing
    slug, language and version is refused.
    """
    results = []
    with transaction.atomic():
        for pack in packs:
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
                results.append(ImportResult(version=existing, created=False))
                continue
            results.append(ImportResult(version=_procedure_version_create(pack), created=True))
    return results


def _review_date(text: str | None) -> datetime.date | None:
    """The pack keeps the review date as "YYYY-MM-DD" text (consent/content/packs.py)."""
    return datetime.date.fromisoformat(text) if text else None


def _procedure_version_create(pack: Pack) -> ProcedureVersion:
    content = pack.content
    version = ProcedureVersion.objects.create(
        slug=content["slug"],
        language=content["language"],
        version=content["version"],
        title=content["title"],
        summary=content["summary"],
        reviewed_by=content.get("reviewed_by", ""),
        reviewed_on=_review_date(content.get("reviewed_on")),
        content_hash=pack.content_hash,
        content=content,
        source_name=pack.source_name,
    )
    sections = {
        entry["key"]: Section.objects.create(
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
    Risk.objects.bulk_create(
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
    )
    Alternative.objects.bulk_create(
        Alternative(version=version, position=position, **entry)
        for position, entry in enumerate(content["alternatives"], start=1)
    )
    Question.objects.bulk_create(
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
    )
    audit_record(
        action="procedure_version.imported",
        role=AuditEvent.Role.SYSTEM,
        obj=version,
        payload={"slug": version.slug, "version": version.version, "hash": version.content_hash},
    )
    return version
