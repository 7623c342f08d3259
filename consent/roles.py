"""Staff roles as groups with permissions, kept in step with the code after every migrate."""

from typing import Any

from django.contrib.auth.models import Group, Permission

PHYSICIAN = "physician"
AUDITOR = "auditor"
# Uploads, previews and publishes content packs (consent/views/authoring/); sees no patient.
CONTENT_EDITOR = "content editor"
ROLES = (PHYSICIAN, AUDITOR, CONTENT_EDITOR)

# codename -> roles that hold it. Custom permissions are declared on ConsentSession.Meta and
# ProcedureVersion.Meta.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "add_consentsession": (PHYSICIAN,),
    "change_consentsession": (PHYSICIAN,),
    "view_consentsession": (PHYSICIAN, AUDITOR),
    "view_all_sessions": (AUDITOR,),
    "view_auditevent": (AUDITOR,),
    "publish_procedureversion": (CONTENT_EDITOR,),
}


def roles_ensure() -> None:
    """Create the staff groups and give each exactly its permissions."""
    permissions = {
        p.codename: p
        for p in Permission.objects.filter(
            content_type__app_label="consent", codename__in=ROLE_PERMISSIONS
        )
    }
    for role in ROLES:
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
    if user.groups.filter(name=CONTENT_EDITOR).exists():
        return "content_editor"
    return "staff"
