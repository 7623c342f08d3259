"""The demo's staff accounts and content: known passwords, for a developer's machine only."""

from base64 import b32decode

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import CommandError
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from consent.content import importing
from consent.content.packs import load_pack
from consent.models import ProcedureVersion
from consent.roles import AUDITOR, CONTENT_EDITOR, PHYSICIAN, roles_ensure

# username, password, first name, last name, role: what setup_demo creates and prints.
DEMO_ACCOUNTS = (
    ("dr.martin", "demo-physician-pass", "Alex", "Martin", PHYSICIAN),
    ("auditor", "demo-auditor-pass", "Sam", "Lee", AUDITOR),
    ("editor", "demo-editor-pass", "Robin", "Dupont", CONTENT_EDITOR),
)
# seed_demo adds these four physicians; they share dr.martin's demo password.
DEMO_PHYSICIANS = (
    ("dr.okafor", "Ngozi", "Okafor"),
    ("dr.lindqvist", "Erik", "Lindqvist"),
    ("dr.moreau", "Claire", "Moreau"),
    ("dr.tanaka", "Kenji", "Tanaka"),
)
DEMO_PHYSICIAN, DEMO_PHYSICIAN_PASSWORD = next(a[:2] for a in DEMO_ACCOUNTS if a[4] == PHYSICIAN)
# The second factor of every demo account: one authenticator-app secret (base32), known to
# everyone like the passwords. Add it to an app, or run `manage.py demo_code` for the code.
DEMO_TOTP_SECRET = "CONSENTDEMOSECRETKNOWNTOEVERYONE"  # noqa: S105 (a demo)

Account = tuple[str, str, str, str, str]


def refuse_in_production(*, force: bool) -> None:
    """Refuse to add known passwords to what looks like a production database (DEBUG off)."""
    if not settings.DEBUG and not force:
        raise CommandError(
            "DEBUG is off: this looks like a production database, and the demo passwords are "
            "known to everyone. Run it with DEBUG=1 on a developer's machine, or pass --force."
        )


def accounts_ensure(accounts: tuple[Account, ...] = DEMO_ACCOUNTS) -> dict[str, User]:
    """Create or reset these accounts, each in its role's group; return them by username."""
    roles_ensure()
    users = {}
    with transaction.atomic():
        for username, password, first, last, role in accounts:
            user, _created = User.objects.get_or_create(username=username)
            user.first_name, user.last_name = first, last
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            demo_second_factor_ensure(user)
            users[username] = user
    return users


def demo_second_factor_ensure(user: User) -> TOTPDevice:
    """The account's authenticator app, enrolled with the demo secret (so no enrolment page)."""
    key = b32decode(DEMO_TOTP_SECRET).hex()
    TOTPDevice.objects.filter(user=user).exclude(key=key).delete()
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, key=key, defaults={"name": "Demo authenticator", "confirmed": True}
    )
    return device


def demo_code() -> str:
    """The code an authenticator app with the demo secret shows now."""
    totp = TOTP(b32decode(DEMO_TOTP_SECRET))
    return f"{totp.token():06d}"


def demo_second_factor_lines() -> list[str]:
    """How to complete a demo log-in, for setup_demo and demo_code to print."""
    return [
        "Second step of every demo log-in: a code from an authenticator app with the demo secret",
        f"  {DEMO_TOTP_SECRET}",
        f"  (the code now is {demo_code()}; `python manage.py demo_code` prints the current one)",
    ]


def demo_physicians_ensure() -> list[User]:
    """The accounts of setup_demo and four more physicians; return the physicians, dr.martin
    first."""
    more = tuple((u, DEMO_PHYSICIAN_PASSWORD, f, last, PHYSICIAN) for u, f, last in DEMO_PHYSICIANS)
    accounts = (*DEMO_ACCOUNTS, *more)
    users = accounts_ensure(accounts)
    return [users[username] for username, _p, _f, _l, role in accounts if role == PHYSICIAN]


def content_packs_ensure() -> list[ProcedureVersion]:
    """Import the packs of `content/` that are not imported yet; return the newest version of
    each procedure, in a fixed order."""
    present = set(ProcedureVersion.objects.values_list("slug", "language", "version"))
    packs = [load_pack(path) for path in sorted(settings.CONSENT_CONTENT_DIR.glob("*.toml"))]
    missing = [pack for pack in packs if pack.identity not in present]
    if missing:
        importing.pack_import(packs=missing)
    newest: dict[tuple[str, str], ProcedureVersion] = {}
    for version in ProcedureVersion.objects.order_by("slug", "language", "-imported_at", "-pk"):
        newest.setdefault((version.slug, version.language), version)
    return [newest[key] for key in sorted(newest)]


def password_remembered(user: User) -> User:
    """Check the password once per run, not at every signature.

    Signing re-checks the physician's password (PBKDF2, about 0.3 s). The password is really
    checked the first time; later signatures with the same password reuse that answer. Only this
    in-memory user, which the seeder hands to the services, remembers it.
    """
    checked: set[str] = set()
    check = user.check_password

    def check_password(raw_password: str | None) -> bool:
        if raw_password is not None and raw_password in checked:
            return True
        ok = check(raw_password)
        if ok and raw_password is not None:
            checked.add(raw_password)
        return ok

    user.check_password = check_password  # type: ignore[method-assign]
    return user
