"""Evidence files (content-addressed) and the ingest runs that read them."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class EvidenceFile(models.Model):
    """An original file, kept byte-for-byte under its SHA-256 so any ingest can be replayed."""

    class Kind(models.TextChoices):
        DEFAULTS = "defaults", "CBAM default values"
        CUSTOMS = "customs", "Customs records"
        GRID = "grid", "Grid telemetry"
        FACTORS = "factors", "Emission-factor library"
        RASTER = "raster", "Satellite raster"
        FACILITIES = "facilities", "Facilities"
        DISCLOSURE = "disclosure", "Facility disclosure"
        CBAM_REPORT = "cbam_report", "CBAM Registry report"

    sha256 = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    original_name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"

    @property
    def path(self):
        return settings.EVIDENCE_ROOT / self.sha256[:2] / self.sha256


class IngestRun(models.Model):
    """One reading of one evidence file by one source's reader, executed by a task."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    source = models.CharField(max_length=16, choices=EvidenceFile.Kind.choices)
    evidence = models.ForeignKey(EvidenceFile, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    options = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    rows_read = models.BigIntegerField(default=0)
    accepted = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)
    duplicates = models.BigIntegerField(default=0)
    corrections = models.BigIntegerField(default=0, help_text="accepted rows that correct a line")
    errors = models.JSONField(default=list, blank=True)
    failure = models.TextField(blank=True)
    attempts = models.IntegerField(default=0, help_text="executions started")
    deliveries = models.IntegerField(
        default=0, help_text="times the task was delivered (a duplicate of a live run is ignored)"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source} run {self.pk} ({self.status})"

    def summary(self) -> dict:
        """The ``--json`` summary of DESIGN §7."""
        return {
            "source": self.source,
            "file_sha256": self.evidence.sha256,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "errors": self.errors,
        }
