"""The admin of the shipments: a lookup by declaration or CN code that stays an index read
at any size (docs/scaling.md, "The admin"), and the archived periods, read-only (they are
made and undone by ``manage.py shipments_partitions``)."""

from django.contrib import admin

from apps.common.admin import ReadOnlyModelAdmin
from apps.common.pagination import EstimatedCountPaginator
from apps.shipments.models import Shipment, ShipmentArchive


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ("declaration_id", "line", "date", "cn_code", "origin", "net_mass_t", "tier")
    # No list filters: each would read the distinct values, or walk the ids for a rare one,
    # over the whole table. The list page (/shipments/) has every filter, from its indexes.
    search_fields = ("declaration_id", "cn_code")
    search_help_text = "A declaration id (whole), or the first digits of a CN code."
    raw_id_fields = ("exporter", "installation", "estimate", "ingest_run")
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        """A whole declaration id, or a CN code prefix (digits): both read from an index
        (the natural key, ``(cn_code varchar_pattern_ops, id)``), where Django's default
        (``icontains`` on both columns) reads every row."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit():
            return queryset.filter(cn_code__startswith=term), False
        return queryset.filter(declaration_id=term), False


@admin.register(ShipmentArchive)
class ShipmentArchiveAdmin(ReadOnlyModelAdmin):
    list_display = (
        "period",
        "start",
        "end",
        "rows",
        "current_rows",
        "net_mass_t",
        "embedded_emissions_t",
        "archived_at",
    )
    ordering = ("-start",)
