"""Unit values far outside what is normal for their CN code (docs/readers.md,
"Plausibility of unit values").

A row of trade data — a Comext cell (tonnes and value by CN code, partner and month) or a
customs line with its statistical value — whose value per tonne is far from the usual
value of its CN code is most likely a unit or keying mistake at the source: one Comext
month of US hydrogen (CN 28041000, 2025-08) reports 57,134 t for €3.5 million, €61 per
tonne, where the code's other months of at least a tonne are worth about €9,300 per tonne.
Such rows are **kept and flagged** with the reason; sums leave them out unless asked.

The normal range is computed from the data itself, for each CN code, not chosen by hand:

- reference = the median unit value (EUR/t) of the code's rows of at least
  ``REFERENCE_MIN_T`` tonnes (parcels under a tonne — samples, spare parts — have unit
  values that say nothing about bulk trade); with fewer than ``MIN_REFERENCE_ROWS`` such
  rows, of all its rows with a value; no reference with fewer than that either;
- a row of at least ``REFERENCE_MIN_T`` tonnes is flagged when its unit value is more than
  ``BAND_FACTOR`` times above or below the reference. The median is the robust statistic
  of choice for a location (breakdown point 50 %: fewer than half the rows, however wild,
  cannot move it); the band is wide because unit values of one code legitimately vary
  several-fold (grades, alloys, contract prices).

On the project's Comext extract (fixtures/trade/) this flags 15 of its 4,236 cells, among
them the hydrogen month above; ``tests/ingest/test_plausibility.py`` works it by hand.
Pure: numpy and pandas only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REFERENCE_MIN_T = 1.0
MIN_REFERENCE_ROWS = 3
BAND_FACTOR = 20.0


@dataclass
class UnitValueFlags:
    """Per row: ``flagged``, ``reason`` ("" when not flagged), ``reference_eur_per_t``."""

    flagged: np.ndarray
    reason: list[str]
    reference_eur_per_t: np.ndarray


def unit_value_flags(cn_code, tonnes, value_eur) -> UnitValueFlags:
    """Flag the rows whose EUR per tonne is outside [reference / BAND_FACTOR,
    reference × BAND_FACTOR] of their CN code (see the module docstring). Rows without
    a value or a mass are never flagged."""
    frame = pd.DataFrame(
        {
            "cn": np.asarray(cn_code, dtype=str),
            "t": pd.to_numeric(pd.Series(np.asarray(tonnes, dtype=float)), errors="coerce"),
            "v": pd.to_numeric(pd.Series(np.asarray(value_eur, dtype=object)), errors="coerce"),
        }
    )
    valued = (frame["t"] > 0) & (frame["v"] > 0)
    frame["uv"] = np.where(valued, frame["v"] / frame["t"].where(valued, 1.0), np.nan)
    big = valued & (frame["t"] >= REFERENCE_MIN_T)
    ref_big = frame[big].groupby("cn")["uv"].agg(["median", "count"])
    ref_all = frame[valued].groupby("cn")["uv"].agg(["median", "count"])
    reference = pd.Series(np.nan, index=ref_all.index, dtype=float)
    enough_all = ref_all["count"] >= MIN_REFERENCE_ROWS
    reference[enough_all] = ref_all.loc[enough_all, "median"]
    enough_big = ref_big["count"] >= MIN_REFERENCE_ROWS
    reference[ref_big.index[enough_big]] = ref_big.loc[enough_big, "median"]
    per_row = frame["cn"].map(reference).to_numpy(dtype=float)
    uv = frame["uv"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = uv / per_row
    flagged = (
        big.to_numpy() & np.isfinite(ratio) & ((ratio > BAND_FACTOR) | (ratio < 1.0 / BAND_FACTOR))
    )
    reasons = [
        (
            f"value per tonne EUR {uv[i]:,.0f} is {ratio[i]:.3g}× the median of CN "
            f"{frame['cn'].iat[i]} (EUR {per_row[i]:,.0f}/t), outside ×/÷{BAND_FACTOR:g}: "
            "likely a unit or keying error at the source"
        )
        if flagged[i]
        else ""
        for i in range(len(frame))
    ]
    return UnitValueFlags(flagged=flagged, reason=reasons, reference_eur_per_t=per_row)
