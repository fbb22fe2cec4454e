"""Grid telemetry: zones, the emission-factor library, country averages, the hourly
intensity store's index, and hydrogen installation assessments.

The hourly values themselves live in NetCDF files (``apps.grid.store``): one file per
zone and year, zone × time, with provenance per value. The database keeps what the files
are, where they are, which evidence they came from and how many hours of each provenance
they hold, so a worker opens only the slice it needs.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    DIRECT = "direct", _("Direct (combustion)")
    LIFECYCLE = "lifecycle", _("Life cycle")


class GridZone(models.Model):
    """A grid zone (Electricity Maps zone key: a country "DE" or a bidding zone "SE-SE4")."""

    key = models.CharField(max_length=32, unique=True)
    country = models.CharField(max_length=8, help_text="ISO 3166-1 alpha-2")
    name = models.CharField(max_length=128, blank=True)
    synthetic = models.BooleanField(default=False, help_text="generated data (demo)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class EmissionFactor(models.Model):
    """One entry of an emission-factor library (Electricity Maps config schema).

    Valid from ``valid_from`` (null: always) until the next entry of the same (zone, kind,
    mode) (``valid_to``, kept current by every ingest; null: open-ended). ``zone`` is a zone
    key or ``_DEFAULT``, the global default a zone entry overrides."""

    DEFAULT_ZONE = "_DEFAULT"

    natural_key = models.CharField(max_length=200, unique=True)
    zone = models.CharField(max_length=32)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    mode = models.CharField(max_length=32)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    value_g_per_kwh = models.FloatField()
    source = models.TextField(blank=True)
    comment = models.TextField(blank=True)
    file = models.CharField(max_length=255, blank=True)
    source_line = models.IntegerField(default=0)
    ingest_run = models.ForeignKey(
        "evidence.IngestRun", on_delete=models.PROTECT, related_name="grid_factors"
    )

    class Meta:
        ordering = ["zone", "kind", "mode", "valid_from"]
        indexes = [models.Index(fields=["zone", "kind", "mode"])]

    def __str__(self) -> str:
        return f"{self.zone} {self.kind} {self.mode} {self.value_g_per_kwh} g/kWh"

    @property
    def is_default(self) -> bool:
        return self.zone == self.DEFAULT_ZONE

    @staticmethod
    def make_key(zone: str, kind: str, mode: str, valid_from) -> str:
        return f"{zone}|{kind}|{mode}|{valid_from.isoformat() if valid_from else '-'}"


class GridAverage(models.Model):
    """A country or region's annual grid factor: Ember average (life cycle) or an IFI
    harmonised factor (combined or operating margin, combustion CO2)."""

    class Basis(models.TextChoices):
        EMBER = "ember_average", _("Ember annual average (life cycle)")
        IFI_CM = "ifi_combined_margin", _("IFI combined margin (firm energy)")
        IFI_OM = "ifi_operating_margin", _("IFI operating margin")

    basis = models.CharField(max_length=24, choices=Basis.choices)
    code = models.CharField(max_length=64, help_text="ISO3 code or region name (World, EU …)")
    iso2 = models.CharField(max_length=8, blank=True)
    name = models.CharField(max_length=128)
    year = models.IntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value_g_per_kwh = models.FloatField()
    is_region = models.BooleanField(default=False)
    source = models.TextField()
    source_line = models.IntegerField(default=0)
    ingest_run = models.ForeignKey(
        "evidence.IngestRun", on_delete=models.PROTECT, related_name="grid_averages"
    )

    class Meta:
        ordering = ["basis", "code", "year"]
        constraints = [
            models.UniqueConstraint(fields=["basis", "code", "year"], name="grid_average_key")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.year} {self.value_g_per_kwh} g/kWh ({self.basis})"


class IntensitySeries(models.Model):
    """One file of the hourly-intensity store: a zone's hours of one year (NetCDF,
    ``apps.grid.store``), with its counts by provenance and the evidence it holds."""

    zone = models.ForeignKey(GridZone, on_delete=models.PROTECT, related_name="series")
    year = models.IntegerField()
    path = models.CharField(max_length=500, help_text="relative to the store root")
    sha256 = models.CharField(max_length=64, help_text="of the file as last written")
    first_hour = models.DateTimeField()
    last_hour = models.DateTimeField()
    hours = models.IntegerField(help_text="hours on the time axis (first to last, hourly)")
    measured = models.IntegerField(default=0)
    computed = models.IntegerField(default=0)
    gap_filled = models.IntegerField(default=0)
    missing = models.IntegerField(default=0)
    mean_direct_g_per_kwh = models.FloatField(null=True, blank=True)
    mean_lifecycle_g_per_kwh = models.FloatField(null=True, blank=True)
    evidence_sha256 = models.JSONField(default=list, help_text="files whose values it holds")
    has_mix = models.BooleanField(default=False, help_text="a generation-mix file exists")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["zone__key", "year"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "year"], name="intensity_series_zone_year")
        ]

    def __str__(self) -> str:
        return f"{self.zone.key} {self.year} ({self.hours} h)"


class HydrogenAssessment(models.Model):
    """The RFNBO verdict of an electrolyser for one year under monthly and under hourly
    temporal correlation, and its 45V tier, each with its canonical trace."""

    installation = models.ForeignKey(
        "facilities.Installation", on_delete=models.PROTECT, related_name="hydrogen_assessments"
    )
    year = models.IntegerField()
    zone = models.CharField(max_length=32)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.LIFECYCLE)
    # The hourly profiles the verdicts were made from [MWh per hour], kept with the result.
    profile = models.JSONField(help_text="{'start', 'renewable_mwh', 'consumption_mwh'}")
    profile_sha256 = models.CharField(max_length=64)
    monthly_passes = models.BooleanField()
    hourly_passes = models.BooleanField()
    monthly_g_per_mj = models.FloatField()
    hourly_g_per_mj = models.FloatField()
    monthly_rfnbo_share = models.FloatField()
    hourly_rfnbo_share = models.FloatField()
    hydrogen_kg = models.FloatField()
    us45v_tier_share = models.FloatField()
    us45v_credit_usd_per_kg = models.FloatField()
    gap_filled_hours = models.IntegerField(default=0)
    intensity_steps = models.JSONField(default=list)
    monthly_trace = models.TextField()
    monthly_trace_sha256 = models.CharField(max_length=64)
    hourly_trace = models.TextField()
    hourly_trace_sha256 = models.CharField(max_length=64)
    us45v_trace = models.TextField()
    us45v_trace_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "year", "profile_sha256", "kind"],
                name="hydrogen_assessment_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.installation} {self.year}"


class GridStoreFile(models.Model):
    """The authoritative bytes of one file of the hourly store (``apps.grid.store``):
    ``name`` is its path under the store root, e.g. ``intensity/DE/2025.nc``. Every host
    reads the store from here; the files under ``CM_VAR_DIR/grid`` are only this host's
    copies, checked against ``sha256`` before each read (docs/operations-workers.md)."""

    name = models.CharField(max_length=255, unique=True)
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"grid store {self.name}"
