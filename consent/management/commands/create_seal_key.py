"""python manage.py create_seal_key: a development CA and the seal certificate it issues."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from consent.record.seal import seal_key_create


class Command(BaseCommand):
    help = (
        "Create a development CA and an RSA seal certificate issued by it (digital signature "
        "and non-repudiation), written with the chain as PKCS#12 at SEAL_P12_PATH "
        "(development only: a hospital installs a certificate from its own CA)."
    )

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
        self.stdout.write(
            f"created a development seal key issued by a development CA: {path}\n"
            "Records sealed with an earlier key verify once its certificate (or its CA's) is "
            "listed in SEAL_TRUSTED_CERTS."
        )
