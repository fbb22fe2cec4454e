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
    # Whose data the event carries (apps/audit/attribution.py): an exporter reads only
    # its own organisation's events and the public ones. Not part of the hashed leaf.
    organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    public = models.BooleanField(
        default=False, help_text="carries only reference data that no organisation owns"
    )

    class Meta:
        ordering = ["index"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.index} {self.action} {self.object_type}:{self.object_id}"


class Checkpoint(models.Model):
    """A signed tree head: the log's root at ``tree_size``, signed with Ed25519.

    What is signed is ``verifier.checkpoint.checkpoint_body`` (origin, size, base64 root,
    timestamp). One checkpoint per tree size and key; rows are never changed (a trigger
    refuses UPDATE, DELETE and TRUNCATE on PostgreSQL, migration 0003).
    """

    # The log's name, first line of the note; CM_AUDIT_LOG_ORIGIN when signed.
    origin = models.CharField(max_length=255, default="carbon-manifest/audit-log")
    tree_size = models.BigIntegerField()
    root_hash = models.CharField(max_length=64)  # hex
    timestamp = models.DateTimeField()  # whole seconds, UTC: signed as YYYY-MM-DDTHH:MM:SSZ
    signature = models.CharField(max_length=88)  # base64 of the 64-byte Ed25519 signature
    key_id = models.CharField(max_length=16)  # verifier.checkpoint.key_id(public key)
    public_key = models.CharField(max_length=44)  # base64 of the 32-byte Ed25519 key

    class Meta:
        ordering = ["-tree_size", "-timestamp"]
        constraints = [
            models.UniqueConstraint(
                fields=["tree_size", "key_id"], name="audit_checkpoint_size_key"
            )
        ]

    def __str__(self) -> str:
        return f"checkpoint {self.tree_size} @ {self.timestamp:%Y-%m-%dT%H:%M:%SZ}"


class Cosignature(models.Model):
    """A witness's ``cosignature/v1`` of one of this log's checkpoints (docs/integrity.md §4).

    ``line`` is the note signature line as the witness returned it (verified with the
    witness key configured in CM_WITNESSES before it is stored). One per checkpoint and
    witness: collecting twice stores nothing new.
    """

    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="cosignatures"
    )
    witness = models.CharField(max_length=255)  # the witness key's name
    line = models.CharField(max_length=400)  # "— <name> <base64>", no newline
    timestamp = models.DateTimeField()  # the time the witness signed (in the signature)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["checkpoint", "witness"]
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "witness"], name="audit_cosignature_checkpoint_witness"
            )
        ]

    def __str__(self) -> str:
        return f"cosignature by {self.witness} of {self.checkpoint}"


class WitnessedLog(models.Model):
    """As a witness: the latest checkpoint this instance cosigned for one member's log.

    Changed only by ``apps.audit.witness.witness_add_checkpoint`` under a row lock and a
    compare-and-swap on ``tree_size``, so two concurrent requests cannot both advance it
    (docs/integrity.md §4)."""

    origin = models.CharField(max_length=255, unique=True)
    tree_size = models.BigIntegerField(default=0)
    root_hash = models.CharField(max_length=64, blank=True)  # hex; blank before the first
    note = models.TextField(blank=True)  # the cosigned checkpoint as the log signed it
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["origin"]

    def __str__(self) -> str:
        return f"{self.origin} at {self.tree_size}"
