"""Verification reports on disclosures (Commission Implementing Regulation (EU) 2025/2546):
attaching one, and what a positive opinion changes (docs/disclosures.md)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import audit_append
from apps.disclosures.models import Disclosure, Status, VerificationReport
from apps.disclosures.services import disclosure_estimates_apply


class VerificationError(ValueError):
    """A verification report refused; ``field`` names the offending field."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        super().__init__(f"{field}: {reason}")


def _verification_check(disclosure: Disclosure, fields: dict[str, Any]) -> None:
    for name in (
        "report_identifier",
        "verifier_name",
        "accreditation_number",
        "accreditation_body",
    ):
        if not str(fields.get(name) or "").strip():
            raise VerificationError(name, "required (IR 2025/2546 Annex 1.2, 1.3)")
    if fields["opinion"] not in VerificationReport.Opinion.values:
        raise VerificationError("opinion", f"one of {', '.join(VerificationReport.Opinion.values)}")
    start, end, issued = fields["period_start"], fields["period_end"], fields["issued_on"]
    if end < start:
        raise VerificationError("period_end", f"{end} is before the period's start {start}")
    if start > disclosure.period_start or end < disclosure.period_end:
        raise VerificationError(
            "period_start" if start > disclosure.period_start else "period_end",
            f"the report's period {start}–{end} does not cover the disclosure's reporting "
            f"period {disclosure.period_start}–{disclosure.period_end}",
        )
    if issued < start:
        raise VerificationError(
            "issued_on", f"{issued} is before the verified period's start ({start})"
        )
    if issued > timezone.now().date():
        raise VerificationError("issued_on", f"{issued} is in the future")
    expires = fields.get("accreditation_expires")
    if expires is not None and expires < issued:
        raise VerificationError(
            "accreditation_expires",
            f"the accreditation expired on {expires}, before the statement of {issued}",
        )


def verification_report_attach(
    *, disclosure: Disclosure, user: User, **fields: Any
) -> dict[str, Any]:
    """Attach a verification report to a disclosure (exporters of its organisation,
    officials). A positive opinion makes the estimates of its current confirmed version
    "verified actual": they are recomputed with tier verified, supersede the disclosed
    ones and move the installation's shipments up the ladder; a negative one is kept as
    evidence and changes no rung. Returns the report id and what changed."""
    if user.role == User.Role.EXPORTER:
        if disclosure.organisation_id != user.organisation_id:
            raise VerificationError("disclosure", "not a disclosure of your organisation")
    elif user.role != User.Role.OFFICIAL:
        raise VerificationError("disclosure", "only exporters and officials attach reports")
    fields = {**fields, "comments": fields.get("comments") or ""}
    _verification_check(disclosure, fields)
    if disclosure.verification_reports.filter(
        report_identifier=fields["report_identifier"]
    ).exists():
        raise VerificationError("report_identifier", "this report is already attached")
    with transaction.atomic():
        report = VerificationReport.objects.create(
            disclosure=disclosure, attached_by=user, **fields
        )
        audit_append(
            actor=user,
            action="disclosure.verification_attach",
            object_type="disclosure",
            object_id=disclosure.pk,
            payload={
                "report": report.pk,
                "report_identifier": report.report_identifier,
                "opinion": report.opinion,
                "verifier": report.verifier_name,
                "accreditation_number": report.accreditation_number,
            },
        )
        out: dict[str, Any] = {"report": report.pk, "verified": report.is_positive}
        version = disclosure.versions.filter(
            status=Status.CONFIRMED, superseded_by__isnull=True
        ).first()
        if report.is_positive and version is not None:
            engine = disclosure_estimates_apply(version=version, actor=user)
            version.engine = engine
            version.save(update_fields=["engine"])
            out |= {"estimates": engine["estimates"], "shipments": engine["shipments"]}
        elif report.is_positive:
            out["note"] = "no confirmed version yet: its estimates will be verified on confirmation"
        else:
            out["note"] = "negative opinion: kept as evidence, the estimates stay disclosed"
    return out
