"""ENTSO-E Transparency XML reader on the real API responses of fixtures/grid/entsoe/
(electricitymaps-contrib parser test mocks; see fixtures/grid/README.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from ingest.base import UnreadableFile
from ingest.entsoe import PSR_TYPE_MAP, read_entsoe, to_hourly
from ingest.entsoe.reader import UnsupportedDocument

ENTSOE = Path(__file__).resolve().parents[2] / "fixtures" / "grid" / "entsoe"

# file → (kind, rows after A03 expansion, Points in the file, zone)
EXPECTED = {
    "BE_entsoe_production.xml": ("generation", 26, 26, "BE"),
    "DK-DK1_consumption.xml": ("load", 47, 47, "DK-DK1"),
    "ES_day_ahead_price.xml": ("day_ahead_price", 240, 230, "ES"),
    "FI_production.xml": ("generation", 3456, 2080, "FI"),
    "NO-NO5_production.xml": ("generation", 235, 235, "NO-NO5"),
    "SE-SE4_production.xml": ("generation", 355, 329, "SE-SE4"),
}


def at(data: pd.DataFrame, timeseries: int, position: int) -> pd.Series:
    row = data[(data["timeseries"] == timeseries) & (data["position"] == position)]
    assert len(row) == 1
    return row.iloc[0]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_reads_every_recorded_response(name):
    kind, rows, points, zone = EXPECTED[name]
    data, meta = read_entsoe(ENTSOE / name)
    assert meta["kind"] == kind
    assert len(data) == rows == meta["rows_read"] == meta["rows_accepted"]
    assert meta["points_in_file"] == points
    assert meta["points_filled"] == rows - points
    assert meta["errors"] == []
    assert set(data["zone"]) == {zone}
    assert str(data["time_utc"].dtype) == "datetime64[ns, UTC]"
    assert data["value"].dtype == np.float64


def test_generation_values_read_by_hand():
    data, _ = read_entsoe(ENTSOE / "BE_entsoe_production.xml")
    # TimeSeries 1 (B01 Biomass), positions 1 and 2: <quantity>70</quantity>, 73
    biomass = data[data["timeseries"] == 1]
    assert biomass["mode"].tolist() == ["biomass", "biomass"]
    assert_allclose(biomass["value"], [70.0, 73.0])
    assert biomass["time_utc"].tolist() == [
        pd.Timestamp("2024-01-01T00:00Z"),
        pd.Timestamp("2024-01-01T01:00Z"),
    ]
    assert biomass["unit"].tolist() == ["MW", "MW"]
    # TimeSeries 5 (the 5th in the file: B10 pumping, outBiddingZone), position 2: 715
    pumping = at(data, 5, 2)
    assert (pumping["psr_type"], pumping["mode"], pumping["direction"]) == (
        "B10",
        "hydro storage",
        "out",
    )
    assert pumping["value"] == 715.0
    assert at(data, 4, 1)["direction"] == "in"  # B10 generation side: 200 MW
    assert at(data, 4, 1)["value"] == 200.0


def test_load_values_read_by_hand():
    data, _ = read_entsoe(ENTSOE / "DK-DK1_consumption.xml")
    # TimeSeries 1, position 1: 3031 MW at 2023-12-28T15:00Z; position 47: 2723
    assert at(data, 1, 1)["value"] == 3031.0
    assert at(data, 1, 1)["time_utc"] == pd.Timestamp("2023-12-28T15:00Z")
    assert at(data, 1, 47)["value"] == 2723.0
    assert at(data, 1, 47)["time_utc"] == pd.Timestamp("2023-12-30T13:00Z")
    assert set(data["direction"]) == {"out"}
    assert set(data["mode"]) == {""}


def test_a03_points_left_out_repeat_the_previous_value():
    data, _ = read_entsoe(ENTSOE / "FI_production.xml")
    # FI TimeSeries 2 (B04 Fossil Gas, A03): points at positions 1 (14.7) and 120 (14.64),
    # so positions 2…119 repeat 14.7 and are flagged as filled.
    gas = data[data["timeseries"] == 2].set_index("position")
    assert len(gas) == 288
    assert_allclose(gas.loc[1:119, "value"], 14.7)
    assert not gas.loc[1, "filled"] and gas.loc[2:119, "filled"].all()
    assert gas.loc[120, "value"] == 14.64 and not gas.loc[120, "filled"]
    # A block lasts to the end of the period: TimeSeries 8 (B15) has its last point at
    # position 21 (value 0), so positions 21…288 are 0.
    other = data[data["timeseries"] == 8].set_index("position")
    assert_allclose(other.loc[19, "value"], 6.18)
    assert_allclose(other.loc[21:288, "value"], 0.0)
    # SE-SE4 TimeSeries 2 (B12, PT60M, A03): position 2 is left out, repeats 90.23.
    se, _ = read_entsoe(ENTSOE / "SE-SE4_production.xml")
    assert at(se, 2, 2)["value"] == 90.23 and at(se, 2, 2)["filled"]
    assert at(se, 2, 3)["value"] == 90.22


def test_day_ahead_prices_mix_pt60m_and_pt15m():
    data, _ = read_entsoe(ENTSOE / "ES_day_ahead_price.xml")
    assert data.groupby("timeseries")["resolution"].first().tolist() == [
        "PT60M",
        "PT60M",
        "PT15M",
        "PT15M",
    ]
    assert data.groupby("timeseries").size().tolist() == [24, 24, 96, 96]
    assert set(data["unit"]) == {"EUR/MWh"}
    # TimeSeries 3 (PT15M from 2025-09-30T22:00Z): position 1 = 105.1, position 4 = 102;
    # position 12 is left out (A03) and repeats position 11.
    assert at(data, 3, 1)["value"] == 105.1
    assert at(data, 3, 4)["value"] == 102.0
    assert at(data, 3, 4)["time_utc"] == pd.Timestamp("2025-09-30T22:45Z")
    assert at(data, 3, 12)["filled"]
    assert at(data, 3, 12)["value"] == at(data, 3, 11)["value"]


def test_quarter_hours_average_to_hourly_energy():
    data, _ = read_entsoe(ENTSOE / "FI_production.xml")
    hourly = to_hourly(data)
    assert len(hourly) == 12 * 72  # 12 production types × 72 hours
    assert hourly["complete"].all() and (hourly["n_slots"] == 4).all()
    assert set(hourly["resolution"]) == {"PT60M"}
    first = hourly[(hourly["timeseries"] == 1)].iloc[0]
    quarter = data[data["timeseries"] == 1]["value"].to_numpy()[:4]
    assert_allclose(first["value"], quarter.mean())
    # energy is kept: Σ MW × 0.25 h over quarters = Σ MW × 1 h over hours
    assert_allclose(hourly["value"].sum(), data["value"].sum() * 0.25)


def test_hourly_rows_pass_through_to_hourly():
    data, _ = read_entsoe(ENTSOE / "NO-NO5_production.xml")
    hourly = to_hourly(data)
    assert len(hourly) == len(data)
    assert_allclose(
        hourly["value"].to_numpy(), data.sort_values(["timeseries", "time_utc"])["value"]
    )


def test_every_psr_type_has_an_official_name_and_a_mode():
    assert PSR_TYPE_MAP["B05"] == ("Fossil Hard coal", "coal")
    assert PSR_TYPE_MAP["B10"][1] == "hydro storage"
    assert {mode for _, mode in PSR_TYPE_MAP.values()} >= {
        "biomass",
        "coal",
        "gas",
        "hydro",
        "nuclear",
        "oil",
        "solar",
        "wind",
        "geothermal",
        "unknown",
        "hydro storage",
    }


def test_a_bad_point_is_a_row_error_and_the_rest_is_kept(tmp_path):
    text = (ENTSOE / "BE_entsoe_production.xml").read_text()
    text = text.replace("<quantity>70</quantity>", "<quantity>seventy</quantity>", 1)
    path = tmp_path / "bad.xml"
    path.write_text(text)
    data, meta = read_entsoe(path)
    assert len(data) == 25 and meta["rows_rejected"] == 1
    (error,) = meta["errors"]
    assert (error.field, error.value, error.reason) == ("value", "seventy", "value is not a number")
    assert error.line == text.splitlines().index("      <Point>") + 1


def test_unreadable_and_unsupported_documents(tmp_path):
    with pytest.raises(UnreadableFile):
        read_entsoe(tmp_path / "missing.xml")
    broken = tmp_path / "broken.xml"
    broken.write_text("<GL_MarketDocument><TimeSeries>")
    with pytest.raises(UnreadableFile):
        read_entsoe(broken)
    ack = tmp_path / "ack.xml"
    ack.write_text(
        '<Acknowledgement_MarketDocument xmlns="urn:x"><Reason><code>999</code>'
        "<text>No matching data found</text></Reason></Acknowledgement_MarketDocument>"
    )
    with pytest.raises(UnsupportedDocument, match="No matching data found"):
        read_entsoe(ack)


def test_entities_are_refused(tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<!DOCTYPE x [<!ENTITY a "aaaa">]><GL_MarketDocument>&a;</GL_MarketDocument>')
    with pytest.raises(UnreadableFile):
        read_entsoe(bomb)


# --- size limits (issue #16, item 4) ---------------------------------------------------


def test_a_period_of_a_hundred_million_slots_is_a_row_error_before_anything_is_allocated(
    tmp_path,
):
    from ingest.entsoe.reader import MAX_PERIOD_SLOTS
    from tests.security.hostile import entsoe_huge_period

    path = entsoe_huge_period(tmp_path / "FI_3000_years.xml")
    assert path.stat().st_size < 1000
    data, meta = read_entsoe(path)
    # 2000-01-01 to 5000-01-01: 3,000 × 365 days + 728 leap days (750 years divisible by 4,
    # less the 22 centuries not divisible by 400) = 1,095,728 days × 96 quarter-hours.
    assert 1_095_728 * 96 == 105_189_888
    assert MAX_PERIOD_SLOTS == 366 * 96 == 35_136  # a leap year at PT15M
    assert data.empty
    assert (meta["rows_read"], meta["rows_rejected"]) == (1, 1)  # its one point
    [error] = meta["errors"]
    assert (error.line, error.field, error.value) == (
        2,
        "time_utc",
        "2000-01-01T00:00Z/5000-01-01T00:00Z",
    )
    assert error.reason == (
        "period of 105,189,888 PT15M slots is over the limit of 35,136 (one year at PT15M)"
    )


def test_a_leap_year_at_pt15m_is_within_the_period_limit(tmp_path):
    from tests.security.hostile import entsoe_huge_period

    # 2000 is a leap year: 366 days × 96 = 35,136 slots, exactly the limit; one A03 point
    # fills them all.
    data, meta = read_entsoe(entsoe_huge_period(tmp_path / "FI_2000.xml", years=1))
    assert len(data) == meta["rows_read"] == 35_136
    assert not meta["errors"]


def test_a_document_over_the_slot_limit_is_refused_naming_it(tmp_path, monkeypatch):
    from ingest.base import TooLarge
    from ingest.entsoe import reader

    # FI_production.xml: 12 series of 288 quarter-hours = 3,456 slots; a limit of 3,000
    # is passed by the 11th series (10 × 288 = 2,880, + 288 = 3,168).
    monkeypatch.setattr(reader, "MAX_DOCUMENT_SLOTS", 3_000)
    with pytest.raises(TooLarge) as refused:
        read_entsoe(ENTSOE / "FI_production.xml")
    assert str(refused.value).endswith(
        "FI_production.xml: cannot read the file: too large: time slots in the document's "
        "periods 3,168 (limit 3,000)"
    )
