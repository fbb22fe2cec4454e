"""The demo's planted keying errors (apps/shipments/demo_implausible.py): copies of the
first generated lines of at least a tonne with a value, under new MRN-shaped ids, one
with its mass ×1,000, one with its value ÷1,000, one with its value ×1,000; each is
flagged by the heading norms. Pure: no database."""

from __future__ import annotations

from ingest.customs import read_customs
from ingest.plausibility import customs_line_flags

HEADER = (
    "mrn;item_number;acceptance_date;cn_code;country_of_origin;exporter;importer;"
    "net_mass_kg;statistical_value_eur;procedure_code;installation_id;note"
)
# 7208 (median EUR 2,723.56/t, largest month 2,028.907 t): 50 t at EUR 2,700/t; a 500 kg
# parcel (skipped: under a tonne); 30 t at EUR 2,800/t; 25 t of cement, 2523 (median
# EUR 944.69/t), at EUR 900/t.
ROW = "26US{:013d};1;15/01/2026;{};US;A;B;{};{};4000;;x"
LINES = [
    ROW.format(1, "72081000", "50000", "135000,00"),
    ROW.format(2, "72081000", "500", "1350,00"),
    ROW.format(3, "72081000", "30000", "84000,00"),
    ROW.format(4, "25232900", "25000", "22500,00"),
]


def test_three_planted_errors_each_flagged(tmp_path):
    from apps.shipments.demo_implausible import keying_errors_write
    from apps.shipments.plausibility import heading_norms

    source = tmp_path / "declarations.csv"
    source.write_text("\n".join([HEADER, *LINES]) + "\n", encoding="utf-8")
    out = tmp_path / "keying.csv"
    assert keying_errors_write(source, out) == 3
    data, meta = read_customs(out)
    assert not meta["errors"]
    assert data["declaration_id"].tolist() == [
        "26DEKEYERR00000001",
        "26DEKEYERR00000002",
        "26DEKEYERR00000003",
    ]
    # 50,000 t at EUR 135,000 (EUR 2.7/t; over 20 × 2,028.907 = 40,578 t); 30 t at EUR 84
    # (EUR 2.8/t); 25 t at EUR 22.5 million (EUR 900,000/t, 953 × the median).
    assert data["net_mass_t"].tolist() == [50_000, 30, 25]
    assert data["statistical_value_eur"].tolist() == [135_000, 84, 22_500_000]
    flags = customs_line_flags(
        data["cn_code"].to_numpy(),
        data["net_mass_t"].to_numpy(),
        data["statistical_value_eur"].to_numpy(dtype=object),
        heading_norms(),
    )
    assert flags.flagged.tolist() == [True, True, True]
    assert "net mass 50,000.0 t is over 20× the largest month of CN 7208" in flags.reason[0]
    assert "EUR 900,000 is 953× the median of CN 2523" in flags.reason[2]
