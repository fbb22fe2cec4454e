from django.contrib import admin

from apps.evidence.models import EvidenceFile, IngestRun


@admin.register(EvidenceFile)
class EvidenceFileAdmin(admin.ModelAdmin):
    list_display = ("original_name", "kind", "sha256", "size", "uploaded_by", "created_at")
    list_filter = ("kind",)
    readonly_fields = ("sha256", "size", "created_at")


@admin.register(IngestRun)
class IngestRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "source", "status", "accepted", "rejected", "duplicates", "created_at")
    list_filter = ("source", "status")
