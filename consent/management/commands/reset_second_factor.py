"""python manage.py reset_second_factor USERNAME [--by ADMIN]: remove a staff member's
authenticator app and recovery codes (a lost phone); they enrol again at their next log-in.

Audited (`account.second_factor_reset`), naming the administrator who asked when given."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.services.accounts import second_factor_reset


class Command(BaseCommand):
    help = (
        "Reset a staff member's second factor (authenticator app and recovery codes); "
        "they set up a new one at their next log-in. Audited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--by", default="", help="the administrator who asked for it")

    def handle(self, *args: Any, username: str, by: str, **options: Any) -> None:
        users = get_user_model().objects
        user = users.filter(username=username).first()
        if user is None:
            raise CommandError(f'No account "{username}".')
        admin = None
        if by:
            admin = users.filter(username=by, is_superuser=True).first()
            if admin is None:
                raise CommandError(f'No administrator account "{by}".')
        removed = second_factor_reset(user=user, by=admin)
        self.stdout.write(
            f"{username}: second factor reset ({removed} device(s) removed); "
            "they set up a new authenticator app at their next log-in."
        )
