"""Installations (facilities) that produce CBAM goods."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Installation(models.Model):
    class Route(models.TextChoices):
        BF_BOF = "bf_bof", _("Steel: blast furnace – basic oxygen furnace")
        DRI_EAF = "dri_eaf", _("Steel: direct reduced iron – electric arc furnace")
        SCRAP_EAF = "scrap_eaf", _("Steel: scrap – electric arc furnace")
        CEMENT = "cement", _("Cement: clinker kiln")
        CEMENT_GRINDING = "cement_grinding", _("Cement: grinding of bought clinker")
        AL_PRIMARY = "al_primary", _("Aluminium: primary (electrolysis)")
        AL_SECONDARY = "al_secondary", _("Aluminium: secondary (remelting)")
        H2_ELECTROLYSIS = "h2_electrolysis", _("Hydrogen: electrolysis")
        H2_SMR = "h2_smr", _("Hydrogen: steam methane reforming")
        MINERALS = "minerals", _("Critical minerals processing")

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
    # Registry fields (Global Energy Monitor trackers; other sources fill what they have).
    source = models.CharField(
        max_length=32, blank=True, help_text='"gem_steel", "gem_cement", "" for other files'
    )
    source_release = models.CharField(max_length=128, blank=True)
    name_local = models.CharField(max_length=255, blank=True)
    other_names = models.JSONField(default=list, blank=True)
    parent_name = models.CharField(max_length=1024, blank=True, help_text="as the source wrote it")
    owners = models.JSONField(default=list, blank=True, help_text='[{"name", "share"}]')
    parents = models.JSONField(default=list, blank=True, help_text='[{"name", "share"}]')
    owner_local = models.CharField(max_length=255, blank=True)
    subnational = models.CharField(max_length=255, blank=True)
    municipality = models.CharField(max_length=255, blank=True)
    coordinate_accuracy = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=32, blank=True)
    start_year = models.IntegerField(null=True, blank=True)
    equipment = models.JSONField(default=list, blank=True, help_text='["BF", "BOF", …]')
    capacities = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"unit", "status", "start_year", "capacity_t"}] per year [t/a]',
    )
    production = models.JSONField(
        default=list, blank=True, help_text='[{"type", "year", "production_t"}] [t/a]'
    )
    plant_type = models.CharField(max_length=32, blank=True)
    production_type = models.CharField(max_length=32, blank=True)
    sfi_id = models.CharField(max_length=64, blank=True)
    wiki_url = models.URLField(max_length=512, blank=True)
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


class InstallationVersion(models.Model):
    """An installation's registry fields as they were before a newer release changed them
    (one row per change; the installation row holds the current fields)."""

    installation = models.ForeignKey(
        Installation, on_delete=models.CASCADE, related_name="versions"
    )
    source_release = models.CharField(max_length=128, blank=True)
    ingest_run = models.ForeignKey(
        "evidence.IngestRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fields = models.JSONField(help_text="the previous values of the fields that changed")
    replaced_by_run = models.ForeignKey(
        "evidence.IngestRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["installation_id", "-id"]

    def __str__(self) -> str:
        return f"{self.installation_id} before run {self.replaced_by_run_id}"


class MatchSuggestion(models.Model):
    """A suggested link found by entity resolution (apps.facilities.matching): two spellings
    of one organisation, or an exporter and an installation of a matching owner or parent.
    An official confirms or rejects it; every decision is audited and can be reversed."""

    class Kind(models.TextChoices):
        ORGANISATION = "organisation", _("Same organisation")
        INSTALLATION = "installation", _("Exporter linked to installation")

    class Status(models.TextChoices):
        SUGGESTED = "suggested", _("Suggested")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="match_suggestions"
    )
    other_organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    installation = models.ForeignKey(
        Installation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="match_suggestions",
    )
    score = models.FloatField(help_text="0–1")
    evidence = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUGGESTED)
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "organisation", "other_organisation", "installation"],
                name="facilities_match_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        other = self.installation_id or self.other_organisation_id
        return f"{self.kind} {self.organisation_id}→{other} ({self.status})"


class InstallationEmission(models.Model):
    """One installation's emissions in one year on one rung of the ladder (docs/design.md §2): for
    the modelled rung, what ``model_installations`` computed (docs/modelled.md), with the
    ids of the per-good estimates whose traces explain it."""

    class ProductionSource(models.TextChoices):
        REPORTED = "reported", _("Reported by the registry")
        SATELLITE = "satellite", _("Capacity × satellite-informed utilisation")
        CAPACITY = "capacity", _("Capacity × sector utilisation")
        DISCLOSED = "disclosed", _("Disclosed by the operator")
        VERIFIED = "verified", _("Verified")

    installation = models.ForeignKey(
        Installation, on_delete=models.CASCADE, related_name="emissions"
    )
    year = models.IntegerField()
    tier = models.CharField(max_length=16)
    production_t = models.FloatField()
    production_source = models.CharField(max_length=16, choices=ProductionSource.choices)
    direct_emissions_t = models.FloatField()
    direct_emissions_p05_t = models.FloatField(null=True, blank=True)
    direct_emissions_p95_t = models.FloatField(null=True, blank=True)
    indirect_emissions_t = models.FloatField()
    indirect_emissions_zone_t = models.FloatField(null=True, blank=True)
    estimate_ids = models.JSONField(default=list, help_text="ids of the estimates behind it")
    methodology_version = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["installation_id", "year", "tier"]
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "year", "tier"], name="installation_emission_key"
            )
        ]
        indexes = [models.Index(fields=["year", "tier"])]

    def __str__(self) -> str:
        return f"{self.installation_id} {self.year} {self.tier}"


class ReportedEmission(models.Model):
    """Emissions reported for an installation in one year: the EU ETS verified emissions
    [tCO2e] of the EU ETS installations that make up the plant's site (matched by
    ``apps.facilities.matching.eutl_site_matches``), summed. Shown beside the modelled
    estimate; never a rung of the ladder (docs/modelled.md, "Reported emissions")."""

    installation = models.ForeignKey(
        Installation, on_delete=models.CASCADE, related_name="reported_emissions"
    )
    year = models.IntegerField()
    emissions_t = models.FloatField(help_text="verified emissions [tCO2e], summed over the site")
    eutl_ids = models.JSONField(default=list, help_text="the EU ETS installations summed")
    source = models.CharField(max_length=255, help_text="the files read, with their SHA-256")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["installation_id", "year"]
        constraints = [
            models.UniqueConstraint(fields=["installation", "year"], name="reported_emission_key")
        ]

    def __str__(self) -> str:
        return f"{self.installation_id} {self.year} reported {self.emissions_t:.0f} t"
