"""Shipments: customs declaration lines, each linked to the estimate used for it."""

from __future__ import annotations

from django.db import models

from apps.estimates.models import Tier


class Shipment(models.Model):
    declaration_id = models.CharField(max_length=64)
    line = models.IntegerField()
    # A corrected re-submission of a line becomes a new version; the old one is kept.
    version = models.IntegerField(default=1)
    is_current = models.BooleanField(default=True)
    date = models.DateField()
    cn_code = models.CharField(max_length=8)
    origin = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    exporter = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="exported_shipments"
    )
    importer_name = models.CharField(max_length=255, blank=True)
    net_mass_t = models.FloatField()
    mass_unit = models.CharField(max_length=2, help_text="unit as declared: kg or t")
    statistical_value_eur = models.FloatField(null=True, blank=True)
    procedure = models.CharField(max_length=8, blank=True)
    installation_identifier = models.CharField(max_length=64, blank=True)
    installation = models.ForeignKey(
        "facilities.Installation", null=True, blank=True, on_delete=models.PROTECT
    )
    ingest_run = models.ForeignKey(
        "evidence.IngestRun", on_delete=models.PROTECT, related_name="shipments"
    )
    source_line = models.IntegerField()
    estimate = models.ForeignKey(
        "estimates.Estimate", null=True, blank=True, on_delete=models.PROTECT
    )
    tier = models.CharField(max_length=16, choices=Tier.choices, blank=True)
    embedded_emissions_t = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["declaration_id", "line", "version"], name="shipment_natural_key"
            )
        ]
        indexes = [
            models.Index(fields=["cn_code", "id"]),
            models.Index(fields=["origin", "id"]),
            models.Index(fields=["date", "id"]),
            models.Index(fields=["exporter", "id"]),
        ]

    def __str__(self) -> str:
        return f"{self.declaration_id}/{self.line}"
