"""Writes of estimates: choose the best SEE for shipments and record it with its trace.

Today the ladder of DESIGN §3 has its last rung: the official default value of
(origin, CN code, year of import) with the year's mark-up. Better tiers (verified,
disclosed, modelled) slot in ahead of it in :func:`estimates_assign`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import ExtractYear

import methodologies
from apps.audit.services import audit_append
from apps.catalogue.selectors import default_value_candidates
from apps.estimates.models import Estimate, Tier
from methodologies.errors import MethodologyError
from methodologies.trace import canonical_bytes


@dataclass
class Assignment:
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


def estimates_assign(*, shipments: QuerySet, actor: Any = None) -> Assignment:
    """Give every shipment without an estimate the best one available.

    Shipments are grouped by (origin, CN code, year): one engine run per group, then one
    set-based UPDATE writes the estimate, tier and embedded emissions of the whole group.
    """
    outcome = Assignment()
    pending = shipments.filter(estimate__isnull=True)
    groups = (
        pending.annotate(year=ExtractYear("date"))
        .values_list("origin", "cn_code", "year")
        .distinct()
        .order_by()
    )
    with transaction.atomic():
        for origin, cn_code, year in list(groups):
            case = {
                "methodology": "cbam.default",
                "cn_code": cn_code,
                "origin": origin,
                "year": year,
                "default_values": default_value_candidates(origin=origin, cn_code=cn_code),
            }
            members = pending.filter(origin=origin, cn_code=cn_code, date__year=year)
            try:
                result = methodologies.run_case(case)
            except MethodologyError as exc:
                outcome.unestimated += members.count()
                outcome.reasons.append(f"{origin} {cn_code} {year}: {exc}")
                continue
            estimate = estimate_record(
                result=result,
                subject_key=f"default|{origin}|{cn_code}|{year}",
                tier=Tier.DEFAULT,
                cn_code=cn_code,
                origin=origin,
                period_start=dt.date(year, 1, 1),
                period_end=dt.date(year, 12, 31),
                actor=actor,
            )
            members.update(
                estimate=estimate,
                tier=Tier.DEFAULT,
                embedded_emissions_t=F("net_mass_t") * estimate.see_total_t_per_t,
            )
            outcome.estimates += 1
    return outcome


def estimate_verify(*, estimate: Estimate) -> dict[str, Any]:
    """Recompute an estimate from the inputs stored in its trace; compare the bytes."""
    recomputed_bytes, recomputed_sha = methodologies.recompute(json.loads(estimate.trace))
    return {
        "match": recomputed_bytes == estimate.trace.encode(),
        "stored_sha256": estimate.trace_sha256,
        "recomputed_sha256": recomputed_sha,
    }
