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


# --- Customs lines against per-heading norms ---------------------------------------------
#
# A customs file holds one importer's lines, often a few of a CN code: too few for the
# code's own median. Its lines are compared instead with norms of their 4-digit heading
# (CN4) derived from aggregate trade statistics (the Comext extract, fixtures/trade/):
#
# - ``median_eur_per_t``: the median unit value of the heading's cells of at least
#   ``REFERENCE_MIN_T`` tonnes that are not themselves flagged by ``unit_value_flags``
#   (at least ``MIN_REFERENCE_ROWS`` such cells, else the heading has no value norm);
# - ``max_cell_t``: the largest of those cells, one month of a whole heading's imports from
#   a partner into the EU.
#
# A line of at least ``REFERENCE_MIN_T`` tonnes is flagged when its value per tonne is more
# than ``BAND_FACTOR`` times above or below the heading's median, and any line when its net
# mass exceeds ``BAND_FACTOR`` × ``max_cell_t``: a single line twenty times heavier than the
# largest month of its heading's trade is a kilogram keyed as a tonne, not a ship.


def _times(ratio: float) -> str:
    """A ratio for people: 0.00367, 4.5, 953, 1,230 (never 1.23e+03)."""
    return f"{ratio:,.0f}" if ratio >= 100 else f"{ratio:.3g}"


def customs_norms(cn_code, tonnes, value_eur) -> pd.DataFrame:
    """Per-CN4 norms from aggregate trade rows (CN code at 4 to 8 digits, tonnes, EUR):
    a frame indexed by ``cn4`` with ``median_eur_per_t``, ``cells`` and ``max_cell_t``."""
    codes = np.asarray(cn_code, dtype=str)
    t = pd.to_numeric(pd.Series(np.asarray(tonnes, dtype=float)), errors="coerce")
    v = pd.to_numeric(pd.Series(np.asarray(value_eur, dtype=object)), errors="coerce")
    cell_flags = unit_value_flags(codes, t.to_numpy(), v.to_numpy(dtype=object))
    keep = (t >= REFERENCE_MIN_T) & (v > 0) & ~pd.Series(cell_flags.flagged)
    frame = pd.DataFrame({"cn4": pd.Series(codes).str[:4], "t": t, "uv": v / t})[keep]
    grouped = frame.groupby("cn4")
    norms = pd.DataFrame(
        {
            "median_eur_per_t": grouped["uv"].median(),
            "cells": grouped["uv"].count(),
            "max_cell_t": grouped["t"].max(),
        }
    )
    norms.loc[norms["cells"] < MIN_REFERENCE_ROWS, "median_eur_per_t"] = np.nan
    return norms


def customs_line_flags(cn_code, net_mass_t, value_eur, norms: pd.DataFrame) -> UnitValueFlags:
    """Flag customs lines far outside their heading's norms (see above). A line without a
    value is judged on its mass only; a heading without norms flags nothing."""
    # By distinct CN code (a handful in a file of a million lines), then to each line.
    codes, distinct = pd.factorize(np.asarray(cn_code, dtype=object), use_na_sentinel=False)
    heading = pd.Series([str(c)[:4] for c in distinct], dtype=object)
    t = pd.to_numeric(pd.Series(np.asarray(net_mass_t, dtype=float)), errors="coerce")
    values = np.asarray(value_eur)
    if values.dtype.kind != "f":  # text or objects: numbers where they parse, else NaN
        values = values.astype(object)
    v = pd.to_numeric(pd.Series(values), errors="coerce")
    median = heading.map(norms["median_eur_per_t"]).to_numpy(dtype=float)[codes]
    max_cell = heading.map(norms["max_cell_t"]).to_numpy(dtype=float)[codes]
    tt, vv = t.to_numpy(dtype=float), v.to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        uv = np.where((tt > 0) & (vv > 0), vv / tt, np.nan)
        ratio = uv / median
    by_value = (
        (tt >= REFERENCE_MIN_T)
        & np.isfinite(ratio)
        & ((ratio > BAND_FACTOR) | (ratio < 1.0 / BAND_FACTOR))
    )
    by_mass = np.isfinite(max_cell) & (tt > BAND_FACTOR * max_cell)
    # The reasons are written for the flagged lines only (a few in a large file).
    reasons = [""] * len(codes)
    for i in np.flatnonzero(by_value | by_mass):
        parts = []
        if by_value[i]:
            parts.append(
                f"value per tonne EUR {uv[i]:,.0f} is {_times(ratio[i])}× the median of CN "
                f"{heading.iat[codes[i]]} in trade statistics (EUR {median[i]:,.0f}/t), outside "
                f"×/÷{BAND_FACTOR:g}"
            )
        if by_mass[i]:
            parts.append(
                f"net mass {tt[i]:,.1f} t is over {BAND_FACTOR:g}× the largest month of CN "
                f"{heading.iat[codes[i]]} in trade statistics ({max_cell[i]:,.1f} t)"
            )
        reasons[i] = "; ".join(parts) + ": likely a unit or keying error (e.g. kg declared as t)"
    return UnitValueFlags(flagged=by_value | by_mass, reason=reasons, reference_eur_per_t=median)
