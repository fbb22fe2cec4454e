"""Emission-factor library (Electricity Maps config schema) and the dated lookup, on the
real config files of fixtures/grid/electricitymaps/ (see fixtures/grid/README.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from ingest.base import MissingColumns, UnreadableFile
from ingest.emission_factors import FactorNotFound, factor_at, read_emission_factors

EMAPS = Path(__file__).resolve().parents[2] / "fixtures" / "grid" / "electricitymaps"
FLAT = EMAPS / "emission_factors_flat.csv"


@pytest.fixture(scope="module")
def flat():
    return read_emission_factors(FLAT)


def test_it_reads_the_flattened_table(flat):
    data, meta = flat
    # shared/data README §3: 7 387 rows, every entry of defaults.yaml and 379 zone files
    assert len(data) == 7387 == meta["rows_read"]
    assert meta["errors"] == []
    assert set(data["kind"]) == {"direct", "lifecycle"}
    assert str(data["valid_from"].dtype) == "datetime64[ns, UTC]"
    assert data["valid_from"].isna().sum() > 0  # undated defaults are always valid


def test_the_worked_example_de_direct_coal_2024_is_1080_4(flat):
    data, _ = flat
    # shared/data README §3: DE, direct, coal, valid 2024 → 1080.4 gCO2eq/kWh
    factor = factor_at(data, "DE", "coal", "direct", datetime(2024, 7, 1, tzinfo=UTC))
    assert factor.value_g_per_kwh == 1080.4
    assert factor.zone_used == "DE" and not factor.fallback
    assert factor.valid_from == pd.Timestamp("2024-01-01", tz="UTC")
    assert factor.source == "EU-ETS 2025, ENTSO-E 2024"


def test_the_factor_changes_on_its_valid_from_date(flat):
    data, _ = flat
    # zones/DE.yaml direct coal: 2023-01-01 → 1060.91, 2024-01-01 → 1080.4, 2025 → 1052.69
    last_hour = datetime(2023, 12, 31, 23, tzinfo=UTC)
    assert factor_at(data, "DE", "coal", "direct", last_hour).value_g_per_kwh == 1060.91
    new_year = datetime(2024, 1, 1, tzinfo=UTC)
    assert factor_at(data, "DE", "coal", "direct", new_year).value_g_per_kwh == 1080.4
    later = datetime(2030, 1, 1, tzinfo=UTC)
    assert factor_at(data, "DE", "coal", "direct", later).value_g_per_kwh == 1052.69


def test_before_the_zone_overrides_it_falls_back_to_the_global_default(flat):
    data, _ = flat
    # DE coal is dated from 2017; in 2014 the _DEFAULT entry (defaults.yaml) applies.
    factor = factor_at(data, "DE", "coal", "direct", datetime(2014, 6, 1, tzinfo=UTC))
    default = data[(data["zone"] == "_DEFAULT") & (data["kind"] == "direct")]
    default = default[default["mode"] == "coal"]
    assert factor.fallback and factor.zone_used == "_DEFAULT"
    assert factor.value_g_per_kwh == default["value_g_per_kwh"].iloc[-1]
    assert "global default" in factor.reason


def test_a_zone_without_overrides_uses_the_default(flat):
    data, _ = flat
    factor = factor_at(data, "ATLANTIS", "nuclear", "lifecycle", datetime(2024, 1, 1, tzinfo=UTC))
    assert factor.zone_used == "_DEFAULT"
    with pytest.raises(FactorNotFound):
        factor_at(data, "DE", "no such mode", "direct", datetime(2024, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="timezone-aware"):
        factor_at(data, "DE", "coal", "direct", datetime(2024, 1, 1))


def test_the_yaml_config_gives_the_same_rows_as_the_flat_table(flat):
    data, meta = read_emission_factors(EMAPS)
    assert meta["zones"] == ["DE", "FR", "PL", "_DEFAULT"]  # CN.yaml has no emissionFactors
    keys = ["zone", "kind", "mode", "valid_from", "value_g_per_kwh", "source"]
    expected = flat[0][flat[0]["zone"].isin(meta["zones"])][keys].reset_index(drop=True)
    pd.testing.assert_frame_equal(data[keys].reset_index(drop=True), expected, check_dtype=False)
    de = data[(data["zone"] == "DE") & (data["mode"] == "coal") & (data["kind"] == "direct")]
    assert de["file"].iloc[0] == "DE.yaml" and de["source_line"].iloc[0] == 351


def test_one_zone_file_reads_alone():
    data, _ = read_emission_factors(EMAPS / "zones" / "DE.yaml")
    assert set(data["zone"]) == {"DE"}
    assert_allclose(
        factor_at(data, "DE", "coal", "direct", datetime(2024, 1, 1, tzinfo=UTC)).value_g_per_kwh,
        1080.4,
    )


def test_bad_entries_are_row_errors(tmp_path):
    path = tmp_path / "XX.yaml"
    path.write_text(
        "emissionFactors:\n"
        "  direct:\n"
        "    coal:\n"
        "      - datetime: '2020-01-01'\n"
        "        value: 900\n"
        "      - datetime: 'soon'\n"
        "        value: 800\n"
        "    gas:\n"
        "      value: -1\n"
    )
    data, meta = read_emission_factors(path)
    assert len(data) == 1 and meta["rows_rejected"] == 2
    assert [(e.line, e.field) for e in meta["errors"]] == [
        (6, "valid_from"),
        (9, "value_g_per_kwh"),
    ]
    csv = tmp_path / "flat.csv"
    csv.write_text(
        "zone,kind,mode,valid_from,value_gco2eq_per_kwh\nDE,direct,coal,x,1\nDE,fuel,coal,,2\nDE,direct,gas,,3\n"
    )
    data, meta = read_emission_factors(csv)
    assert len(data) == 1 and [(e.line, e.field) for e in meta["errors"]] == [
        (2, "valid_from"),
        (3, "kind"),
    ]


def test_unreadable_inputs(tmp_path):
    with pytest.raises(UnreadableFile):
        read_emission_factors(tmp_path / "none.csv")
    (tmp_path / "t.csv").write_text("zone,mode\nDE,coal\n")
    with pytest.raises(MissingColumns):
        read_emission_factors(tmp_path / "t.csv")
