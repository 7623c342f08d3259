"""python manage.py readability [PACK.toml | SLUG ...]: the reading level of content packs.

A path ending in .toml is read from disk; any other argument is a procedure slug, measured on
the newest imported version in each of its languages; no argument measures the newest version
of every imported procedure. The report is consent/content/readability.py's Markdown table.
"""

import tomllib
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.content.readability import pack_report, render_markdown
from consent.models import ProcedureVersion


class Command(BaseCommand):
    help = (
        "Report the reading level of content packs (files or imported slugs); fails when a "
        "section is over target."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("packs", nargs="*", help="TOML content pack files or procedure slugs")

    def handle(self, *args: Any, packs: list[str], **options: Any) -> None:
        over = 0
        for source, content in _contents(packs):
            report = pack_report(content, source=source)
            self.stdout.write(render_markdown(report))
            over += len(report.sections_over)
        if over:
            raise CommandError(f"{over} section(s) over target.")


def _contents(arguments: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """What to measure: (name, pack content) for each file, and for each slug's newest versions."""
    contents = []
    slugs = [argument for argument in arguments if not argument.endswith(".toml")]
    for argument in arguments:
        if argument.endswith(".toml"):
            try:
                with Path(argument).open("rb") as handle:
                    contents.append((argument, tomllib.load(handle)))
            except (OSError, tomllib.TOMLDecodeError) as error:
                raise CommandError(f"{argument}: cannot read pack: {error}") from error
    if slugs or not arguments:
        newest: dict[tuple[str, str], ProcedureVersion] = {}
        versions = ProcedureVersion.objects.order_by("slug", "language", "-imported_at", "-pk")
        for version in versions.filter(slug__in=slugs) if slugs else versions:
            newest.setdefault((version.slug, version.language), version)
        for slug in slugs:
            if not any(key[0] == slug for key in newest):
                raise CommandError(f'No "{slug}" content pack is imported; run import_pack.')
        for version in newest.values():
            name = f"{version.slug} ({version.language}) version {version.version}"
            contents.append((name, version.content))
    return contents
