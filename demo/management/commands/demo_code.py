"""python manage.py demo_code: the code to type at the second step of a demo log-in (the demo
accounts share one known authenticator secret, `demo.accounts.DEMO_TOTP_SECRET`)."""

from typing import Any

from django.core.management.base import BaseCommand

from demo.accounts import demo_second_factor_lines


class Command(BaseCommand):
    help = "Print the current second-factor code of the demo accounts (and their demo secret)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("\n".join(demo_second_factor_lines()))
