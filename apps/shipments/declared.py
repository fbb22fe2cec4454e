"""Ingest an importer's CBAM Registry report as evidence of what was declared.

The pure reader :func:`ingest.cbam_report.read_cbam_report` parses and validates the XML
(v18 or v19); this service stores one :class:`~apps.shipments.models.DeclaredLine` per
``GoodsEmissions`` line, all in one transaction (a report is stored whole or not at all).
The same report ingested again stores nothing new: its lines count as duplicates.
"""

from __future__ import annotations

from dataclasses import asdict

from django.db import transaction

from apps.evidence.models import IngestRun
from apps.evidence.services import IngestOutcome, ingest_run_finish
from apps.evidence.store import evidence_local_path
from apps.shipments.models import DeclaredLine
from ingest.cbam_report import read_cbam_report


def _none(value):
    return None if value is None or value != value else value  # NaN → None


def cbam_report_ingest(*, run: IngestRun) -> IngestOutcome:
    """Store the declared lines of ``run.evidence`` (see the module docstring)."""
    with evidence_local_path(run.evidence) as path:
        data, meta = read_cbam_report(path)
    errors = [asdict(e) for e in meta["errors"]]
    already = DeclaredLine.objects.filter(ingest_run__evidence=run.evidence).exclude(ingest_run=run)
    if already.exists():
        outcome = IngestOutcome(
            rows_read=meta["rows_read"],
            accepted=0,
            rejected=meta["rows_rejected"],
            duplicates=len(data),
            errors=errors,
            extra={"schema_version": meta["schema_version"]},
        )
        with transaction.atomic():
            ingest_run_finish(run=run, outcome=outcome)
        return outcome
    lines = [
        DeclaredLine(
            ingest_run=run,
            source_line=int(r.source_line),
            schema_version=meta["schema_version"],
            declarant_id=meta["declarant_id"] or "",
            declarant_name=(meta["declarant_name"] or "")[:70],
            year=meta["year"],
            period=meta["period"] or "",
            item_number=int(r.item_number),
            emission_sequence=int(r.emission_sequence),
            cn_code=r.cn_code or "",
            origin=r.origin or "",
            production_country=_none(r.production_country) or "",
            installation_identifier=(_none(r.installation_id) or "")[:64],
            installation_name=(_none(r.installation_name) or "")[:255],
            net_mass_t=float(r.net_mass_t),
            see_direct_t_per_t=float(r.see_direct_t_per_t),
            see_indirect_t_per_t=_none(r.see_indirect_t_per_t),
            method=r.method,
            carbon_price_amount=_none(r.carbon_price_amount),
            carbon_price_currency=_none(r.carbon_price_currency) or "",
            embedded_emissions_t=float(r.embedded_emissions_t),
        )
        for r in data.itertuples(index=False)
    ]
    outcome = IngestOutcome(
        rows_read=meta["rows_read"],
        accepted=len(lines),
        rejected=meta["rows_rejected"],
        duplicates=0,
        errors=errors,
        extra={"schema_version": meta["schema_version"], "period": meta["period"]},
    )
    with transaction.atomic():  # the lines, the run's counts and its audit event together
        DeclaredLine.objects.bulk_create(lines)
        ingest_run_finish(run=run, outcome=outcome)
    return outcome
