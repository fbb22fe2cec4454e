"""``/api/v1/shipments/``: read-only, token or session auth, keyset pagination."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from apps.shipments.filters import ShipmentFilter
from apps.shipments.models import Shipment
from apps.shipments.selectors import shipment_list


class ShipmentSerializer(serializers.ModelSerializer):
    exporter = serializers.CharField(source="exporter.name", read_only=True)
    see_direct_t_per_t = serializers.FloatField(
        source="estimate.see_direct_t_per_t", read_only=True, allow_null=True
    )
    see_indirect_t_per_t = serializers.FloatField(
        source="estimate.see_indirect_t_per_t", read_only=True, allow_null=True
    )
    see_total_t_per_t = serializers.FloatField(
        source="estimate.see_total_t_per_t", read_only=True, allow_null=True
    )
    tier = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "declaration_id",
            "line",
            "version",
            "date",
            "cn_code",
            "origin",
            "exporter",
            "importer_name",
            "net_mass_t",
            "mass_unit",
            "statistical_value_eur",
            "procedure",
            "installation_identifier",
            "see_direct_t_per_t",
            "see_indirect_t_per_t",
            "see_total_t_per_t",
            "embedded_emissions_t",
            "tier",
            "estimate",
        ]
        read_only_fields = fields


class ShipmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ShipmentSerializer
    filterset_class = ShipmentFilter

    def get_queryset(self):
        return shipment_list(user=self.request.user)
