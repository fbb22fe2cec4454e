"""Writes of estimates: choose the CBAM figure of new shipments and record estimates with
their trace.

The ladder of docs/design.md (the two figures of a shipment), best first: verified >
disclosed > modelled > default.

- **default**: the official default value of (origin, CN code, year of import) with the
  year's mark-up (:func:`estimates_choose`); without the mark-up for the best estimate
  (:func:`default_estimates_ensure`).
- **verified**, **disclosed**, **modelled**: an estimate of one installation's good and
  period, recorded with ``installation`` set (apps.disclosures, the modelling run). The
  CBAM figure admits only a verified one: :func:`estimates_choose` picks a verified
  estimate of the declared installation for a batch of new shipments. Pointing stored
  shipments at estimates (both figures, when evidence changes) is the shipments app's
  work (``apps.shipments.services.shipment_figures_rechoose``): this app never reads or
  writes shipments. A restatement supersedes the earlier estimate (``superseded_by``).

An estimate's trace is the engine's canonical trace; a disclosed one adds a
``provenance`` object (the disclosure version, its file's SHA-256, each value's evidence,
reconciliation flags, why this rung). The engine does not compute ``provenance``, so
:func:`estimate_verify` recomputes the engine part from ``case`` and carries the stored
``provenance`` over before comparing bytes; ``trace_sha256`` covers both.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction

import methodologies
from apps.adoption.selectors import Stamp, version_current
from apps.audit.attribution import PUBLIC, Attribution
from apps.audit.services import AuditEntry, audit_append, audit_append_many, audit_lock
from apps.catalogue.selectors import default_value_candidates
from apps.estimates.models import (
    TIER_RANK,
    Estimate,
    Tier,
    default_subject_key,
    default_unmarked_subject_key,
)
from methodologies import batch
from methodologies.errors import MethodologyError
from methodologies.trace import canonical_bytes, sha256_hex
from methodologies.versions import apply_parameters

#: Top-level trace keys the platform adds beside the engine's (cited, not computed): carried
#: over to the recomputed trace before the bytes are compared.
CARRIED_OVER = ("provenance", "adoption")


def adoption_stamp(result: dict[str, Any], stamp: Stamp) -> dict[str, Any]:
    """The result with its trace naming the methodology version it ran under (the
    ``adoption`` object, docs/adoption.md) and ``trace_sha256`` over the stamped bytes.
    Unchanged when the instance runs alone (no member keys)."""
    if stamp.block is None:
        return result
    trace = {**result["trace"], "adoption": stamp.block}
    return {**result, "trace": trace, "trace_sha256": sha256_hex(canonical_bytes(trace))}


@dataclass
class Assignment:
    """The estimate chosen for each row of a batch of shipments (arrays aligned with it)."""

    estimate_id: np.ndarray  # int64, 0 where no estimate could be made
    tier: np.ndarray  # str
    embedded_emissions_t: np.ndarray  # float64, NaN where no estimate
    estimates: int = 0
    unestimated: int = 0
    reasons: list[str] = field(default_factory=list)


def _estimate_fields(
    result: dict[str, Any],
    tier: str,
    cn_code: str,
    origin: str,
    period_start: dt.date,
    period_end: dt.date,
) -> dict[str, Any]:
    """The stored fields of an engine result (all but its natural key and installation)."""
    methodology = result["trace"]["methodology"]
    return {
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
        "trace": canonical_bytes(result["trace"]).decode(),
        "preview": (result["trace"].get("adoption") or {}).get("status") == "preview",
    }


def _default_case(
    origin: str,
    cn_code: str,
    year: int,
    *,
    without_markup: bool = False,
    stamp: Stamp | None = None,
) -> dict:
    """The ``cbam.default`` case of (origin, CN code, year) with the candidate rows of the
    default-value table; ``without_markup`` for the best estimate's last rung."""
    case = {
        "methodology": "cbam.default",
        "cn_code": cn_code,
        "origin": origin,
        "year": int(year),
        **({"without_markup": True} if without_markup else {}),
        "default_values": default_value_candidates(origin=origin, cn_code=cn_code),
    }
    # The parameter set of the version figures are computed under (docs/adoption.md).
    return apply_parameters(case, (stamp or version_current()).parameters)


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
    stamp: Stamp | None = None,
) -> Estimate:
    """Store an engine result; the same trace for the same subject is stored once.

    ``result["trace"]`` may carry a ``provenance`` object beside the engine's keys (see
    the module docstring); ``result["trace_sha256"]`` must then be the SHA-256 of it all.
    The trace is stamped with the methodology version it ran under (:func:`adoption_stamp`).
    """
    stamp = stamp or version_current()  # a caller recording many passes it once
    result = adoption_stamp(result, stamp)
    estimate, created = Estimate.objects.get_or_create(
        subject_key=subject_key,
        trace_sha256=result["trace_sha256"],
        defaults={
            **_estimate_fields(result, tier, cn_code, origin, period_start, period_end),
            "installation": installation,
            "adoption_version": stamp.version,
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
    stamp = version_current()
    if stamp.block is not None:
        items = [dataclasses.replace(i, result=adoption_stamp(i.result, stamp)) for i in items]
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
        fields = _estimate_fields(
            item.result, item.tier, item.cn_code, item.origin, item.period_start, item.period_end
        )
        new.append(
            Estimate(
                subject_key=item.subject_key,
                trace_sha256=item.result["trace_sha256"],
                installation_id=item.installation_id,
                adoption_version=stamp.version,
                **fields,
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
    """Current (not superseded) verified estimates of these installations and years,
    newest first: the only rung above the default that the CBAM figure admits."""
    found: dict[tuple[str, int], list[Estimate]] = {}
    if not identifiers:
        return found
    qs = (
        Estimate.objects.filter(
            tier=Tier.VERIFIED,
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
    declared installation has a current verified estimate for its CN code and year takes
    it (the CBAM figure, docs/design.md; its trace says why: ``provenance.ladder``); every
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
    stamp = version_current()  # the methodology version, once for the batch
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
        try:
            result = methodologies.run_case(_default_case(o, c, y, stamp=stamp))
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
                stamp=stamp,
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


def estimate_verify(
    *, estimate: Estimate, shipment_differences: Callable[[Estimate], list[str]] | None = None
) -> dict[str, Any]:
    """Recompute an estimate from the inputs stored in its trace; compare the bytes, then
    compare what is *served* with the trace.

    1. The stored ``provenance`` (citations, not computed) is carried over to the
       recomputed trace; the recomputed bytes must equal the stored bytes, and the stored
       bytes must hash to the stored ``trace_sha256``.
    2. The estimate's served columns (the SEE the API, PACT and the pages show) must equal
       the trace's ``result`` (:func:`estimate_served_differences`), the current
       shipments on the estimate must carry its tier and ``net mass × SEE total``, and the
       monthly totals of those shipments must equal their sums
       (``shipment_differences``, the shipments app's
       ``apps.shipments.selectors.estimate_shipment_differences``: the estimates app
       does not read shipments, docs/design.md). A trace that recomputes says nothing
       about a number served beside it; this closes that gap (issue #16 item 11).

    ``differences`` names each failed comparison (column, shipment or total, stored value
    and the value the trace implies)."""
    stored = json.loads(estimate.trace)
    recomputed = methodologies.run_case(stored["case"])["trace"]
    for key in CARRIED_OVER:
        if key in stored:
            recomputed[key] = stored[key]
    recomputed_bytes = canonical_bytes(recomputed)
    recomputed_sha = sha256_hex(recomputed_bytes)
    stored_bytes = estimate.trace.encode()
    differences = estimate_served_differences(estimate=estimate, trace=stored)
    # Shipments follow the columns: checked once those hold (none given when the caller
    # checks every shipment in one query, as ``verify_estimates`` does).
    if shipment_differences is not None and not differences:
        differences = shipment_differences(estimate)
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
    (the trace is the result, docs/design.md §4); a float copied from canonical JSON (RFC 8785,
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


def default_estimates_ensure(
    *, groups: list[tuple[str, str, int]], without_markup: bool, actor: Any = None
) -> dict[tuple[str, str, int], Estimate]:
    """The default-value estimate of each (origin, CN code, year): with the year's mark-up
    (the CBAM figure) or, ``without_markup``, without it (the best estimate's last rung:
    the mark-up is a penalty, not evidence; docs/design.md). Runs ``cbam.default`` once
    per group not recorded yet; groups without a default value are left out."""
    subject = default_unmarked_subject_key if without_markup else default_subject_key
    keys = {subject(o, c, y): (o, c, y) for o, c, y in groups}
    found: dict[tuple[str, str, int], Estimate] = {}
    # Those computed under the version figures are computed under now (docs/adoption.md):
    # after an adoption, the previews are recomputed as official figures.
    stamp = version_current()
    current = Estimate.objects.filter(
        subject_key__in=list(keys), adoption_version=stamp.version, preview=stamp.preview
    )
    for estimate in current.order_by("id"):
        found[keys[estimate.subject_key]] = estimate
    missing = []
    for key, (o, c, y) in keys.items():
        if (o, c, y) in found:
            continue
        try:
            result = methodologies.run_case(
                _default_case(o, c, y, without_markup=without_markup, stamp=stamp)
            )
        except MethodologyError:
            continue
        missing.append(
            EstimateItem(
                result=result,
                subject_key=key,
                tier=Tier.DEFAULT,
                cn_code=c,
                origin=o,
                period_start=dt.date(int(y), 1, 1),
                period_end=dt.date(int(y), 12, 31),
            )
        )
    if missing:  # recorded together: one insert of the estimates, one of their events
        with transaction.atomic():
            recorded = estimates_record_bulk(items=missing, actor=actor)
        stored = Estimate.objects.in_bulk(recorded.ids)
        for item, pk in zip(missing, recorded.ids, strict=True):
            found[keys[item.subject_key]] = stored[pk]
    return found
