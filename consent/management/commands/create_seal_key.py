"""python manage.py create_seal_key: a self-signed development seal for the PDF records."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from consent.record.seal import seal_key_create


class Command(BaseCommand):
    help = "Create a self-signed PKCS#12 seal key at SEAL_P12_PATH (development only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="replace an existing key")

    def handle(self, *args: Any, force: bool, **options: Any) -> None:
        path = Path(settings.SEAL_P12_PATH)
        if path.exists() and not force:
            self.stdout.write(f"seal key already present: {path}")
            return
        seal_key_create(
            path,
            passphrase=settings.SEAL_P12_PASSPHRASE.encode(),
            common_name=f"{settings.INSTITUTION_NAME} (development seal)",
        )
        self.stdout.write(f"created a self-signed development seal key: {path}")
