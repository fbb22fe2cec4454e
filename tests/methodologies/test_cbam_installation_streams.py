"""cbam.installation: source streams (IR 2025/2547 Annex II) and the Annex III corrections.

Every expected number is worked by hand in a comment; formulas from the module
docstring of methodologies.cbam_installation (IR 2025/2547 Annexes II and III).
"""

from __future__ import annotations

import json

import pytest
from numpy.testing import assert_allclose

from methodologies import recompute, run_case
from methodologies.cbam_installation import (
    combustion_emissions,
    mass_balance_emissions,
    process_emissions,
)
from methodologies.errors import CaseError
from methodologies.trace import canonical_bytes


def streams_case(streams: list, **direct) -> dict:
    return {
        "methodology": "cbam.installation",
        "good": {"cn_code": "2523 10 00", "activity_level_t": 1000},
        "direct": {"source_streams": streams, **direct},
    }


def test_combustion_stream_by_hand():
    # 100 t coal × 0.025 TJ/t × 94.6 tCO2/TJ × OF 0.99 × (1 − BF 0.1)
    # = 2.5 TJ × 94.6 = 236.5 t; × 0.99 = 234.135; × 0.9 = 210.7215 tCO2.
    assert_allclose(combustion_emissions(100.0, 0.025, 94.6, 0.99, 0.1), 210.7215, rtol=1e-14)
    r = run_case(
        streams_case(
            [
                {
                    "type": "combustion",
                    "name": "coal",
                    "ad_t": 100,
                    "ncv_tj_per_t": 0.025,
                    "ef_t_per_tj": 94.6,
                    "oxidation_factor": 0.99,
                    "biomass_fraction": 0.1,
                }
            ]
        )
    )
    assert_allclose(r["direct_emissions_t"], 210.7215, rtol=1e-14)
    # Clinker 2523 10 00 counts direct + indirect; no electricity: SEE = 210.7215/1000.
    assert_allclose(r["see_total_t_per_t"], 0.2107215, rtol=1e-14)


def test_gaseous_fuel_in_thousand_normal_cubic_metres():
    # 50 × 1000 Nm³ natural gas × 0.0353 TJ/1000 Nm³ × 56.1 tCO2/TJ (OF 1, BF 0)
    # = 1.765 TJ × 56.1 = 99.0165 tCO2.
    r = run_case(
        streams_case(
            [
                {
                    "type": "combustion",
                    "ad_1000nm3": 50,
                    "ncv_tj_per_1000nm3": 0.0353,
                    "ef_t_per_tj": 56.1,
                }
            ]
        )
    )
    assert_allclose(r["direct_emissions_t"], 99.0165, rtol=1e-14)


def test_process_stream_by_hand():
    # 1000 t CaCO3 × 0.44 tCO2/t × CF 0.95 = 418 tCO2.
    assert_allclose(process_emissions(1000.0, 0.44, 0.95), 418.0, rtol=1e-15)
    r = run_case(
        streams_case(
            [{"type": "process", "ad_t": 1000, "ef_t_per_t": 0.44, "conversion_factor": 0.95}]
        )
    )
    assert_allclose(r["direct_emissions_t"], 418.0, rtol=1e-15)


def test_mass_balance_counts_outputs_negative():
    # Inputs:  coke 400 t × 0.85 tC/t → 3.664 × 340 = 1245.76 tCO2
    # Outputs: steel 1000 t × 0.002 tC/t → −3.664 × 2 = −7.328; slag 300 t × 0.001 →
    #          −3.664 × 0.3 = −1.0992
    # DirEm = 1245.76 − 7.328 − 1.0992 = 1237.3328 tCO2.
    assert_allclose(mass_balance_emissions(400.0, 0.85, False), 1245.76, rtol=1e-14)
    assert_allclose(mass_balance_emissions(1000.0, 0.002, True), -7.328, rtol=1e-14)
    case = streams_case(
        [
            {"type": "mass_balance", "name": "coke", "ad_t": 400, "carbon_content_t_per_t": 0.85},
            {
                "type": "mass_balance",
                "name": "steel",
                "ad_t": 1000,
                "carbon_content_t_per_t": 0.002,
                "output": True,
            },
            {
                "type": "mass_balance",
                "name": "slag",
                "ad_t": 300,
                "carbon_content_t_per_t": 0.001,
                "output": True,
            },
        ]
    )
    case["good"]["cn_code"] = "7206"
    r = run_case(case)
    values = [s["value"] for s in r["trace"]["steps"][:3]]
    assert_allclose(values, [1245.76, -7.328, -1.0992], rtol=1e-14)
    assert_allclose(r["direct_emissions_t"], 1237.3328, rtol=1e-14)
    assert r["trace"]["factors"][0]["value"] == 3.664


def test_streams_sum_to_direct_emissions_with_corrections():
    # Streams: process 100 t × 0.5 = 50; combustion 10 t × 0.04 TJ/t × 70 = 28 → DirEm 78.
    # Heat imported 2 TJ × 60 t/TJ = 120; heat exported 1 TJ × 50 t/TJ = 50;
    # waste gas exported 3 TJ × 56.1 t/TJ × Corr_η 0.667 = 112.2561;
    # electricity exported 10 MWh × 0.4 t/MWh = 4.
    # AttrEm_dir = 78 + 120 − 50 + 0 − 112.2561 − 4 = 31.7439 t; AL 1000 → 0.0317439 t/t.
    case = streams_case(
        [
            {"type": "process", "ad_t": 100, "ef_t_per_t": 0.5},
            {"type": "combustion", "ad_t": 10, "ncv_tj_per_t": 0.04, "ef_t_per_tj": 70},
        ],
        heat_imported_tj=2,
        heat_imported_ef_t_per_tj=60,
        heat_exported_tj=1,
        heat_exported_ef_t_per_tj=50,
        waste_gas_exported_tj=3,
        waste_gas_ef_t_per_tj=56.1,
        waste_gas_corr_eta=0.667,
        electricity_exported_mwh=10,
        electricity_exported_ef_t_per_mwh=0.4,
    )
    r = run_case(case)
    assert_allclose(r["direct_emissions_t"], 78.0, rtol=1e-15)
    assert_allclose(r["attributed_direct_emissions_t"], 31.7439, rtol=1e-13)
    assert_allclose(r["see_direct_t_per_t"], 0.0317439, rtol=1e-13)
    ids = [s["formula_id"] for s in r["trace"]["steps"]]
    assert ids[:3] == [
        "cbam.installation.source_stream[0]",
        "cbam.installation.source_stream[1]",
        "cbam.installation.direct_emissions",
    ]
    assert "cbam.installation.heat_imported" in ids
    attr = next(
        s for s in r["trace"]["steps"] if s["formula_id"] == "cbam.installation.attributed_direct"
    )
    assert "Corr_η" in attr["formula"]
    assert attr["inputs"]["heat_imported_emissions_t"] == 120.0


def test_a_stream_case_recomputes_byte_for_byte():
    case = streams_case(
        [
            {"type": "mass_balance", "ad_t": 10, "carbon_content_t_per_t": 0.5},
            {"type": "process", "ad_t": 3, "ef_t_per_t": 0.2},
        ],
        heat_exported_emissions_t=1,
    )
    r = run_case(case)
    data, sha = recompute(json.loads(canonical_bytes(r["trace"])))
    assert data == canonical_bytes(r["trace"]) and sha == r["trace_sha256"]


@pytest.mark.parametrize(
    ("direct", "key", "expected"),
    [
        (
            {
                "attributed_emissions_t": 5,
                "source_streams": [{"type": "process", "ad_t": 1, "ef_t_per_t": 1}],
            },
            "direct.source_streams",
            "not both",
        ),
        ({"source_streams": []}, "direct.source_streams", "non-empty"),
        ({"source_streams": [{"type": "flare"}]}, "direct.source_streams[0].type", "combustion"),
        (
            {"source_streams": [{"type": "process", "ad_t": 1}]},
            "direct.source_streams[0].ef_t_per_t",
            "tCO2/t",
        ),
        (
            {
                "source_streams": [
                    {
                        "type": "combustion",
                        "ad_t": 1,
                        "ncv_tj_per_t": 0.025,
                        "ef_t_per_tj": 94.6,
                        "biomass_fraction": 1.5,
                    }
                ]
            },
            "direct.source_streams[0].biomass_fraction",
            "[0, 1]",
        ),
        (
            {"source_streams": [{"type": "combustion", "ad_t": 1, "ef_t_per_tj": 1}]},
            "direct.source_streams[0].ncv_tj_per_t",
            "TJ/t",
        ),
        (
            {"source_streams": [{"type": "combustion", "ef_t_per_tj": 1}]},
            "direct.source_streams[0].ad_t",
            "ncv_tj_per_t",
        ),
        (
            {
                "source_streams": [
                    {
                        "type": "mass_balance",
                        "ad_t": 1,
                        "carbon_content_t_per_t": 1,
                        "output": "yes",
                    }
                ]
            },
            "direct.source_streams[0].output",
            "true",
        ),
        (
            {
                "attributed_emissions_t": 5,
                "heat_imported_emissions_t": 1,
                "heat_imported_tj": 1,
                "heat_imported_ef_t_per_tj": 1,
            },
            "direct.heat_imported_tj",
            "not both",
        ),
    ],
)
def test_malformed_streams_name_the_key(direct, key, expected):
    case = {
        "methodology": "cbam.installation",
        "good": {"cn_code": "7208", "activity_level_t": 1},
        "direct": direct,
    }
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert exc.value.key == key
    assert expected in exc.value.expected
