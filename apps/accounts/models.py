"""Organisations, users with one role each, and hashed API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Organisation(models.Model):
    class Kind(models.TextChoices):
        EXPORTER = "exporter", _("Exporter (producer or trader)")
        IMPORTER = "importer", _("Importer / declarant")
        AUTHORITY = "authority", _("Customs or ministry")
        VERIFIER = "verifier", _("Verifier or auditor")

    name = models.CharField(max_length=255)
    # Normalised name: the natural key customs records are matched on.
    key = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    country = models.CharField(max_length=8, blank=True, help_text="ISO 3166-1 alpha-2")
    eori = models.CharField(
        max_length=17, blank=True, help_text="EORI number (importers: the Registry declarant)"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    class Role(models.TextChoices):
        OFFICIAL = "official", _("Trade official")
        EXPORTER = "exporter", _("Exporter member")
        IMPORTER = "importer", _("Importer member")
        AUDITOR = "auditor", _("Auditor")
        ADMIN = "admin", _("Administrator")

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OFFICIAL)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )

    @property
    def is_exporter(self) -> bool:
        return self.role == self.Role.EXPORTER

    @property
    def is_importer(self) -> bool:
        return self.role == self.Role.IMPORTER


class ApiToken(models.Model):
    """A bearer token for scripts. Only its SHA-256 is stored; it expires and can be revoked."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_sha256 = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="first characters, to tell tokens apart")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
