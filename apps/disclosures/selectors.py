"""Reads of disclosures, scoped by role: officials, auditors and admins read all; an
exporter reads only its own organisation's (others' ids answer 404). Also the fetch of a
confirmed version's inputs (:func:`disclosure_inputs`), read once before the pure mapping
(docs/disclosures.md, "Confirming a version")."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from apps.accounts.models import User
from apps.catalogue.selectors import default_value_candidates
from apps.disclosures import cases
from apps.disclosures.models import (
    Disclosure,
    DisclosureVersion,
    ExtractedValue,
    VerificationReport,
)
from apps.evidence.models import IngestRun
from apps.facilities.models import Installation
from apps.grid.selectors import grid_factor_lookup


def disclosure_list(*, user: User) -> QuerySet[Disclosure]:
    qs = Disclosure.objects.select_related("organisation", "installation")
    if user.role == User.Role.EXPORTER:
        return (
            qs.filter(organisation_id=user.organisation_id) if user.organisation_id else qs.none()
        )
    return qs


def disclosure_version_list(*, user: User) -> QuerySet[DisclosureVersion]:
    qs = DisclosureVersion.objects.select_related(
        "disclosure__organisation", "disclosure__installation", "evidence"
    )
    if user.role == User.Role.EXPORTER:
        if not user.organisation_id:
            return qs.none()
        return qs.filter(disclosure__organisation_id=user.organisation_id)
    return qs


def extracted_value_list(*, user: User) -> QuerySet[ExtractedValue]:
    qs = ExtractedValue.objects.select_related("version__disclosure", "version__evidence")
    if user.role == User.Role.EXPORTER:
        if not user.organisation_id:
            return qs.none()
        return qs.filter(version__disclosure__organisation_id=user.organisation_id)
    return qs


#: The templates an exporter may download from the upload page, by file name: what each
#: is, and where the repository keeps it (fixtures/README files give their sources).
TEMPLATE_FILES: dict[str, dict] = {
    "disclosure_template_example.csv": {
        "path": settings.BASE_DIR / "fixtures/disclosures/template_example.csv",
        "label": "Our disclosure template (CSV), filled with an example to overwrite",
    },
    "disclosure_template_example.xlsx": {
        "path": settings.BASE_DIR / "fixtures/disclosures/template_example.xlsx",
        "label": "Our disclosure template (XLSX), the same example as a workbook",
    },
    "CBAM_communication_template_v2.1.1.xlsx": {
        "path": settings.BASE_DIR
        / "fixtures/cbam/official/communication_template_v2.1.1_blank.xlsx",
        "label": "The Commission's CBAM communication template v2.1.1 (XLSX, blank)",
    },
}


def exporter_shipments_year(*, user: User) -> int | None:
    """The year of the newest shipment of the user's organisation (None for another role
    or none shipped): read from the (exporter, id) index, newest line first."""
    from apps.shipments.models import Shipment

    if user.role != User.Role.EXPORTER or not user.organisation_id:
        return None
    newest = (
        Shipment.objects.filter(exporter_id=user.organisation_id, is_current=True)
        .order_by("-id")
        .values_list("date", flat=True)
        .first()
    )
    return newest.year if newest else None


def installation_choices(*, user: User) -> QuerySet[Installation]:
    """The installations a user may upload a disclosure for: its organisation's."""
    if user.role != User.Role.EXPORTER or not user.organisation_id:
        return Installation.objects.none()
    return Installation.objects.filter(organisation_id=user.organisation_id).order_by("name")


def disclosure_run_summary(*, run: IngestRun) -> dict:
    """What ``ingest disclosure --json`` adds (docs/interfaces.md): ``extractor`` and ``values``
    ``[{field, value, unit, page or cell (or line), quote}]``, plus the version."""
    version = DisclosureVersion.objects.filter(ingest_run=run).first()
    if version is None:
        return {"extractor": None, "values": []}
    values = []
    for v in version.values.all():
        item = {"field": v.field, "value": v.value if v.value is not None else v.text}
        item["unit"] = v.unit
        if v.page is not None:
            item["page"] = v.page
        elif v.cell:
            item["cell"] = v.cell
        else:
            item["line"] = v.line
        item["quote"] = v.quote
        values.append(item)
    out = {
        "extractor": version.extractor or None,
        "values": values,
        "disclosure": version.disclosure_id,
        "version": version.number,
        "status": version.status,
    }
    recompute = getattr(getattr(version, "trace", None), "recompute", None) or {}
    if recompute:  # a CBAM communication template, recomputed (docs/official-formats.md)
        out["products"] = [
            {
                k: p[k]
                for k in (
                    "cn_code",
                    "see_direct_t_per_t",
                    "see_indirect_t_per_t",
                    "template_see_direct_t_per_t",
                    "template_see_indirect_t_per_t",
                    "agrees",
                )
            }
            for p in recompute.get("products", [])
        ]
    return out


def verification_report_current(*, disclosure: Disclosure) -> VerificationReport | None:
    """The latest report with a positive opinion on the disclosure, or None."""
    positive = [
        VerificationReport.Opinion.POSITIVE,
        VerificationReport.Opinion.POSITIVE_WITH_COMMENTS,
    ]
    return (
        disclosure.verification_reports.filter(opinion__in=positive)
        .order_by("-issued_on", "-id")
        .first()
    )


def verification_evidence(report: VerificationReport) -> dict:
    """A verification report as an estimate's provenance cites it."""
    return {
        "report_id": report.pk,
        "report_identifier": report.report_identifier,
        "period": [report.period_start.isoformat(), report.period_end.isoformat()],
        "verifier": report.verifier_name,
        "accreditation_number": report.accreditation_number,
        "accreditation_body": report.accreditation_body,
        "accreditation_expires": (
            report.accreditation_expires.isoformat() if report.accreditation_expires else None
        ),
        "opinion": report.opinion,
        "comments": report.comments,
        "issued_on": report.issued_on.isoformat(),
        "basis": "Commission Implementing Regulation (EU) 2025/2546, Annex (1.2, 1.3, 2.6)",
    }


def _measured_grid_note(installation: Installation, year: int) -> str:
    """The platform's measured grid intensity for the installation's zone and year, as a
    note: evidence shown beside the CBAM factor, never used in its place."""
    try:
        measured = grid_factor_lookup(
            zone=installation.grid_zone, country=installation.country, year=year
        )
    except LookupError as exc:
        return f"measured grid intensity: none for {year} ({exc})"
    return (
        f"measured grid intensity {measured.value_t_per_mwh:.4g} t/MWh ({measured.source}; "
        f"{' → '.join(measured.steps)}): evidence only, not used (CBAM takes the Annex II "
        "factor unless an actual factor is justified)"
    )


def disclosure_inputs(*, version: DisclosureVersion) -> cases.Facts:
    """Everything the mapping (:mod:`apps.disclosures.cases`) needs, read once up front:
    the version's kept values as plain :class:`~apps.disclosures.cases.Disclosed`, the
    installation, the period, the default-value rows of precursors without SEE and the
    measured grid note (only when a value needs them), the provenance block and the
    positive verification report covering the period, if any."""
    disclosure = version.disclosure
    installation = disclosure.installation
    year = disclosure.period_year
    values = tuple(
        cases.Disclosed(
            id=v.pk,
            field=v.field,
            value=v.value,
            unit=v.unit,
            text=v.text,
            status=v.status,
            corrected_value=v.corrected_value,
            corrected_unit=v.corrected_unit,
            reason=v.reason,
            quote=v.quote,
            page=v.page,
            cell=v.cell,
            line=v.line,
        )
        for v in version.values.exclude(status=ExtractedValue.ValueStatus.DROPPED)
    )
    defaults, grid = cases.lookups_needed(version.kind, values)
    run = version.ingest_run
    report = verification_report_current(disclosure=disclosure)
    return cases.Facts(
        kind=version.kind,
        cn_code=version.cn_code,
        installation=cases.Installation(
            identifier=installation.identifier,
            country=installation.country,
            routes=tuple(installation.routes or ()),
        ),
        year=year,
        values=values,
        measured_grid_note=_measured_grid_note(installation, year) if grid else "",
        default_rows={
            (origin, cn): default_value_candidates(origin=origin, cn_code=cn)
            for origin, cn in sorted(defaults)
        },
        disclosure={
            "id": disclosure.pk,
            "version": version.number,
            "version_id": version.pk,
            "organisation": disclosure.organisation.name,
            "installation": installation.identifier,
            "period": [disclosure.period_start.isoformat(), disclosure.period_end.isoformat()],
            "kind": version.kind,
            "extractor": version.extractor,
            "evidence": {
                "file": run.original_name if run else "",
                "sha256": version.evidence.sha256,
            },
        },
        verification=verification_evidence(report) if report is not None else None,
    )
