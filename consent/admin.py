"""Django admin for superusers only: read-only for the consent data, accounts editable.

Records, attempts, signatures and audit events are evidence: nobody edits them here (the
database triggers would refuse anyway). Opening any of these lists or rows is access to health
data and is written to the audit log, like the auditor's workspace.
"""

from typing import Any, cast

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from consent.audit.events import Origin, staff_access_record
from consent.models import (
    Addendum,
    Attempt,
    AuditEvent,
    ConsentRecord,
    ConsentSession,
    ProcedureVersion,
    Signature,
)


class SuperuserAdminSite(admin.AdminSite):
    site_header = _("Consent comprehension: administration")
    site_title = _("Consent administration")
    index_title = _("Read-only records and user accounts")

    def has_permission(self, request: HttpRequest) -> bool:
        from consent.views.access import second_factor_passed

        # A superuser's log-in must have passed the second factor too (consent/views/auth.py).
        user = request.user
        return bool(user.is_active and user.is_superuser and second_factor_passed(request))


admin_site = SuperuserAdminSite(name="admin")
admin_site.register(get_user_model(), UserAdmin)
admin_site.register(Group, GroupAdmin)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and rows to read; no add, change or delete; each view is audited."""

    show_full_result_count = False  # no second COUNT over a large table
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def get_actions(self, request: HttpRequest) -> dict:
        return {}

    def _audited(self, request: HttpRequest, object_id: str = "") -> None:
        staff_access_record(
            # The admin site lets in logged-in superusers only: never an anonymous user.
            user=cast(User, request.user),
            origin=Origin.of(request),
            action="admin.viewed",
            role=AuditEvent.Role.STAFF,
            payload={"model": self.model._meta.label_lower, "object_id": object_id},
        )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        self._audited(request)
        return super().changelist_view(request, extra_context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        self._audited(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(ProcedureVersion, site=admin_site)
class ProcedureVersionAdmin(ReadOnlyAdmin):
    list_display = ("slug", "version", "language", "title", "imported_at")
    list_filter = ("slug", "language")


@admin.register(ConsentSession, site=admin_site)
class ConsentSessionAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "status", "procedure_version", "physician", "created_at")
    list_filter = ("status", "procedure_version")
    list_select_related = ("procedure_version", "physician")
    # Never a patient identifier: the admin's search is a GET, so the MRN would go into the URL
    # (history, proxies, logs). Patients are found in the auditor's records list, whose search
    # is posted and kept in the session.
    search_fields = ("=public_id",)
    search_help_text = _(
        "Search by the session's id. To find a patient by name or MRN, use the auditor's records "
        "list (/audit/), which keeps the search out of the address."
    )
    date_hierarchy = "created_at"


@admin.register(ConsentRecord, site=admin_site)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ("record_id", "finalized_at", "finalized_by", "pdf_size", "pdf_sha256")
    list_select_related = ("finalized_by",)
    search_fields = ("=record_id",)
    exclude = ("record_json",)


@admin.register(Attempt, site=admin_site)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ("session", "question", "round", "is_correct", "created_at")
    list_filter = ("is_correct", "round")
    list_select_related = ("session", "question")


@admin.register(Signature, site=admin_site)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ("session", "kind", "printed_name", "method", "signed_at")
    list_filter = ("kind", "method")
    list_select_related = ("session",)
    exclude = ("image",)


@admin.register(Addendum, site=admin_site)
class AddendumAdmin(ReadOnlyAdmin):
    list_display = ("record", "kind", "created_by", "created_at")
    list_filter = ("kind",)
    list_select_related = ("record", "created_by")


@admin.register(AuditEvent, site=admin_site)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "occurred_at", "actor_label", "role", "action", "object_type")
    list_filter = ("role", "action")
    search_fields = ("=action", "=actor_label")
    ordering = ("-seq",)
