from django.contrib import admin

from apps.facilities.models import Installation


@admin.register(Installation)
class InstallationAdmin(admin.ModelAdmin):
    list_display = (
        "identifier",
        "name",
        "organisation",
        "country",
        "grid_zone",
        "footprint_source",
    )
    search_fields = ("identifier", "name", "owner_name")
    raw_id_fields = ("organisation", "ingest_run")
