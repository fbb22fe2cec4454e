from django.contrib import admin

from apps.evidence.models import EvidenceFile, IngestRun


@admin.register(EvidenceFile)
class EvidenceFileAdmin(admin.ModelAdmin):
    list_display = ("sha256", "size", "created_at")
    readonly_fields = ("sha256", "size", "created_at")


@admin.register(IngestRun)
class IngestRunAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "source",
        "original_name",
        "requested_by",
        "status",
        "accepted",
        "rejected",
        "duplicates",
        "created_at",
    )
    list_filter = ("source", "status")
