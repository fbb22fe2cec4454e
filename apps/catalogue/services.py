"""Writes of reference data: the CBAM default-value table."""

from __future__ import annotations

import math

from django.db import transaction

from apps.catalogue.models import CNCode, DefaultValue
from apps.evidence.models import IngestRun
from apps.evidence.services import IngestOutcome, ingest_rows_store
from apps.evidence.store import evidence_local_path
from ingest.cbam_defaults import read_cbam_defaults


def _num(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def default_values_ingest(*, run: IngestRun) -> IngestOutcome:
    """Load IR 2025/2621 Annex I rows; the natural key (origin, CN, description) makes a
    re-ingest a no-op."""
    with evidence_local_path(run.evidence) as path:
        data, meta = read_cbam_defaults(path)
    rows = [
        DefaultValue(
            origin=r.origin,
            country=r.country,
            sector=r.sector,
            cn_code=r.cn_code,
            cn_code_as_published=r.cn_code_as_published,
            description=r.description,
            direct_t_per_t=r.direct_t_per_t,
            indirect_t_per_t=_num(r.indirect_t_per_t),
            total_t_per_t=r.total_t_per_t,
            dv_2026=_num(r.dv_2026),
            dv_2027=_num(r.dv_2027),
            dv_2028=_num(r.dv_2028),
            indirect_applicable=bool(r.indirect_applicable),
            route_flag=r.route_flag or "",
            ingest_run=run,
            source_line=int(r.source_line),
        )
        for r in data.itertuples(index=False)
    ]
    with transaction.atomic():
        # Annex I of IR 2025/2621 follows the current CN: its codes join the catalogue
        # (the communication template's list predates some of them, e.g. urea 3102 10 19).
        goods = data.drop_duplicates("cn_code")
        CNCode.objects.bulk_create(
            [
                CNCode(code=g.cn_code, description=g.description, sector=g.sector)
                for g in goods.itertuples(index=False)
            ],
            ignore_conflicts=True,
        )
        return ingest_rows_store(
            run=run,
            model=DefaultValue,
            rows=rows,
            meta=meta,
            extra={"countries": meta.get("countries"), "cn_codes": meta.get("cn_codes")},
        )
