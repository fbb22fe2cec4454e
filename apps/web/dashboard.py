"""Reads behind the dashboard, all from the pre-aggregated ``ShipmentTotal`` (never a scan
of the shipments table): embedded emissions and mass by product group, origin and month;
the SEE distribution of a CN code; the tonnage on actual data versus defaults."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.catalogue.models import DefaultValue
from apps.shipments.filters import PRODUCT_GROUPS
from apps.shipments.models import ShipmentTotal
from apps.shipments.selectors import cached_on_totals, flagged_lines, flagged_sums, minus_flagged
from methodologies.cbam_goods import goods_sector
from methodologies.errors import MethodologyError

BENCHMARK_NOTE = "benchmark not available (the product benchmarks of IR 2025/2620 are not bundled)"


def totals_scope(*, user: User, year: int | None = None) -> QuerySet[ShipmentTotal]:
    qs = ShipmentTotal.objects.all()
    if user.role == User.Role.EXPORTER:
        qs = qs.filter(exporter_id=user.organisation_id) if user.organisation_id else qs.none()
    if year:
        qs = qs.filter(month__year=year)
    return qs


_SUMS = {
    "shipments": Sum("shipments"),
    "net_mass_t": Sum("net_mass_t"),
    "embedded_emissions_t": Sum("embedded_emissions_t"),
    "estimated_mass_t": Sum("estimated_mass_t"),
    "default_mass_t": Sum("default_mass_t"),
    # The best estimate (docs/design.md, the two figures of a shipment).
    "best_embedded_emissions_t": Sum("best_embedded_emissions_t"),
    "best_verified_mass_t": Sum("best_verified_mass_t"),
    "best_disclosed_mass_t": Sum("best_disclosed_mass_t"),
    "best_modelled_mass_t": Sum("best_modelled_mass_t"),
    "best_default_mass_t": Sum("best_default_mass_t"),
}


def _group(qs: QuerySet[ShipmentTotal], key: str) -> list[dict[str, Any]]:
    return list(qs.values(key).annotate(**_SUMS).order_by(key))


def product_group_of(cn_code: str) -> str:
    try:
        return str(PRODUCT_GROUPS.get(goods_sector(cn_code), _("Other")))
    except MethodologyError:
        return _("Other")


@dataclass
class Dashboard:
    overall: dict[str, float]
    by_group: list[dict[str, Any]]
    by_origin: list[dict[str, Any]]
    by_month: list[dict[str, Any]]
    top_codes: list[dict[str, Any]]
    years: list[int] = field(default_factory=list)
    # The lines flagged implausible at ingest (their sums), and whether they are included.
    flagged: dict[str, float] = field(default_factory=dict)
    include_flagged: bool = False


def dashboard_totals(
    *,
    user: User,
    year: int | None = None,
    origins: int = 12,
    version: str | None = None,
    include_flagged: bool = False,
) -> Dashboard:
    """The dashboard's sums, kept in the cache until an ingest changes the totals. The
    lines flagged implausible at ingest are left out unless ``include_flagged``."""
    scope = user.organisation_id if user.role == User.Role.EXPORTER else "all"
    return cached_on_totals(
        f"web:dashboard:{scope}:{year}:{origins}:{int(include_flagged)}",
        lambda: _dashboard_totals(
            user=user, year=year, origins=origins, include_flagged=include_flagged
        ),
        version=version,
    )


def _dashboard_totals(
    *, user: User, year: int | None, origins: int, include_flagged: bool = False
) -> Dashboard:
    qs = totals_scope(user=user, year=year)
    flagged_qs = flagged_lines(user=user, year=year)
    flagged = flagged_sums(flagged_qs)[0]

    def group(key: str) -> list[dict[str, Any]]:
        rows = _group(qs, key)
        if include_flagged or not flagged["shipments"]:
            return rows
        return minus_flagged(rows, flagged_sums(flagged_qs, group_by=[key]), key=(key,))

    by_code = group("cn_code")
    groups: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(_SUMS, 0.0))
    overall = dict.fromkeys(_SUMS, 0.0)
    for row in by_code:
        target = groups[product_group_of(row["cn_code"])]
        for k in _SUMS:
            target[k] += row[k] or 0.0
            overall[k] += row[k] or 0.0
    by_group = sorted(
        ({"group": g, **v} for g, v in groups.items()),
        key=lambda r: -r["embedded_emissions_t"],
    )
    by_origin = sorted(group("origin"), key=lambda r: -(r["embedded_emissions_t"] or 0))
    by_month = group("month")
    top_codes = sorted(by_code, key=lambda r: -(r["net_mass_t"] or 0))[:10]
    years = sorted({d.year for d in totals_scope(user=user).dates("month", "year")}, reverse=True)
    return Dashboard(
        overall=overall,
        by_group=by_group,
        by_origin=by_origin[:origins],
        by_month=by_month,
        top_codes=top_codes,
        years=years,
        flagged=flagged,
        include_flagged=include_flagged,
    )


def default_marker(*, cn_code: str, year: int) -> dict[str, Any] | None:
    """The "Other countries and territories" default of the most specific published code
    covering ``cn_code``, with the import year's mark-up (IR 2025/2621 Annex I), the value
    every origin without its own row gets."""
    column = {2026: "dv_2026", 2027: "dv_2027"}.get(year, "dv_2028")
    for n in (8, 6, 4):
        if len(cn_code) < n:
            continue
        row = (
            DefaultValue.objects.filter(origin="OTHER", cn_code=cn_code[:n])
            .order_by("source_line")
            .first()
        )
        if row is not None and getattr(row, column) is not None:
            return {"value": getattr(row, column), "cn_code": row.cn_code, "year": year}
    return None


def intensity_distribution(
    *, user: User, cn_code: str, year: int | None = None, version: str | None = None
) -> list[dict[str, Any]]:
    """Mass-weighted SEE of each (origin, exporter) shipping ``cn_code``: emissions ÷ mass
    with an estimate, from the totals; exporters see only their own groups. Kept in the
    cache until an ingest changes the totals."""
    scope = user.organisation_id if user.role == User.Role.EXPORTER else "all"
    return cached_on_totals(
        f"web:distribution:{scope}:{year}:{cn_code}",
        lambda: _intensity_distribution(user=user, cn_code=cn_code, year=year),
        version=version,
    )


def _intensity_distribution(*, user: User, cn_code: str, year: int | None) -> list[dict[str, Any]]:
    rows = list(
        totals_scope(user=user, year=year)
        .filter(cn_code=cn_code, estimated_mass_t__gt=0)
        .values("origin", "exporter_id", "exporter__name")
        .annotate(**_SUMS)
    )
    # Less the lines flagged implausible at ingest (apps.shipments.plausibility).
    flagged = flagged_lines(user=user, year=year).filter(cn_code=cn_code)
    keys = ("origin", "exporter_id")
    rows = minus_flagged(rows, flagged_sums(flagged, group_by=list(keys)), key=keys)
    rows = [r for r in rows if (r["estimated_mass_t"] or 0.0) > 1e-9]
    return [
        {
            "origin": r["origin"],
            "exporter_id": r["exporter_id"],
            "exporter": r["exporter__name"],
            "net_mass_t": r["estimated_mass_t"],
            "see_t_per_t": r["embedded_emissions_t"] / r["estimated_mass_t"],
            "default_share": (r["default_mass_t"] or 0) / r["estimated_mass_t"],
        }
        for r in rows
    ]
