"""Writes of shipments: the customs ingest."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd
from django.db import transaction

from apps.accounts.models import Organisation
from apps.accounts.services import organisations_ensure
from apps.catalogue.selectors import cn_index
from apps.estimates.services import estimates_assign
from apps.evidence.models import IngestRun
from apps.evidence.services import IngestOutcome, ingest_run_finish
from apps.shipments.models import Shipment
from ingest.customs import read_customs

BATCH = 5000


def _catalogue_errors(data: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """Reject rows whose CN code is not in the CBAM catalogue (hierarchical match)."""
    index = cn_index()
    known = data["cn_code"].map(lambda code: code in index)
    errors = [
        {
            "line": int(r.source_line),
            "field": "cn_code",
            "value": r.cn_code,
            "reason": f"CN code {r.cn_code} is not a CBAM good in the catalogue",
        }
        for r in data.loc[~known, ["source_line", "cn_code"]].itertuples(index=False)
    ]
    return data.loc[known], errors


def shipments_ingest(*, run: IngestRun) -> IngestOutcome:
    """Load declaration lines; (declaration id, line) makes a re-ingest a no-op.

    Rows, estimates, the run's counts and the audit event commit in one transaction.
    """
    data, meta = read_customs(run.evidence.path)
    errors = [asdict(e) for e in meta["errors"]]
    data, cn_errors = _catalogue_errors(data)
    errors.extend(cn_errors)
    errors.sort(key=lambda e: (e["line"] or 0, e["field"]))

    with transaction.atomic():
        exporters = organisations_ensure(
            names=data["exporter"].unique().tolist(), kind=Organisation.Kind.EXPORTER
        )
        records = data.to_dict("records")
        for start in range(0, len(records), BATCH):
            Shipment.objects.bulk_create(
                [_shipment(r, run, exporters) for r in records[start : start + BATCH]],
                ignore_conflicts=True,
            )
        accepted = Shipment.objects.filter(ingest_run=run).count()
        assigned = estimates_assign(
            shipments=Shipment.objects.filter(ingest_run=run), actor=run.requested_by
        )
        outcome = IngestOutcome(
            rows_read=meta["rows_read"],
            accepted=accepted,
            rejected=len({e["line"] for e in errors}),
            duplicates=len(records) - accepted,
            errors=errors,
            extra={"estimates": assigned.estimates, "unestimated": assigned.unestimated},
        )
        ingest_run_finish(run=run, outcome=outcome)
    return outcome


def _shipment(r: dict, run: IngestRun, exporters: dict[str, int]) -> Shipment:
    value = r.get("statistical_value_eur")
    return Shipment(
        declaration_id=r["declaration_id"],
        line=int(r["line"]),
        date=r["date"],
        cn_code=r["cn_code"],
        origin=r["origin"],
        exporter_id=exporters[r["exporter"]],
        importer_name=r.get("importer") or "",
        net_mass_t=float(r["net_mass_t"]),
        mass_unit=r["mass_unit"],
        statistical_value_eur=None if value is None or pd.isna(value) else float(value),
        procedure=r.get("procedure") or "",
        installation_identifier=r.get("installation_id") or "",
        ingest_run=run,
        source_line=int(r["source_line"]),
    )
