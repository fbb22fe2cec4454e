"""Grid carbon intensity per zone and hour, and the indirect emissions of electricity use.

Pure and vectorised: numpy and xarray in, numpy and xarray out; no file is read here except
by :func:`open_intensity`. The inputs are the canonical tables of the ``ingest`` readers
(taken as plain DataFrames, so the engine does not import ``ingest``).

**Intensity from a generation mix** (Electricity Maps' production-based method,
https://www.electricitymaps.com/methodology)::

    I_k(z, t) = Σ_m G(z, t, m) × EF_k(z, m, t) / Σ_m G(z, t, m)      [gCO2eq/kWh]

with G the generation of mode m [MW averaged over the hour, i.e. MWh in the hour], k =
``direct`` (combustion) or ``lifecycle``, and EF_k the factor valid at hour t: among the
entries of (zone, kind, mode) the one whose ``valid_from`` is the latest not after t (an
undated entry is always valid), else the global ``_DEFAULT`` entry by the same rule
(:func:`factors_at`). Energy taken out of the zone (pumping, battery charging) is not
generation and is left out.

**The intensity Dataset** (``zone`` × ``time``, time = start of the hour, UTC, stored as
naive datetime64 because xarray has no time-zone-aware dtype): ``direct`` and ``lifecycle``
[gCO2eq/kWh], ``provenance`` (int8, :data:`PROVENANCE`: measured, computed, gap_filled,
missing) and ``fill_method`` (int8, :data:`FILL_METHODS`).

**Gap filling** (:func:`fill_gaps`), for each zone, variable and missing hour, the first
rule that gives a value, using only values that were not themselves filled:

1. ``linear``: a gap of at most ``max_linear_hours`` (3) consecutive hours with a value on
   both sides is interpolated linearly in time;
2. ``same_hour_of_week``: the mean of the same hour of the week in the surrounding four
   weeks (t − 14 d, t − 7 d, t + 7 d, t + 14 d), those that have a value;
3. ``annual_mean``: the mean of the zone's values in the same calendar year.

Every filled value gets provenance ``gap_filled`` and its method; a value no rule reaches
stays NaN with provenance ``missing``.

**Fallback chain** (:func:`lookup_intensity`): installation zone (hourly Dataset, mean over
the period) → country (Ember annual average) → world (Ember "World"); the record names
every step tried and which kind (direct or lifecycle) it used.

**Indirect emissions** (:func:`indirect_emissions_t`)::

    Em_indir [tCO2e] = E [MWh] × I [gCO2eq/kWh] × 0.001     (1 MWh × 1 g/kWh = 1 kg)

for an annual scalar, a monthly 12-vector or an hourly profile per installation, each
installation matched with its zone's intensity (annual: the zone's mean over the hours;
monthly: its monthly means), vectorised over installations × hours with float64
accumulation. Reference: IR 2025/2547 Annex III (AttrEm_indir = E_el × EF_el).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from methodologies.errors import MethodologyError
from methodologies.trace import factor_item

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

KINDS = ("direct", "lifecycle")
DEFAULT_ZONE = "_DEFAULT"
UNIT = "gCO2eq/kWh"
T_PER_MWH_G_PER_KWH = 0.001  # 1 MWh × 1 g/kWh = 1000 kWh × 1 g/kWh = 1 kg = 0.001 t

#: Provenance codes of the ``provenance`` variable (CF flag_values / flag_meanings).
PROVENANCE: dict[int, str] = {0: "measured", 1: "computed", 2: "gap_filled", 3: "missing"}
MEASURED, COMPUTED, GAP_FILLED, MISSING = 0, 1, 2, 3
#: Codes of the ``fill_method`` variable.
FILL_METHODS: dict[int, str] = {
    0: "none",
    1: "linear",
    2: "same_hour_of_week",
    3: "annual_mean",
    4: "source_estimate",
}
NONE, LINEAR, SAME_HOUR_OF_WEEK, ANNUAL_MEAN, SOURCE_ESTIMATE = 0, 1, 2, 3, 4
#: Weeks around a missing hour whose same hour of week is averaged (rule 2).
WEEK_OFFSETS = (-2, -1, 1, 2)

#: Storage modes of the ENTSO-E reader → the Electricity Maps factor mode of their
#: discharge (config/defaults.yaml: "hydro discharge", "battery discharge").
FACTOR_MODE: dict[str, str] = {
    "hydro storage": "hydro discharge",
    "battery storage": "battery discharge",
}

EMBER_SOURCE = "Ember, yearly electricity data (CC BY 4.0), via co2.js average-intensities.json"
EMBER_KIND = "lifecycle"  # Ember's intensities use life-cycle emission factors


class GridError(MethodologyError):
    """Grid data cannot give what was asked (no factor, irregular time axis, no intensity)."""


# --------------------------------------------------------------------------- factors


def factors_at(
    table: pd.DataFrame, zone: str, kind: str, mode: str, times: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Factor of (zone, kind, mode) valid at each of ``times`` [gCO2eq/kWh], and a bool
    array, true where the global ``_DEFAULT`` entry was used.

    ``table`` has the columns of ``ingest.emission_factors`` (``zone``, ``kind``, ``mode``,
    ``valid_from`` datetime64[ns, UTC] or NaT, ``value_g_per_kwh``); ``times`` UTC (aware
    or naive-as-UTC). The entry valid at t is the one with the latest ``valid_from`` not
    after t; NaN where neither the zone nor ``_DEFAULT`` has one. One ``searchsorted``
    per candidate zone. Reference: Electricity Maps config schema (shared/data README §3).
    """
    import pandas as pd

    stamps = pd.DatetimeIndex(times)
    stamps = stamps.tz_convert(None) if stamps.tz is not None else stamps
    t = stamps.as_unit("ns").asi8
    values = np.full(len(t), np.nan)
    fallback = np.zeros(len(t), dtype=bool)
    todo = np.ones(len(t), dtype=bool)
    for candidate in (zone, DEFAULT_ZONE):
        rows = table[
            (table["zone"] == candidate) & (table["kind"] == kind) & (table["mode"] == mode)
        ]
        if rows.empty or not todo.any():
            continue
        start = pd.DatetimeIndex(rows["valid_from"])
        start = start.tz_convert(None) if start.tz is not None else start
        starts = np.where(start.isna(), np.iinfo(np.int64).min, start.as_unit("ns").asi8)
        order = np.argsort(starts, kind="stable")
        starts, vals = starts[order], rows["value_g_per_kwh"].to_numpy(np.float64)[order]
        index = np.searchsorted(starts, t, side="right") - 1
        hit = todo & (index >= 0)
        values[hit] = vals[index[hit]]
        fallback[hit] = candidate != zone
        todo &= ~hit
    return values, fallback


def factor_cube(
    table: pd.DataFrame, zones: Sequence[str], modes: Sequence[str], times: Any, kind: str
) -> xr.DataArray:
    """Factors ``(zone, mode, time)`` [gCO2eq/kWh] from :func:`factors_at`; attribute
    ``fallback`` lists the (zone, mode) pairs that used ``_DEFAULT`` at some hour."""
    import pandas as pd
    import xarray as xr

    times = pd.DatetimeIndex(times)
    out = np.empty((len(zones), len(modes), len(times)))
    used_default = []
    for i, zone in enumerate(zones):
        for j, mode in enumerate(modes):
            out[i, j], fallback = factors_at(table, zone, kind, FACTOR_MODE.get(mode, mode), times)
            if fallback.any():
                used_default.append(f"{zone}:{mode}")
    naive = times.tz_convert(None) if times.tz is not None else times
    return xr.DataArray(
        out,
        dims=("zone", "mode", "time"),
        coords={"zone": list(zones), "mode": list(modes), "time": naive},
        attrs={"units": UNIT, "kind": kind, "fallback": used_default},
    )


# --------------------------------------------------------------------------- intensity


def mix_from_frame(frame: pd.DataFrame) -> xr.DataArray:
    """Generation ``(zone, time, mode)`` [MW, hourly means] from the rows of
    ``ingest.entsoe.to_hourly`` (or any frame with ``zone``, ``time_utc``, ``mode``,
    ``value``): generation into the zone only (``kind`` generation, ``direction`` in), modes
    summed over their production types; an absent (zone, time, mode) is 0."""
    import pandas as pd

    rows = frame
    if "kind" in rows:
        rows = rows[rows["kind"] == "generation"]
    if "direction" in rows:
        rows = rows[rows["direction"] == "in"]
    times = pd.DatetimeIndex(rows["time_utc"])
    times = times.tz_convert(None) if times.tz is not None else times
    table = (
        rows.assign(time=times)
        .groupby(["zone", "time", "mode"], sort=True)["value"]
        .sum()
        .to_xarray()
        .fillna(0.0)
    )
    table.attrs["units"] = "MW"
    return table


def intensity_from_mix(generation: xr.DataArray, factors: pd.DataFrame) -> xr.Dataset:
    """Intensity Dataset ``(zone, time)`` from generation ``(zone, time, mode)`` [MW] and a
    factor table: I_k = Σ_m G × EF_k / Σ_m G for k in direct, lifecycle [gCO2eq/kWh];
    provenance ``computed``, or ``missing`` where the zone generated nothing that hour.
    Negative generation (storage charging) counts as 0. Raises :class:`GridError` naming
    the modes that have no factor at some hour."""
    import pandas as pd

    gen = generation.transpose("zone", "time", "mode").clip(min=0.0)
    zones = [str(z) for z in gen["zone"].values]
    modes = [str(m) for m in gen["mode"].values]
    times = pd.DatetimeIndex(gen["time"].values)
    g = gen.to_numpy().astype(np.float64)
    total = g.sum(axis=2)
    out: dict[str, Any] = {}
    fallbacks: dict[str, list[str]] = {}
    for kind in KINDS:
        cube = factor_cube(factors, zones, modes, times, kind)
        f = cube.to_numpy().transpose(0, 2, 1)  # zone, time, mode
        lacking = np.isnan(f) & (g > 0)
        if lacking.any():
            zi, _, mi = np.nonzero(lacking)
            pairs = sorted({f"{zones[a]}:{modes[b]}" for a, b in zip(zi, mi, strict=True)})
            raise GridError(f"no {kind} factor valid for {', '.join(pairs)}")
        weighted = np.einsum("ztm,ztm->zt", g, np.nan_to_num(f))
        out[kind] = np.divide(weighted, total, out=np.full(total.shape, np.nan), where=total > 0)
        fallbacks[kind] = cube.attrs["fallback"]
    provenance = np.where(total > 0, COMPUTED, MISSING).astype(np.int8)
    ds = intensity_dataset(zones, times, out["direct"], out["lifecycle"], provenance)
    ds.attrs["factor_fallback_direct"] = ", ".join(fallbacks["direct"])
    ds.attrs["factor_fallback_lifecycle"] = ", ".join(fallbacks["lifecycle"])
    return ds


def intensity_dataset(
    zones: Sequence[str],
    times: Any,
    direct: np.ndarray,
    lifecycle: np.ndarray,
    provenance: np.ndarray,
    fill_method: np.ndarray | None = None,
) -> xr.Dataset:
    """The canonical intensity Dataset (see the module docstring) from ``(zone, time)``
    arrays; ``times`` UTC (aware or naive-as-UTC)."""
    import pandas as pd
    import xarray as xr

    index = pd.DatetimeIndex(times).rename(None)
    index = index.tz_convert(None) if index.tz is not None else index
    if fill_method is None:
        fill_method = np.zeros(np.shape(provenance), dtype=np.int8)
    dims = ("zone", "time")
    ds = xr.Dataset(
        {
            "direct": (dims, np.asarray(direct, dtype=np.float64), {"units": UNIT}),
            "lifecycle": (dims, np.asarray(lifecycle, dtype=np.float64), {"units": UNIT}),
            "provenance": (
                dims,
                np.asarray(provenance, dtype=np.int8),
                {
                    "flag_values": np.array(list(PROVENANCE), dtype=np.int8),
                    "flag_meanings": " ".join(PROVENANCE.values()),
                },
            ),
            "fill_method": (
                dims,
                np.asarray(fill_method, dtype=np.int8),
                {
                    "flag_values": np.array(list(FILL_METHODS), dtype=np.int8),
                    "flag_meanings": " ".join(FILL_METHODS.values()),
                },
            ),
        },
        coords={"zone": [str(z) for z in zones], "time": index.as_unit("ns")},
        attrs={"time_zone": "UTC", "time_meaning": "start of the hour"},
    )
    return ds


def from_hourly_export(frame: pd.DataFrame) -> xr.Dataset:
    """Intensity Dataset from hourly carbon-intensity rows (``ingest.emaps_hourly``:
    ``zone``, ``time_utc``, ``direct_g_per_kwh``, ``lifecycle_g_per_kwh``, ``estimated``):
    provenance ``measured``, or ``gap_filled`` with method ``source_estimate`` where the
    publisher estimated the value."""
    import pandas as pd

    wide = frame.pivot_table(
        index="zone",
        columns="time_utc",
        values=["direct_g_per_kwh", "lifecycle_g_per_kwh", "estimated"],
        aggfunc="first",
    )
    zones = list(wide.index)
    times = pd.DatetimeIndex(wide["direct_g_per_kwh"].columns)
    estimated = wide["estimated"].to_numpy(dtype=float) == 1.0
    direct = wide["direct_g_per_kwh"].to_numpy(dtype=np.float64)
    provenance = np.where(estimated, GAP_FILLED, MEASURED)
    provenance = np.where(np.isnan(direct), MISSING, provenance)
    method = np.where(estimated & ~np.isnan(direct), SOURCE_ESTIMATE, NONE)
    return intensity_dataset(
        zones,
        times,
        direct,
        wide["lifecycle_g_per_kwh"].to_numpy(dtype=np.float64),
        provenance,
        method,
    )


# --------------------------------------------------------------------------- gap filling


def _check_hourly(times: pd.DatetimeIndex) -> None:
    if len(times) > 1 and not (np.diff(times.asi8) == 3_600_000_000_000).all():
        raise GridError("gap filling needs a regular hourly time axis (reindex first)")


def _linear(values: np.ndarray, max_hours: int) -> np.ndarray:
    """Linear interpolation of NaN runs of at most ``max_hours`` with values on both sides
    (rows are zones, columns hours); other NaNs stay."""
    out = values.copy()
    n = values.shape[1]
    hours = np.arange(n)
    for row in range(values.shape[0]):
        have = ~np.isnan(values[row])
        if have.sum() < 2 or have.all():
            continue
        known = np.flatnonzero(have)
        # run length of each gap = distance between the surrounding known hours − 1
        nxt = np.searchsorted(known, hours)  # first known at or after each hour
        inside = (~have) & (nxt > 0) & (nxt < len(known))
        before = known[np.clip(nxt - 1, 0, len(known) - 1)]
        after = known[np.clip(nxt, 0, len(known) - 1)]
        short = inside & (after - before - 1 <= max_hours)
        out[row, short] = np.interp(hours[short], known, values[row, known])
    return out


def _same_hour_of_week(values: np.ndarray) -> np.ndarray:
    """Mean of the same hour in the weeks :data:`WEEK_OFFSETS` around each hour (NaN where
    none has a value)."""
    total = np.zeros_like(values)
    count = np.zeros(values.shape, dtype=np.int64)
    n = values.shape[1]
    for weeks in WEEK_OFFSETS:
        shift = weeks * 168
        shifted = np.full_like(values, np.nan)
        if shift > 0 and shift < n:
            shifted[:, : n - shift] = values[:, shift:]
        elif shift < 0 and -shift < n:
            shifted[:, -shift:] = values[:, : n + shift]
        have = ~np.isnan(shifted)
        total += np.where(have, shifted, 0.0)
        count += have
    return np.divide(total, count, out=np.full(values.shape, np.nan), where=count > 0)


def _annual_mean(values: np.ndarray, years: np.ndarray) -> np.ndarray:
    out = np.full(values.shape, np.nan)
    for year in np.unique(years):
        cols = years == year
        block = values[:, cols]
        have = ~np.isnan(block)
        count = have.sum(axis=1)
        mean = np.divide(
            np.where(have, block, 0.0).sum(axis=1),
            count,
            out=np.full(len(count), np.nan),
            where=count > 0,
        )
        out[:, cols] = mean[:, None]
    return out


def fill_gaps(ds: xr.Dataset, max_linear_hours: int = 3) -> xr.Dataset:
    """A copy of the intensity Dataset with its gaps filled by the rules of the module
    docstring (linear ≤ ``max_linear_hours`` h, same hour of week in the surrounding four
    weeks, zone annual mean), each filled value flagged ``gap_filled`` with its method.
    Direct and lifecycle are filled alike; an hour is filled only if both can be. The time
    axis must be regular hourly."""
    import pandas as pd

    times = pd.DatetimeIndex(ds["time"].values)
    _check_hourly(times)
    direct = ds["direct"].transpose("zone", "time").to_numpy().astype(np.float64)
    lifecycle = ds["lifecycle"].transpose("zone", "time").to_numpy().astype(np.float64)
    provenance = ds["provenance"].transpose("zone", "time").to_numpy().astype(np.int8).copy()
    method = ds["fill_method"].transpose("zone", "time").to_numpy().astype(np.int8).copy()
    years = times.year.to_numpy()
    gap = np.isnan(direct) | np.isnan(lifecycle)
    candidates = [
        (LINEAR, lambda v: _linear(v, max_linear_hours)),
        (SAME_HOUR_OF_WEEK, _same_hour_of_week),
        (ANNUAL_MEAN, lambda v: _annual_mean(v, years)),
    ]
    filled_d, filled_l = direct.copy(), lifecycle.copy()
    originals_d = np.where(gap, np.nan, direct)
    originals_l = np.where(gap, np.nan, lifecycle)
    todo = gap.copy()
    for code, rule in candidates:
        if not todo.any():
            break
        d, lc = rule(originals_d), rule(originals_l)
        ok = todo & ~np.isnan(d) & ~np.isnan(lc)
        filled_d[ok], filled_l[ok] = d[ok], lc[ok]
        provenance[ok], method[ok] = GAP_FILLED, code
        todo &= ~ok
    provenance[todo] = MISSING
    return intensity_dataset(
        list(ds["zone"].values), times, filled_d, filled_l, provenance, method
    ).assign_attrs(ds.attrs)


# --------------------------------------------------------------------------- fallback chain


@dataclass(frozen=True)
class IntensityRecord:
    """The intensity used for an installation, and how it was found.

    ``steps`` lists every level tried, in order, as ``{"level", "key", "found", "reason"}``;
    ``level`` is the one used (``zone``, ``country`` or ``world``); ``kind_used`` says
    whether the value is direct or lifecycle (it may differ from ``kind_requested`` when a
    level only has one of them)."""

    value_g_per_kwh: float
    kind_requested: str
    kind_used: str
    level: str
    key: str
    source: str
    valid_from: str | None
    valid_to: str | None
    steps: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def fallback(self) -> bool:
        return self.level != "zone"

    def as_dict(self) -> dict[str, Any]:
        return {
            "value_g_per_kwh": self.value_g_per_kwh,
            "unit": UNIT,
            "kind_requested": self.kind_requested,
            "kind_used": self.kind_used,
            "level": self.level,
            "key": self.key,
            "source": self.source,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "fallback": self.fallback,
            "steps": [dict(s) for s in self.steps],
            **({"detail": dict(self.detail)} if self.detail else {}),
        }

    def factor_item(self) -> dict[str, Any]:
        """This intensity as a trace factor (``methodologies.trace.factor_item``)."""
        return factor_item(
            f"grid intensity ({self.kind_used}, {self.level} {self.key})",
            self.value_g_per_kwh,
            UNIT,
            self.source,
            self.valid_from,
            self.valid_to,
        )


def _naive_utc(when: datetime | str | None) -> pd.Timestamp | None:
    import pandas as pd

    if when is None:
        return None
    stamp = pd.Timestamp(when)
    if stamp.tzinfo is None:
        raise ValueError(f"{when!r}: times must be timezone-aware")
    return stamp.tz_convert("UTC").tz_localize(None)


def lookup_intensity(
    *,
    kind: str,
    start: datetime,
    end: datetime,
    zone: str | None = None,
    country: str | None = None,
    intensity: xr.Dataset | None = None,
    averages: pd.DataFrame | None = None,
) -> IntensityRecord:
    """Intensity for an installation over ``[start, end)`` through the chain installation
    zone → country → world, each step named in the record.

    - zone: the mean of ``intensity[kind]`` (the Dataset of this module) over the hours of
      the period that have a value, if the zone is in it and any hour has one;
    - country: the row of ``averages`` (``ingest.grid_averages.read_ember`` columns:
      ``code`` ISO3 or region, ``iso2``, ``year``, ``intensity_g_per_kwh``) whose ``iso2``
      (or ``code``) is ``country``; Ember values are life-cycle intensities;
    - world: the ``averages`` row with ``code`` "World".

    Raises :class:`GridError` when no level has a value.
    """
    import pandas as pd

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    t0, t1 = _naive_utc(start), _naive_utc(end)
    steps: list[dict[str, Any]] = []
    if zone is not None and intensity is not None:
        if zone in intensity["zone"].values:
            window = intensity[kind].sel(zone=zone, time=slice(t0, t1 - pd.Timedelta("1ns")))
            values = window.to_numpy()
            have = ~np.isnan(values)
            if have.any():
                prov = intensity["provenance"].sel(zone=zone, time=window["time"]).to_numpy()
                value = float(values[have].mean())
                steps.append(
                    {"level": "zone", "key": zone, "found": True, "reason": "hourly intensity"}
                )
                return IntensityRecord(
                    value,
                    kind,
                    kind,
                    "zone",
                    zone,
                    "hourly zone intensity (methodologies.grid)",
                    f"{t0:%Y-%m-%dT%H:%M}Z",
                    f"{t1:%Y-%m-%dT%H:%M}Z",
                    tuple(steps),
                    {
                        "hours": int(have.sum()),
                        "hours_in_period": len(values),
                        "gap_filled_hours": int((prov[have] == GAP_FILLED).sum()),
                    },
                )
            steps.append(
                {"level": "zone", "key": zone, "found": False, "reason": "no value in the period"}
            )
        else:
            steps.append(
                {"level": "zone", "key": zone, "found": False, "reason": "zone not in the store"}
            )
    elif zone is not None:
        steps.append({"level": "zone", "key": zone, "found": False, "reason": "no intensity store"})
    for level, key in (("country", country), ("world", "World")):
        if key is None:
            continue
        row = None
        if averages is not None:
            match = averages["code"] == key
            if level == "country" and "iso2" in averages:
                match |= averages["iso2"] == key
            if match.any():
                row = averages[match].iloc[0]
        if row is None:
            steps.append({"level": level, "key": key, "found": False, "reason": "no average"})
            continue
        year = int(row["year"])
        reason = f"Ember {year} annual average"
        if kind != EMBER_KIND:
            reason += f" (life-cycle: no {kind} value at this level)"
        steps.append({"level": level, "key": key, "found": True, "reason": reason})
        return IntensityRecord(
            float(row["intensity_g_per_kwh"]),
            kind,
            EMBER_KIND,
            level,
            key,
            f"{EMBER_SOURCE}, {row.get('name', key)} {year}",
            f"{year}-01-01",
            f"{year}-12-31",
            tuple(steps),
        )
    raise GridError(
        "no grid intensity: " + "; ".join(f"{s['level']} {s['key']}: {s['reason']}" for s in steps)
    )


# --------------------------------------------------------------------------- indirect emissions


def _monthly_means(intensity: np.ndarray, times: pd.DatetimeIndex) -> np.ndarray:
    months = times.month.to_numpy() - 1
    counts = np.bincount(months, minlength=12).astype(np.float64)
    sums = np.stack([np.bincount(months, weights=row, minlength=12) for row in intensity])
    return np.divide(sums, counts, out=np.full(sums.shape, np.nan), where=counts > 0)


def indirect_emissions_t(
    consumption_mwh: np.ndarray,
    zone_index: np.ndarray,
    intensity_g_per_kwh: np.ndarray,
    times: Any = None,
    block: int = 64,
) -> np.ndarray:
    """Indirect emissions per installation [tCO2e] = Σ E [MWh] × I [gCO2eq/kWh] × 0.001.

    ``consumption_mwh``: shape ``(n,)`` (annual), ``(n, 12)`` (monthly) or ``(n, H)``
    (hourly, H = the hours of ``intensity_g_per_kwh``); ``zone_index`` ``(n,)`` int, the row
    of each installation's zone in ``intensity_g_per_kwh`` ``(zones, H)``. Annual consumption
    takes the zone's mean intensity over the H hours, monthly consumption its monthly means
    (``times`` required, the H hour starts). Hourly: a row-wise dot product of each
    installation's profile with its zone's intensity (``numpy.vecdot``), evaluated in blocks
    of ``block`` installations: the zone rows of a block are gathered into a small buffer
    that stays in cache, so no n × H copy is made; float64 throughout.
    Reference: IR 2025/2547 Annex III (AttrEm_indir = E_el × EF_el).
    """
    import pandas as pd

    consumption = np.asarray(consumption_mwh, dtype=np.float64)
    zones = np.asarray(zone_index, dtype=np.intp)
    intensity = np.asarray(intensity_g_per_kwh, dtype=np.float64)
    if intensity.ndim != 2:
        raise GridError("intensity must be (zones, hours)")
    if consumption.ndim == 1:
        return consumption * intensity.mean(axis=1)[zones] * T_PER_MWH_G_PER_KWH
    if consumption.shape[1] == 12 and intensity.shape[1] != 12:
        if times is None:
            raise GridError("monthly consumption needs the hour starts (times)")
        monthly = _monthly_means(intensity, pd.DatetimeIndex(times))
        return np.einsum("im,im->i", consumption, monthly[zones]) * T_PER_MWH_G_PER_KWH
    if consumption.shape[1] != intensity.shape[1]:
        raise GridError(
            f"consumption has {consumption.shape[1]} columns, intensity {intensity.shape[1]} hours"
        )
    out = np.empty(len(consumption))
    for lo in range(0, len(consumption), block):
        hi = min(lo + block, len(consumption))
        out[lo:hi] = np.vecdot(consumption[lo:hi], intensity[zones[lo:hi]])
    return out * T_PER_MWH_G_PER_KWH


# --------------------------------------------------------------------------- store


def save_intensity(ds: xr.Dataset, path: str | Path) -> Path:
    """Write the intensity Dataset to NetCDF-4 (netCDF4 engine), each variable chunked one
    zone × all hours, so that a reader of one zone touches one chunk per variable;
    float64 values are zlib-compressed. Returns the path."""
    path = Path(path)
    n_time = max(int(ds.sizes["time"]), 1)
    encoding: dict[str, Mapping[str, Any]] = {}
    for name, var in ds.data_vars.items():
        encoding[name] = {"chunksizes": (1, n_time), "zlib": True, "complevel": 1}
        if var.dtype.kind == "f":
            encoding[name]["_FillValue"] = np.nan
    encoding["time"] = {"units": "hours since 1970-01-01 00:00:00", "dtype": "int64"}
    ds.transpose("zone", "time").to_netcdf(path, engine="netcdf4", encoding=encoding)
    return path


def open_intensity(
    path: str | Path,
    zones: Sequence[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> xr.Dataset:
    """Open a stored intensity Dataset lazily and select ``zones`` and hours in
    ``[start, end)`` (aware datetimes). Nothing is read until values are used
    (``.load()``, ``.to_numpy()``), and then only the selected zones' chunks."""
    import pandas as pd
    import xarray as xr

    ds = xr.open_dataset(path, engine="netcdf4", cache=False)
    if zones is not None:
        ds = ds.sel(zone=list(zones))
    t0, t1 = _naive_utc(start), _naive_utc(end)
    if t0 is not None or t1 is not None:
        ds = ds.sel(time=slice(t0, None if t1 is None else t1 - pd.Timedelta("1ns")))
    return ds
