"""Evidence files (content-addressed) and the ingest runs that read them.

A stored file is only bytes under their SHA-256: the same bytes uploaded twice are kept
once. What a file *means* (its name, which source reads it, who gave it) belongs to each
upload, that is to each :class:`IngestRun`, never to the blob: two organisations, or an
official and an exporter, may give the same bytes different names, and a reader that takes
a meaning from the name (the factor library's zone is its file's stem) must get the
caller's own name (issue #16, item 1).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EvidenceFile(models.Model):
    """An original file, kept byte-for-byte under its SHA-256 so any ingest can be replayed."""

    class Kind(models.TextChoices):
        DEFAULTS = "defaults", _("CBAM default values")
        CUSTOMS = "customs", _("Customs records")
        GRID = "grid", _("Grid telemetry")
        FACTORS = "factors", _("Emission-factor library")
        RASTER = "raster", _("Satellite raster")
        FACILITIES = "facilities", _("Facilities")
        DISCLOSURE = "disclosure", _("Facility disclosure")
        CBAM_REPORT = "cbam_report", _("CBAM Registry report")

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"sha256 {self.sha256[:12]}…"


class EvidenceBlobChunk(models.Model):
    """A piece of a stored file's bytes, for the ``postgres`` evidence store
    (apps/evidence/store.py): chunk ``seq`` holds bytes ``[seq × 1 MiB, (seq + 1) × 1 MiB)``."""

    evidence = models.ForeignKey(EvidenceFile, on_delete=models.CASCADE, related_name="chunks")
    seq = models.IntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["evidence", "seq"], name="evidence_blob_chunk_once")
        ]

    def __str__(self) -> str:
        return f"chunk {self.seq} of evidence {self.evidence_id}"


class IngestRun(models.Model):
    """One reading of one evidence file by one source's reader, executed by a task."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    source = models.CharField(max_length=16, choices=EvidenceFile.Kind.choices)
    evidence = models.ForeignKey(EvidenceFile, on_delete=models.PROTECT, related_name="runs")
    original_name = models.CharField(
        max_length=255, blank=True, help_text="the file's name as this run's requester gave it"
    )
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
    enqueue_failure = models.TextField(
        blank=True,
        help_text="why the last attempt to put the task on the queue failed (the run stays "
        "pending; the reconciler sends it again)",
    )
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="when the task was last put on the queue"
    )
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

    @property
    def name(self) -> str:
        """The file's name for reports: as this run's requester gave it, else its hash."""
        return self.original_name or f"sha256 {self.evidence.sha256[:12]}…"

    def summary(self) -> dict:
        """The ``--json`` summary of docs/interfaces.md."""
        return {
            "source": self.source,
            "file_sha256": self.evidence.sha256,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "errors": self.errors,
        }


class IngestChunk(models.Model):
    """One independent part of a chunked run (a large customs file, docs/operations-workers.md):
    the data lines in bytes ``[start, end)`` of the file, whose first is line ``first_line``.

    A chunk's rows and its ``done`` status commit in one transaction, so a chunk whose worker
    died is executed again from nothing and its rows are stored exactly once; the run is
    finished by the execution that marks its last chunk done."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        FAILED = "failed"

    run = models.ForeignKey(IngestRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.IntegerField()
    start = models.BigIntegerField()
    end = models.BigIntegerField()
    first_line = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.IntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="last put on the queue")
    worker = models.CharField(max_length=255, blank=True, help_text="host that stored it")
    rows_read = models.BigIntegerField(default=0)
    accepted = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)
    duplicates = models.BigIntegerField(default=0)
    corrections = models.BigIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    failure = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="ingest_chunk_once_per_run")
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} chunk {self.index} ({self.status})"
