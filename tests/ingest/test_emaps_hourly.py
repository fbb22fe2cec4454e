"""Electricity Maps hourly export reader on the real PT 2024 first week
(fixtures/grid/electricitymaps/PT_2024_hourly_first_week.csv, see fixtures/grid/README.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingest.base import MissingColumns
from ingest.emaps_hourly import read_emaps_hourly

PT = (
    Path(__file__).resolve().parents[2]
    / "fixtures"
    / "grid"
    / "electricitymaps"
    / "PT_2024_hourly_first_week.csv"
)


def test_it_reads_168_hours_with_subscript_two_headers():
    data, meta = read_emaps_hourly(PT)
    assert len(data) == 168 and meta["errors"] == []
    assert meta["columns"]["direct_g_per_kwh"] == "Carbon intensity gCO\u2082eq/kWh (direct)"
    assert data["time_utc"].iloc[0] == pd.Timestamp("2024-01-01T00:00Z")
    assert data["time_utc"].iloc[-1] == pd.Timestamp("2024-01-07T23:00Z")
    assert set(data["zone"]) == {"PT"}


def test_values_of_rows_read_by_hand():
    data, _ = read_emaps_hourly(PT)
    # line 2: 2024-01-01 00:00:00,Portugal,Portugal,PT,92.93,118.8,86.43,70.06,entsoe.eu,false,
    first = data.iloc[0]
    assert (first["direct_g_per_kwh"], first["lifecycle_g_per_kwh"]) == (92.93, 118.8)
    assert (first["cfe_percent"], first["re_percent"]) == (86.43, 70.06)
    assert (first["data_source"], first["estimated"], first["estimation_method"]) == (
        "entsoe.eu",
        False,
        "",
    )
    # line 46: 2024-01-02 20:00:00,…,36.71,60.36,93.81,86.87,Electricity Maps Estimation,true,
    # ESTIMATED_TIME_SLICER_AVERAGE
    row = data[data["source_line"] == 46].iloc[0]
    assert row["time_utc"] == pd.Timestamp("2024-01-02T20:00Z")
    assert (row["direct_g_per_kwh"], row["lifecycle_g_per_kwh"]) == (36.71, 60.36)
    assert row["estimated"] and row["estimation_method"] == "ESTIMATED_TIME_SLICER_AVERAGE"
    # line 169 (last): 2024-01-07 23:00:00,…,85.82,131.97,79.65,65.65,entsoe.eu,false,
    assert data.iloc[-1][["direct_g_per_kwh", "lifecycle_g_per_kwh"]].tolist() == [85.82, 131.97]


def test_estimated_rows_are_counted():
    data, meta = read_emaps_hourly(PT)
    assert meta["estimated_rows"] == int(data["estimated"].sum()) == 13


def test_bad_rows_are_reported_with_their_line(tmp_path):
    lines = PT.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("85.58", "n/a")
    lines.append(lines[1])  # a duplicate hour
    path = tmp_path / "pt.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data, meta = read_emaps_hourly(path)
    assert len(data) == 167
    assert [(e.line, e.field) for e in meta["errors"]] == [
        (3, "direct_g_per_kwh"),
        (170, "time_utc"),
    ]


def test_a_file_without_intensities_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Datetime (UTC),Zone id\n2024-01-01 00:00:00,PT\n", encoding="utf-8")
    with pytest.raises(MissingColumns):
        read_emaps_hourly(path)
