"""ingest.plausibility: unit values far outside their CN code's range are flagged with the
reason (kept, never dropped); the range is the code's own median, not hand-picked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ingest.plausibility import BAND_FACTOR, unit_value_flags

EXTRACT = (
    Path(__file__).parents[2]
    / "fixtures"
    / "trade"
    / ("eurostat_comext_ds045409_us_eu27_monthly.csv")
)


def test_hand_worked_band():
    # CN A: 1,000, 1,100, 1,200 EUR/t on >= 1 t → median 1,100; band 55 … 22,000 EUR/t.
    cn = ["A", "A", "A", "A", "A", "A"]
    tonnes = [10, 10, 10, 10, 10, 0.5]
    value = [10_000, 11_000, 12_000, 540, 230_000, 1]  # 54 and 23,000 EUR/t: out
    flags = unit_value_flags(cn, tonnes, value)
    assert flags.flagged.tolist() == [False, False, False, True, True, False]
    assert np.allclose(flags.reference_eur_per_t, 1_100)  # median of 1,000 1,100 1,200 54 23,000
    assert "EUR 54 is 0.0491× the median of CN A (EUR 1,100/t)" in flags.reason[3]
    assert flags.reason[0] == "" and flags.reason[5] == ""  # a sample parcel is not judged
    assert BAND_FACTOR == 20.0


def test_a_code_without_enough_rows_has_no_reference():
    flags = unit_value_flags(["B", "B"], [5, 5], [10, 100_000])
    assert not flags.flagged.any() and np.isnan(flags.reference_eur_per_t).all()


def test_the_comext_hydrogen_month_is_flagged_and_ordinary_trade_is_not():
    data = pd.read_csv(EXTRACT, dtype={"cn_code": str})
    flags = unit_value_flags(data["cn_code"], data["tonnes"], data["value_eur"])
    flagged = data[flags.flagged]
    # 2025-08 US hydrogen: 3,498,112 EUR / 57,134.001 t = EUR 61.2/t; the code's median
    # of months of >= 1 t is EUR 9,302.79/t (2025-04: 48,328 / 5.195 t).
    hydrogen = flagged[(flagged["cn_code"] == "28041000") & (flagged["period"] == "2025-08")]
    assert len(hydrogen) == 1
    i = hydrogen.index[0]
    assert np.isclose(flags.reference_eur_per_t[i], 48_328 / 5.195)
    assert "EUR 61 is" in flags.reason[i]
    assert len(flagged) == 15 and len(data) == 4_236
    # Bulk urea-ammonium nitrate at ~EUR 230/t is normal for its code: not flagged.
    assert not flagged["cn_code"].eq("31023090").any()


# --- Customs lines against per-heading norms (customs_norms, customs_line_flags) ---------


def test_customs_norms_are_the_plausible_cells_of_each_heading():
    from ingest.plausibility import customs_norms

    # Heading 7208: CN 72081000 has cells of 10 t at 1,000, 1,100, 1,200 and 10 EUR/t (its
    # median 1,050; 10 / 1,050 < 1/20, so that cell is flagged and is no norm) and a 0.5 t
    # sample (under a tonne: no norm); CN 720810 a 30 t cell at 1,100 EUR/t. Norm cells
    # 1,000 1,100 1,100 1,200 → median 1,100 EUR/t; largest cell 30 t.
    # Heading 2523: two cells only → no value norm, but a mass norm (largest cell 40 t).
    norms = customs_norms(
        ["72081000"] * 5 + ["720810", "25232900", "2523"],
        [10, 10, 10, 10, 0.5, 30, 40, 20],
        [10_000, 11_000, 12_000, 100, 50, 33_000, 4_000, 2_000],
    )
    assert norms.loc["7208", "median_eur_per_t"] == 1_100
    assert norms.loc["7208", "cells"] == 4 and norms.loc["7208", "max_cell_t"] == 30
    assert np.isnan(norms.loc["2523", "median_eur_per_t"])
    assert norms.loc["2523", "max_cell_t"] == 40


def test_customs_line_flags_by_value_and_by_mass():
    from ingest.plausibility import customs_line_flags

    norms = pd.DataFrame(
        {"median_eur_per_t": [1_100.0, np.nan], "cells": [3, 2], "max_cell_t": [30.0, 40.0]},
        index=pd.Index(["7208", "2523"], name="cn4"),
    )
    flags = customs_line_flags(
        ["72081000", "72081000", "72089000", "25232900", "25232900", "72081000", "99999999"],
        # 2 t at 1,000 EUR/t (fine); 2 t at 50 EUR/t (1/22: out); 0.5 t at 10 EUR/t (under
        # a tonne: not judged on value); 800 t cement (20 × 40 = 800: the bound, fine);
        # 800.5 t cement (over it); 601 t steel at 1,000 EUR/t (over 20 × 30 = 600 t);
        # a heading without norms.
        [2, 2, 0.5, 800, 800.5, 601, 1e9],
        [2_000, 100, 5, None, None, 601_000, 1],
        norms,
    )
    assert flags.flagged.tolist() == [False, True, False, False, True, True, False]
    assert flags.reason[1].startswith(
        "value per tonne EUR 50 is 0.0455× the median of CN 7208 in trade statistics "
        "(EUR 1,100/t), outside ×/÷20"
    )
    assert "net mass 800.5 t is over 20× the largest month of CN 2523" in flags.reason[4]
    assert "(40.0 t)" in flags.reason[4] and flags.reason[4].endswith("(e.g. kg declared as t)")
    assert "net mass 601.0 t" in flags.reason[5] and "value per tonne" not in flags.reason[5]
    assert flags.reason[0] == flags.reason[6] == ""


def test_the_bundled_extract_gives_each_heading_its_norms():
    from ingest.plausibility import customs_norms

    data = pd.read_csv(EXTRACT, dtype={"cn_code": str})
    norms = customs_norms(data["cn_code"], data["tonnes"], data["value_eur"])
    # The 2025-08 hydrogen cell (57,134 t at EUR 61/t) is itself flagged, so heading 2804's
    # largest month is an ordinary one, and its median stays near EUR 9,300/t.
    assert norms.loc["2804", "max_cell_t"] < 100
    assert 9_000 < norms.loc["2804", "median_eur_per_t"] < 9_700
    assert len(norms) == 57
