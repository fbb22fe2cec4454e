"""Estimates of specific embedded emissions (SEE), each with its canonical trace."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Tier(models.TextChoices):
    """The data-quality ladder of docs/design.md §2, best first."""

    VERIFIED = "verified", _("Verified actual")
    DISCLOSED = "disclosed", _("Disclosed actual")
    MODELLED = "modelled", _("Modelled")
    DEFAULT = "default", _("Default value")


#: Rank on the ladder, best first (docs/design.md §2).
TIER_RANK = {Tier.VERIFIED: 0, Tier.DISCLOSED: 1, Tier.MODELLED: 2, Tier.DEFAULT: 3}


def default_subject_key(origin: str, cn_code: str, year: int) -> str:
    """The subject of the default-value estimate of (origin, CN code, year)."""
    return f"default|{origin}|{cn_code}|{year}"


def default_unmarked_subject_key(origin: str, cn_code: str, year: int) -> str:
    """The subject of the default value WITHOUT mark-up of (origin, CN code, year): the
    best estimate's last rung (docs/design.md)."""
    return f"default_unmarked|{origin}|{cn_code}|{year}"


def mixture_subject_key(exporter_id: int, origin: str, cn_code: str, year: int) -> str:
    """The subject of the capacity-weighted mixture of an exporter's linked plants."""
    return f"mixture|{exporter_id}|{origin}|{cn_code}|{year}"


class Estimate(models.Model):
    # Natural key: what the estimate is *of*; one row per distinct trace of it.
    subject_key = models.CharField(max_length=128, help_text="e.g. default|CN|72081000|2026")
    tier = models.CharField(max_length=16, choices=Tier.choices)
    methodology = models.CharField(max_length=64)
    methodology_version = models.CharField(max_length=32)
    engine_version = models.CharField(max_length=32)
    cn_code = models.CharField(max_length=8)
    origin = models.CharField(max_length=8)
    installation = models.ForeignKey(
        "facilities.Installation", null=True, blank=True, on_delete=models.PROTECT
    )
    period_start = models.DateField()
    period_end = models.DateField()
    see_direct_t_per_t = models.FloatField()
    see_indirect_t_per_t = models.FloatField(null=True, blank=True)
    see_total_t_per_t = models.FloatField()
    interval_low_t_per_t = models.FloatField(null=True, blank=True)
    interval_high_t_per_t = models.FloatField(null=True, blank=True)
    direct_only = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    # The canonical JSON (RFC 8785) bytes and their SHA-256: the trace *is* the result.
    trace = models.TextField()
    trace_sha256 = models.CharField(max_length=64)
    # A disclosed (or verified) estimate replaced by a later one for the same subject, e.g.
    # when the exporter restates its disclosure: kept, but no longer chosen.
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="supersedes"
    )
    # The methodology version it was computed under (its trace's ``adoption`` object,
    # docs/adoption.md); ``preview`` when that version was not adopted by k members then.
    adoption_version = models.ForeignKey(
        "adoption.MethodologyVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    preview = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject_key", "trace_sha256"], name="estimate_natural_key"
            )
        ]
        indexes = [models.Index(fields=["cn_code", "origin"])]

    def __str__(self) -> str:
        return f"{self.subject_key} {self.see_total_t_per_t:.4f} t/t ({self.tier})"
