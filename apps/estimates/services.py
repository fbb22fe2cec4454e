"""Writes of estimates: choose the best SEE for shipments and record it with its trace.

Today the ladder of DESIGN §3 has its last rung: the official default value of
(origin, CN code, year of import) with the year's mark-up. Better tiers (verified,
disclosed, modelled) slot in ahead of it in :func:`estimates_choose`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction

import methodologies
from apps.audit.services import audit_append
from apps.catalogue.selectors import default_value_candidates
from apps.estimates.models import Estimate, Tier
from methodologies import batch
from methodologies.errors import MethodologyError
from methodologies.trace import canonical_bytes


@dataclass
class Assignment:
    """The estimate chosen for each row of a batch of shipments (arrays aligned with it)."""

    estimate_id: np.ndarray  # int64, 0 where no estimate could be made
    tier: np.ndarray  # str
    embedded_emissions_t: np.ndarray  # float64, NaN where no estimate
    estimates: int = 0
    unestimated: int = 0
    reasons: list[str] = field(default_factory=list)


def estimate_record(
    *,
    result: dict[str, Any],
    subject_key: str,
    tier: str,
    cn_code: str,
    origin: str,
    period_start: dt.date,
    period_end: dt.date,
    actor: Any = None,
) -> Estimate:
    """Store an engine result; the same trace for the same subject is stored once."""
    trace_bytes = canonical_bytes(result["trace"])
    methodology = result["trace"]["methodology"]
    estimate, created = Estimate.objects.get_or_create(
        subject_key=subject_key,
        trace_sha256=result["trace_sha256"],
        defaults={
            "tier": tier,
            "methodology": methodology["id"],
            "methodology_version": methodology["version"],
            "engine_version": methodologies.ENGINE_VERSION,
            "cn_code": cn_code,
            "origin": origin,
            "period_start": period_start,
            "period_end": period_end,
            "see_direct_t_per_t": result["see_direct_t_per_t"],
            "see_indirect_t_per_t": result.get("see_indirect_t_per_t"),
            "see_total_t_per_t": result["see_total_t_per_t"],
            "direct_only": bool(result.get("direct_only")),
            "reason": result.get("reason", ""),
            "trace": trace_bytes.decode(),
        },
    )
    if created:
        audit_append(
            actor=actor,
            action="estimate.create",
            object_type="estimate",
            object_id=estimate.pk,
            payload={"subject": subject_key, "trace_sha256": estimate.trace_sha256},
        )
    return estimate


def estimates_choose(
    *,
    origin: np.ndarray,
    cn_code: np.ndarray,
    year: np.ndarray,
    net_mass_t: np.ndarray,
    actor: Any = None,
) -> Assignment:
    """Choose the best estimate for each shipment of a batch, before it is stored.

    Rows are grouped by (origin, CN code, year): the engine runs once per group and the
    estimate is recorded (its natural key makes this idempotent); then the engine's batch
    path gathers each row's SEE and multiplies by its mass in one vectorised pass.
    """
    codes, groups = pd.factorize(pd.MultiIndex.from_arrays([origin, cn_code, year]))
    estimate_ids = np.zeros(len(groups), dtype=np.int64)
    see_total = np.full(len(groups), np.nan)
    tiers = np.full(len(groups), "", dtype=object)
    reasons = []
    for k, (o, c, y) in enumerate(groups):
        case = {
            "methodology": "cbam.default",
            "cn_code": c,
            "origin": o,
            "year": int(y),
            "default_values": default_value_candidates(origin=o, cn_code=c),
        }
        try:
            result = methodologies.run_case(case)
        except MethodologyError as exc:
            reasons.append(f"{o} {c} {y}: {exc}")
            continue
        with transaction.atomic():
            estimate = estimate_record(
                result=result,
                subject_key=f"default|{o}|{c}|{y}",
                tier=Tier.DEFAULT,
                cn_code=c,
                origin=o,
                period_start=dt.date(int(y), 1, 1),
                period_end=dt.date(int(y), 12, 31),
                actor=actor,
            )
        estimate_ids[k] = estimate.pk
        see_total[k] = estimate.see_total_t_per_t
        tiers[k] = estimate.tier
    embedded = batch.embedded_emissions(net_mass_t, codes, see_total)
    return Assignment(
        estimate_id=estimate_ids[codes],
        tier=tiers[codes],
        embedded_emissions_t=embedded,
        estimates=int((estimate_ids > 0).sum()),
        unestimated=int(np.isnan(embedded).sum()),
        reasons=reasons,
    )


def estimate_verify(*, estimate: Estimate) -> dict[str, Any]:
    """Recompute an estimate from the inputs stored in its trace; compare the bytes."""
    recomputed_bytes, recomputed_sha = methodologies.recompute(json.loads(estimate.trace))
    return {
        "match": recomputed_bytes == estimate.trace.encode(),
        "stored_sha256": estimate.trace_sha256,
        "recomputed_sha256": recomputed_sha,
    }
