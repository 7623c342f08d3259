from django.core.management.base import BaseCommand

from consent.services.sessions import sessions_expire_due


class Command(BaseCommand):
    help = "Expire consent sessions not attested within CONSENT_SESSION_TTL of their creation."

    def handle(self, *args: object, **options: object) -> None:
        expired = sessions_expire_due()
        self.stdout.write(f"{len(expired)} consent session(s) expired.")
