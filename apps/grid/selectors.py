"""Reads of grid evidence: factors and hourly intensities with their fallback chain.

**Fallback rule.** The intensity of an installation's electricity for an hour is its
zone's stored hourly value (measured, computed from mix × factors, or gap-filled — the
provenance is kept). An hour the zone's store does not have takes the next level of the
chain: the country's Ember annual average (the row of the year asked, else the latest
earlier year, else the nearest later one), then the world's. Every level tried is a step
of the answer, with the hours it gave, the kind it used (Ember has life-cycle values
only, so a direct request answered there says so) and its source.

**Gap rule.** Hours the zone's store gap-filled (linear ≤ 3 h, same hour of week of the
surrounding four weeks, zone annual mean: ``methodologies.grid.fill_gaps``) or that the
publisher estimated are used, counted in ``gap_filled_hours`` and named in the steps;
never silently.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db.models import QuerySet

from apps.accounts.models import User
from apps.grid import store
from apps.grid.models import (
    EmissionFactor,
    GridAverage,
    GridZone,
    HydrogenAssessment,
    IntensitySeries,
)
from methodologies import grid as g
from methodologies.trace import build_trace, factor_item, input_item, seal, step_item

if TYPE_CHECKING:
    import pandas as pd

#: Provenance codes of :class:`HourlyIntensity` beyond those of ``methodologies.grid``.
FALLBACK_COUNTRY, FALLBACK_WORLD = 4, 5
PROVENANCE_LABELS = {
    **g.PROVENANCE,
    FALLBACK_COUNTRY: "country average",
    FALLBACK_WORLD: "world average",
}
INDIRECT_ID = "grid.indirect"
INDIRECT_VERSION = "1"


@dataclass(frozen=True)
class GridFactor:
    """The electricity emission factor used for one installation and period.

    ``value_t_per_mwh`` [tCO2e/MWh]; ``kind`` "direct" or "lifecycle" (the kind actually
    used; "mixed" when zone hours are direct and fallback hours life-cycle); ``source`` a
    citation; ``valid_from``/``valid_to`` ISO dates; ``steps`` the fallback chain walked,
    e.g. ``["zone DE: no hours in the store", "country DE: Ember 2024 annual average"]``;
    ``gap_filled`` true when any hour used was gap-filled; ``evidence_sha256`` the file(s)
    the values came from."""

    value_t_per_mwh: float
    kind: str
    source: str
    valid_from: str
    valid_to: str
    steps: list[str] = field(default_factory=list)
    gap_filled: bool = False
    evidence_sha256: list[str] = field(default_factory=list)


@dataclass
class HourlyIntensity:
    """An installation's grid intensity hour by hour [gCO2eq/kWh] through the chain."""

    times: pd.DatetimeIndex
    values: np.ndarray
    provenance: np.ndarray  # int8: methodologies.grid.PROVENANCE + FALLBACK_*
    kind_requested: str
    steps: list[dict[str, Any]]
    evidence_sha256: list[str]
    store_files: list[dict[str, str]]

    @property
    def gap_filled_hours(self) -> int:
        return int((self.provenance == g.GAP_FILLED).sum())

    @property
    def kinds_used(self) -> list[str]:
        return sorted({s["kind_used"] for s in self.steps if s.get("hours")})

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind_requested": self.kind_requested,
            "kinds_used": self.kinds_used,
            "hours": len(self.times),
            "gap_filled_hours": self.gap_filled_hours,
            "steps": self.steps,
            "evidence_sha256": self.evidence_sha256,
        }


# --------------------------------------------------------------------------- averages


def _average_row(*, level: str, key: str, year: int) -> GridAverage | None:
    """Ember row of a country (ISO2) or of the world for ``year``: that year, else the
    latest earlier one, else the earliest later one."""
    qs = GridAverage.objects.filter(basis=GridAverage.Basis.EMBER)
    qs = qs.filter(iso2=key) if level == "country" else qs.filter(code=key)
    rows = list(qs)
    if not rows:
        return None
    earlier = [r for r in rows if r.year <= year]
    if earlier:
        return max(earlier, key=lambda r: r.year)
    return min(rows, key=lambda r: r.year)


def hourly_intensity_for(
    *, zone: str, country: str, times: pd.DatetimeIndex, kind: str
) -> HourlyIntensity:
    """Intensity of each hour of ``times`` (aware, hourly) through the chain of the module
    docstring: the zone's stored hours, then country, then world for the hours left."""
    import pandas as pd

    if kind not in g.KINDS:
        raise ValueError(f"kind must be one of {g.KINDS}, got {kind!r}")
    times = pd.DatetimeIndex(times).tz_convert("UTC")
    n = len(times)
    values = np.full(n, np.nan)
    prov = np.full(n, g.MISSING, dtype=np.int8)
    steps: list[dict[str, Any]] = []
    evidence: list[str] = []
    files: list[dict[str, str]] = []
    start, end = times[0].to_pydatetime(), (times[-1] + pd.Timedelta("1h")).to_pydatetime()
    ds = store.open_intensity([zone], start=start, end=end) if zone else None
    if ds is not None:
        naive = times.tz_convert(None)
        # Read the zone-years at once, then pick the hours: reindexing the lazy file
        # instead sends netCDF one fancy-indexed read per variable (seconds per page).
        sub = ds.load().reindex(time=naive)
        values[:] = sub[kind].values[0]
        stored = sub["provenance"].values[0]
        have = ~np.isnan(values)
        prov[have] = stored[have].astype(np.int8)
        for series in IntensitySeries.objects.filter(
            zone__key=zone, year__in=sorted(set(times.year))
        ):
            files.append({"ref": f"grid/{series.path}", "sha256": series.sha256})
            evidence += [s for s in series.evidence_sha256 if s not in evidence]
        ds.close()
        filled = int((prov == g.GAP_FILLED).sum())
        steps.append(
            {
                "level": "zone",
                "key": zone,
                "found": bool(have.any()),
                "hours": int(have.sum()),
                "gap_filled_hours": filled,
                "kind_used": kind,
                "source": "hourly zone intensity store (measured, computed from mix × factors, "
                "or gap-filled)",
                "reason": f"{int(have.sum())} of {n} hours in the store"
                + (f", {filled} of them gap-filled" if filled else ""),
            }
        )
    elif zone:
        steps.append(
            {
                "level": "zone",
                "key": zone,
                "found": False,
                "hours": 0,
                "kind_used": kind,
                "reason": "no hours of this zone in the store",
            }
        )
    if zone:
        # Hours the zone generated (a stored mix) but whose intensity waits for factors
        # (issue #15 item 18): the answer says so rather than falling back silently.
        pending = _mix_hours_without_intensity(zone, times, ~np.isnan(values))
        if pending:
            steps[-1]["mix_hours_without_factors"] = pending
            steps[-1]["reason"] += (
                f"; {pending} hours have a stored generation mix but no emission factor to "
                "compute their intensity (python manage.py ingest factors PATH)"
            )
    year = int(times[0].year)
    for level, key, code in (
        ("country", country, FALLBACK_COUNTRY),
        ("world", "World", FALLBACK_WORLD),
    ):
        todo = np.isnan(values)
        if not todo.any():
            break
        if not key:
            continue
        row = _average_row(level=level, key=key, year=year)
        if row is None:
            steps.append(
                {
                    "level": level,
                    "key": key,
                    "found": False,
                    "hours": 0,
                    "kind_used": g.EMBER_KIND,
                    "reason": "no Ember average",
                }
            )
            continue
        values[todo] = row.value_g_per_kwh
        prov[todo] = code
        reason = f"Ember {row.year} annual average for {int(todo.sum())} hours"
        if kind != g.EMBER_KIND:
            reason += f" (life-cycle: no {kind} value at this level)"
        steps.append(
            {
                "level": level,
                "key": key,
                "found": True,
                "hours": int(todo.sum()),
                "kind_used": g.EMBER_KIND,
                "value_g_per_kwh": row.value_g_per_kwh,
                "source": f"{row.source}, {row.name} {row.year}",
                "valid_from": f"{row.year}-01-01",
                "valid_to": f"{row.year}-12-31",
                "reason": reason,
            }
        )
        sha = row.ingest_run.evidence.sha256
        if sha not in evidence:
            evidence.append(sha)
    if np.isnan(values).any():
        raise g.GridError(
            "no grid intensity: "
            + "; ".join(f"{s['level']} {s['key']}: {s['reason']}" for s in steps)
        )
    return HourlyIntensity(times, values, prov, kind, steps, evidence, files)


def _mix_hours_without_intensity(zone: str, times: pd.DatetimeIndex, have: np.ndarray) -> int:
    """Hours of ``times`` in which the zone's stored mix has generation and the intensity
    store has no value (``have`` false): their factors have not been loaded."""
    naive = times.tz_convert(None)
    count = 0
    for year in sorted(set(times.year)):
        mix = store.load_mix(zone, year)
        if mix is None or "generation" not in mix:
            continue
        pick = np.asarray(times.year == year)
        total = mix["generation"].fillna(0.0).clip(min=0.0).sum("mode")
        generating = total.reindex(time=naive[pick]).fillna(0.0).values > 0
        count += int((generating & ~have[pick]).sum())
    return count


def _year_hours(year: int) -> pd.DatetimeIndex:
    import pandas as pd

    return pd.date_range(
        dt.datetime(year, 1, 1, tzinfo=dt.UTC),
        dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC),
        freq="h",
        inclusive="left",
    )


def _step_text(step: dict[str, Any]) -> str:
    return f"{step['level']} {step['key']}: {step['reason']}"


def _source_text(hourly: HourlyIntensity) -> str:
    return "; ".join(
        f"{s['level']} {s['key']}: {s.get('source', '')}" for s in hourly.steps if s.get("hours")
    )


def grid_factor_lookup(*, zone: str, country: str, year: int, kind: str = "direct") -> GridFactor:
    """The factor for (zone, year): the mean over the year's hours of the chain installation
    zone → country → world (module docstring).

    Raises :class:`LookupError` when no step of the chain has data."""
    try:
        hourly = hourly_intensity_for(
            zone=zone, country=country, times=_year_hours(year), kind=kind
        )
    except g.GridError as exc:
        raise LookupError(str(exc)) from exc
    kinds = hourly.kinds_used
    return GridFactor(
        value_t_per_mwh=float(hourly.values.mean()) * g.T_PER_MWH_G_PER_KWH,
        kind=kinds[0] if len(kinds) == 1 else "mixed: " + ", ".join(kinds),
        source=_source_text(hourly),
        valid_from=f"{year}-01-01",
        valid_to=f"{year}-12-31",
        steps=[_step_text(s) for s in hourly.steps],
        gap_filled=hourly.gap_filled_hours > 0,
        evidence_sha256=hourly.evidence_sha256,
    )


# --------------------------------------------------------------------------- indirect


@dataclass(frozen=True)
class IndirectEmissions:
    """Indirect emissions of an installation's electricity use, with its sealed trace."""

    emissions_t: float
    consumed_mwh: float
    factor_t_per_mwh: float
    kind: str
    gap_filled_hours: int
    steps: list[dict[str, Any]]
    trace: dict[str, Any]
    trace_sha256: str

    def electricity_case(self) -> dict[str, float]:
        """The ``electricity`` object of a ``cbam.installation`` case (its indirect term)."""
        return {"consumed_mwh": self.consumed_mwh, "ef_t_per_mwh": self.factor_t_per_mwh}


def indirect_emissions(
    *,
    zone: str,
    country: str,
    year: int,
    consumption_mwh: float | list[float] | np.ndarray,
    kind: str = "direct",
) -> IndirectEmissions:
    """Indirect emissions [tCO2e] and the factor [tCO2e/MWh] of electricity use in ``year``.

    ``consumption_mwh``: a number (annual; × the mean of the year's hourly intensity), 12
    numbers (monthly; × each month's mean) or one number per hour of the year (hourly
    profile; × each hour's intensity). The hourly intensity comes through the chain of
    the module docstring; the trace names each level, the kind used, the gap-filled hours
    and the store files (with their SHA-256). Reference: IR 2025/2547 Annex III
    (AttrEm_indir = E_el × EF_el); methodologies.grid.indirect_emissions_t."""
    times = _year_hours(year)
    hourly = hourly_intensity_for(zone=zone, country=country, times=times, kind=kind)
    use = np.asarray(consumption_mwh, dtype=np.float64)
    shape = "annual" if use.ndim == 0 else "monthly" if use.shape == (12,) else "hourly"
    if shape == "hourly" and use.shape != (len(times),):
        raise ValueError(
            f"consumption has {use.size} values: give 1 (annual), 12 (monthly) or "
            f"{len(times)} (hourly, {year})"
        )
    matrix = use.reshape(1, -1) if use.ndim else use.reshape(1)
    emissions = float(
        g.indirect_emissions_t(
            matrix, np.zeros(1, dtype=np.intp), hourly.values[None], times.tz_convert(None)
        )[0]
    )
    consumed = float(use.sum())
    factor = emissions / consumed if consumed > 0 else float(hourly.values.mean()) * 0.001
    kinds = hourly.kinds_used
    kind_used = kinds[0] if len(kinds) == 1 else "mixed: " + ", ".join(kinds)
    inputs = [input_item("consumption_mwh", use.tolist(), f"MWh ({shape})")]
    for f in hourly.store_files:
        inputs.append(input_item("hourly intensity store file", f["ref"], "NetCDF", evidence=f))
    factors = [
        factor_item(
            f"grid intensity ({s['kind_used']}, {s['level']} {s['key']})",
            float(s.get("value_g_per_kwh", _mean_of(hourly, s))),
            g.UNIT,
            s.get("source", ""),
            s.get("valid_from", f"{year}-01-01"),
            s.get("valid_to", f"{year}-12-31"),
        )
        for s in hourly.steps
        if s.get("hours")
    ]
    steps = [
        step_item(
            f"grid.chain.{s['level']}",
            "intensity of the hours left from this level of zone → country → world",
            {k: v for k, v in s.items() if k not in ("level",)},
            s.get("hours", 0),
            "h",
        )
        for s in hourly.steps
    ]
    steps.append(
        step_item(
            "grid.gap_filled",
            "hours of the zone store filled by rule (linear ≤ 3 h; same hour of week, ±2 "
            "weeks; zone annual mean) or estimated by the publisher",
            {"hours": len(times)},
            hourly.gap_filled_hours,
            "h",
        )
    )
    steps.append(
        step_item(
            "grid.indirect",
            f"Em = Σ E [MWh] × I [gCO2eq/kWh] × 0.001 ({shape} consumption)",
            {"consumed_mwh": consumed, "kind": kind_used},
            emissions,
            "tCO2e",
        )
    )
    steps.append(
        step_item(
            "grid.factor",
            "EF_el = Em / Σ E",
            {"emissions_t": emissions, "consumed_mwh": consumed},
            factor,
            "tCO2e/MWh",
        )
    )
    result = {
        "emissions_t": emissions,
        "consumed_mwh": consumed,
        "factor_t_per_mwh": factor,
        "kind_requested": kind,
        "kind_used": kind_used,
        "gap_filled_hours": hourly.gap_filled_hours,
    }
    trace = build_trace(
        methodology_id=INDIRECT_ID,
        version=INDIRECT_VERSION,
        inputs=inputs,
        factors=factors,
        steps=steps,
        result=result,
        case={"zone": zone, "country": country, "year": year, "kind": kind, "shape": shape},
    )
    _, sha = seal(trace)
    return IndirectEmissions(
        emissions, consumed, factor, kind_used, hourly.gap_filled_hours, hourly.steps, trace, sha
    )


def _mean_of(hourly: HourlyIntensity, step: dict[str, Any]) -> float:
    codes = {"zone": (g.MEASURED, g.COMPUTED, g.GAP_FILLED)}.get(step["level"])
    mask = np.isin(hourly.provenance, codes) if codes else np.ones(len(hourly.values), bool)
    return float(hourly.values[mask].mean()) if mask.any() else float("nan")


# --------------------------------------------------------------------------- series


def zone_list() -> QuerySet[GridZone]:
    return GridZone.objects.prefetch_related("series")


def zone_get(*, key: str) -> GridZone | None:
    return GridZone.objects.filter(key=key).prefetch_related("series").first()


def zone_years(*, zone: GridZone) -> list[int]:
    """Years with stored hours or a mix file for the zone."""
    return sorted({s.year for s in zone.series.all()} | set(store.mix_years(zone.key)))


def factor_list(*, zone: str | None = None, at: dt.datetime | None = None) -> QuerySet:
    """Library rows; ``zone`` gives its overrides and the global defaults; ``at`` keeps
    only the entries valid then."""
    qs = EmissionFactor.objects.all()
    if zone:
        qs = qs.filter(zone__in=[zone, EmissionFactor.DEFAULT_ZONE])
    if at is not None:
        qs = qs.filter(valid_from__isnull=True) | qs.filter(valid_from__lte=at)
        qs = qs.exclude(valid_to__lte=at)
    return qs.order_by("zone", "kind", "mode", "valid_from")


def factors_effective(*, zone: str, at: dt.datetime) -> list[dict[str, Any]]:
    """Per (kind, mode): the factor valid at ``at`` for ``zone``, override or default."""
    rows = factor_list(zone=zone, at=at)
    chosen: dict[tuple[str, str], EmissionFactor] = {}
    for f in rows:
        key = (f.kind, f.mode)
        current = chosen.get(key)
        if current is None or (current.is_default and not f.is_default):
            chosen[key] = f
    return [
        {"kind": k, "mode": m, "factor": f, "override": not f.is_default}
        for (k, m), f in sorted(chosen.items())
    ]


def intensity_slice(*, zone: str, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """The stored hours of ``zone`` in [start, end) as a frame (time_utc, direct,
    lifecycle, provenance, fill_method), read lazily from the zone-year files."""
    import pandas as pd

    ds = store.open_intensity([zone], start=start, end=end)
    columns = ["time_utc", "direct", "lifecycle", "provenance", "fill_method"]
    if ds is None:
        return pd.DataFrame(columns=columns)
    one = ds.isel(zone=0)
    frame = pd.DataFrame(
        {
            "time_utc": pd.DatetimeIndex(one["time"].values).tz_localize("UTC"),
            "direct": one["direct"].values,
            "lifecycle": one["lifecycle"].values,
            "provenance": [g.PROVENANCE[int(p)] for p in one["provenance"].values],
            "fill_method": [g.FILL_METHODS[int(m)] for m in one["fill_method"].values],
        }
    )
    ds.close()
    return frame


def intensity_monthly(frame: pd.DataFrame) -> pd.DataFrame:
    """Monthly means of an :func:`intensity_slice` with the hours of each provenance."""
    import pandas as pd

    if frame.empty:
        return pd.DataFrame(
            columns=["month", "direct", "lifecycle", "hours", *g.PROVENANCE.values()]
        )
    month = frame["time_utc"].dt.tz_convert(None).dt.to_period("M").dt.start_time
    grouped = frame.assign(month=month).groupby("month")
    out = grouped[["direct", "lifecycle"]].mean()
    out["hours"] = grouped.size()
    counts = frame.assign(month=month).pivot_table(
        index="month", columns="provenance", values="direct", aggfunc="size", fill_value=0
    )
    for name in g.PROVENANCE.values():
        out[name] = counts[name] if name in counts else 0
    out = out.reset_index()
    out["month"] = out["month"].dt.tz_localize("UTC")
    return out


def mix_slice(*, zone: str, year: int) -> dict[str, Any] | None:
    """The zone-year's mix file as plain arrays: ``times``, ``generation`` {mode: [MW]},
    ``load_mw``, ``price_eur_per_mwh`` (absent variables are left out)."""
    import pandas as pd

    ds = store.load_mix(zone, year)
    if ds is None:
        return None
    out: dict[str, Any] = {"times": pd.DatetimeIndex(ds["time"].values).tz_localize("UTC")}
    if "generation" in ds:
        out["generation"] = {
            str(m): ds["generation"].sel(mode=m).values for m in ds["generation"]["mode"].values
        }
    for name in ("load_mw", "price_eur_per_mwh"):
        if name in ds:
            out[name] = ds[name].values
    return out


# --------------------------------------------------------------------------- hydrogen


def hydrogen_assessment_list(*, user: User) -> QuerySet[HydrogenAssessment]:
    """Assessments the user may read: exporters only their organisation's installations."""
    qs = HydrogenAssessment.objects.select_related("installation__organisation")
    if user.role == User.Role.EXPORTER:
        if not user.organisation_id:
            return qs.none()
        return qs.filter(installation__organisation_id=user.organisation_id)
    return qs


def hydrogen_assessment_get(*, user: User, pk: int) -> HydrogenAssessment | None:
    return hydrogen_assessment_list(user=user).filter(pk=pk).first()


def hydrogen_report(assessment: HydrogenAssessment) -> dict[str, Any]:
    """The stored traces as the report shows them: per-period rows of both verdicts."""
    monthly = json.loads(assessment.monthly_trace)
    hourly = json.loads(assessment.hourly_trace)
    us45v = json.loads(assessment.us45v_trace)
    return {"monthly": monthly, "hourly": hourly, "us45v": us45v}
