"""Satellite evidence: scenes (raster files), per-facility observations, tile partials for
scale-out, activity indices and reconciliation flags."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Scene(models.Model):
    """One raster evidence file (one variable of it): its grid and how it was measured."""

    class Status(models.TextChoices):
        TILING = "tiling", "Tiles being computed"
        DONE = "done"
        FAILED = "failed"

    evidence = models.ForeignKey(
        "evidence.EvidenceFile", on_delete=models.PROTECT, related_name="scenes"
    )
    ingest_run = models.ForeignKey(
        "evidence.IngestRun", on_delete=models.PROTECT, related_name="scenes"
    )
    variable = models.CharField(max_length=128, blank=True)
    format = models.CharField(max_length=16)
    crs_wkt = models.TextField(blank=True)
    crs_epsg = models.IntegerField(null=True, blank=True)
    transform = models.JSONField(help_text="affine a, b, c, d, e, f (GDAL order)")
    bands = models.IntegerField()
    height = models.IntegerField()
    width = models.IntegerField()
    band_names = models.JSONField(default=list)
    times = models.JSONField(default=list, help_text="ISO 8601 UTC time of each band, or []")
    units = models.CharField(max_length=64, blank=True)
    grid_key = models.CharField(max_length=64, help_text="SHA-256 of CRS, transform and shape")
    plan_key = models.CharField(max_length=64, help_text="SHA-256 of grid and footprints")
    installation_ids = models.JSONField(default=list, help_text="footprints measured, in order")
    pixel_rule = models.CharField(max_length=32)
    pixel_rule_version = models.CharField(max_length=8)
    tile_rows = models.IntegerField()
    tile_cols = models.IntegerField()
    tile_count = models.IntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.TILING)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["evidence", "variable"], name="scene_unique_file_var")
        ]

    def __str__(self) -> str:
        return f"scene {self.pk} {self.variable or ''} ({self.status})"

    def band_time(self, band: int) -> str | None:
        """ISO time of 1-based ``band`` (a time-stacked file's step, else the scene's)."""
        if not self.times:
            return None
        return self.times[band - 1] if len(self.times) == self.bands else self.times[0]


class Observation(models.Model):
    """Zonal statistics of one band of one scene over one installation's footprint."""

    installation = models.ForeignKey(
        "facilities.Installation", on_delete=models.PROTECT, related_name="observations"
    )
    scene = models.ForeignKey(Scene, on_delete=models.PROTECT, related_name="observations")
    band = models.IntegerField(help_text="1-based")
    time = models.DateTimeField(null=True, blank=True)
    variable = models.CharField(max_length=128, blank=True)
    units = models.CharField(max_length=64, blank=True)
    count = models.FloatField(help_text="Σ coverage weights of valid pixels [pixels]")
    valid_fraction = models.FloatField(help_text="count / footprint area [1]")
    in_raster_fraction = models.FloatField(help_text="footprint share inside the grid [1]")
    footprint_px = models.FloatField(help_text="footprint area [pixels]")
    sum = models.FloatField()
    mean = models.FloatField(null=True, blank=True)
    max = models.FloatField(null=True, blank=True)
    p95 = models.FloatField(null=True, blank=True)
    pixel_rule = models.CharField(max_length=32)
    pixel_rule_version = models.CharField(max_length=8)

    class Meta:
        ordering = ["installation_id", "time", "band"]
        constraints = [
            models.UniqueConstraint(
                fields=["scene", "installation", "band"], name="observation_unique"
            )
        ]
        indexes = [models.Index(fields=["installation", "variable", "time"])]

    def __str__(self) -> str:
        return f"observation {self.installation_id} scene {self.scene_id} band {self.band}"


class TileResult(models.Model):
    """Partial zonal statistics of one tile of a scene (every band), combined exactly once
    all tiles are in. ``partials`` is an ``.npz``: per band ``in_raster``, ``count``,
    ``sum``, ``max`` (one value per footprint) and the percentile samples ``seg``,
    ``value``, ``weight``."""

    scene = models.ForeignKey(Scene, on_delete=models.CASCADE, related_name="tiles")
    tile = models.IntegerField()
    window = models.JSONField(help_text="[row_off, col_off, height, width]")
    partials = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scene_id", "tile"]
        constraints = [models.UniqueConstraint(fields=["scene", "tile"], name="tile_unique")]

    def __str__(self) -> str:
        return f"scene {self.scene_id} tile {self.tile}"


class ActivityIndex(models.Model):
    """The satellite.activity index of an installation for a period ("2025" or "2025-03"),
    with the inputs and trace of the computation."""

    installation = models.ForeignKey(
        "facilities.Installation", on_delete=models.PROTECT, related_name="activity_indices"
    )
    variable = models.CharField(max_length=128, blank=True)
    period = models.CharField(max_length=7)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField(help_text="exclusive")
    statistic = models.CharField(max_length=16, default="mean")
    n_period = models.IntegerField()
    n_baseline = models.IntegerField()
    baseline_p10 = models.FloatField()
    baseline_median = models.FloatField()
    period_mean = models.FloatField()
    activity_index = models.FloatField()
    activity_index_sigma = models.FloatField()
    reference_production_t = models.FloatField(null=True, blank=True)
    reference_production_sigma_t = models.FloatField(null=True, blank=True)
    expected_production_t = models.FloatField(null=True, blank=True)
    expected_production_sigma_t = models.FloatField(null=True, blank=True)
    # The last reconciliation check of this period (None until a disclosure is checked).
    disclosed_production_t = models.FloatField(null=True, blank=True)
    disclosed_sigma_t = models.FloatField(null=True, blank=True)
    z_score = models.FloatField(null=True, blank=True)
    flagged = models.BooleanField(null=True, blank=True)
    methodology = models.CharField(max_length=64)
    methodology_version = models.CharField(max_length=16)
    trace = models.TextField(help_text="canonical JSON (RFC 8785)")
    trace_sha256 = models.CharField(max_length=64)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["installation_id", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "variable", "period"], name="activity_index_unique"
            )
        ]

    def __str__(self) -> str:
        return f"activity {self.installation_id} {self.period} = {self.activity_index:.2f}"


class ReconciliationFlag(models.Model):
    """A disclosed value that disagrees with the satellite-implied value beyond the combined
    uncertainty. It asks for review; it never replaces the disclosed value (docs/design.md §2)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        REVIEW = "review", "Under review"
        CLOSED = "closed", "Resolved"

    installation = models.ForeignKey(
        "facilities.Installation", on_delete=models.PROTECT, related_name="reconciliation_flags"
    )
    activity_index = models.ForeignKey(
        ActivityIndex, on_delete=models.PROTECT, related_name="flags"
    )
    period = models.CharField(max_length=7)
    variable = models.CharField(max_length=128, blank=True)
    # What was disclosed, e.g. "disclosures.Disclosure:12"; "" when given directly.
    disclosure_ref = models.CharField(max_length=128, blank=True)
    quantity = models.CharField(max_length=32, default="production")
    disclosed_value = models.FloatField()
    disclosed_sigma = models.FloatField()
    satellite_value = models.FloatField()
    satellite_sigma = models.FloatField()
    unit = models.CharField(max_length=16, default="t")
    combined_uncertainty = models.FloatField(help_text="σ = √(σ_D² + σ_E²), same unit")
    z_score = models.FloatField()
    k = models.FloatField()
    model = models.CharField(max_length=64, help_text="methodology id")
    model_version = models.CharField(max_length=16)
    parameters = models.JSONField(default=dict)
    validation = models.JSONField(default=dict)
    trace = models.TextField(help_text="canonical JSON (RFC 8785)")
    trace_sha256 = models.CharField(max_length=64)
    reason = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "variable", "period", "disclosure_ref"],
                name="flag_unique_check",
            )
        ]

    def __str__(self) -> str:
        return f"flag {self.pk} {self.installation_id} {self.period} ({self.status})"


class ZonalPlanCache(models.Model):
    """The coverage weights of a set of footprints on a raster grid, built once and read by
    every worker on every host (``apps.satellite.services.zonal_plan_get``): a cache in the
    database, never on one host's disk (docs/operations-workers.md, "Several hosts")."""

    key = models.CharField(max_length=64, unique=True, help_text="SHA-256 of grid + footprints")
    data = models.BinaryField(help_text="the plan's arrays, as one .npz")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"zonal plan {self.key[:12]}…"
