"""Exporters' disclosures: every submission a version, every value with its evidence.

A :class:`Disclosure` is one installation's data for one reporting period (a year) from
one organisation. Each uploaded file is a new :class:`DisclosureVersion` (nothing is
overwritten: a restatement is a later version, and the earlier one keeps its values,
file and provenance). Each version holds the :class:`ExtractedValue` rows read from its
file, each with its evidence (page, quote and box for a PDF; sheet and cell for a
spreadsheet), and one :class:`ExtractionTrace` saying which extractor ran and how.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    PROCESSING = "processing", _("Processing")
    NEEDS_REVIEW = "needs_review", _("Needs review (extraction failed)")
    REVIEW = "review", _("Ready for review")
    CONFIRMED = "confirmed", _("Confirmed")
    FAILED = "failed", _("Failed")
    # Confirmed by the exporter but implausible (apps.disclosures.plausibility): no
    # estimate until an official accepts it (then "confirmed") or rejects it.
    HELD = "held", _("Held for an official's review")
    REJECTED = "rejected", _("Rejected by an official")


class Disclosure(models.Model):
    """One installation's disclosed data for one reporting period; ``status`` and
    ``progress`` are those of its latest version."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="disclosures"
    )
    installation = models.ForeignKey(
        "facilities.Installation", on_delete=models.PROTECT, related_name="disclosures"
    )
    period_year = models.IntegerField()
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    progress = models.IntegerField(default=0, help_text="percent of the latest version's work")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "installation", "period_year"],
                name="disclosure_natural_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.installation.identifier} {self.period_year}"


class DisclosureVersion(models.Model):
    """One submitted file of a disclosure, numbered 1, 2, … within it."""

    class Kind(models.TextChoices):
        TEMPLATE = "template", _("Our template (CSV/XLSX)")
        CBAM_TEMPLATE = "cbam_template", _("CBAM communication template")
        PDF = "pdf", _("PDF report")
        UNKNOWN = "", _("Not read yet")

    disclosure = models.ForeignKey(Disclosure, on_delete=models.PROTECT, related_name="versions")
    number = models.IntegerField()
    evidence = models.ForeignKey(
        "evidence.EvidenceFile", on_delete=models.PROTECT, related_name="disclosure_versions"
    )
    ingest_run = models.OneToOneField(
        "evidence.IngestRun",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disclosure_version",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, blank=True)
    cn_code = models.CharField(
        max_length=8, blank=True, help_text="the good a PDF report's per-tonne figures are of"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    progress = models.IntegerField(default=0)
    failure = models.TextField(blank=True)
    extractor = models.CharField(max_length=128, blank=True)
    # PDF page texts (number, text, width, height) so the review shows the quotes in context.
    pages = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="supersedes"
    )
    engine = models.JSONField(
        default=dict, blank=True, help_text="what confirming fed the engine (estimates, notes)"
    )
    # An official's review of a held version (apps.disclosures.services.disclosure_hold_decide).
    held = models.JSONField(
        default=list, blank=True, help_text="why the version was held: one finding per check"
    )
    decision = models.CharField(max_length=16, blank=True, help_text="accepted or rejected")
    decision_note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["disclosure", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["disclosure", "number"], name="disclosureversion_key")
        ]

    def __str__(self) -> str:
        return f"{self.disclosure} v{self.number}"


class ExtractedValue(models.Model):
    """One value read from a version's file, with its evidence and review state.

    ``value``/``unit`` are as extracted and never change; a reviewer's correction goes to
    ``corrected_value``/``corrected_unit`` (status ``corrected``) with the reason."""

    class ValueStatus(models.TextChoices):
        EXTRACTED = "extracted", _("Extracted")
        CORRECTED = "corrected", _("Corrected")
        CONFIRMED = "confirmed", _("Confirmed")
        DROPPED = "dropped", _("Dropped")

    version = models.ForeignKey(DisclosureVersion, on_delete=models.PROTECT, related_name="values")
    index = models.IntegerField()
    field = models.CharField(max_length=255)
    value = models.FloatField(null=True, blank=True)
    text = models.CharField(max_length=255, blank=True, help_text="text values (codes, dates)")
    unit = models.CharField(max_length=64, blank=True)
    # Evidence: page + quote + bbox (PDF), cell or line + quote (spreadsheets).
    page = models.IntegerField(null=True, blank=True)
    # A sheet name may be long (Excel stops at 31 characters, other writers do not): text.
    cell = models.TextField(blank=True)
    line = models.IntegerField(null=True, blank=True)
    quote = models.TextField(blank=True)
    bbox = models.JSONField(null=True, blank=True, help_text="[x0, top, x1, bottom] in PDF pt")
    extractor = models.CharField(max_length=128)
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=ValueStatus.choices, default=ValueStatus.EXTRACTED
    )
    reason = models.TextField(blank=True)
    corrected_value = models.FloatField(null=True, blank=True)
    corrected_unit = models.CharField(max_length=64, blank=True)
    plausibility = models.TextField(blank=True, help_text="why the value looks implausible")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["version", "index"]
        constraints = [
            models.UniqueConstraint(fields=["version", "index"], name="extractedvalue_key")
        ]

    def __str__(self) -> str:
        return f"{self.field} = {self.value} {self.unit}"

    @property
    def current_value(self) -> float | None:
        return self.corrected_value if self.status == "corrected" else self.value

    @property
    def current_unit(self) -> str:
        return self.corrected_unit if self.status == "corrected" else self.unit

    @property
    def where(self) -> str:
        if self.page is not None:
            return f"page {self.page}"
        if self.cell:
            return f"cell {self.cell}"
        return f"line {self.line}" if self.line is not None else ""


class ExtractionTrace(models.Model):
    """How a version's values were extracted: extractor, model, prompt hash, request and
    response (for the LLM), temperature, attempts, and the error if it failed."""

    version = models.OneToOneField(
        DisclosureVersion, on_delete=models.PROTECT, related_name="trace"
    )
    extractor = models.CharField(max_length=128)
    model_id = models.CharField(max_length=255, blank=True)
    prompt_sha256 = models.CharField(max_length=64, blank=True)
    temperature = models.FloatField(null=True, blank=True)
    request = models.JSONField(null=True, blank=True)
    response = models.TextField(blank=True)
    attempts = models.JSONField(default=list, blank=True)
    dropped = models.JSONField(default=list, blank=True)
    flags = models.JSONField(default=list, blank=True)
    #: CBAM communication template: each product's SEE recomputed by the engine beside
    #: the template's own figure (docs/official-formats.md, "Recomputing it").
    recompute = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.version}: {self.extractor}"


class VerificationReport(models.Model):
    """A verifier's report on a disclosure's reporting period: what makes its estimates
    "verified actual" (docs/design.md §2, rung 1).

    The fields are the identification data of the verification report template of
    Commission Implementing Regulation (EU) 2025/2546, Annex: the report's identifier
    and reporting period (pt 1.2), the verifier, its accreditation number, national
    accreditation body and the accreditation's expiry (pt 1.3), and the verification
    statement (pt 2.6): whether it concludes with reasonable assurance that the report
    is free from material misstatements and non-conformities ("positive", "positive with
    comments" when it adds recommendations or immaterial findings, else "negative"), and
    its date of issue.  Only a positive opinion makes the estimates verified.
    """

    class Opinion(models.TextChoices):
        POSITIVE = "positive", _("Positive")
        POSITIVE_WITH_COMMENTS = "positive_with_comments", _("Positive with comments")
        NEGATIVE = "negative", _("Negative (not verified as satisfactory)")

    disclosure = models.ForeignKey(
        Disclosure, on_delete=models.PROTECT, related_name="verification_reports"
    )
    report_identifier = models.CharField(max_length=128, help_text="IR 2025/2546 Annex 1.2(a)")
    period_start = models.DateField(help_text="reporting period verified (Annex 1.2(b))")
    period_end = models.DateField()
    verifier_name = models.CharField(max_length=255, help_text="Annex 1.3(a)")
    accreditation_number = models.CharField(max_length=128, help_text="Annex 1.3(d)")
    accreditation_body = models.CharField(
        max_length=255, help_text="national accreditation body (Annex 1.3(e))"
    )
    accreditation_expires = models.DateField(null=True, blank=True, help_text="Annex 1.3(g)")
    opinion = models.CharField(max_length=32, choices=Opinion.choices)
    comments = models.TextField(blank=True, help_text="findings and recommendations (2.6)")
    issued_on = models.DateField(help_text="date of the verification statement (2.6(h))")
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["disclosure", "report_identifier"], name="verificationreport_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.report_identifier} ({self.opinion}) for {self.disclosure}"

    @property
    def is_positive(self) -> bool:
        return self.opinion in (self.Opinion.POSITIVE, self.Opinion.POSITIVE_WITH_COMMENTS)
