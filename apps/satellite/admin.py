from django.contrib import admin

from apps.satellite.models import ActivityIndex, Observation, ReconciliationFlag, Scene


@admin.register(Scene)
class SceneAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "evidence",
        "variable",
        "bands",
        "height",
        "width",
        "tile_count",
        "status",
    )
    list_filter = ("status", "format")
    raw_id_fields = ("evidence", "ingest_run")


@admin.register(Observation)
class ObservationAdmin(admin.ModelAdmin):
    list_display = ("installation", "scene", "band", "time", "variable", "mean", "valid_fraction")
    raw_id_fields = ("installation", "scene")


@admin.register(ActivityIndex)
class ActivityIndexAdmin(admin.ModelAdmin):
    list_display = ("installation", "variable", "period", "activity_index", "flagged")
    raw_id_fields = ("installation",)


@admin.register(ReconciliationFlag)
class ReconciliationFlagAdmin(admin.ModelAdmin):
    list_display = ("installation", "period", "disclosed_value", "satellite_value", "status")
    list_filter = ("status",)
    raw_id_fields = ("installation", "activity_index", "closed_by")
