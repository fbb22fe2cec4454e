"""Rankings of the current shipments by CN code, origin or exporter, with their summary
row (docs/web.md, "Rankings"): lines, tonnes, tCO2e (the CBAM figure), the mass-weighted
SEE, distinct exporters and the share of the tonnage on default values.

Read from the pre-aggregated totals (``ShipmentTotal``) by (key, exporter), less the lines
flagged implausible at ingest unless asked (``apps.shipments.plausibility``), then folded
here: a few thousand rows at most, whatever the size of the shipments table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.shipments.models import ShipmentTotal
from apps.shipments.selectors import flagged_lines, flagged_sums, minus_flagged

#: What a ranking groups by: name → (label, field of ShipmentTotal).
RANK_BY = {
    "cn_code": (_("CN code"), "cn_code"),
    "origin": (_("Origin"), "origin"),
    "exporter": (_("Exporter"), "exporter_id"),
}

#: Columns a ranking sorts by: name → (label with unit, key of a row).
RANK_SORTS = {
    "key": (_("Name"), "label"),
    "lines": (_("Lines"), "lines"),
    "tonnes": (_("Net mass (t)"), "tonnes"),
    "tco2e": (_("Embedded emissions (tCO₂e)"), "tco2e"),
    "see": (_("SEE (tCO₂e/t)"), "see"),
    "exporters": (_("Distinct exporters"), "exporters"),
    "default_share": (_("On defaults (% of t)"), "default_share"),
}

_SUMS = ("shipments", "net_mass_t", "embedded_emissions_t", "estimated_mass_t", "default_mass_t")


@dataclass
class Ranking:
    by: str
    rows: list[dict]
    summary: dict


def _fold(rows: list[dict]) -> dict:
    lines = sum(r["shipments"] for r in rows)
    tonnes = sum(r["net_mass_t"] or 0.0 for r in rows)
    tco2e = sum(r["embedded_emissions_t"] or 0.0 for r in rows)
    estimated = sum(r["estimated_mass_t"] or 0.0 for r in rows)
    default = sum(r["default_mass_t"] or 0.0 for r in rows)
    return {
        "lines": lines,
        "tonnes": tonnes,
        "tco2e": tco2e,
        "see": tco2e / estimated if estimated > 0 else None,
        "exporters": len({r["exporter_id"] for r in rows if r["shipments"] > 0}),
        "default_share": 100 * default / tonnes if tonnes > 0 else 0.0,
    }


def ranking(
    *,
    user: User,
    by: str = "cn_code",
    cn_code: str = "",
    origin: str = "",
    exporter_id: int | None = None,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    include_implausible: bool = False,
    sort: str = "tco2e",
    descending: bool = True,
) -> Ranking:
    """The ranking ``by`` (a key of :data:`RANK_BY`) in the order ``sort`` (of
    :data:`RANK_SORTS`), and its summary row over the same filter."""
    from apps.accounts.models import Organisation

    field = RANK_BY[by][1]
    qs = ShipmentTotal.objects.all()
    flagged = flagged_lines(
        user=user, cn_code=cn_code, origin=origin, period_from=period_from, period_to=period_to
    )
    if user.role == User.Role.EXPORTER:
        qs = qs.filter(exporter_id=user.organisation_id) if user.organisation_id else qs.none()
    if cn_code:
        qs = qs.filter(cn_code__startswith=cn_code)
    if origin:
        qs = qs.filter(origin=origin)
    if exporter_id:
        qs = qs.filter(exporter_id=exporter_id)
        flagged = flagged.filter(exporter_id=exporter_id)
    if period_from:
        qs = qs.filter(month__gte=period_from.replace(day=1))
    if period_to:
        qs = qs.filter(month__lte=period_to)
    keys = sorted({field, "exporter_id"})
    rows = list(qs.values(*keys).annotate(**{k: Sum(k) for k in _SUMS}).order_by(*keys))
    if not include_implausible:
        rows = minus_flagged(rows, flagged_sums(flagged, group_by=keys), key=tuple(keys))
    groups: dict = {}
    for row in rows:
        groups.setdefault(row[field], []).append(row)
    names = {}
    if by == "exporter":
        names = dict(Organisation.objects.filter(pk__in=list(groups)).values_list("pk", "name"))
    out = [
        {"key": key, "label": names.get(key, key) if by == "exporter" else key, **_fold(group)}
        for key, group in groups.items()
    ]
    out = [r for r in out if r["lines"] > 0]
    column = RANK_SORTS.get(sort, RANK_SORTS["tco2e"])[1]

    present = [r for r in out if r[column] is not None]
    present.sort(
        key=lambda r: r[column].lower() if isinstance(r[column], str) else r[column],
        reverse=descending,
    )
    out = present + [r for r in out if r[column] is None]  # an SEE without estimate: last
    return Ranking(by=by, rows=out, summary=_fold(rows))


def compare_exporters(
    *, user: User, cn_code: str, origin: str = "", include_implausible: bool = False
) -> list[dict]:
    """Exporters of one CN code side by side: within one origin when ``origin`` is given,
    else across origins (one row per exporter and origin). Each row: lines, tonnes, tCO2e,
    the SEE of the CBAM figure and of the best estimate (tCO2e/t, mass-weighted), the share
    on defaults. An exporter reads other exporters as "another exporter"."""
    from apps.accounts.models import Organisation

    sums = (*_SUMS, "best_embedded_emissions_t")
    qs = ShipmentTotal.objects.filter(cn_code=cn_code)
    flagged = flagged_lines(user=user, cn_code=cn_code, origin=origin).filter(cn_code=cn_code)
    if origin:
        qs = qs.filter(origin=origin)
    keys = ["exporter_id", "origin"]
    rows = list(qs.values(*keys).annotate(**{k: Sum(k) for k in sums}).order_by(*keys))
    if not include_implausible:
        rows = minus_flagged(rows, flagged_sums(flagged, group_by=keys), key=tuple(keys))
    names = dict(
        Organisation.objects.filter(pk__in={r["exporter_id"] for r in rows}).values_list(
            "pk", "name"
        )
    )
    own = user.organisation_id if user.role == User.Role.EXPORTER else None
    out = []
    for r in rows:
        if r["shipments"] <= 0:
            continue
        visible = own is None or r["exporter_id"] == own
        estimated = r["estimated_mass_t"] or 0.0
        out.append(
            {
                "exporter_id": r["exporter_id"] if visible else None,
                "exporter": names.get(r["exporter_id"], "") if visible else "another exporter",
                "origin": r["origin"],
                "lines": r["shipments"],
                "tonnes": r["net_mass_t"],
                "tco2e": r["embedded_emissions_t"],
                "see": r["embedded_emissions_t"] / estimated if estimated > 0 else None,
                "best_see": (r["best_embedded_emissions_t"] or 0.0) / estimated
                if estimated > 0 and r["best_embedded_emissions_t"]
                else None,
                "default_share": 100 * (r["default_mass_t"] or 0.0) / r["net_mass_t"]
                if r["net_mass_t"]
                else 0.0,
            }
        )
    out.sort(key=lambda r: (r["see"] is None, r["see"] or 0.0, r["origin"], r["exporter"]))
    return out


def totals_summary(
    *,
    user: User,
    cn_prefixes: list[str] | None = None,
    origin: str = "",
    exporter_ids: list[int] | None = None,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    include_implausible: bool = False,
) -> dict:
    """The summary row of a filtered list, from the totals (never a scan of the shipments):
    ``cn_prefixes`` any of these CN prefixes, ``exporter_ids`` any of these exporters,
    periods on whole months (``period_to`` the last day of its month)."""
    from django.db.models import Q

    totals, lines = Q(), Q()
    if cn_prefixes is not None:
        totals_cn, lines_cn = Q(pk__in=[]), Q(pk__in=[])
        for prefix in cn_prefixes:
            totals_cn |= Q(cn_code__startswith=prefix)
            lines_cn |= Q(cn_code__startswith=prefix)
        totals &= totals_cn
        lines &= lines_cn
    if origin:
        totals &= Q(origin=origin)
        lines &= Q(origin=origin)
    if exporter_ids is not None:
        totals &= Q(exporter_id__in=exporter_ids)
        lines &= Q(exporter_id__in=exporter_ids)
    if period_from:
        totals &= Q(month__gte=period_from.replace(day=1))
        lines &= Q(date__gte=period_from)
    if period_to:
        totals &= Q(month__lte=period_to)
        lines &= Q(date__lte=period_to)
    qs = ShipmentTotal.objects.filter(totals)
    if user.role == User.Role.EXPORTER:
        qs = qs.filter(exporter_id=user.organisation_id) if user.organisation_id else qs.none()
    keys = ["exporter_id"]
    rows = list(qs.values(*keys).annotate(**{k: Sum(k) for k in _SUMS}).order_by(*keys))
    if not include_implausible:
        flagged = flagged_lines(user=user).filter(lines)
        rows = minus_flagged(rows, flagged_sums(flagged, group_by=keys), key=tuple(keys))
    return _fold(rows)
