"""Installations (facilities) that produce CBAM goods."""

from __future__ import annotations

from django.db import models


class Installation(models.Model):
    class Route(models.TextChoices):
        BF_BOF = "bf_bof", "Steel: blast furnace – basic oxygen furnace"
        DRI_EAF = "dri_eaf", "Steel: direct reduced iron – electric arc furnace"
        SCRAP_EAF = "scrap_eaf", "Steel: scrap – electric arc furnace"
        CEMENT = "cement", "Cement: clinker kiln"
        AL_PRIMARY = "al_primary", "Aluminium: primary (electrolysis)"
        AL_SECONDARY = "al_secondary", "Aluminium: secondary (remelting)"
        H2_ELECTROLYSIS = "h2_electrolysis", "Hydrogen: electrolysis"
        H2_SMR = "h2_smr", "Hydrogen: steam methane reforming"
        MINERALS = "minerals", "Critical minerals processing"

    # Identifier as declared in customs records (e.g. the CBAM registry installation id).
    identifier = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    # The exporter that owns it; null when the source names no owner (then no exporter
    # account sees it; officials and auditors do).
    organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="installations",
    )
    owner_name = models.CharField(max_length=255, blank=True, help_text="as the source wrote it")
    country = models.CharField(max_length=8, help_text="ISO 3166-1 alpha-2")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    footprint_geojson = models.JSONField(
        null=True, blank=True, help_text="GeoJSON Polygon/MultiPolygon in EPSG:4326"
    )
    footprint_source = models.CharField(
        max_length=32,
        blank=True,
        help_text='"declared" (a polygon from the source) or "buffer_500m" (the default disc)',
    )
    capacity_mw = models.FloatField(null=True, blank=True)
    primary_fuel = models.CharField(max_length=64, blank=True)
    # Production at the installation's usual activity over one year, e.g. its verified
    # production in baseline years [t]: P_ref of the satellite.activity methodology.
    reference_production_t = models.FloatField(null=True, blank=True)
    reference_production_sigma_t = models.FloatField(null=True, blank=True)
    routes = models.JSONField(default=list, blank=True, help_text="list of Route values")
    grid_zone = models.CharField(max_length=32, blank=True)
    ingest_run = models.ForeignKey(
        "evidence.IngestRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_line = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.identifier})"
