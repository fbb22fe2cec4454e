"""cbam.default: IR 2025/2621 Annex I default values with the mark-up of the import year.

Expected numbers come from the published table (fixtures/cbam/
cbam_default_values_IR2025-2621_by_country.csv, = /work/shared/data/cbam, README §1a)
unless a comment says otherwise.
"""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from numpy.testing import assert_allclose

from methodologies import run_case
from methodologies.cbam_default import (
    SOURCE,
    candidate_rows,
    compute_default,
    load_bundled_table,
)
from methodologies.cbam_goods import goods_sector, in_scope
from methodologies.errors import (
    AmbiguousCNCodeError,
    CaseError,
    ExemptOriginError,
    MethodologyError,
)
from methodologies.trace import canonical_bytes

FIXTURE = (
    Path(__file__).parents[2]
    / "fixtures"
    / "cbam"
    / "cbam_default_values_IR2025-2621_by_country.csv"
)
YEAR_COLUMNS = {
    2026: "dv_2026_incl_markup",
    2027: "dv_2027_incl_markup",
    2028: "dv_2028_onwards_incl_markup",
}


def default(cn_code: str, origin: str, year: int = 2026, **extra) -> dict:
    return run_case(
        {"methodology": "cbam.default", "cn_code": cn_code, "origin": origin, "year": year, **extra}
    )


def test_china_7208_in_2026_is_3_5056_marked_up():
    # data README §1a worked example: China 7208 direct 3.1869, dv_2026 3.5056;
    # the China 7208 row's total is 3.1869 too (indirect N/A, steel is direct-only).
    r = default("7208", "CN", 2026)
    assert_allclose(r["see_total_t_per_t"], 3.5056, rtol=0, atol=0)
    assert_allclose(r["see_direct_t_per_t"], 3.1869, rtol=0, atol=0)
    assert_allclose(r["see_total_unmarked_t_per_t"], 3.1869, rtol=0, atol=0)
    assert r["see_indirect_t_per_t"] is None
    assert r["markup"] == 0.1
    assert r["fallback"] is False
    assert r["direct_only"] is True
    assert r["tier"] == "default"
    assert (r["matched_cn_code"], r["matched_country"]) == ("7208", "China")


def test_india_7601_is_1_87_unmarked():
    # data README §1a worked example: India 7601 unwrought aluminium 1.87 (direct = total);
    # the India row publishes 2.057 for 2026 (= 1.87 × 1.1).
    r = default("7601", "IN", 2026)
    assert_allclose(r["see_total_unmarked_t_per_t"], 1.87, rtol=0, atol=0)
    assert_allclose(r["see_direct_t_per_t"], 1.87, rtol=0, atol=0)
    assert_allclose(r["see_total_t_per_t"], 2.057, rtol=0, atol=0)


def test_an_8_digit_code_matches_its_4_digit_heading():
    r = default("7208 10 00", "CN", 2026)
    assert r["matched_cn_code"] == "7208"
    assert_allclose(r["see_total_t_per_t"], 3.5056, rtol=0, atol=0)
    assert "matched the table's 4-digit code 7208" in r["reason"]


def test_the_most_specific_row_wins():
    # China rows 761090 (6 digits) and 76109010 (8 digits) both publish total 4.8955.
    assert default("76109010", "CN")["matched_cn_code"] == "76109010"
    assert default("76109050", "CN")["matched_cn_code"] == "761090"
    assert default("7610.90", "CN")["matched_cn_code"] == "761090"


def test_it_falls_back_to_other_countries_for_an_origin_without_a_sheet():
    # "Other Countries and Territorie" 7208: total 4.0487, dv_2026 4.4536 (4.0487 × 1.1).
    r = default("7208", "AQ", 2026)
    assert r["fallback"] is True
    assert r["matched_country"] == "_Other Countries and Territorie"
    assert_allclose(r["see_total_unmarked_t_per_t"], 4.0487, rtol=0, atol=0)
    assert_allclose(r["see_total_t_per_t"], 4.4536, rtol=0, atol=0)
    assert r["reason"].startswith(
        "No value for origin AQ; fell back to Other countries "
        "and territories, CN 7208, 2026 mark-up +10 %"
    )


def test_it_falls_back_when_the_origin_sheet_lacks_the_code():
    # The Albania sheet has 30 rows, none for 7208.
    r = default("7208", "AL", 2026)
    assert r["fallback"] is True
    assert_allclose(r["see_total_t_per_t"], 4.4536, rtol=0, atol=0)


def test_rounding_is_half_up_at_the_fifth_decimal():
    # 1.0695 × 1.1 = 1.17645 exactly (Decimal): half-up gives 1.1765, whereas
    # half-even and float round(1.0695 * 1.1, 4) give 1.1764.
    exact = Decimal("1.0695") * Decimal("1.1")
    assert exact == Decimal("1.17645")
    assert exact.quantize(Decimal("0.0001"), ROUND_HALF_UP) == Decimal("1.1765")
    assert round(1.0695 * 1.1, 4) == 1.1764
    row = {
        "origin": "OTHER",
        "country": "test",
        "sector": "Iron and steel",
        "cn_code": "7208",
        "cn_code_as_published": "7208",
        "description": "constructed row",
        "direct_t_per_t": 1.0695,
        "indirect_t_per_t": None,
        "total_t_per_t": 1.0695,
        "route_flag": None,
    }
    r = default("7208", "CN", 2026, default_values=[row])
    assert r["see_total_t_per_t"] == 1.1765
    assert r["value_source"] == "rule"


def test_fertilisers_carry_1_percent_every_year():
    # China 28141000 anhydrous ammonia: total 4.36, published 4.4036 for 2026, 2027, 2028+.
    for year in (2026, 2027, 2031):
        r = default("28141000", "CN", year)
        assert r["markup"] == 0.01
        assert_allclose(r["see_total_t_per_t"], 4.4036, rtol=0, atol=0)


def test_2028_onwards_applies_to_later_years():
    # China 7208 dv_2028_onwards 4.143 (3.1869 × 1.3 = 4.14297 → 4.1430).
    r = default("7208", "CN", 2035)
    assert r["markup"] == 0.3
    assert_allclose(r["see_total_t_per_t"], 4.143, rtol=0, atol=0)


def test_years_before_2026_are_refused():
    with pytest.raises(CaseError) as exc:
        default("7208", "CN", 2025)
    assert exc.value.key == "year"


def test_a_variant_picks_among_rows_sharing_a_cn_code():
    # China 2523 10 00: White clinker total 1.3 (2026: 1.43), Grey clinker 1.39 (1.529).
    white = default("25231000", "CN", variant="white clinker")
    assert_allclose(white["see_total_t_per_t"], 1.43, rtol=0, atol=0)
    grey = default("25231000", "CN", variant="Grey clinker")
    assert_allclose(grey["see_total_t_per_t"], 1.529, rtol=0, atol=0)


def test_without_a_variant_the_highest_total_is_used_and_said():
    r = default("25231000", "CN")
    assert r["matched_description"] == "Grey clinker"
    assert "highest total (conservative)" in r["reason"]


def test_an_unknown_variant_is_a_case_error():
    with pytest.raises(CaseError) as exc:
        default("25231000", "CN", variant="Blue clinker")
    assert exc.value.key == "variant"
    assert "White clinker" in str(exc.value)


def test_a_compounded_published_markup_is_rejected_for_the_rule():
    # Angola 2523 10 00 grey clinker: total 1.26; Annex table gives 1.5246 for 2027
    # (= 1.26 × 1.21, the 10 % compounded); the +20 % rule gives 1.512.
    r = default("25231000", "AO", 2027)
    assert_allclose(r["see_total_t_per_t"], 1.512, rtol=0, atol=0)
    assert r["value_source"] == "rule"
    assert "1.5246" in r["reason"] and "rejected" in r["reason"]


def test_a_published_value_off_by_rounding_of_the_total_wins():
    # China 7207 11 11: total 3.1688; Annex 2027 value 3.8025, while
    # 3.1688 × 1.2 = 3.80256 → 3.8026: the Commission rounded from its unrounded total.
    r = default("72071111", "CN", 2027)
    assert_allclose(r["see_total_t_per_t"], 3.8025, rtol=0, atol=0)
    assert r["value_source"] == "published"
    # A row without the published columns (e.g. from a database of totals) gets the rule.
    rows = [
        {k: v for k, v in row.items() if not k.startswith("dv_")}
        for row in candidate_rows(load_bundled_table(), "CN", "72071111")
    ]
    r = default("72071111", "CN", 2027, default_values=rows)
    assert_allclose(r["see_total_t_per_t"], 3.8026, rtol=0, atol=0)
    assert r["value_source"] == "rule"


def test_a_heading_code_with_only_more_specific_rows_is_ambiguous():
    with pytest.raises(AmbiguousCNCodeError) as exc:
        default("2523", "CN")
    assert "25231000" in exc.value.candidates
    # Taiwan's 7218 heading publishes no total: its sub-codes must be used.
    with pytest.raises(AmbiguousCNCodeError):
        default("7218", "TW")
    assert_allclose(default("72181000", "TW")["see_total_t_per_t"], 9.537, rtol=0, atol=0)


def test_a_code_outside_annex_i_is_refused_naming_it():
    # Ferrous scrap 7204 is excepted from Reg. 2023/956 Annex I: not a CBAM good, so a
    # malformed case (exit 2), not a missing table row.  (Before issue #15: NoDefaultValue.)
    with pytest.raises(CaseError) as exc:
        default("72041000", "CN")
    assert isinstance(exc.value, MethodologyError)
    assert exc.value.key == "cn_code" and "72041000" in str(exc.value)
    assert "Annex I" in str(exc.value)


def test_tunisian_7615_rows_of_the_table_are_not_cbam_goods():
    # IR 2025/2621 Annex I publishes 7615 10 10 … 7615 20 00 for Tunisia (1.44 total), but
    # heading 7615 is not in Reg. 2023/956 Annex I (its aluminium list skips 7602, 7615):
    # no CBAM declaration, so no default value.
    with pytest.raises(CaseError, match="76151010 is not a CBAM good"):
        default("76151010", "TN")


@pytest.mark.parametrize(
    ("key", "value"),
    [("cn_code", "72A8"), ("cn_code", "720"), ("origin", "China"), ("year", "2026")],
)
def test_malformed_cases_name_the_key(key, value):
    case = {"methodology": "cbam.default", "cn_code": "7208", "origin": "CN", "year": 2026}
    case[key] = value
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert exc.value.key == key


def test_a_malformed_row_names_its_key_and_unit():
    row = {"origin": "CN", "cn_code": "7208", "total_t_per_t": 1.0}
    with pytest.raises(CaseError) as exc:
        default("7208", "CN", default_values=[row])
    assert exc.value.key == "default_values[0].direct_t_per_t"
    assert "tCO2e/t" in str(exc.value)


def test_direct_only_follows_annex_ii():
    assert default("25232900", "CN")["direct_only"] is False  # cement
    # Ferro-nickel 7202 60 00 is in scope, and Annex II excepts only the out-of-scope
    # ferro-alloys: direct-only (before issue #15 the engine said False).
    assert default("72026000", "CN")["direct_only"] is True
    assert default("72021100", "CN")["direct_only"] is True  # ferro-manganese
    assert default("76011000", "CN")["direct_only"] is True  # aluminium


def test_factors_cite_the_regulation():
    trace = default("7208", "CN")["trace"]
    assert {f["source"] for f in trace["factors"]} == {SOURCE}
    assert all(f["valid_from"] >= "2026-01-01" for f in trace["factors"])
    assert trace["methodology"] == {"id": "cbam.default", "version": "2025.2621.2"}


def test_candidate_rows_are_the_origin_and_other_rows_that_can_match():
    rows = candidate_rows(load_bundled_table(), "cn", "76109010")
    assert [(r["origin"], r["cn_code"]) for r in rows] == [
        ("CN", "761090"),
        ("CN", "76109010"),
        ("OTHER", "761090"),
        ("OTHER", "76109010"),
    ]


def test_platform_rows_and_bundled_rows_give_byte_identical_traces():
    table = load_bundled_table()
    cli = default("72081000", "IN", 2027)
    whole_table = default("72081000", "IN", 2027, default_values=table)
    prefiltered = default(
        "72081000", "IN", 2027, default_values=candidate_rows(table, "IN", "72081000")
    )
    assert canonical_bytes(cli["trace"]) == canonical_bytes(whole_table["trace"])
    assert canonical_bytes(cli["trace"]) == canonical_bytes(prefiltered["trace"])
    assert cli["trace_sha256"] == prefiltered["trace_sha256"]


#: The bundled table, regenerated from the Commission's workbook (methodologies/data/
#: README.md); the published marked-up values are checked against its own columns.
BUNDLED = (
    Path(__file__).parents[2] / "methodologies" / "data" / "cbam_default_values_IR2025-2621.csv"
)


def _fixture_rows() -> list[dict[str, str]]:
    with BUNDLED.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_engine_reproduces_every_published_marked_up_value():
    """All 10 932 rows × 3 years against the published dv columns.

    Expected exceptions, documented in methodologies/cbam_default.py: 10 cement cells of
    Angola and Argentina with a compounded mark-up (the rule wins), and 397 cells where
    the published value is 0.0001 off the rule on the rounded total (published wins).
    """
    bundled = load_bundled_table()
    fixture = _fixture_rows()
    assert len(bundled) == len(fixture) == 10932
    compounded, off_by_rounding, exact, empty, out_of_scope = [], 0, 0, 0, []
    for row, rec in zip(bundled, fixture, strict=True):
        assert row["cn_code"] == rec["cn_code_digits"]
        if not in_scope(row["cn_code"]):  # Tunisia 7615 (not in Reg. 2023/956 Annex I)
            out_of_scope.append((row["origin"], row["cn_code"]))
            continue
        for year, column in YEAR_COLUMNS.items():
            published = rec[column]
            if not published or row["total_t_per_t"] is None:
                empty += 1
                continue
            origin = "AQ" if row["origin"] == "OTHER" else row["origin"]
            case = {
                "methodology": "cbam.default",
                "cn_code": row["cn_code"],
                "origin": origin,
                "year": year,
                "default_values": [row],
            }
            result = compute_default(case)
            if result.see_total_t_per_t == float(published):
                exact += 1
                off_by_rounding += result.rule_value != Decimal(published)
            else:
                compounded.append(
                    (
                        rec["country"],
                        row["cn_code"],
                        year,
                        float(Decimal(published) / Decimal(rec["total_tco2e_per_t"])),
                    )
                )
                assert result.value_source == "rule"
                assert result.see_total_t_per_t == float(result.rule_value)
    assert empty == 4  # Taiwan 7218 (3 years), Chile 7306 11 00 (2026)
    assert off_by_rounding == 397
    assert sorted(out_of_scope) == [
        ("TN", "76151010"),
        ("TN", "76151030"),
        ("TN", "76151080"),
        ("TN", "76152000"),
    ]
    assert exact == 10932 * 3 - 4 - 10 - 4 * 3
    assert sorted({c[0] for c in compounded}) == ["Angola", "Argentina"]
    assert len(compounded) == 10
    assert_allclose(sorted({round(c[3], 3) for c in compounded}), [1.21, 1.331], atol=1e-3)


def test_the_sector_label_agrees_with_the_cn_code_on_every_row():
    """The third-party CSV labelled 24 Tunisian aluminium rows "Fertilisers" (its
    converter lost the sheet's aluminium header); the table regenerated from the
    Commission's workbook labels them "Aluminium", so no row disagrees any more."""
    labels = {
        "Cement": "cement",
        "Iron and steel": "iron_and_steel",
        "Aluminium": "aluminium",
        "Fertilisers": "fertilisers",
        "Hydrogen": "hydrogen",
    }
    odd = {
        (r["country"], r["cn_code"])
        for r in load_bundled_table()
        if in_scope(r["cn_code"]) and labels[r["sector"]] != goods_sector(r["cn_code"])
    }
    assert odd == set()
    # Tunisia 7601: total 0.36, published 2026 value 0.396 = +10 % (aluminium), not +1 %.
    assert_allclose(default("7601", "TN")["see_total_t_per_t"], 0.396, rtol=0, atol=0)


def test_the_bundled_table_differs_from_the_third_party_csv_only_where_the_workbook_does():
    """The bundled table now comes from the Commission's workbook
    (methodologies/data/make_defaults_table.py); against the third-party CSV it was
    copied from before, it differs in 24 sector labels (Tunisian aluminium) and 5 cells
    that the old converter rounded from binary floats (e.g. Thailand 7311 00, 2028:
    workbook 5.94035 → 5.9404 half-up, the CSV had 5.9403).  Listed in
    methodologies/data/README.md."""
    with BUNDLED.open(newline="", encoding="utf-8") as fh:
        ours = list(csv.reader(fh))
    with FIXTURE.open(newline="", encoding="utf-8") as fh:
        theirs = list(csv.reader(fh))
    assert ours[0] == [*theirs[0], "iso2"]
    assert len(ours) == len(theirs)
    cells = [
        (row[0], row[2], theirs[0][i], old, new)
        for row, prev in zip(ours[1:], theirs[1:], strict=True)
        for i, (new, old) in enumerate(zip(row[:-1], prev, strict=True))
        if new != old
    ]
    labels = [c for c in cells if c[2] == "sector"]
    assert len(labels) == 24
    assert {(c[0], c[3], c[4]) for c in labels} == {("Tunisia", "Fertilisers", "Aluminium")}
    assert sorted(c for c in cells if c[2] != "sector") == [
        ("Thailand", "7311 00", "dv_2028_onwards_incl_markup", "5.9403", "5.9404"),
        ("_Other Countries and Territorie", "7303 00", "direct_tco2e_per_t", "4.1499", "4.15"),
        ("_Other Countries and Territorie", "7303 00", "total_tco2e_per_t", "4.1499", "4.15"),
        ("_Other Countries and Territorie", "7309", "direct_tco2e_per_t", "5.4681", "5.4682"),
        ("_Other Countries and Territorie", "7309", "total_tco2e_per_t", "5.4681", "5.4682"),
    ]
    sheets = {(row[0], row[-1]) for row in ours[1:]}
    assert len(sheets) == len({code for _, code in sheets}) == 120
    assert ("_Other Countries and Territorie", "OTHER") in sheets
    assert ("Democratic Republic of the Cong", "CD") in sheets


def test_a_heading_with_a_single_code_in_annex_i_matches_it():
    # Annex I gives CN heading 7303 only as "7303 00"; United States row: total 1.85,
    # dv_2026 2.035 (fixtures/cbam/cbam_default_values_IR2025-2621_by_country.csv).
    result = run_case(
        {"methodology": "cbam.default", "cn_code": "7303", "origin": "US", "year": 2026}
    )
    assert result["matched_cn_code"] == "730300"
    assert result["see_total_t_per_t"] == 2.035
    assert "single code" in result["reason"]


def test_a_heading_with_several_codes_under_it_is_ambiguous():
    # Cement heading 2523 is published per 8-digit code (2523 10 00, 2523 21 00, ...).
    with pytest.raises(AmbiguousCNCodeError):
        run_case({"methodology": "cbam.default", "cn_code": "2523", "origin": "AQ", "year": 2026})


@pytest.mark.parametrize(
    ("origin", "rule"),
    [
        ("NO", "Annex III point 1"),  # Norway
        ("CH", "Annex III point 1"),  # Switzerland
        ("IS", "Annex III point 1"),  # Iceland
        ("LI", "Annex III point 1"),  # Liechtenstein
        ("DE", "EU member state"),
        ("EL", "EU member state"),  # the EU's code for Greece
    ],
)
def test_exempt_and_eu_origins_get_no_default_value(origin, rule):
    # Reg. 2023/956 Art. 2 and Annex III pt 1: the Regulation does not apply to goods
    # originating in IS, LI, NO, CH; EU goods are not imports.  Before issue #15 Norway
    # 7208 got the 'Other countries' value.
    with pytest.raises(ExemptOriginError) as exc:
        default("7208", origin)
    assert isinstance(exc.value, CaseError)
    assert exc.value.key == "origin" and rule in str(exc.value) and origin in str(exc.value)


def test_an_origin_that_is_not_an_iso_code_is_an_error_not_other_countries():
    # 'ZZ' is not assigned in ISO 3166-1; before issue #15 it fell back to 'Other
    # countries and territories'.
    with pytest.raises(CaseError) as exc:
        default("7208", "ZZ")
    assert exc.value.key == "origin" and "'ZZ'" in str(exc.value)


def test_the_route_indicator_of_the_matched_row_is_in_the_result():
    # IR 2025/2621 Annex I: China 7208 "(C)" Carbon Steel based on BF/BOF; China 7601
    # "(K)" primary aluminium; Albania 2523 10 00 grey clinker "(A)"; ferro-manganese
    # 7202 11 carries none (its benchmark does not depend on the route).
    r = default("7208", "CN")
    assert (r["route_indicator"], r["route_indicator_meaning"]) == (
        "C",
        "Carbon Steel based on BF/BOF",
    )
    assert default("7601", "CN")["route_indicator"] == "K"
    assert default("25231000", "AL")["route_indicator"] == "A"
    r = default("72021100", "CN")
    assert r["route_indicator"] is None and r["route_indicator_meaning"] is None
    assert r["trace"]["result"]["route_indicator"] is None


def test_a_given_row_with_an_unknown_route_indicator_is_refused():
    row = {
        "origin": "CN",
        "cn_code": "7208",
        "direct_t_per_t": 1.0,
        "total_t_per_t": 1.0,
        "route_flag": "chairs",
    }
    with pytest.raises(CaseError) as exc:
        default("7208", "CN", default_values=[row])
    assert exc.value.key == "default_values[0].route_flag" and "'chairs'" in str(exc.value)
    row["route_flag"] = "(E)"
    assert default("7208", "CN", default_values=[row])["route_indicator"] == "E"


def test_a_row_made_on_either_of_two_routes_keeps_both_indicators():
    # IR 2025/2621 Annex I prints "C/F" for goods made of carbon or low-alloy steel on the
    # BF/BOF route (Brazil 7304 39, seamless tubes), "E/H" for the scrap/EAF pair. Such a row
    # is a default value like any other: refusing it left 108 customs lines without one.
    r = default("730439", "BR")
    assert r["route_indicator"] == "C/F"
    assert r["route_indicator_meaning"] == (
        "Carbon Steel based on BF/BOF or Low alloy Steel based on BF/BOF"
    )
    row = {
        "origin": "BR",
        "cn_code": "730439",
        "direct_t_per_t": 2.0,
        "total_t_per_t": 2.0,
        "route_flag": "e/h",
    }
    assert default("730439", "BR", default_values=[row])["route_indicator"] == "E/H"
    row["route_flag"] = "C/Z"
    with pytest.raises(CaseError) as exc:
        default("730439", "BR", default_values=[row])
    assert exc.value.key == "default_values[0].route_flag"
