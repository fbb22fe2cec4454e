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
