"""Shipments: customs declaration lines, each linked to the estimate used for it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.estimates.models import Tier


class Shipment(models.Model):
    """A customs declaration line.

    Shipments are a bulk fact table, loaded a hundred thousand rows at a time. Its
    references to the exporter, the ingest run and the estimate are therefore not
    database-level foreign-key constraints (each would cost a check per row, about half
    the load time): the ingest service writes only ids it has just resolved or created,
    those rows are never deleted (PROTECT, and the audit log), and a test checks that no
    reference dangles after an ingest.

    On PostgreSQL the table is partitioned by declaration period (``date``, one range
    partition per quarter, and a default partition): migration
    ``0014_partition_shipments`` and docs/scaling.md, "Partitions by declaration
    period". There the primary key is ``(id, date)`` and the natural key ``(declaration_id,
    line, version, date)`` (PostgreSQL wants the partition key in every unique key); the
    model keeps ``id`` as its primary key, unique because one sequence numbers every line.
    The indexes below are declared on the partitioned table: PostgreSQL builds each on
    every partition.
    """

    declaration_id = models.CharField(max_length=64)
    line = models.IntegerField()
    # A corrected re-submission of a line becomes a new version; the old one is kept.
    version = models.IntegerField(default=1)
    is_current = models.BooleanField(default=True)
    date = models.DateField()
    cn_code = models.CharField(max_length=8)
    origin = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    exporter = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="exported_shipments",
        db_index=False,  # covered by the (exporter, id) index
        db_constraint=False,
    )
    importer_name = models.CharField(max_length=255, blank=True)
    importer_eori = models.CharField(
        max_length=17,
        blank=True,
        default="",
        db_default="",
        help_text="EORI of the importer, as declared",
    )
    # The importer's organisation, resolved at ingest (by EORI where declared, else by
    # name): docs/official-formats.md, "Importers". No constraint and no index, as for the
    # exporter: each would cost every bulk load.
    importer = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="imported_shipments",
        db_index=False,
        db_constraint=False,
    )
    net_mass_t = models.FloatField()
    mass_unit = models.CharField(max_length=2, help_text="unit as declared: kg or t")
    statistical_value_eur = models.FloatField(null=True, blank=True)
    supplementary_units = models.FloatField(
        null=True, blank=True, help_text="where the CN code asks for them (items, m³ …)"
    )
    procedure = models.CharField(max_length=8, blank=True)
    installation_identifier = models.CharField(max_length=64, blank=True)
    installation = models.ForeignKey(
        "facilities.Installation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,  # rarely declared; looked up through installation_identifier
    )
    ingest_run = models.ForeignKey(
        "evidence.IngestRun",
        on_delete=models.PROTECT,
        related_name="shipments",
        db_constraint=False,
        db_index=False,  # each index costs every load; a run's rows are read rarely
    )
    source_line = models.IntegerField()
    estimate = models.ForeignKey(
        "estimates.Estimate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,  # exporters' estimate scoping goes through the exporter index
    )
    # The CBAM figure (docs/design.md, the two figures): verified actual, else default
    # with mark-up.
    tier = models.CharField(max_length=16, choices=Tier.choices, blank=True)
    embedded_emissions_t = models.FloatField(null=True, blank=True)
    # The best estimate: the best rung reached (verified, disclosed, modelled, a mixture
    # of the exporter's plants), else the default without mark-up.
    best_estimate = models.ForeignKey(
        "estimates.Estimate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        related_name="best_for",
    )
    best_tier = models.CharField(max_length=16, choices=Tier.choices, blank=True, db_default="")
    best_embedded_emissions_t = models.FloatField(null=True, blank=True)
    # Far outside its CN heading's norms at ingest (ingest.plausibility.customs_line_flags,
    # docs/readers.md): kept, shown as flagged, left out of headline sums unless asked.
    implausible = models.BooleanField(default=False, db_default=False)
    implausible_reason = models.TextField(blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["declaration_id", "line", "version"], name="shipment_natural_key"
            )
        ]
        # One index per filter of the list page and the API, each ending in id: a filter on
        # one value is then a range of its index already in the lists' keyset order (by
        # id), and a rare value is read in a few pages instead of by scanning the table.
        # Each index costs every bulk load; docs/scaling.md ("Indexes of the shipments
        # table") gives the measured cost and why each is there.
        indexes = [
            models.Index(fields=["exporter", "id"]),
            models.Index(fields=["origin", "id"], name="shipment_origin_id"),
            # "CN code or prefix": a prefix is a LIKE 'p%' range of this index.
            models.Index(
                fields=["cn_code", "id"],
                name="shipment_cn_code_id",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            # An importer's lines: those resolved to its organisation at ingest, and those
            # left with a name only (matched among the few distinct names first).
            models.Index(
                fields=["importer", "id"],
                name="shipment_importer_org_id",
                condition=Q(importer__isnull=False),
            ),
            models.Index(fields=["importer_name", "id"], name="shipment_importer_id"),
            # No index on tier or best_tier: a re-choice of the figures changes them, and
            # a changed indexed column makes every rewritten row write an entry in every
            # index (no HOT update). The tier filters read the lines that can carry a
            # rung through the installation and exporter indexes (filters.py).
            models.Index(fields=["date", "id"], name="shipment_date_id"),
            # Installations are rarely declared: partial indexes of the lines that name one.
            models.Index(
                fields=["installation_identifier", "id"],
                name="shipment_inst_identifier_id",
                condition=~Q(installation_identifier=""),
            ),
            models.Index(
                fields=["installation", "id"],
                name="shipment_installation_id",
                condition=Q(installation__isnull=False),
            ),
            # The flagged lines only (a few per file): the sums that leave them out
            # subtract theirs, read through it.
            models.Index(
                fields=["id"],
                condition=Q(implausible=True, is_current=True),
                name="shipment_implausible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.declaration_id}/{self.line}"


class ShipmentTotal(models.Model):
    """Pre-aggregated totals of current shipments by (origin, CN code, exporter, month),
    refreshed for the keys each ingest touches."""

    origin = models.CharField(max_length=2)
    cn_code = models.CharField(max_length=8)
    exporter = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE)
    month = models.DateField(help_text="first day of the month")
    shipments = models.IntegerField()
    net_mass_t = models.FloatField()
    embedded_emissions_t = models.FloatField()
    estimated_mass_t = models.FloatField(help_text="mass of the shipments with an estimate")
    default_mass_t = models.FloatField(help_text="mass of the shipments on default values")
    # The best estimate's totals (0 until the figures are chosen; the ingest's delta
    # leaves them to the re-choice that follows it).
    best_embedded_emissions_t = models.FloatField(db_default=0.0, default=0.0)
    best_verified_mass_t = models.FloatField(db_default=0.0, default=0.0)
    best_disclosed_mass_t = models.FloatField(db_default=0.0, default=0.0)
    best_modelled_mass_t = models.FloatField(db_default=0.0, default=0.0)
    best_default_mass_t = models.FloatField(db_default=0.0, default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["origin", "cn_code", "exporter", "month"], name="shipmenttotal_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.origin} {self.cn_code} {self.month:%Y-%m}"


class TradeAggregate(models.Model):
    """Aggregate trade statistics (e.g. Eurostat Comext): tonnes and value of imports by
    CN code, partner country and month. Kept apart from declaration lines: they carry no
    exporter, no line and no estimate."""

    reporter = models.CharField(max_length=16, help_text="e.g. EU27_2020")
    origin = models.CharField(max_length=2, help_text="partner country, ISO 3166-1 alpha-2")
    cn_code = models.CharField(max_length=8)
    month = models.DateField(help_text="first day of the month")
    flow = models.CharField(max_length=8, default="import")
    tonnes = models.FloatField()
    value_eur = models.FloatField(null=True, blank=True)
    ingest_run = models.ForeignKey("evidence.IngestRun", on_delete=models.PROTECT)
    source_line = models.IntegerField()
    implausible = models.BooleanField(
        default=False,
        help_text="value per tonne far outside the CN code's normal range (ingest.plausibility); "
        "kept, left out of sums unless asked",
    )
    implausible_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "origin", "cn_code", "month", "flow"],
                name="tradeaggregate_natural_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reporter} ← {self.origin} {self.cn_code} {self.month:%Y-%m}"


class DeclaredLine(models.Model):
    """One ``GoodsEmissions`` line of an importer's CBAM Registry report, as declared.

    Evidence of what was declared (Reg. 2023/956 Art. 6(2), Art. 35(2)), read by
    :func:`ingest.cbam_report.read_cbam_report`; compared later with the shipments.
    """

    ingest_run = models.ForeignKey(
        "evidence.IngestRun", on_delete=models.PROTECT, related_name="declared_lines"
    )
    source_line = models.IntegerField(help_text="line of the GoodsEmissions element")
    schema_version = models.CharField(max_length=8)
    declarant_id = models.CharField(max_length=17, help_text="EORI")
    declarant_name = models.CharField(max_length=70, blank=True)
    year = models.IntegerField()
    period = models.CharField(max_length=2)
    item_number = models.IntegerField()
    emission_sequence = models.IntegerField()
    cn_code = models.CharField(max_length=8)
    origin = models.CharField(max_length=2)
    production_country = models.CharField(max_length=2, blank=True)
    installation_identifier = models.CharField(max_length=64, blank=True)
    installation_name = models.CharField(max_length=255, blank=True)
    net_mass_t = models.FloatField()
    see_direct_t_per_t = models.FloatField()
    see_indirect_t_per_t = models.FloatField(null=True, blank=True)
    method = models.CharField(max_length=16, help_text="actual, default or other")
    carbon_price_amount = models.FloatField(null=True, blank=True)
    carbon_price_currency = models.CharField(max_length=3, blank=True)
    embedded_emissions_t = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["declarant_id", "year", "period"])]

    def __str__(self) -> str:
        return f"{self.declarant_id} {self.year}{self.period} {self.cn_code}/{self.origin}"


class LineFlag(models.Model):
    """A customs line flagged implausible at ingest, as a flag to review: open → under
    review → resolved with a note (docs/web.md, "Flags"); each step is audited."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        REVIEW = "review", "Under review"
        RESOLVED = "resolved", "Resolved"

    # No database constraint: on PostgreSQL the shipments are partitioned by period and
    # their id alone is no key there (docs/scaling.md, "Partitions by declaration
    # period"). Shipments are never deleted; an archived period takes its lines' flags
    # with it and brings them back when re-attached (apps.shipments.partitions).
    shipment = models.OneToOneField(
        Shipment, on_delete=models.PROTECT, related_name="flag", db_constraint=False
    )
    reason = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    note = models.TextField(blank=True, help_text="the reviewer's note (required to resolve)")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["status", "id"])]

    def __str__(self) -> str:
        return f"line flag {self.pk} ({self.status})"


class ShipmentArchive(models.Model):
    """A declaration period (a quarter) whose partition was detached from the shipments
    table and archived to the evidence store (``manage.py shipments_partitions archive``).

    Its lines are out of every page, list, total and API answer until the period is
    re-attached (``shipments_partitions reattach``), which reads them back from the file
    whose SHA-256 is kept here. The figures below are those of the archived lines, so an
    archive can be checked against its file; ``flags`` keeps the review flags of its lines
    (they leave with them)."""

    period = models.CharField(max_length=7, unique=True, help_text="e.g. 2024Q1")
    start = models.DateField(help_text="first day of the quarter")
    end = models.DateField(help_text="first day of the next quarter")
    evidence = models.ForeignKey("evidence.EvidenceFile", on_delete=models.PROTECT)
    columns = models.JSONField(help_text="the columns of the archived CSV, in order")
    rows = models.BigIntegerField()
    current_rows = models.BigIntegerField()
    net_mass_t = models.FloatField(help_text="of the current lines")
    embedded_emissions_t = models.FloatField(help_text="CBAM figure, current lines")
    flags = models.JSONField(default=list, help_text="the line flags archived with the lines")
    archived_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"shipments of {self.period} (archived)"


class ExportJob(models.Model):
    """A shipment export (CSV or XLSX) of one user's filter, written by a background task
    with its progress, then downloaded from a link (issue #19 §3: a 287,000-line export
    took 47 s with nothing on the page). The file is kept under ``MEDIA_ROOT/exports``."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        RUNNING = "running", _("Writing")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="shipment_exports"
    )
    query = models.TextField(blank=True, help_text="the list's filter, as its query string")
    format = models.CharField(max_length=8, help_text='"csv" or "xlsx"')
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    rows_total = models.IntegerField(null=True, blank=True)
    rows_done = models.IntegerField(default=0)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The requester's page language: the file's column headers are written in it (the
    # task has no request; docs/languages.md). Empty: the site's default.
    language = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.format}, {self.status})"

    @property
    def filename(self) -> str:
        return f"shipments-{self.pk}.{self.format}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(100 * self.rows_done / self.rows_total))
