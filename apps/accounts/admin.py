from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import transaction

from apps.accounts.models import ApiToken, Organisation, User
from apps.audit.services import audit_append


@admin.register(User)
class CarbonUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Role", {"fields": ("role", "organisation")}))
    list_display = ("username", "role", "organisation", "is_active", "is_staff")
    list_filter = ("role", "is_active")

    def save_model(self, request, obj, form, change):
        # A role change made here is logged like one made by services.user_role_change.
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and "role" in form.changed_data:
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


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "country")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("key_sha256", "prefix", "created_at", "last_used_at")
