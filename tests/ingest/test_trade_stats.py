"""The aggregate trade-statistics reader on the Eurostat Comext extract and bad rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ingest.trade_stats import is_trade_stats, read_trade_stats

EXTRACT = (
    Path(__file__).resolve().parents[2]
    / "fixtures/trade/eurostat_comext_ds045409_us_eu27_monthly.csv"
)


def test_it_reads_the_comext_extract():
    data, meta = read_trade_stats(EXTRACT)
    assert len(data) == meta["rows_read"] == 4236 and meta["errors"] == []
    # Line 2: CN 2507 00 80, 2022-01, 504.451 t, EUR 291,351 (Eurostat Comext DS-045409).
    first = data.iloc[0]
    assert (first.cn_code, first.month, first.tonnes, first.value_eur) == (
        "25070080",
        date(2022, 1, 1),
        504.451,
        291351.0,
    )
    assert set(data["origin"]) == {"US"} and set(data["reporter"]) == {"EU27_2020"}


def test_bad_rows_are_reported_and_good_rows_kept(tmp_path):
    path = tmp_path / "agg.csv"
    path.write_text(
        "cn_code,period,tonnes,value_eur,partner\n"
        "7208,2026-01,10.5,100,Türkiye\n"
        "7208,2026/13,1,1,TR\n"
        "72A8,2026-02,1,1,TR\n"
        "7208,2026-02,-3,1,Atlantis\n",
        encoding="utf-8",
    )
    data, meta = read_trade_stats(path)
    assert list(data["origin"]) == ["TR"]
    fields = {(e.line, e.field) for e in meta["errors"]}
    assert fields == {(3, "period"), (4, "cn_code"), (5, "tonnes"), (5, "partner")}


def test_it_tells_aggregates_from_declarations():
    assert is_trade_stats(["cn_code", "period", "tonnes", "value_eur"])
    assert not is_trade_stats(["declaration_id", "line", "date", "cn_code", "net_mass_kg"])
