"""Traces: RFC 8785 canonical bytes, SHA-256, determinism and recomputation (docs/design.md §4)."""

from __future__ import annotations

import copy
import hashlib
import json

import numpy as np
import pytest

from methodologies import ENGINE_VERSION, METHODOLOGIES, recompute, run_case
from methodologies.errors import CaseError, TraceError, UnknownMethodologyError
from methodologies.trace import canonical_bytes, engine_versions, sha256_hex

CASES = [
    {"methodology": "cbam.default", "cn_code": "7208", "origin": "CN", "year": 2026},
    {"methodology": "cbam.default", "cn_code": "2523 10 00", "origin": "AQ", "year": 2028},
    {
        "methodology": "cbam.default",
        "cn_code": "25231000",
        "origin": "cn",
        "year": 2027,
        "variant": "White clinker",
    },
    {
        "methodology": "cbam.installation",
        "good": {"cn_code": "7208", "activity_level_t": 1000},
        "direct": {"attributed_emissions_t": 1500},
        "electricity": {"consumed_mwh": 400, "ef_t_per_mwh": 0.5},
        "precursors": [
            {
                "cn_code": "7203",
                "mass_t": 1100,
                "origin": "IN",
                "see_direct_t_per_t": 0.9,
                "see_indirect_t_per_t": 0.1,
            }
        ],
    },
]


def test_canonical_bytes_follow_rfc_8785():
    # RFC 8785 §3.2.2.3 number examples, and §3.2.3 key sorting.
    data = json.loads(
        '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001]}'
    )
    assert canonical_bytes(data) == b'{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}'
    assert (
        canonical_bytes({"b": 1, "a": np.float64(0.5), "c": np.int64(3)})
        == b'{"a":0.5,"b":1,"c":3}'
    )
    assert sha256_hex(b"abc") == hashlib.sha256(b"abc").hexdigest()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -np.inf])
def test_nan_and_infinity_never_enter_a_trace(bad):
    with pytest.raises(TraceError) as exc:
        canonical_bytes({"steps": [{"value": bad}]})
    assert exc.value.path == "$.steps[0].value"


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("good", "activity_level_t"),
        ("direct", "attributed_emissions_t"),
        ("electricity", "ef_t_per_mwh"),
    ],
)
def test_a_nan_input_is_a_case_error(section, field):
    # CASES[3] is the cbam.installation case: every key given is a known one, so the only
    # thing wrong is the NaN, and the error must name that key (docs/design.md §4: no NaN
    # in a trace).
    case = copy.deepcopy(CASES[3])
    case[section][field] = float("nan")
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert exc.value.key == f"{section}.{field}"
    assert exc.value.reason == "got nan" and "finite" in exc.value.expected


def test_a_nan_precursor_mass_is_a_case_error_naming_the_precursor():
    case = copy.deepcopy(CASES[3])
    case["precursors"][0]["mass_t"] = float("nan")
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert (exc.value.key, exc.value.reason) == ("precursors[0].mass_t", "got nan")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["methodology"])
def test_a_case_run_twice_gives_the_same_bytes(case):
    first, second = run_case(case), run_case(case)
    assert canonical_bytes(first["trace"]) == canonical_bytes(second["trace"])
    assert first["trace_sha256"] == sha256_hex(canonical_bytes(first["trace"]))
    assert first["trace_sha256"] == second["trace_sha256"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["methodology"])
def test_recompute_reproduces_the_stored_trace(case):
    result = run_case(case)
    stored = canonical_bytes(result["trace"])
    # As an auditor would: from the bytes alone.
    data, sha = recompute(json.loads(stored))
    assert data == stored
    assert sha == result["trace_sha256"]


def test_the_trace_holds_every_part():
    trace = run_case(CASES[0])["trace"]
    assert set(trace) == {"methodology", "inputs", "factors", "steps", "result", "case", "versions"}
    assert trace["versions"] == engine_versions()
    assert trace["versions"]["engine"] == ENGINE_VERSION == "0.1.0"
    assert trace["result"]["tier"] == "default"
    assert {"name", "value", "unit"} <= set(trace["inputs"][0])
    assert {"name", "value", "unit", "source", "valid_from", "valid_to"} == set(trace["factors"][0])
    assert {"formula_id", "formula", "inputs", "value", "unit"} == set(trace["steps"][0])
    assert trace["case"]["methodology"] == "cbam.default"


def test_an_unknown_methodology_is_a_case_error():
    with pytest.raises(UnknownMethodologyError) as exc:
        run_case({"methodology": "cbam.nope"})
    assert isinstance(exc.value, CaseError)
    assert exc.value.key == "methodology"


def test_the_registry_names_both_methodologies():
    assert {"cbam.default", "cbam.installation"} <= set(METHODOLOGIES)
    for m in METHODOLOGIES.values():
        assert m.version and m.summary and "Case" in m.docstring
