"""The shared machinery of methodologies.spec: case spec, step recorder, sealing helper,
plausible ranges gathered from the specs, and the hydrogen package's registration."""

from __future__ import annotations

import hashlib

import pytest

from methodologies import METHODOLOGIES, certificates, hydrogen, plausibility, route_steel
from methodologies.errors import CaseError
from methodologies.route_common import COMMON_RANGES
from methodologies.spec import SEE, CaseSpec, Field, Recorder, fraction, seal_outputs
from methodologies.trace import canonical_bytes

SPEC = CaseSpec(
    {
        "mass_t": Field("t", minimum=0.0, range=SEE),
        "price": Field("EUR/t", kind="optional", minimum=0.0),
        "label": Field(kind="text", expected="a label", default="none"),
        "source": Field(kind="citation"),
        "year": Field(kind="integer", expected="a year"),
        "twice": Field(kind="custom", reader=lambda obj, name, path, got: got["mass_t"] * 2),
    },
    ranges={"items[*].share": fraction()},
)
GOOD = {"mass_t": 3, "source": "a text", "year": 2026.0}


def test_a_spec_reads_every_field_in_order_with_defaults():
    got = SPEC.read(GOOD)
    assert got == {
        "mass_t": 3.0,
        "price": None,
        "label": "none",
        "source": "a text",
        "year": 2026,
        "twice": 6.0,  # the custom reader saw mass_t, read before it
    }
    assert list(got) == list(SPEC.fields)


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"mass_t": -1}, "mass_t", "a number >= 0 in t"),
        ({"mass_t": "3"}, "mass_t", "a number in t"),
        ({"price": float("inf")}, "price", "a finite number in EUR/t"),
        ({"source": "  "}, "source", "empty"),
        ({"year": 2026.5}, "year", "a year"),
        ({"colour": "red"}, "colour", "unknown key"),
    ],
)
def test_a_spec_names_the_key_and_the_reason(change, key, words):
    with pytest.raises(CaseError) as err:
        SPEC.read({**GOOD, **change})
    assert key in str(err.value) and words in str(err.value)


def test_a_missing_required_field_is_refused_with_its_path():
    with pytest.raises(CaseError, match=r"items\[2\]\.mass_t"):
        SPEC.read({"source": "x", "year": 2026}, "items[2]")


def test_all_ranges_joins_the_fields_and_the_nested_ranges():
    assert SPEC.all_ranges() == {"mass_t": SEE, "items[*].share": fraction()}


def test_the_recorder_returns_each_value_and_records_it_in_order():
    rec = Recorder()
    assert rec.input("m", 2.0, "t") == 2.0
    assert rec.factor("f", 0.5, "1", "a source", "2026-01-01") == 0.5
    assert rec.step("x.a", "a = m × f", {"m": 2.0, "f": 0.5}, 1.0, "t") == 1.0
    assert rec.step("x.b", "b = a + 1", {"a": 1.0}, 2.0, "t") == 2.0
    assert [s["formula_id"] for s in rec.steps] == ["x.a", "x.b"]
    assert rec.inputs == [{"name": "m", "unit": "t", "value": 2.0}]
    assert rec.factors[0]["valid_to"] is None and rec.factors[0]["source"] == "a source"


def test_seal_outputs_hashes_the_canonical_trace():
    rec = Recorder()
    rec.step("x.a", "a = 1 + 1", {}, 2, "1")
    out = rec.seal("x", "1", {"a": 2}, {"methodology": "x"})
    assert out["a"] == 2 and out["trace"]["steps"][0]["value"] == 2
    assert out["trace_sha256"] == hashlib.sha256(canonical_bytes(out["trace"])).hexdigest()
    again = seal_outputs(methodology_id="x", version="1", inputs=[], factors=[],
                         steps=rec.steps, outputs={"a": 2}, case={"methodology": "x"})  # fmt: skip
    assert again["trace_sha256"] == out["trace_sha256"]


def test_plausible_ranges_come_from_the_methodology_specs():
    assert (
        plausibility.RANGES["cbam.certificates"]["cscf"] is certificates.SPEC.fields["cscf"].range
    )
    assert plausibility.RANGES["route.steel"] == route_steel.SPEC.all_ranges()
    assert COMMON_RANGES.items() <= plausibility.RANGES["route.steel"].items()
    assert plausibility.RANGES["hydrogen.smr"] == hydrogen.SMR_SPEC.all_ranges()
    assert set(plausibility.RANGES) == set(METHODOLOGIES)


def test_the_certificates_spec_lists_every_key_a_case_may_carry():
    assert certificates.SPEC.keys == {
        "methodology", "year", "see_total_t_per_t", "see_tier", "mass_t", "cn_code", "route",
        "benchmark_t_per_t", "benchmark_column", "benchmark_source", "precursors", "cscf",
        "cscf_source", "carbon_price_paid_eur_per_t", "carbon_price_source", "price_eur_per_t",
    }  # fmt: skip
    assert certificates.PRECURSOR_SPEC.keys == {
        "cn_code", "mass_t_per_t", "route", "benchmark_column", "benchmark_t_per_t",
        "benchmark_source",
    }  # fmt: skip


def test_each_hydrogen_methodology_is_its_own_module_of_the_package():
    assert METHODOLOGIES["hydrogen.rfnbo"].module is hydrogen.rfnbo
    assert METHODOLOGIES["hydrogen.us45v"].module is hydrogen.us45v
    assert METHODOLOGIES["hydrogen.smr"].module is hydrogen.smr
    assert METHODOLOGIES["hydrogen.rfnbo"].docstring.startswith("``hydrogen.rfnbo``")
    # the package keeps every public name of the former module
    assert hydrogen.run_rfnbo is hydrogen.rfnbo.run_rfnbo
    assert hydrogen.THRESHOLD_G_PER_MJ == 28.2
