from django.contrib import admin

from apps.shipments.models import Shipment


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ("declaration_id", "line", "date", "cn_code", "origin", "net_mass_t", "tier")
    list_filter = ("tier", "origin")
    search_fields = ("declaration_id", "cn_code")
    raw_id_fields = ("exporter", "installation", "estimate", "ingest_run")
