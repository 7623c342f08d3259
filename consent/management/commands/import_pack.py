"""python manage.py import_pack PATH [PATH ...]: validate content packs and store them."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.packs import PackError, load_pack
from consent.services import PackConflict, pack_import


class Command(BaseCommand):
    help = "Validate content packs and import them as procedure versions (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="TOML content pack files")

    def handle(self, *args: Any, paths: list[str], **options: Any) -> None:
        packs, problems = [], []
        for path in paths:
            try:
                packs.append(load_pack(path))
            except PackError as error:
                problems.extend(error.messages)
        if problems:
            for message in problems:
                self.stderr.write(message)
            raise CommandError(f"{len(problems)} problem(s) found; nothing was imported.")
        try:
            results = pack_import(packs=packs)
        except PackConflict as error:
            raise CommandError(f"{error}; nothing was imported.") from error
        for pack, result in zip(packs, results, strict=True):
            version = result.version
            what = "imported" if result.created else "unchanged, already imported"
            self.stdout.write(
                f"{pack.source_name}: {version.slug} ({version.language}) version "
                f"{version.version} {what} [sha256 {version.content_hash[:16]}]"
            )
