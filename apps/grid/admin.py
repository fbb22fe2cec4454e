from django.contrib import admin

from apps.grid.models import (
    EmissionFactor,
    GridAverage,
    GridZone,
    HydrogenAssessment,
    IntensitySeries,
)


@admin.register(GridZone)
class GridZoneAdmin(admin.ModelAdmin):
    list_display = ("key", "country", "name", "synthetic")
    search_fields = ("key", "name")


@admin.register(EmissionFactor)
class EmissionFactorAdmin(admin.ModelAdmin):
    list_display = ("zone", "kind", "mode", "valid_from", "valid_to", "value_g_per_kwh")
    list_filter = ("kind",)
    search_fields = ("zone", "mode", "source")
    raw_id_fields = ("ingest_run",)


@admin.register(GridAverage)
class GridAverageAdmin(admin.ModelAdmin):
    list_display = ("basis", "code", "name", "year", "value_g_per_kwh")
    list_filter = ("basis",)
    search_fields = ("code", "name")
    raw_id_fields = ("ingest_run",)


@admin.register(IntensitySeries)
class IntensitySeriesAdmin(admin.ModelAdmin):
    list_display = ("zone", "year", "hours", "measured", "computed", "gap_filled", "missing")
    readonly_fields = ("sha256", "evidence_sha256")


@admin.register(HydrogenAssessment)
class HydrogenAssessmentAdmin(admin.ModelAdmin):
    list_display = ("installation", "year", "zone", "monthly_passes", "hourly_passes")
    raw_id_fields = ("installation",)
    exclude = ("profile", "monthly_trace", "hourly_trace", "us45v_trace")
