"""The append-only audit log. Each event is a leaf of an RFC 6962 Merkle tree."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    # Position in the log (0-based, gapless): the Merkle leaf index.
    index = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    # The exact bytes hashed as the leaf (canonical JSON of the event), and the leaf hash.
    data = models.BinaryField()
    leaf_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["index"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.index} {self.action} {self.object_type}:{self.object_id}"
