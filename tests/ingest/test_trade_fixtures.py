"""The Eurostat Comext extract and the synthetic declarations built on it."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from ingest.customs import read_customs
from tests.conftest import service_missing

from .conftest import COMEXT_EXTRACT, COMEXT_WIDE


@pytest.fixture(scope="module")
def extract() -> pd.DataFrame:
    return pd.read_csv(COMEXT_EXTRACT, dtype={"cn_code": str, "period": str})


def test_the_extract_is_long_format_with_only_traded_months(extract):
    assert list(extract.columns) == [
        "cn_code",
        "period",
        "tonnes",
        "value_eur",
        "reporter",
        "partner",
        "flow",
    ]
    assert extract["period"].str.fullmatch(r"20\d\d-(0[1-9]|1[0-2])").all()
    assert extract["cn_code"].str.fullmatch(r"\d{4}|\d{6}|\d{8}").all()
    assert ((extract["tonnes"] != 0) | (extract["value_eur"] != 0)).all()
    assert not extract.duplicated(["cn_code", "period"]).any()
    assert (extract["tonnes"].round(3) == extract["tonnes"]).all()
    assert (extract["period"].min(), extract["period"].max()) == ("2022-01", "2025-12")
    assert extract["cn_code"].nunique() == 102


def test_the_extract_keeps_the_eurostat_figures(extract):
    # Comext DS-045409, EU27 imports from the US, 2025: 2,921,601.239 t in the CBAM codes.
    assert_allclose(
        extract.loc[extract["period"].str.startswith("2025"), "tonnes"].sum(),
        2_921_601.239,
        rtol=1e-12,
    )
    row = extract[(extract["cn_code"] == "25070080") & (extract["period"] == "2022-06")]
    assert_allclose(row["tonnes"], 762.849)  # 762.8489999999999 in the retrieved figures


def test_the_extract_script_rebuilds_the_same_bytes(comext_script, tmp_path):
    if not COMEXT_WIDE.is_file():
        service_missing(f"source table {COMEXT_WIDE} is not here")
    comext_script.make_extract(COMEXT_WIDE, tmp_path / "extract.csv")
    assert (tmp_path / "extract.csv").read_bytes() == COMEXT_EXTRACT.read_bytes()


@pytest.fixture(scope="module")
def generated(generator, tmp_path_factory):
    out = tmp_path_factory.mktemp("decl") / "declarations.csv"
    summary = generator.generate_declarations(COMEXT_EXTRACT, out)
    return out, summary


def test_the_same_seed_gives_the_same_bytes(generator, generated, tmp_path):
    out, summary = generated
    again = generator.generate_declarations(COMEXT_EXTRACT, tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == out.read_bytes()
    assert again == summary | {"path": str(tmp_path / "again.csv")}
    assert summary["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    other = generator.generate_declarations(COMEXT_EXTRACT, tmp_path / "other.csv", seed=8)
    assert other["sha256"] != summary["sha256"]


def test_the_generated_file_reads_back_with_exactly_the_planted_errors(generated):
    out, summary = generated
    data, meta = read_customs(out)
    assert (meta["delimiter"], meta["decimal"]) == (";", "comma")
    assert meta["ignored_columns"] == ["note"]
    assert meta["columns"]["net_mass_kg"] == "net_mass_kg"
    assert meta["rows_read"] == summary["lines"]
    assert meta["rows_accepted"] == summary["valid_lines"]
    by_field = pd.Series([e.field for e in meta["errors"]]).value_counts().to_dict()
    planted = summary["errors"]
    assert by_field == {
        "origin": planted["unknown_country"],
        "cn_code": planted["cn_letter_o"],
        "net_mass_kg": planted["negative_mass"] + planted["empty_mass"],
        "date": planted["impossible_date"],
        "line": planted["duplicate_line"],
    }
    assert meta["duplicates"] == planted["duplicate_line"]
    assert_allclose(data["net_mass_t"].sum(), summary["valid_tonnes"], rtol=1e-12)
    assert (data["date"].dt.year == 2026).all()


def test_the_us_lines_add_up_to_the_comext_tonnage_of_each_month(generator, extract, tmp_path):
    generator.generate_declarations(COMEXT_EXTRACT, tmp_path / "d.csv", error_rate=0)
    data, meta = read_customs(tmp_path / "d.csv")
    assert meta["errors"] == []
    note = pd.read_csv(tmp_path / "d.csv", sep=";", usecols=["note"])["note"]
    us = data[(note == "comext-us").to_numpy()]
    assert (us["origin"] == "US").all()
    got = us.groupby(["cn_code", us["date"].dt.month])["net_mass_t"].sum()
    from ingest.plausibility import unit_value_flags

    flags = unit_value_flags(extract["cn_code"], extract["tonnes"], extract["value_eur"])
    plausible = extract[~flags.flagged]  # implausible cells are not split into lines
    source = plausible[plausible["period"].str.startswith("2025") & (plausible["tonnes"] > 0)]
    # A 4- or 6-digit Comext cell becomes lines of a CN8 code under it (cn8_for).
    want = source.groupby(
        [source["cn_code"].map(generator.cn8_for), source["period"].str[5:].astype(int)]
    )["tonnes"].sum()
    want.index.names = got.index.names
    assert_allclose(got.sort_index(), want.sort_index(), rtol=0, atol=1e-6)


def test_declarations_exporters_importers_and_origins_look_real(generated):
    out, summary = generated
    raw = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False)
    lines_per_declaration = raw.drop_duplicates(["mrn", "item_number"]).groupby("mrn").size()
    assert lines_per_declaration.between(1, 5).all()
    assert set(lines_per_declaration) == {1, 2, 3, 4, 5}
    assert raw["mrn"].str.fullmatch(r"26[A-Z]{2}\d{12}H\d").all()
    assert raw["exporter"].str.endswith("(fictional)").all()
    assert raw["importer"].str.endswith("(fictional)").all()
    # Every line names a CN8 subheading, as a declaration does (a planted error may put a
    # letter in it): Comext's 4- and 6-digit cells become a CBAM good under them.
    assert (raw["cn_code"].str.len() == 8).all()
    assert raw.loc[raw["note"] == "comext-us", "exporter"].nunique() == 40
    assert raw["importer"].nunique() == 30
    # one invented EORI per importer, shaped as an EORI and marked synthetic
    eoris = raw.groupby("importer")["importer_eori"].agg(set)
    assert (eoris.map(len) == 1).all()
    assert raw["importer_eori"].str.fullmatch(r"[A-Z]{2}SYNTH\d{6}").all()
    origins = summary["lines_by_origin"]
    assert set(origins) == {"US", "CN", "IN", "TR", "UA", "EG", "BR", "ZA", "BN"}
    # Exporters ship what they make: no fertiliser maker ships steel, and no
    # aluminium company anything but aluminium (chapter 76).
    fertiliser = raw["exporter"].str.contains("Fertiliser|Nitrogen|Urea")
    assert raw.loc[fertiliser, "cn_code"].str[:2].isin(["28", "31"]).all()
    aluminium = raw["exporter"].str.contains("Alumini")
    assert raw.loc[aluminium, "cn_code"].str.startswith("76").all()
    # The 2025-08 hydrogen cell at EUR 61/t is not turned into lines.
    assert "28041000 2025-08: 57,134.001 t" in summary["implausible_cells"]
    share = summary["synthetic_lines"] / (summary["synthetic_lines"] + summary["comext_lines"])
    assert 0.14 < share < 0.16
    # Consignment sizes follow the product: cement by truck, pellets by ship.
    kg = pd.to_numeric(raw["net_mass_kg"], errors="coerce")
    us = raw["note"] == "comext-us"
    assert kg[us & (raw["cn_code"] == "26011200")].median() > 5_000_000
    cement = kg[us & raw["cn_code"].str.startswith("2523")]
    assert cement.max() <= 30_000  # truck loads of about 25 t


def test_it_generates_300000_lines_at_scale_32(generator, tmp_path):
    # Scale 22 gave 300,000 lines while the 2025-08 hydrogen cell (57,134 t in 3-60 t
    # tank containers) made about a third of them; without it, scale 32 does.
    summary = generator.generate_declarations(
        COMEXT_EXTRACT, tmp_path / "big.csv", scale=32.0, max_lines=300_000
    )
    assert 290_000 <= summary["lines"] <= 301_000
    # The 2025 tonnage less the implausible cells (57,134.001 t of hydrogen and six small
    # steel cells: 12.813 + 1.816 + 12.624 + 2.439 + 1.049 + 2.367 t).
    kept = 2_921_601.239 - 57_134.001 - (12.813 + 1.816 + 12.624 + 2.439 + 1.049 + 2.367)
    assert np.isclose(summary["tonnes_comext"], 32.0 * kept)
