"""python manage.py import_pack PATH [PATH ...]: validate content packs and store them."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.content.importing import (
    PackConflict,
    TranslationMismatch,
    pack_import,
    translation_problems,
)
from consent.content.packs import Pack, PackError, coverage_lines, load_pack
from consent.content.readability import pack_report, summary_lines, targets_line
from consent.content.warnings import pack_warnings
from consent.models import ProcedureVersion


class Command(BaseCommand):
    help = "Validate content packs and import them as procedure versions (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="TOML content pack files")
        parser.add_argument(
            "--strict",
            action="store_true",
            help="refuse packs with warnings (questions that can be answered without "
            "understanding, or a pack that declares no decision-critical [[facts]]), "
            "importing nothing",
        )

    def handle(self, *args: Any, paths: list[str], strict: bool = False, **options: Any) -> None:
        packs: list[Pack] = []
        problems: list[str] = []
        for path in paths:
            try:
                packs.append(load_pack(path))
            except PackError as error:
                problems.extend(error.messages)
        problems.extend(_same_version_conflicts(packs))
        # Translations: the source imported or given here, and the same keys and figures.
        problems.extend(translation_problems(packs))
        # Questions that can be answered without understanding: printed, refused if --strict.
        # (Printed only when nothing else is wrong: errors come first.)
        warnings = [line for pack in packs for line in pack_warnings(pack)]
        if strict:
            problems.extend(warnings)
        elif not problems:
            for line in warnings:
                self.stderr.write(line)
        if problems:
            for message in problems:
                self.stderr.write(message)
            raise CommandError(f"{len(problems)} problem(s) found; nothing was imported.")
        try:
            results = pack_import(packs=packs)
        except PackConflict as error:
            raise CommandError(f"{error}; nothing was imported.") from error
        except TranslationMismatch as error:  # checked above; the database changed since
            for message in error.messages:
                self.stderr.write(message)
            raise CommandError(
                f"{len(error.messages)} problem(s) found; nothing was imported."
            ) from error
        for pack, result in zip(packs, results, strict=True):
            version = result.version
            what = "imported" if result.created else "unchanged, already imported"
            self.stdout.write(
                f"{pack.source_name}: {version.slug} ({version.language}) version "
                f"{version.version} {what} [sha256 {version.content_hash[:16]}]"
            )
            if result.created and version.translation_of is not None:
                source = version.translation_of
                self.stdout.write(
                    f"  translation of {source.slug} ({source.language}) version "
                    f"{source.version} [sha256 {source.content_hash[:16]}]: same keys and figures"
                )
            if result.created:
                # What was just imported, as the patient will read it (issue 11): one line per
                # section, and the sections and questions over target named.
                report = pack_report(pack.content, source=pack.source_name)
                self.stdout.write(f"  readability ({targets_line(report)}):")
                for line in summary_lines(report):
                    self.stdout.write(line)
                # Whether a clinician approved the text (issue 11): said after what was imported.
                self.stdout.write(f"  {_review_status(version)}")
                # Which questions test each decision-critical fact (docs/content-packs.md).
                for line in coverage_lines(pack.content):
                    self.stdout.write(line)


def _review_status(version: ProcedureVersion) -> str:
    if version.clinically_reviewed:
        return f"clinically reviewed by {version.reviewed_by} on {version.reviewed_on}"
    return (
        "NOT clinically reviewed: for demonstration only (no reviewed_by and reviewed_on in the "
        "pack); with DEBUG off, sessions need CONSENT_ALLOW_UNREVIEWED_CONTENT"
    )


def _same_version_conflicts(packs: list[Pack]) -> list[str]:
    """Packs given together that claim the same slug, language and version with other content."""
    first: dict[tuple[str, str, str], Pack] = {}
    problems = []
    for pack in packs:
        earlier = first.setdefault(pack.identity, pack)
        if earlier.content_hash != pack.content_hash:
            slug, language, version = pack.identity
            problems.append(
                f"{pack.source_name}: {slug} ({language}) version {version} has different "
                f"content from {earlier.source_name}; give one of them a new version"
            )
    return problems
