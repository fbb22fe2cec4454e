"""The `ingest` command on PostgreSQL: default values, customs lines, estimates, errors."""

from __future__ import annotations

import pytest
from numpy.testing import assert_allclose

from apps.catalogue.models import DefaultValue
from apps.estimates.models import Estimate
from apps.shipments.models import Shipment
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services


@pytest.fixture
def defaults_loaded(postgres):
    return ingest_json("defaults", DEFAULTS_CSV)


def test_it_loads_the_real_default_value_table(defaults_loaded):
    summary = defaults_loaded
    assert summary["source"] == "defaults"
    assert len(summary["file_sha256"]) == 64
    # The published table has 10,932 rows; one (Taiwan, CN 7218) has no total.
    assert summary["accepted"] + summary["rejected"] == 10_932
    assert summary["rejected"] == len({e["line"] for e in summary["errors"]}) >= 1
    assert all({"line", "field", "value", "reason"} <= set(e) for e in summary["errors"])
    # China, CN 7208: direct 3.1869 and 2026 value 3.5056 (shared/data/README.md §1a).
    china = DefaultValue.objects.get(origin="CN", cn_code="7208")
    assert_allclose(china.direct_t_per_t, 3.1869)
    assert_allclose(china.dv_2026, 3.5056)
    assert DefaultValue.objects.filter(origin="OTHER").exists()


def test_reingesting_the_same_file_is_a_no_op(defaults_loaded):
    again = ingest_json("defaults", DEFAULTS_CSV)
    assert again["file_sha256"] == defaults_loaded["file_sha256"]
    assert again["accepted"] == 0
    assert again["duplicates"] == defaults_loaded["accepted"]
    assert DefaultValue.objects.count() == defaults_loaded["accepted"]


def test_customs_lines_get_default_estimates_with_mark_up(defaults_loaded, tmp_path):
    path = write_customs(
        tmp_path / "decl.csv",
        [
            "D1,1,2026-03-02,72081000,CN,Shanghai Steel,Importer EU,1000000,500000,4000,",
            "D1,2,2026-03-02,7601 10 10,IN,Hindalco,Importer EU,250000,,4000,",
            "D2,1,2026-04-01,72081000,AQ,Polar Metals,Importer EU,2000,,4000,",
        ],
    )
    summary = ingest_json("customs", path)
    assert (summary["accepted"], summary["rejected"], summary["duplicates"]) == (3, 0, 0)

    steel = Shipment.objects.get(declaration_id="D1", line=1)
    # China 7208, 2026: total 3.1869 t/t (the row's published total) × 1.10 = 3.50559,
    # rounded half-up to 3.5056 as published in dv_2026 (shared/data/README.md §1a).
    assert_allclose(steel.estimate.see_total_t_per_t, 3.5056)
    assert_allclose(steel.net_mass_t, 1000.0)
    assert_allclose(steel.embedded_emissions_t, 1000.0 * 3.5056)
    assert steel.tier == "default"
    assert steel.estimate.direct_only

    # India 7601: 1.87 t/t unmarked (README §1a) × 1.10 = 2.057.
    alu = Shipment.objects.get(declaration_id="D1", line=2)
    assert_allclose(alu.estimate.see_total_t_per_t, 2.057)

    # Antarctica has no sheet: the "Other countries and territories" row is used.
    polar = Shipment.objects.get(declaration_id="D2")
    assert "Other countries" in polar.estimate.reason
    other = DefaultValue.objects.get(origin="OTHER", cn_code="7208")
    assert polar.estimate.see_total_t_per_t == pytest.approx(other.dv_2026)


def test_bad_rows_are_reported_by_line_and_field_and_valid_rows_kept(defaults_loaded, tmp_path):
    path = write_customs(
        tmp_path / "bad.csv",
        [
            "B1,1,2026-01-05,72081000,CN,Good Steel,Imp,5000,,4000,",  # line 2: valid
            "B1,2,2026-01-05,99999999,CN,Good Steel,Imp,5000,,4000,",  # line 3: unknown CN
            "B1,3,2026-01-05,72081000,Atlantis,Good Steel,Imp,5000,,4000,",  # line 4
            "B1,4,2026-01-05,72081000,CN,Good Steel,Imp,-5,,4000,",  # line 5: negative mass
            "B1,5,2026-01-05,72081000,CN,Good Steel,Imp,,,4000,",  # line 6: missing mass
            "B1,6,2026-01-05,7601,Türkiye,Good Steel,Imp,1000,,4000,",  # line 7: valid
        ],
    )
    summary = ingest_json("customs", path)
    assert summary["accepted"] == 2
    assert summary["rejected"] == 4
    by_line = {e["line"]: e for e in summary["errors"]}
    assert set(by_line) == {3, 4, 5, 6}
    assert by_line[3]["field"] == "cn_code" and by_line[3]["value"] == "99999999"
    assert by_line[4]["field"] == "origin" and "Atlantis" in by_line[4]["value"]
    assert by_line[5]["field"] == "net_mass" or by_line[5]["field"].startswith("net_mass")
    assert by_line[6]["field"].startswith("net_mass")
    assert Shipment.objects.filter(origin="TR", cn_code="7601").count() == 1


def test_reingest_of_customs_does_not_duplicate(defaults_loaded, tmp_path):
    path = write_customs(
        tmp_path / "d.csv", ["R1,1,2026-02-01,72081000,CN,X Steel,Imp,1000,,4000,"]
    )
    first = ingest_json("customs", path)
    second = ingest_json("customs", path)
    assert (first["accepted"], second["accepted"], second["duplicates"]) == (1, 0, 1)
    assert Shipment.objects.count() == 1
    # One default value with the mark-up (the CBAM figure) and one without (the best
    # estimate: docs/design.md, the two figures of a shipment); none added by the replay.
    assert sorted(Estimate.objects.values_list("subject_key", flat=True)) == [
        "default_unmarked|CN|72081000|2026",
        "default|CN|72081000|2026",
    ]


def test_an_unreadable_file_exits_non_zero(postgres, tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01\x02\xff" * 100)
    with pytest.raises(SystemExit) as exit_info:
        ingest_json("customs", junk)
    assert exit_info.value.code != 0
