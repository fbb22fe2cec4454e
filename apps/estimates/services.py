"""Writes of estimates: choose the best SEE for shipments and record it with its trace.

The ladder of DESIGN §3, best first: verified > disclosed > modelled > default.

- **default**: the official default value of (origin, CN code, year of import) with the
  year's mark-up, for every shipment (:func:`estimates_choose`).
- **disclosed** (and verified; modelled when a partial disclosure went through a route
  model): an estimate made from an installation's confirmed disclosure (apps.disclosures),
  recorded with ``installation`` set and a subject key
  ``installation|<installation>|<CN>|<year>``. It replaces a worse tier for the shipments
  declared with that installation's identifier, of its origin, a CN code under the
  disclosed one and a date in the disclosed period (:func:`estimate_ladder_apply`); when a
  batch of new shipments is chosen with ``installation_identifier`` given,
  :func:`estimates_choose` picks it too. A restatement supersedes the earlier estimate
  (``superseded_by``); a verified estimate is never replaced by a disclosed one.

An estimate's trace is the engine's canonical trace; a disclosed one adds a
``provenance`` object (the disclosure version, its file's SHA-256, each value's evidence,
reconciliation flags, why this rung). The engine does not compute ``provenance``, so
:func:`estimate_verify` recomputes the engine part from ``case`` and carries the stored
``provenance`` over before comparing bytes; ``trace_sha256`` covers both.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import F, Q

import methodologies
from apps.audit.attribution import PUBLIC, Attribution
from apps.audit.services import AuditEntry, audit_append, audit_append_many, audit_lock
from apps.catalogue.selectors import default_value_candidates
from apps.estimates.models import TIER_RANK, Estimate, Tier, default_subject_key
from methodologies import batch
from methodologies.errors import MethodologyError
from methodologies.trace import canonical_bytes, sha256_hex


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
    installation: Any = None,
) -> Estimate:
    """Store an engine result; the same trace for the same subject is stored once.

    ``result["trace"]`` may carry a ``provenance`` object beside the engine's keys (see
    the module docstring); ``result["trace_sha256"]`` must then be the SHA-256 of it all.
    """
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
            "interval_low_t_per_t": result.get("interval_low_t_per_t"),
            "interval_high_t_per_t": result.get("interval_high_t_per_t"),
            "direct_only": bool(result.get("direct_only")),
            "reason": result.get("reason", ""),
            "trace": trace_bytes.decode(),
            "installation": installation,
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


@dataclass(frozen=True)
class EstimateItem:
    """One engine result to store with :func:`estimates_record_bulk` (the arguments of
    :func:`estimate_record`)."""

    result: dict[str, Any]
    subject_key: str
    tier: str
    cn_code: str
    origin: str
    period_start: dt.date
    period_end: dt.date
    installation_id: int | None = None
    organisation_id: int | None = None  # the installation's, for the audit attribution


@dataclass(frozen=True)
class BulkRecorded:
    """What :func:`estimates_record_bulk` stored: the estimate id of each item, in order,
    and how many estimates were new."""

    ids: list[int]
    created: int


def estimates_record_bulk(*, items: list[EstimateItem], actor: Any = None) -> BulkRecorded:
    """Store many results as :func:`estimate_record` would one by one — the same trace for
    the same subject once, one ``estimate.create`` event for each new estimate, in item
    order — with one insert of estimates and one of events. Call inside a transaction; the
    audit lock is taken first, so the check of what exists and the insert see no
    concurrent writer of the log."""
    audit_lock()
    keys = {(i.subject_key, i.result["trace_sha256"]) for i in items}
    ids: dict[tuple[str, str], int] = {}
    subjects = sorted({k[0] for k in keys})
    for start in range(0, len(subjects), 5000):
        rows = Estimate.objects.filter(subject_key__in=subjects[start : start + 5000])
        for pk, subject, digest in rows.values_list("pk", "subject_key", "trace_sha256"):
            if (subject, digest) in keys:
                ids[(subject, digest)] = pk
    new: list[Estimate] = []
    owners: list[Attribution] = []
    for item in items:
        key = (item.subject_key, item.result["trace_sha256"])
        if key in ids:
            continue
        ids[key] = 0  # reserved: a repeated item is stored once
        methodology = item.result["trace"]["methodology"]
        r = item.result
        new.append(
            Estimate(
                subject_key=item.subject_key,
                trace_sha256=r["trace_sha256"],
                tier=item.tier,
                methodology=methodology["id"],
                methodology_version=methodology["version"],
                engine_version=methodologies.ENGINE_VERSION,
                cn_code=item.cn_code,
                origin=item.origin,
                period_start=item.period_start,
                period_end=item.period_end,
                see_direct_t_per_t=r["see_direct_t_per_t"],
                see_indirect_t_per_t=r.get("see_indirect_t_per_t"),
                see_total_t_per_t=r["see_total_t_per_t"],
                interval_low_t_per_t=r.get("interval_low_t_per_t"),
                interval_high_t_per_t=r.get("interval_high_t_per_t"),
                direct_only=bool(r.get("direct_only")),
                reason=r.get("reason", ""),
                trace=canonical_bytes(r["trace"]).decode(),
                installation_id=item.installation_id,
            )
        )
        # As apps.audit.attribution decides for an estimate: a default value or a modelled
        # plant nobody owns is public; an owned installation's, its organisation's.
        owners.append(Attribution(item.organisation_id) if item.organisation_id else PUBLIC)
    created = Estimate.objects.bulk_create(new, batch_size=1000)
    for estimate in created:
        ids[(estimate.subject_key, estimate.trace_sha256)] = estimate.pk
    audit_append_many(
        actor=actor,
        entries=[
            AuditEntry(
                action="estimate.create",
                object_type="estimate",
                object_id=estimate.pk,
                payload={"subject": estimate.subject_key, "trace_sha256": estimate.trace_sha256},
                attribution=owner,
            )
            for estimate, owner in zip(created, owners, strict=True)
        ],
    )
    return BulkRecorded(
        [ids[(i.subject_key, i.result["trace_sha256"])] for i in items], len(created)
    )


def _ladder_candidates(
    *, identifiers: list[str], years: list[int]
) -> dict[tuple[str, int], list[Estimate]]:
    """Current (not superseded) verified, disclosed and modelled estimates of these
    installations and years, best tier first, then newest."""
    found: dict[tuple[str, int], list[Estimate]] = {}
    if not identifiers:
        return found
    qs = (
        Estimate.objects.filter(
            tier__in=[Tier.VERIFIED, Tier.DISCLOSED, Tier.MODELLED],
            superseded_by__isnull=True,
            installation__identifier__in=identifiers,
            period_start__year__in=years,
        )
        .select_related("installation")
        .order_by("-id")
    )
    for estimate in qs:
        key = (estimate.installation.identifier, estimate.period_start.year)
        found.setdefault(key, []).append(estimate)
    for candidates in found.values():
        candidates.sort(key=lambda e: (TIER_RANK[e.tier], -e.pk))
    return found


def _ladder_pick(
    candidates: dict[tuple[str, int], list[Estimate]],
    identifier: str,
    origin: str,
    cn_code: str,
    year: int,
) -> Estimate | None:
    for estimate in candidates.get((identifier, year), []):
        if estimate.origin == origin and cn_code.startswith(estimate.cn_code):
            return estimate
    return None


def estimates_choose(
    *,
    origin: np.ndarray,
    cn_code: np.ndarray,
    year: np.ndarray,
    net_mass_t: np.ndarray,
    actor: Any = None,
    installation_identifier: np.ndarray | None = None,
) -> Assignment:
    """Choose the best estimate for each shipment of a batch, before it is stored.

    Rows are grouped by (origin, CN code, year[, installation identifier]): a group whose
    declared installation has a current verified, disclosed or modelled estimate for its CN code
    and year takes it (that estimate's trace says why: ``provenance.ladder``); every
    other group runs the engine's default method once and the estimate is recorded (its
    natural key makes this idempotent). Then the engine's batch path gathers each row's
    SEE and multiplies by its mass in one vectorised pass.
    """
    if installation_identifier is None:
        installation_identifier = np.full(len(origin), "", dtype=object)
    codes, groups = pd.factorize(
        pd.MultiIndex.from_arrays([origin, cn_code, year, installation_identifier])
    )
    identifiers = sorted({str(g[3]) for g in groups if g[3]})
    ladder = _ladder_candidates(identifiers=identifiers, years=sorted({int(g[2]) for g in groups}))
    estimate_ids = np.zeros(len(groups), dtype=np.int64)
    see_total = np.full(len(groups), np.nan)
    tiers = np.full(len(groups), "", dtype=object)
    reasons = []
    for k, (o, c, y, ident) in enumerate(groups):
        better = _ladder_pick(ladder, str(ident), o, c, int(y)) if ident else None
        if better is not None:
            estimate_ids[k] = better.pk
            see_total[k] = better.see_total_t_per_t
            tiers[k] = better.tier
            continue
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
                subject_key=default_subject_key(o, c, y),
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


def estimate_verify(*, estimate: Estimate, shipments: bool = True) -> dict[str, Any]:
    """Recompute an estimate from the inputs stored in its trace; compare the bytes, then
    compare what is *served* with the trace.

    1. The stored ``provenance`` (citations, not computed) is carried over to the
       recomputed trace; the recomputed bytes must equal the stored bytes, and the stored
       bytes must hash to the stored ``trace_sha256``.
    2. The estimate's served columns (the SEE the API, PACT and the pages show) must equal
       the trace's ``result`` (:func:`estimate_served_differences`), the current
       shipments on the estimate must carry its tier and ``net mass × SEE total``, and the
       monthly totals of those shipments must equal their sums
       (:func:`estimate_shipment_differences`). A trace that recomputes says nothing
       about a number served beside it; this closes that gap (issue #16 item 11).

    ``differences`` names each failed comparison (column, shipment or total, stored value
    and the value the trace implies)."""
    stored = json.loads(estimate.trace)
    recomputed = methodologies.run_case(stored["case"])["trace"]
    if "provenance" in stored:
        recomputed["provenance"] = stored["provenance"]
    recomputed_bytes = canonical_bytes(recomputed)
    recomputed_sha = sha256_hex(recomputed_bytes)
    stored_bytes = estimate.trace.encode()
    differences = estimate_served_differences(estimate=estimate, trace=stored)
    # Shipments follow the columns: checked once those hold (``shipments=False`` when the
    # caller checks every shipment in one query, as ``verify_estimates`` does).
    if shipments and not differences:
        differences = estimate_shipment_differences(estimate=estimate)
    return {
        "match": recomputed_bytes == stored_bytes
        and sha256_hex(stored_bytes) == estimate.trace_sha256
        and not differences,
        "stored_sha256": estimate.trace_sha256,
        "recomputed_sha256": recomputed_sha,
        "differences": differences,
    }


def _trace_tier(trace: dict[str, Any]) -> str | None:
    """The rung the trace states: ``provenance.ladder.tier`` (disclosed, modelled), else
    the engine's ``result.tier``; None when it states none."""
    ladder = (trace.get("provenance") or {}).get("ladder") or {}
    return ladder.get("tier") or (trace.get("result") or {}).get("tier")


def estimate_served_differences(*, estimate: Estimate, trace: dict[str, Any]) -> list[str]:
    """The served columns of ``estimate`` that differ from its trace.

    The columns are copies of the trace's ``result`` made by :func:`estimate_record`
    (the trace is the result, DESIGN §6); a float copied from canonical JSON (RFC 8785,
    shortest round-trip form) is the same double, so the comparison is exact."""
    result = trace.get("result") or {}
    methodology = trace.get("methodology") or {}
    expected: dict[str, Any] = {
        "see_direct_t_per_t": result.get("see_direct_t_per_t"),
        "see_indirect_t_per_t": result.get("see_indirect_t_per_t"),
        "see_total_t_per_t": result.get("see_total_t_per_t"),
        "direct_only": bool(result.get("direct_only")),
        "reason": result.get("reason", ""),
        "interval_low_t_per_t": result.get("interval_low_t_per_t"),
        "interval_high_t_per_t": result.get("interval_high_t_per_t"),
        "methodology": methodology.get("id"),
        "methodology_version": methodology.get("version"),
    }
    if _trace_tier(trace) is not None:
        expected["tier"] = _trace_tier(trace)
    out = []
    for column, value in expected.items():
        served = getattr(estimate, column)
        if served != value:
            out.append(f"column {column} = {served!r}, the trace says {value!r}")
    return out


#: Relative tolerance of a stored sum against its recomputation (summation order differs).
SUM_RTOL = 1e-9


def _close(a: float | None, b: float | None) -> bool:
    a, b = a or 0.0, b or 0.0
    return abs(a - b) <= SUM_RTOL * max(abs(a), abs(b), 1.0)


def shipments_served_differences(*, estimates=None, limit: int = 20) -> list[str]:
    """Current shipments whose tier or embedded emissions disagree with their estimate
    (``embedded = net mass × SEE total``, Reg. 2023/956 Annex IV point 1, DESIGN §3): one
    set-based query over the shipments of ``estimates`` (a queryset, or all)."""
    from django.db.models import ExpressionWrapper, FloatField
    from django.db.models.functions import Abs, Coalesce, Greatest

    from apps.shipments.models import Shipment

    qs = Shipment.objects.filter(is_current=True, estimate_id__isnull=False)
    if estimates is not None:
        qs = qs.filter(estimate_id__in=estimates.values("pk"))
    expected = ExpressionWrapper(
        F("net_mass_t") * F("estimate__see_total_t_per_t"), output_field=FloatField()
    )
    qs = qs.annotate(
        expected=expected,
        off=ExpressionWrapper(
            Abs(Coalesce(F("embedded_emissions_t"), -1.0) - expected), output_field=FloatField()
        ),
        bound=ExpressionWrapper(SUM_RTOL * Greatest(Abs(expected), 1.0), output_field=FloatField()),
        estimate_tier=F("estimate__tier"),
    ).filter(Q(off__gt=F("bound")) | ~Q(tier=F("estimate__tier")))
    return [
        f"shipment {s.pk} ({s.declaration_id}/{s.line}) on estimate {s.estimate_id}: tier "
        f"{s.tier!r}, embedded {s.embedded_emissions_t!r} t; the estimate gives tier "
        f"{s.estimate_tier!r} and {s.expected!r} t"
        for s in qs.order_by("pk")[:limit]
    ]


def totals_differences(*, where: Q | None = None, limit: int = 20) -> list[str]:
    """Monthly totals (``ShipmentTotal``, by origin, CN code, exporter and month) that are
    not the sums of the current shipments; ``where`` narrows the keys compared (fields of
    ``ShipmentTotal``: origin, cn_code, exporter_id, month)."""
    from django.db.models import Count, Sum
    from django.db.models.functions import Coalesce, TruncMonth

    from apps.shipments.models import Shipment, ShipmentTotal

    where = where or Q()
    sums = (
        Shipment.objects.filter(is_current=True)
        .annotate(month=TruncMonth("date"))
        .filter(where)
        .values("origin", "cn_code", "exporter_id", "month")
        .annotate(
            shipments=Count("id"),
            net_mass_t=Sum("net_mass_t"),
            embedded_emissions_t=Coalesce(Sum("embedded_emissions_t"), 0.0),
        )
    )
    expected = {(r["origin"], r["cn_code"], r["exporter_id"], r["month"]): r for r in sums}
    totals = ShipmentTotal.objects.filter(where)
    stored = {(t.origin, t.cn_code, t.exporter_id, t.month): t for t in totals}
    out = []
    for key in sorted(expected.keys() | stored.keys(), key=str):
        want, have = expected.get(key), stored.get(key)
        label = f"total {key[0]} {key[1]} exporter {key[2]} {key[3]:%Y-%m}"
        if have is None or want is None:
            out.append(f"{label}: {'missing' if have is None else 'has no current shipment'}")
            continue
        for column in ("shipments", "net_mass_t", "embedded_emissions_t"):
            if not _close(getattr(have, column), want[column]):
                out.append(
                    f"{label}: {column} = {getattr(have, column)!r}, the shipments sum to "
                    f"{want[column]!r}"
                )
    return out[:limit] + ([f"… {len(out) - limit} more"] if len(out) > limit else [])


def estimate_shipment_differences(*, estimate: Estimate) -> list[str]:
    """:func:`shipments_served_differences` for the shipments on ``estimate``, and
    :func:`totals_differences` for the (origin, CN code, exporter, month) keys they fall
    in."""
    from django.db.models.functions import TruncMonth

    from apps.shipments.models import Shipment

    pk = Estimate.objects.filter(pk=estimate.pk)
    out = shipments_served_differences(estimates=pk, limit=5)
    keys = (
        Shipment.objects.filter(estimate_id=estimate.pk, is_current=True)
        .annotate(m=TruncMonth("date"))
        .values_list("origin", "cn_code", "exporter_id", "m")
        .distinct()
    )
    where = Q()
    for origin, cn_code, exporter_id, month in keys:
        where |= Q(origin=origin, cn_code=cn_code, exporter_id=exporter_id, month=month)
    if where:
        out += totals_differences(where=where, limit=5)
    return out


def estimates_supersede(*, old: list[Estimate], new: Estimate | None, actor: Any = None) -> int:
    """Mark earlier estimates of a subject as replaced by ``new`` (a restatement); call
    inside the transaction that records ``new``."""
    ids = [e.pk for e in old if new is None or e.pk != new.pk]
    if not ids:
        return 0
    count = Estimate.objects.filter(pk__in=ids, superseded_by__isnull=True).update(
        superseded_by=new
    )
    audit_append(
        actor=actor,
        action="estimate.supersede",
        object_type="estimate",
        object_id=new.pk if new else ids[0],
        payload={"superseded": ids},
    )
    return count


@dataclass
class LadderOutcome:
    """What :func:`estimate_ladder_apply` changed."""

    shipments: int
    months: list[str]
    tiers_before: dict[str, int]


def estimate_ladder_apply(
    *,
    estimate: Estimate,
    installation_identifier: str,
    period_start: dt.date,
    period_end: dt.date,
    actor: Any = None,
) -> LadderOutcome:
    """Point the shipments this estimate is better for at it, in one set-based UPDATE,
    and rebuild the totals of the months they fall in.

    Shipments concerned: current lines declared with ``installation_identifier``, of the
    estimate's origin, a CN code under the estimate's code, dated within the period.
    A rung replaces a worse one, and a restatement replaces the estimates of the same
    subject it superseded; a verified estimate is never replaced by a disclosed one. Call
    inside a transaction.
    """
    from apps.shipments.models import Shipment
    from apps.shipments.services import shipment_totals_rebuild

    rank = TIER_RANK[estimate.tier]
    replaceable = [t for t, r in TIER_RANK.items() if r > rank]
    # A restatement replaces the estimates it superseded, whatever their rung.
    superseded = Estimate.objects.filter(
        subject_key=estimate.subject_key, superseded_by__isnull=False
    ).values("pk")
    qs = Shipment.objects.filter(
        is_current=True,
        installation_identifier=installation_identifier,
        origin=estimate.origin,
        cn_code__startswith=estimate.cn_code,
        date__gte=period_start,
        date__lte=period_end,
    ).exclude(estimate_id=estimate.pk)
    qs = qs.filter(Q(tier__in=replaceable) | Q(tier="") | Q(estimate_id__in=superseded))
    before: dict[str, int] = {}
    for tier in qs.values_list("tier", flat=True):
        before[tier] = before.get(tier, 0) + 1
    months = {d.replace(day=1) for d in qs.dates("date", "month")}
    count = qs.update(
        estimate_id=estimate.pk,
        tier=estimate.tier,
        embedded_emissions_t=F("net_mass_t") * estimate.see_total_t_per_t,
    )
    if count:
        shipment_totals_rebuild(months=months)
        audit_append(
            actor=actor,
            action="estimate.apply",
            object_type="estimate",
            object_id=estimate.pk,
            payload={
                "installation": installation_identifier,
                "shipments": count,
                "tiers_before": before,
                "months": sorted(m.isoformat() for m in months),
            },
        )
    return LadderOutcome(count, sorted(m.isoformat() for m in months), before)
