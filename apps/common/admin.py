"""What the admins of several apps share."""

from django.contrib import admin


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Rows that are records (estimates, exchange events, archived periods): looked at in
    the admin, made and changed only by the platform's services and commands."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
