"""Country names and codes → ISO 3166-1 alpha-2 (ingest.countries)."""

from __future__ import annotations

import csv

import pycountry
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.countries import ALIASES, OTHER_COUNTRIES, is_other_countries, to_iso2


def test_every_country_sheet_of_the_default_table_maps_to_one_iso_code(defaults_csv):
    # IR 2025/2621 Annex I as flattened in shared/data/README.md §1a: 119 country sheets
    # plus "_Other Countries and Territorie", 120 names in all.
    with defaults_csv.open(encoding="utf-8") as handle:
        names = sorted({row["country"] for row in csv.DictReader(handle)})
    assert len(names) == 120
    mapped = {
        name: OTHER_COUNTRIES if is_other_countries(name) else to_iso2(name) for name in names
    }
    assert [name for name, code in mapped.items() if code is None] == []
    assert len(set(mapped.values())) == len(names), "two sheets map to the same code"
    assert mapped["_Other Countries and Territorie"] == OTHER_COUNTRIES
    assert mapped["Democratic Republic of the Cong"] == "CD"
    assert mapped["Congo"] == "CG"
    assert mapped["Myanmar_Burma"] == "MM"
    assert mapped["Türkiye"] == "TR"
    assert mapped["Taiwan"] == "TW"
    assert mapped["North Korea"] == "KP" and mapped["South Korea"] == "KR"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("Turkiye", "TR"),
        ("TUR", "TR"),
        ("tr", "TR"),
        ("Russia", "RU"),
        ("Russian Federation", "RU"),
        ("South Korea", "KR"),
        ("Korea, Republic of", "KR"),
        ("Vietnam", "VN"),
        ("Viet Nam", "VN"),
        ("Taiwan", "TW"),
        ("Iran", "IR"),
        ("Syria", "SY"),
        ("Laos", "LA"),
        ("Bolivia", "BO"),
        ("Venezuela", "VE"),
        ("Moldova", "MD"),
        ("Tanzania", "TZ"),
        ("Côte d'Ivoire", "CI"),
        ("Cote d’Ivoire", "CI"),
        ("Ivory Coast", "CI"),
        ("Czech Republic", "CZ"),
        ("Czechia", "CZ"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("United Kingdom", "GB"),
        ("USA", "US"),
        ("United States of America", "US"),
        ("United States", "US"),
        ("Kosovo", "XK"),
        ("Palestine", "PS"),
        ("Brunei", "BN"),
        ("AQ", "AQ"),
        ("Antarctica", "AQ"),
    ],
)
def test_names_aliases_and_codes_map_to_iso2(value, code):
    assert to_iso2(value) == code


def test_case_accents_and_whitespace_are_folded():
    assert to_iso2("  türkiye ") == "TR"
    assert to_iso2("TURKIYE") == "TR"
    assert to_iso2("united   kingdom") == "GB"
    assert to_iso2("COTE D'IVOIRE") == "CI"
    assert to_iso2("bosnia\u00a0and herzegovina") == "BA"


def test_every_iso_country_maps_by_its_codes_and_name():
    for country in pycountry.countries:
        assert to_iso2(country.alpha_2) == country.alpha_2
        assert to_iso2(country.alpha_3) == country.alpha_2
        assert to_iso2(country.name) == country.alpha_2


def test_a_name_cut_to_31_characters_resolves_by_unique_prefix():
    assert to_iso2("Democratic Republic of the Cong") == "CD"
    assert to_iso2("United Kingdom of Great Britai") == "GB"
    # Shorter than 25 characters: no guessing.
    assert to_iso2("Democratic Republic") is None


@pytest.mark.parametrize("value", ["Atlantis", "", "   ", "Korea", "EU", "OTHER"])
def test_unknown_or_ambiguous_names_give_none(value):
    assert to_iso2(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "_Other Countries and Territorie",
        "Other countries and territories",
        "OTHER",
        "other countries and territories ",
    ],
)
def test_it_recognises_other_countries_and_territories(value):
    assert is_other_countries(value)
    assert to_iso2(value) is None


def test_other_countries_is_not_a_country_name():
    assert not is_other_countries("Oman")
    assert not is_other_countries("Other countries")  # too short to be a cut name
    assert not is_other_countries("")


def test_every_alias_points_to_a_known_code():
    for code in ALIASES.values():
        assert code == "XK" or pycountry.countries.get(alpha_2=code) is not None


@given(st.text(max_size=40))
def test_to_iso2_never_raises_and_returns_a_two_letter_code_or_none(value):
    result = to_iso2(value)
    assert result is None or (len(result) == 2 and result.isupper())


def test_the_exempt_origins_agree_with_the_engine():
    # One list in the readers, one in the engine (which imports no reader); both from
    # Reg. 2023/956 Annex III pt 1 and the EU-27.
    from ingest.countries import ANNEX_III_EXEMPT, EU27, not_a_cbam_import
    from methodologies import cbam_goods

    assert ANNEX_III_EXEMPT == cbam_goods.ANNEX_III_EXEMPT == {"IS", "LI", "NO", "CH"}
    assert EU27 == cbam_goods.EU27 - {"EL"} and len(EU27) == 27
    assert not_a_cbam_import("TR") == "" and not_a_cbam_import("CN") == ""
