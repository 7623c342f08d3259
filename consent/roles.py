"""Staff roles as groups with permissions, kept in step with the code after every migrate."""

from typing import Any

from django.contrib.auth.models import Group, Permission

PHYSICIAN = "physician"
AUDITOR = "auditor"

# codename -> roles that hold it. Custom permissions are declared on ConsentSession.Meta.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "add_consentsession": (PHYSICIAN,),
    "change_consentsession": (PHYSICIAN,),
    "view_consentsession": (PHYSICIAN, AUDITOR),
    "view_all_sessions": (AUDITOR,),
    "view_auditevent": (AUDITOR,),
}


def roles_ensure() -> None:
    """Create the physician and auditor groups and give each exactly its permissions."""
    permissions = {
        p.codename: p
        for p in Permission.objects.filter(
            content_type__app_label="consent", codename__in=ROLE_PERMISSIONS
        )
    }
    for role in (PHYSICIAN, AUDITOR):
        group, _ = Group.objects.get_or_create(name=role)
        wanted = [permissions[c] for c, roles in ROLE_PERMISSIONS.items() if role in roles]
        group.permissions.set(wanted)


def roles_ensure_after_migrate(**kwargs: Any) -> None:
    roles_ensure()


def role_of(user: Any) -> str:
    """The role a staff member acts in, as the audit log names it."""
    if user.groups.filter(name=PHYSICIAN).exists():
        return PHYSICIAN
    if user.has_perm("consent.view_auditevent"):
        return AUDITOR
    return "staff"
