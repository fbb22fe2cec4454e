from django.contrib import admin

from apps.audit.models import AuditEvent, Checkpoint


class ReadOnlyAdmin(admin.ModelAdmin):
    """Read-only: the log and its checkpoints are append-only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "index",
        "created_at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "organisation",
        "public",
    )
    list_filter = ("action", "public")


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("tree_size", "timestamp", "root_hash", "key_id")
