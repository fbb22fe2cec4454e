"""Route models together: registry, trace determinism and recomputation (docs/design.md §4),
documented defaults, and the shared vectorised formulas."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose

from methodologies import METHODOLOGIES, recompute, run_case
from methodologies.__main__ import main
from methodologies.route_aluminium import ALUMINIUM_DEFAULTS
from methodologies.route_cement import CEMENT_DEFAULTS
from methodologies.route_common import total_see
from methodologies.route_minerals import MINERALS_DEFAULTS
from methodologies.route_steel import STEEL_DEFAULTS
from methodologies.trace import canonical_bytes, sha256_hex

EL = {"electricity_mwh": 400, "electricity_ef_t_per_mwh": 0.5}
CASES = [
    {
        "methodology": "route.steel",
        "route": "bf_bof",
        "cn_code": "7207",
        "production_t": 1000,
        **EL,
    },
    {
        "methodology": "route.steel",
        "route": "bf_bof",
        "cn_code": "7207",
        "production_t": 1000,
        "coke_t": 350,
        "natural_gas_tj": 2.5,
        "output_carbon_t": 3,
        **EL,
    },
    {
        "methodology": "route.steel",
        "route": "dri_eaf",
        "reductant": "hydrogen",
        "cn_code": "7206",
        "production_t": 1000,
        "hydrogen_t": 55,
        "hydrogen_see_t_per_t": 0.9,
        **EL,
    },
    {
        "methodology": "route.cement",
        "cn_code": "2523 29 00",
        "production_t": 1000,
        "clinker_to_cement_t_per_t": 0.7,
        "cao_t_per_t": 0.64,
        "petroleum_coke_tj": 3,
        **EL,
    },
    {
        "methodology": "route.aluminium",
        "route": "primary",
        "cn_code": "7601",
        "production_t": 500,
        "cell_technology": "pfpb_m",
        "anode_effect_minutes_per_cell_day": 0.1,
        **EL,
    },
    {
        "methodology": "route.minerals",
        "product": "copper",
        "production_t": 50,
        "gas_diesel_oil_tj": 1.1,
        **EL,
    },
]
IDS = [f"{c['methodology']}-{i}" for i, c in enumerate(CASES)]


def test_the_route_models_are_registered():
    assert {"route.steel", "route.cement", "route.aluminium", "route.minerals"} <= set(
        METHODOLOGIES
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_case_run_twice_gives_the_same_trace(case):
    first, second = run_case(case), run_case(case)
    assert canonical_bytes(first["trace"]) == canonical_bytes(second["trace"])
    assert first["trace_sha256"] == second["trace_sha256"]
    assert first["trace_sha256"] == sha256_hex(canonical_bytes(first["trace"]))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_recompute_reproduces_the_stored_trace(case):
    result = run_case(case)
    stored = canonical_bytes(result["trace"])
    data, sha = recompute(json.loads(stored))
    assert data == stored
    assert sha == result["trace_sha256"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_input_given_is_in_the_trace_and_every_default_used_is_a_factor(case):
    trace = run_case(case)["trace"]
    names = {i["name"] for i in trace["inputs"]}
    assert set(case) - {"methodology"} <= names
    for factor in trace["factors"]:
        assert factor["source"] and factor["unit"]
        assert factor["name"] not in case
    assert trace["result"]["tier"] == "modelled"
    assert trace["result"]["defaults_used"] == sorted(f["name"] for f in trace["factors"])


@pytest.mark.parametrize(
    "defaults", [STEEL_DEFAULTS, CEMENT_DEFAULTS, ALUMINIUM_DEFAULTS, MINERALS_DEFAULTS]
)
def test_every_default_is_documented_with_value_unit_and_citation(defaults):
    for name, spec in defaults.items():
        assert isinstance(spec["value"], float), name
        assert spec["unit"] and len(spec["source"]) > 20, name


def test_total_see_is_elementwise_on_arrays():
    direct, indirect = np.array([1.0, 1.0]), np.array([0.5, 0.5])
    assert_allclose(total_see(direct, indirect, np.array([True, False])), [1.0, 1.5])


def test_list_verbose_prints_the_route_docstrings(capsys):
    assert main(["list", "--verbose"]) == 0
    out = capsys.readouterr().out
    for mid in ("route.steel", "route.cement", "route.aluminium", "route.minerals"):
        assert mid in out
    assert "production_t" in out and "Table 4.1" in out
