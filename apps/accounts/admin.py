"""The admin site's pages for organisations, users and API tokens. Every change an
administrator makes there to who may do what (a user's role, organisation, staff,
superuser or active status; a token's revocation or expiry) is in the audit log, in the
same transaction as the change, as if made through the services."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import transaction

from apps.accounts.models import ApiToken, Organisation, User
from apps.accounts.services import api_tokens_revoke_all
from apps.audit.services import audit_append

#: User fields whose change through the admin is audited: what the user may see and do.
AUDITED_USER_FIELDS = ("organisation", "is_staff", "is_superuser", "is_active")
#: ApiToken fields an administrator may change, audited.
AUDITED_TOKEN_FIELDS = ("revoked_at", "expires_at")


def _plain(value):
    """A field value as the audit payload records it (ids for relations, ISO for times)."""
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@admin.register(User)
class CarbonUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Role", {"fields": ("role", "organisation")}))
    list_display = ("username", "role", "organisation", "is_active", "is_staff")
    list_filter = ("role", "is_active")

    def save_model(self, request, obj, form, change):
        # Changes made here are logged like those made by the services.
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if not change:
                return
            if "role" in form.changed_data:
                audit_append(
                    actor=request.user,
                    action="user.role_change",
                    object_type="user",
                    object_id=obj.pk,
                    payload={
                        "username": obj.username,
                        "from": form.initial.get("role"),
                        "to": obj.role,
                    },
                )
            changes = {
                name: {"from": _plain(form.initial.get(name)), "to": _plain(getattr(obj, name))}
                for name in AUDITED_USER_FIELDS
                if name in form.changed_data
            }
            if changes:
                audit_append(
                    actor=request.user,
                    action="user.change",
                    object_type="user",
                    object_id=obj.pk,
                    payload={"username": obj.username, "changes": changes},
                )
            if "is_active" in form.changed_data and not obj.is_active:
                # Tokens must not come back when the account is reactivated.
                api_tokens_revoke_all(user=obj, actor=request.user, reason="account deactivated")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "country")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("key_sha256", "prefix", "created_at", "last_used_at")

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            changes = {
                name: {"from": _plain(form.initial.get(name)), "to": _plain(getattr(obj, name))}
                for name in AUDITED_TOKEN_FIELDS
                if name in form.changed_data
            }
            if changes or not change:
                audit_append(
                    actor=request.user,
                    action="token.admin_change" if change else "token.admin_create",
                    object_type="api_token",
                    object_id=obj.pk,
                    payload={"username": obj.user.username, "changes": changes},
                )

    def delete_model(self, request, obj):
        with transaction.atomic():
            pk, username = obj.pk, obj.user.username
            super().delete_model(request, obj)
            audit_append(
                actor=request.user,
                action="token.admin_delete",
                object_type="api_token",
                object_id=pk,
                payload={"username": username},
            )

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            gone = list(queryset.values_list("pk", "user__username"))
            super().delete_queryset(request, queryset)
            for pk, username in gone:
                audit_append(
                    actor=request.user,
                    action="token.admin_delete",
                    object_type="api_token",
                    object_id=pk,
                    payload={"username": username},
                )
