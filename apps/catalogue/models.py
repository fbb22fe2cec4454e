"""Reference data: the CN goods catalogue and the official CBAM default values."""

from __future__ import annotations

from django.db import models


class CNCode(models.Model):
    """A CN code (4, 6 or 8 digits) and its CBAM scope."""

    code = models.CharField(max_length=8, primary_key=True)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=64, blank=True, help_text="aggregated goods category")
    sector = models.CharField(max_length=32, blank=True)
    in_cbam_scope = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "CN code"

    def __str__(self) -> str:
        return self.code


class DefaultValue(models.Model):
    """One row of IR 2025/2621 Annex I: default SEE for (country, CN code)."""

    origin = models.CharField(max_length=8, help_text="ISO 3166-1 alpha-2, or OTHER")
    country = models.CharField(max_length=64, help_text="country sheet name as published")
    sector = models.CharField(max_length=32)
    cn_code = models.CharField(max_length=8)
    cn_code_as_published = models.CharField(max_length=16)
    description = models.TextField()
    direct_t_per_t = models.FloatField()
    indirect_t_per_t = models.FloatField(null=True, blank=True)
    total_t_per_t = models.FloatField()
    dv_2026 = models.FloatField(null=True, blank=True)
    dv_2027 = models.FloatField(null=True, blank=True)
    dv_2028 = models.FloatField(null=True, blank=True)
    indirect_applicable = models.BooleanField(default=False)
    route_flag = models.CharField(max_length=8, blank=True)
    ingest_run = models.ForeignKey("evidence.IngestRun", on_delete=models.PROTECT)
    source_line = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["origin", "cn_code", "description"], name="defaultvalue_natural_key"
            )
        ]
        indexes = [models.Index(fields=["origin", "cn_code"])]

    def __str__(self) -> str:
        return f"{self.origin} {self.cn_code} {self.total_t_per_t}"
