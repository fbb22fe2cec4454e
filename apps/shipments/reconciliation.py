"""Reconciliation of an importer's declared Registry report with the customs lines and the
evidence (docs/official-formats.md, "Reconciliation").

Three comparisons, each difference with its size in tonnes and tCO2e and its trace (the
declared lines by ingest run and XML line, the customs lines by declaration and line, the
estimates by id):

- **quantity**: per CN code × origin × installation, the net mass declared against the
  net mass of the importer's current customs lines of the period (a key on one side only
  is a difference of its whole mass). Size in tCO2e: the mass difference × the SEE
  declared for it (or, where nothing was declared, the SEE the platform would declare);
- **method**: a line declared as actual emissions where the platform holds default values
  for those shipments (or the reverse);
- **see**: per declared line, the SEE declared (direct + indirect) against the platform's
  best estimate of those shipments as it would declare it
  (:func:`apps.shipments.registry_report.declared_see`), with the estimate's interval
  where it has one. Size in tCO2e: declared mass × SEE difference.

A report written by the platform (``cbam_report``) and read back (``ingest cbam_report``)
reconciles with no difference: the tolerances are the report's own rounding (net mass to
6 decimals, SEE to 7).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from apps.shipments.models import DeclaredLine, Shipment
from apps.shipments.registry_report import _METHOD, declared_see, period_bounds
from apps.shipments.selectors import importer_lines

#: The report's rounding (ingest.cbam_report writes NetMass to 6 and SEE to 7 decimals).
MASS_TOLERANCE_T = 1e-6
PERIODS = ("Q1", "Q2", "Q3", "Q4", "YR")
SEE_TOLERANCE_T_PER_T = 1e-7


class ReconciliationNotFound(LookupError):
    """No declared report of that declarant and period."""


def best_estimate(shipment: Shipment):
    """The platform's best estimate of a shipment: its current ``estimate`` now.

    The one place to switch to the shipment's ``best_*`` fields (best estimate and
    interval) when they land."""
    return shipment.estimate


@dataclass
class _Side:
    mass_t: float = 0.0
    weighted_direct: float = 0.0
    weighted_indirect: float = 0.0
    has_indirect: bool = False
    methods: set = field(default_factory=set)
    trace: list = field(default_factory=list)
    estimates: set = field(default_factory=set)
    low: float | None = None
    high: float | None = None

    def add(self, mass, direct, indirect, method, ref, estimate=None):
        self.mass_t += mass
        self.weighted_direct += mass * direct
        if indirect is not None:
            self.weighted_indirect += mass * indirect
            self.has_indirect = True
        self.methods.add(method)
        self.trace.append(ref)
        if estimate is not None:
            self.estimates.add(estimate.pk)
            if estimate.interval_low_t_per_t is not None:
                self.low = min(self.low or float("inf"), estimate.interval_low_t_per_t)
                self.high = max(self.high or float("-inf"), estimate.interval_high_t_per_t)

    @property
    def direct(self) -> float:
        return self.weighted_direct / self.mass_t if self.mass_t else 0.0

    @property
    def indirect(self) -> float:
        return self.weighted_indirect / self.mass_t if self.mass_t else 0.0


def reconciliation_periods() -> list[dict]:
    """The declared reports held (declarant, year, period), newest first."""
    rows = (
        DeclaredLine.objects.values("declarant_id", "declarant_name", "year", "period")
        .distinct()
        .order_by("-year", "period", "declarant_id")
    )
    return list(rows)


def _quarter(period: str) -> int | None:
    return None if period == "YR" else int(period[1])


def reconcile(*, declarant_id: str, year: int, period: str) -> dict:
    """The reconciliation of one declared report (see the module docstring)."""
    if period not in PERIODS or not 2000 <= year <= 2100 or len(declarant_id) > 17:
        raise ReconciliationNotFound(
            f"no declared report of {declarant_id[:17]!r} for {period[:2]!r} {year}"
        )
    declared = list(
        DeclaredLine.objects.filter(declarant_id=declarant_id, year=year, period=period)
        .select_related("ingest_run")
        .order_by("cn_code", "origin", "source_line")
    )
    if not declared:
        raise ReconciliationNotFound(
            f"no declared report of {declarant_id} for {period} {year} has been ingested"
        )
    importer = declared[0].declarant_name
    start, end, _code = period_bounds(year, _quarter(period))
    shipments = list(
        Shipment.objects.filter(
            importer_lines(name=importer, eori=declarant_id),
            is_current=True,
            date__gte=start,
            date__lt=end,
        )
        .select_related("estimate", "installation")
        .defer("estimate__trace")
        .order_by("cn_code", "origin", "declaration_id", "line")
    )
    # quantity: CN × origin × installation; see and method: also by method
    declared_q: dict[tuple, _Side] = defaultdict(_Side)
    customs_q: dict[tuple, _Side] = defaultdict(_Side)
    customs_m: dict[tuple, _Side] = defaultdict(_Side)
    for d in declared:
        key = (d.cn_code, d.origin, d.installation_identifier)
        ref = {"run": d.ingest_run_id, "line": d.source_line, "method": d.method}
        declared_q[key].add(
            d.net_mass_t, d.see_direct_t_per_t, d.see_indirect_t_per_t, d.method, ref
        )
    for s in shipments:
        inst = s.installation.identifier if s.installation else ""
        key = (s.cn_code, s.origin, inst)
        estimate = best_estimate(s)
        ref = {"declaration": s.declaration_id, "line": s.line, "shipment": s.pk}
        if estimate is None or s.tier not in _METHOD:
            customs_q[key].add(s.net_mass_t, 0.0, None, "none", ref)
            continue
        direct, indirect = declared_see(estimate)
        method = _METHOD[s.tier]
        customs_q[key].add(s.net_mass_t, direct, indirect, method, ref, estimate)
        customs_m[(*key, method)].add(s.net_mass_t, direct, indirect, method, ref, estimate)
    differences = []
    for key in sorted(set(declared_q) | set(customs_q)):
        dq, cq = declared_q.get(key, _Side()), customs_q.get(key, _Side())
        delta = dq.mass_t - cq.mass_t
        tolerance = MASS_TOLERANCE_T * max(1, len(dq.trace) + len(cq.trace))
        if abs(delta) > tolerance:
            see = (dq.direct + dq.indirect) if dq.mass_t else (cq.direct + cq.indirect)
            differences.append(
                {
                    "kind": "quantity",
                    "cn_code": key[0],
                    "origin": key[1],
                    "installation": key[2],
                    "declared_t": dq.mass_t,
                    "customs_t": cq.mass_t,
                    "size_t": delta,
                    "size_tco2e": delta * see,
                    "reason": _quantity_reason(dq.mass_t, cq.mass_t),
                    "trace": {
                        "declared": dq.trace,
                        "customs": cq.trace,
                        "estimates": sorted(cq.estimates),
                    },
                }
            )
    for d in declared:
        key = (d.cn_code, d.origin, d.installation_identifier)
        platform = customs_m.get((*key, d.method))
        if platform is None:
            others = customs_q.get(key)
            if others is not None and others.methods - {d.method}:
                differences.append(
                    {
                        "kind": "method",
                        "cn_code": d.cn_code,
                        "origin": d.origin,
                        "installation": d.installation_identifier,
                        "declared": d.method,
                        "platform": ", ".join(sorted(others.methods)),
                        "size_t": d.net_mass_t,
                        "size_tco2e": 0.0,
                        "reason": f"declared as {d.method} values; the platform holds "
                        f"{', '.join(sorted(others.methods))} for these shipments",
                        "trace": {
                            "declared": [{"run": d.ingest_run_id, "line": d.source_line}],
                            "customs": others.trace,
                            "estimates": sorted(others.estimates),
                        },
                    }
                )
            continue
        d_dir, d_ind = d.see_direct_t_per_t, d.see_indirect_t_per_t or 0.0
        p_dir, p_ind = platform.direct, platform.indirect
        delta_dir, delta_ind = d_dir - p_dir, d_ind - p_ind
        if abs(delta_dir) > SEE_TOLERANCE_T_PER_T or abs(delta_ind) > SEE_TOLERANCE_T_PER_T:
            total = d_dir + d_ind
            outside = None
            if platform.low is not None:
                outside = not platform.low <= total <= platform.high
            differences.append(
                {
                    "kind": "see",
                    "cn_code": d.cn_code,
                    "origin": d.origin,
                    "installation": d.installation_identifier,
                    "declared_see_direct_t_per_t": d_dir,
                    "declared_see_indirect_t_per_t": d.see_indirect_t_per_t,
                    "platform_see_direct_t_per_t": p_dir,
                    "platform_see_indirect_t_per_t": p_ind if platform.has_indirect else None,
                    "interval_t_per_t": None
                    if platform.low is None
                    else [platform.low, platform.high],
                    "outside_interval": outside,
                    "size_t": 0.0,
                    "size_tco2e": d.net_mass_t * (delta_dir + delta_ind),
                    "reason": f"declared SEE {d_dir:.7g} + {d_ind:.7g} tCO2e/t; the platform's "
                    f"best estimate {p_dir:.7g} + {p_ind:.7g}",
                    "trace": {
                        "declared": [{"run": d.ingest_run_id, "line": d.source_line}],
                        "customs": platform.trace,
                        "estimates": sorted(platform.estimates),
                    },
                }
            )
    return {
        "declarant_id": declarant_id,
        "importer": importer,
        "year": year,
        "period": period,
        "declared_lines": len(declared),
        "customs_lines": len(shipments),
        "declared_t": sum(d.net_mass_t for d in declared),
        "customs_t": sum(s.net_mass_t for s in shipments),
        "declared_tco2e": sum(d.embedded_emissions_t for d in declared),
        "differences": differences,
        "difference_tco2e": sum(x["size_tco2e"] for x in differences),
    }


def _quantity_reason(declared: float, customs: float) -> str:
    if not declared:
        return f"{customs:.6g} t in the customs lines, none declared"
    if not customs:
        return f"{declared:.6g} t declared, no customs line"
    return f"{declared:.6g} t declared, {customs:.6g} t in the customs lines"
