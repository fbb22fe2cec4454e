"""Synthetic but plausible hourly grid data and electrolyser profiles for the demo.

Deterministic (``numpy.random.default_rng(seed)``): the same seed gives the same bytes.
Nothing here is evidence of a real grid: the zones are named ``<CC>-SYNTH`` and every row's
"Data source" says ``synthetic``.

Intensity model per zone (gCO2eq/kWh, direct): a base level, minus a solar dip around
noon that deepens in summer, plus a winter rise, plus AR(1) noise; life cycle = direct ×
1.12 + a fixed upstream term. A few hours are left out on purpose (a 2-hour and a 30-hour
gap) so that the store's gap rule shows on the pages.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HEADER = [
    "Datetime (UTC)",
    "Country",
    "Zone name",
    "Zone id",
    "Carbon intensity gCO₂eq/kWh (direct)",
    "Carbon intensity gCO₂eq/kWh (Life cycle)",
    "Carbon-free energy percentage (CFE%)",
    "Renewable energy percentage (RE%)",
    "Data source",
    "Data estimated",
    "Data estimation method",
]


@dataclass(frozen=True)
class SyntheticZone:
    key: str
    country: str
    name: str
    base_g_per_kwh: float  # mean direct intensity without sun
    solar_dip: float  # fraction of the base removed at a summer noon
    winter_rise: float  # fraction added in mid-winter
    upstream_g_per_kwh: float  # life-cycle term added to direct × 1.12


DEMO_ZONES = (
    SyntheticZone("ES-SYNTH", "Spain", "Spain (synthetic)", 260.0, 0.75, 0.15, 25.0),
    SyntheticZone("PL-SYNTH", "Poland", "Poland (synthetic)", 720.0, 0.20, 0.10, 40.0),
    SyntheticZone("NO-SYNTH", "Norway", "Norway (synthetic)", 28.0, 0.05, 0.30, 12.0),
)
#: Hours left out of every zone (index from 1 January 00:00): a short and a long gap.
GAPS = (slice(1000, 1002), slice(4000, 4030))


def year_hours(year: int) -> pd.DatetimeIndex:
    return pd.date_range(
        dt.datetime(year, 1, 1, tzinfo=dt.UTC),
        dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC),
        freq="h",
        inclusive="left",
    )


def solar_shape(times: pd.DatetimeIndex, latitude_factor: float = 1.0) -> np.ndarray:
    """Relative solar output [0, 1] per hour: a half-sine over a day length that follows
    the season (about 9.5 h in December to 15 h in June at 40° N), times a seasonal
    amplitude (0.55 in December to 1 in June)."""
    day = times.dayofyear.to_numpy()
    hour = times.hour.to_numpy() + 0.5
    season = np.cos(2 * np.pi * (day - 172) / 365.25)  # 1 at the June solstice
    length = 12.25 + 2.75 * season * latitude_factor
    rise = 12.5 - length / 2
    x = (hour - rise) / length
    shape = np.where((x > 0) & (x < 1), np.sin(np.pi * np.clip(x, 0, 1)), 0.0)
    return shape * (0.775 + 0.225 * season)


def zone_intensity(zone: SyntheticZone, times: pd.DatetimeIndex, rng) -> tuple[np.ndarray, ...]:
    day = times.dayofyear.to_numpy()
    winter = np.cos(2 * np.pi * (day - 15) / 365.25).clip(min=0)
    noise = np.empty(len(times))
    level = 0.0
    shocks = rng.normal(0.0, 0.04, len(times))
    for i, shock in enumerate(shocks):  # AR(1): weather persists for hours
        level = 0.95 * level + shock
        noise[i] = level
    direct = zone.base_g_per_kwh * (
        1 - zone.solar_dip * solar_shape(times) + zone.winter_rise * winter + noise
    )
    direct = np.clip(direct, 0.05 * zone.base_g_per_kwh, None)
    lifecycle = direct * 1.12 + zone.upstream_g_per_kwh
    renewable = np.clip(100 * (1 - direct / (zone.base_g_per_kwh * 1.6)), 0, 100)
    return direct, lifecycle, renewable


def write_zones_csv(path: Path, *, year: int, seed: int, zones=DEMO_ZONES) -> Path:
    """One year of hourly intensity per zone in the Electricity Maps export format."""
    rng = np.random.default_rng(seed)
    times = year_hours(year)
    keep = np.ones(len(times), dtype=bool)
    for gap in GAPS:
        keep[gap] = False
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        for zone in zones:
            direct, lifecycle, renewable = zone_intensity(zone, times, rng)
            for i in np.flatnonzero(keep):
                writer.writerow(
                    [
                        times[i].strftime("%Y-%m-%d %H:%M:%S"),
                        zone.country,
                        zone.name,
                        zone.key,
                        f"{direct[i]:.2f}",
                        f"{lifecycle[i]:.2f}",
                        f"{min(100.0, renewable[i] + 5):.2f}",
                        f"{renewable[i]:.2f}",
                        f"synthetic (Carbon Manifest demo, seed {seed})",
                        "false",
                        "",
                    ]
                )
    return path


def electrolyser_profile(
    *, year: int, seed: int, load_mw: float, solar_mw: float
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """An electrolyser running flat at ``load_mw`` with a solar PPA of ``solar_mw`` peak:
    (hours, PPA output [MWh per hour], consumption [MWh per hour]); clouds cut the PPA
    output by a daily random factor in [0.55, 1]."""
    rng = np.random.default_rng(seed)
    times = year_hours(year)
    days = len(times) // 24
    clouds = np.repeat(rng.uniform(0.55, 1.0, days), 24)
    ppa = solar_mw * solar_shape(times) * clouds
    consumption = np.full(len(times), float(load_mw))
    return times, np.round(ppa, 4), consumption
