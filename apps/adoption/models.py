"""Methodology versions and the member signatures of their adoption records (docs/adoption.md).

A version is named by the SHA-256 of its manifest (:mod:`methodologies.versions`); its
adoption record is the signed note of :mod:`verifier.adoption`: ``statement`` (the text)
and the signature lines stored here, one per member key. Whether it is adopted is not a
column: it is counted from the signatures against the member keys configured now
(CM_COALITION_KEYS, CM_ADOPTION_THRESHOLD), as a verifier counts them against its own.
``adopted_at`` records when the threshold was first reached (an audited event).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class MethodologyVersion(models.Model):
    label = models.CharField(max_length=64, unique=True)  # e.g. "2026.1"
    digest = models.CharField(max_length=64, unique=True)  # SHA-256 of the manifest, hex
    manifest = models.JSONField()  # engine, code, tables, methodologies, parameters
    statement = models.TextField()  # the adoption record's text, what members sign
    description = models.TextField(blank=True)  # what the version changes, in words
    proposed_at = models.DateTimeField()
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    adopted_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]

    def __str__(self) -> str:
        return f"methodology version {self.label} ({self.digest[:12]})"


class AdoptionSignature(models.Model):
    """One member's signature line on a version's adoption record (checked against the
    configured member key before it is stored; one per version and key)."""

    version = models.ForeignKey(
        MethodologyVersion, on_delete=models.PROTECT, related_name="signatures"
    )
    signer = models.CharField(max_length=255)  # the member key's name
    key_id = models.CharField(max_length=8)  # hex, verifier.note.note_key_id
    line = models.CharField(max_length=400)  # "— <name> <base64>", no newline
    created_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["version", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "key_id"], name="adoption_signature_version_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.signer} signed {self.version.label}"
