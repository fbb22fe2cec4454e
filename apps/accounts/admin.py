from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from apps.accounts.models import ApiToken, Organisation, User


@admin.register(User)
class CarbonUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Role", {"fields": ("role", "organisation")}))
    list_display = ("username", "role", "organisation", "is_active", "is_staff")
    list_filter = ("role", "is_active")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "country")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("key_sha256", "prefix", "created_at", "last_used_at")
