"""cbam.installation: hand-worked tests that kill the mutants a mutation run left alive.

Each test names the rule of IR 2025/2547 Annex II it checks; the numbers are worked by hand
in the comments.  See docs/mutation-testing.md for the run.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from methodologies import cbam_installation, run_case
from methodologies import uncertainty as unc
from methodologies.cbam_installation import (
    attributed_direct_emissions,
    combustion_emissions,
    mass_balance_emissions,
    precursor_emissions,
    process_emissions,
)
from methodologies.errors import CaseError


def test_combustion_defaults_are_the_conservative_values_of_section_b_3_1_1():
    # IR 2025/2547 Annex II B.3.1.1: Em = FQ × NCV × EF × OF (Eq. 5, 6); "the conservative
    # assumption that OF = 1 may always be used", and for a fossil fuel "BF shall be set to
    # the conservative value zero" (Eq. 10).  Left out, OF is 1 and BF is 0:
    # 40 t × 0.0251 TJ/t × 94.6 t/TJ = 94.9784 tCO2.
    assert_allclose(combustion_emissions(40.0, 0.0251, 94.6), 94.9784, rtol=1e-12)
    # Given, both apply: 94.9784 × 0.98 × (1 − 0.25) = 69.809124 tCO2.
    assert_allclose(combustion_emissions(40.0, 0.0251, 94.6, 0.98, 0.25), 69.809124, rtol=1e-12)


def test_process_default_conversion_factor_is_one_as_section_b_3_1_2_allows():
    # IR 2025/2547 Annex II B.3.1.2, Eq. 11: Em = AD × EF × CF; "CF = 1 may always be used".
    # 1000 t CaCO3 × 0.44 tCO2/t = 440 tCO2; with CF 0.95: 418 tCO2.
    assert_allclose(process_emissions(1000.0, 0.44), 440.0, rtol=1e-12)
    assert_allclose(process_emissions(1000.0, 0.44, 0.95), 418.0, rtol=1e-12)


def test_a_mass_balance_stream_is_an_input_unless_said_to_be_an_output():
    # IR 2025/2547 Annex II B.3.2, Eq. 12: Em = f × AD × CC, f = 3.664 tCO2/tC, "for outputs,
    # ADk is negative".  100 t coke × 0.85 tC/t × 3.664 = 311.44 tCO2 entering;
    # left out, ``output`` is false: the stream adds to the emissions.
    assert_allclose(mass_balance_emissions(100.0, 0.85), 311.44, rtol=1e-12)
    assert_allclose(mass_balance_emissions(100.0, 0.85, True), -311.44, rtol=1e-12)
    # Element-wise on arrays: 2 t × 0.5 tC/t × 3.664 = 3.664 in, 1 t × 0.04 × 3.664 = 0.14656 out.
    em = mass_balance_emissions(np.array([2.0, 1.0]), np.array([0.5, 0.04]), [False, True])
    assert_allclose(em, [3.664, -0.14656], rtol=1e-12)


# Three precursors: P1 1100 t pig iron from IN (Annex II good: steel), P2 200 t from DE (EU:
# exempt), P3 50 t clinker from TR (not Annex II).  SEE direct / indirect [tCO2e/t]:
# P1 0.9 / 0.1, P2 1.5 / 0.4, P3 0.6 / 0.25.
MASS = [1100.0, 200.0, 50.0]
SEE_DIR = [0.9, 1.5, 0.6]
SEE_IND = [0.1, 0.4, 0.25]
EU = [False, True, False]
ANNEX_II = [True, False, False]


def test_precursor_emissions_by_hand():
    # Reg. 2023/956 Annex IV point 3 (as replaced by Reg. 2025/2083) and IR 2025/2547 Annex I
    # point 3.1: a precursor brings M_i × SEE_i; one of EU origin brings nothing; for an
    # Annex II good only direct emissions count, so without an Annex II indirect value the
    # precursor's own indirect emissions are dropped.
    # direct   = [1100 × 0.9, 0 (EU), 50 × 0.6] = [990, 0, 30]
    # indirect = [0 (Annex II), 0 (EU), 50 × 0.25] = [0, 0, 12.5]
    direct, indirect = precursor_emissions(MASS, SEE_DIR, SEE_IND, EU, ANNEX_II)
    assert_allclose(direct, [990.0, 0.0, 30.0], rtol=1e-12)
    assert_allclose(indirect, [0.0, 0.0, 12.5], rtol=1e-12, atol=0)
    # With an Annex II indirect value given (0.07 t/t for P1): 1100 × 0.07 = 77 t.
    _, indirect = precursor_emissions(MASS, SEE_DIR, SEE_IND, EU, ANNEX_II, [0.07, 0.0, 0.0])
    assert_allclose(indirect, [77.0, 0.0, 12.5], rtol=1e-12, atol=0)


def test_precursor_flags_given_as_0_and_1_are_read_as_booleans():
    # Flags from a database column or a CSV arrive as 0/1: ~1 must not be read as -2 (true).
    direct, indirect = precursor_emissions(MASS, SEE_DIR, SEE_IND, [0, 1, 0], [1, 0, 0])
    assert_allclose(direct, [990.0, 0.0, 30.0], rtol=1e-12)
    assert_allclose(indirect, [0.0, 0.0, 12.5], rtol=1e-12, atol=0)


def test_precursor_emissions_broadcast_over_draws_along_axis_1():
    # Precursors along axis 0, two Monte Carlo draws along axis 1, flags one per precursor.
    # Draw 2 has P1 1000 t and P3 40 t:  direct [900, 0, 24], indirect [0, 0, 10].
    mass = np.array([[1100.0, 1000.0], [200.0, 200.0], [50.0, 40.0]])
    see_dir = np.array(SEE_DIR)[:, None] * np.ones((1, 2))
    see_ind = np.array(SEE_IND)[:, None] * np.ones((1, 2))
    direct, indirect = precursor_emissions(mass, see_dir, see_ind, EU, ANNEX_II)
    assert direct.shape == indirect.shape == (3, 2)
    assert_allclose(direct, [[990.0, 900.0], [0.0, 0.0], [30.0, 24.0]], rtol=1e-12)
    assert_allclose(indirect, [[0.0, 0.0], [0.0, 0.0], [12.5, 10.0]], rtol=1e-12, atol=0)


def _stream_case(**stream):
    return {
        "methodology": "cbam.installation",
        "good": {"cn_code": "7208", "activity_level_t": 100},
        "direct": {
            "source_streams": [
                {"type": "combustion", "ad_t": 40, "ncv_tj_per_t": 0.0251, "ef_t_per_tj": 94.6}
                | stream
            ]
        },
    }


def test_a_fraction_above_one_is_refused_by_the_methodology_itself():
    # OF and BF are ratios (IR 2025/2547 Annex I, definition (4); Annex II B.3.1.1, Eq. 7, 10): in
    # [0, 1].  The methodology checks this itself, not only the plausibility layer of
    # run_case: cbam_installation.run is called directly here.
    for key, value in (("biomass_fraction", 1.5), ("oxidation_factor", 1.0001)):
        with pytest.raises(CaseError) as exc:
            cbam_installation.run(_stream_case(**{key: value}))
        assert exc.value.key == f"direct.source_streams[0].{key}"
        assert "[0, 1]" in exc.value.expected and repr(value) in exc.value.reason


def test_a_fraction_of_exactly_one_is_accepted():
    # BF = 1 (all biomass) is allowed and zeroes the stream (Eq. 10): SEE_dir = 0.
    # OF = 1 is the conservative value: 94.9784 tCO2 / 100 t = 0.949784 t/t.
    assert cbam_installation.run(_stream_case(biomass_fraction=1.0))["see_direct_t_per_t"] == 0
    r = cbam_installation.run(_stream_case(oxidation_factor=1.0))
    assert_allclose(r["see_direct_t_per_t"], 0.949784, rtol=1e-12)


def test_a_fraction_that_is_no_number_names_its_key():
    with pytest.raises(CaseError) as exc:
        cbam_installation.run(_stream_case(biomass_fraction="a lot"))
    assert exc.value.key == "direct.source_streams[0].biomass_fraction"


def _with_precursor(precursor):
    return {
        "methodology": "cbam.installation",
        "good": {"cn_code": "7208", "activity_level_t": 1000},
        "direct": {"attributed_emissions_t": 1500},
        "precursors": [precursor],
    }


PIG_IRON_INSTALLATION = {
    "good": {"cn_code": "7201", "activity_level_t": 1100},
    "direct": {"attributed_emissions_t": 990},
}


def test_a_precursor_with_its_installation_and_only_an_indirect_see_is_refused():
    # A precursor's SEE comes either from its own installation (IR 2025/2547 Annex III, the
    # SEE of the precursor's production process) or as a value given; giving the indirect
    # SEE alongside the installation would be silently ignored, so it is refused, naming it.
    precursor = {
        "mass_t": 1100,
        "origin": "IN",
        "installation": PIG_IRON_INSTALLATION,
        "see_indirect_t_per_t": 0.1,
    }
    with pytest.raises(CaseError) as exc:
        run_case(_with_precursor(precursor))
    assert exc.value.key == "precursors[0].see_indirect_t_per_t"
    assert exc.value.reason == "both given"


def test_a_precursor_that_is_no_mapping_or_has_an_unknown_key_names_it():
    with pytest.raises(CaseError) as exc:
        run_case(_with_precursor(["7203", 1100]))
    assert exc.value.key == "precursors[0]"
    precursor = {"cn_code": "7203", "mass_t": 1100, "origin": "IN", "colour": "grey"}
    with pytest.raises(CaseError) as exc:
        run_case(_with_precursor(precursor | {"see_direct_t_per_t": 0.9}))
    assert exc.value.key.startswith("precursors[0]") and "colour" in exc.value.key


THREE_STREAMS = {
    "methodology": "cbam.installation",
    "good": {"cn_code": "7208", "activity_level_t": 100},
    "direct": {
        "source_streams": [
            {
                "type": "combustion",
                "ad_1000nm3": 50,
                "ncv_tj_per_1000nm3": 0.0353,
                "ef_t_per_tj": 56.1,
            },
            {"type": "combustion", "ad_t": 40, "ncv_tj_per_t": 0.0251, "ef_t_per_tj": 94.6},
            {"type": "mass_balance", "ad_t": 10, "carbon_content_t_per_t": 0.85},
        ]
    },
}


def test_streams_on_both_fuel_bases_by_hand_with_their_units_in_the_trace():
    # IR 2025/2547 Annex II B.3.1.1, Eq. 5 and 6 (FQ in t or m³, NCV in TJ/t or TJ/m³), and
    # B.3.2, Eq. 12 (f = 3.664):
    #   natural gas 50 (1000 Nm³) × 0.0353 TJ/1000 Nm³ × 56.1 t/TJ = 99.0165 t
    #   coal        40 t × 0.0251 TJ/t × 94.6 t/TJ                 = 94.9784 t
    #   coke input  10 t × 0.85 tC/t × 3.664                        = 31.144 t
    #   225.1389 t / 100 t = SEE_dir 2.251389 t/t
    r = run_case(THREE_STREAMS)
    assert_allclose(r["see_direct_t_per_t"], 2.251389, rtol=1e-12)
    # Each input carries its own unit (the trace is what an auditor reads, docs/design.md §4).
    units = {i["name"]: i["unit"] for i in r["trace"]["inputs"]}
    s = "direct.source_streams"
    assert units[f"{s}[0].ad_1000nm3"] == "1000 Nm³"
    assert units[f"{s}[0].ncv_tj_per_1000nm3"] == "TJ/1000 Nm³"
    assert units[f"{s}[0].ef_t_per_tj"] == "tCO2/TJ"
    assert units[f"{s}[1].ad_t"] == "t" and units[f"{s}[1].ncv_tj_per_t"] == "TJ/t"
    assert units[f"{s}[1].oxidation_factor"] == units[f"{s}[1].biomass_fraction"] == "1"
    assert units[f"{s}[2].ad_t"] == "t" and units[f"{s}[2].carbon_content_t_per_t"] == "tC/t"


def _one_stream(stream):
    return {**THREE_STREAMS, "direct": {"source_streams": [stream]}}


def test_malformed_streams_name_the_key_and_the_reason():
    cases = [
        ("a stream", "direct.source_streams[0]", None),
        # "output" belongs to a mass-balance stream only (B.3.2), not to a process stream.
        (
            {"type": "process", "ad_t": 1, "ef_t_per_t": 0.44, "output": True},
            "direct.source_streams[0].output",
            "unknown key",
        ),
        (
            {"type": "combustion", "ad_t": 1, "ncv_tj_per_t": 0.0251, "ef_t_per_tj": 94.6, "t": 1},
            "direct.source_streams[0].t",
            "unknown key",
        ),
        (
            {
                "type": "combustion",
                "ad_t": 1,
                "ad_1000nm3": 1,
                "ncv_tj_per_t": 0.0251,
                "ef_t_per_tj": 94.6,
            },
            "direct.source_streams[0].ad_t",
            "both bases given",
        ),
        (
            {"type": "combustion", "ef_t_per_tj": 94.6},
            "direct.source_streams[0].ad_t",
            "missing",
        ),
        (
            {"type": "combustion", "ad_t": "abc", "ncv_tj_per_t": 0.0251, "ef_t_per_tj": 94.6},
            "direct.source_streams[0].ad_t",
            "got 'abc'",
        ),
        ({"type": "flare"}, "direct.source_streams[0].type", "got 'flare'"),
    ]
    for stream, key, reason in cases:
        with pytest.raises(CaseError) as exc:
            run_case(_one_stream(stream))
        assert exc.value.key == key, stream
        if reason is not None:
            assert exc.value.reason == reason, stream
    with pytest.raises(CaseError) as exc:
        run_case(_one_stream({"type": "combustion", "ad_t": "abc", "ncv_tj_per_t": 0.0251}))
    assert exc.value.expected == "a number in t"


def test_malformed_precursor_fields_name_the_precursor_key():
    base = {"cn_code": "7203", "mass_t": 1100, "origin": "IN", "see_direct_t_per_t": 0.9}
    base["see_indirect_t_per_t"] = 0.1
    for change, key in (
        ({"cn_code": "72A3"}, "precursors[0].cn_code"),
        ({"see_direct_t_per_t": "high"}, "precursors[0].see_direct_t_per_t"),
    ):
        with pytest.raises(CaseError) as exc:
            run_case(_with_precursor(base | change))
        assert exc.value.key == key
    # Only Annex I goods count as precursors (Reg. 2023/956 Annex IV point 3 as replaced by
    # Reg. 2025/2083): a non-Annex-I code is refused as a precursor, not as a good.
    with pytest.raises(CaseError) as exc:
        run_case(_with_precursor(base | {"cn_code": "8703"}))
    assert exc.value.key == "precursors[0].cn_code"
    assert exc.value.expected.startswith("a precursor listed in Annex I")
    # A CN code given alongside the installation is checked against it, and named.
    precursor = {"cn_code": "72A1", "mass_t": 1100, "origin": "IN"}
    with pytest.raises(CaseError) as exc:
        run_case(_with_precursor(precursor | {"installation": PIG_IRON_INSTALLATION}))
    assert exc.value.key == "precursors[0].cn_code"


def test_attributed_direct_emissions_defaults_leave_direct_emissions_alone():
    # IR 2025/2547 Annex III A.3, Eq. 55: AttrEm_dir = DirEm + Em_H,imp − Em_H,exp
    # + WG_corr,imp − WG_corr,exp − Em_el,exp.  Every correction left out is zero:
    # AttrEm_dir = DirEm = 1234.5 t.
    assert_allclose(attributed_direct_emissions(1234.5), 1234.5, rtol=1e-15)
    # Each term on its own, worked by hand: 1234.5 + 100 − 40 − 60 = 1234.5 (heat in/out,
    # electricity exported), then + 2 TJ × 56.1 t/TJ (imported waste gas, Eq. 53) = 1346.7.
    assert_allclose(
        attributed_direct_emissions(1234.5, 100.0, 40.0, 2.0, 0.0, 56.1, 60.0), 1346.7, rtol=1e-12
    )


def test_an_uncertain_electricity_factor_widens_the_interval_of_a_cement_total():
    # Cement is no Annex II good, so its indirect emissions count (Reg. 2023/956 Annex II;
    # IR 2025/2547 Annex I pt 3.1).  SEE_tot = (600 + 100 MWh × 0.5 t/MWh) / 1000 t = 0.65;
    # u(EF_el) = 10 % of 0.5 = 0.05, so u(SEE_tot) = 100 × 0.05 / 1000 = 0.005 (GUM §5.1.2,
    # linear); interval 0.65 ± 1.6448536… × 0.005.
    case = {
        "methodology": "cbam.installation",
        "good": {"cn_code": "2523 29 00", "activity_level_t": 1000},
        "direct": {"attributed_emissions_t": 600},
        "electricity": {
            "consumed_mwh": 100,
            "ef_t_per_mwh": {"value": 0.5, "uncertainty": {"relative": 0.1}},
        },
    }
    r = run_case(case)
    assert_allclose(r["see_total_t_per_t"], 0.65, rtol=1e-12)
    assert_allclose(r["interval"]["sd"], 0.005, rtol=1e-9)
    assert_allclose(
        [r["interval_low_t_per_t"], r["interval_high_t_per_t"]],
        [0.65 - unc.Z95 * 0.005, 0.65 + unc.Z95 * 0.005],
        rtol=1e-9,
    )


def test_an_uncertain_stream_quantity_is_propagated_and_the_stream_step_is_traced():
    # IR 2025/2547 Annex II B.3.1.2, Eq. 11: Em = AD × EF × CF = 1000 t × 0.44 × 1 = 440 t;
    # cement clinker, AL 1000 t: SEE_tot = 0.44.  u(AD) = 2 % of 1000 = 20 t, so
    # u(SEE) = 20 × 0.44 / 1000 = 0.0088 (GUM §5.1.2, linear in AD).
    stream = {"type": "process", "ad_t": {"value": 1000, "uncertainty": {"relative": 0.02}}}
    case = {
        "methodology": "cbam.installation",
        "good": {"cn_code": "2523 10 00", "activity_level_t": 1000},
        "direct": {"source_streams": [stream | {"ef_t_per_t": 0.44}]},
    }
    r = run_case(case)
    assert_allclose(r["see_total_t_per_t"], 0.44, rtol=1e-12)
    assert_allclose(r["interval"]["sd"], 0.0088, rtol=1e-9)
    step = next(
        s for s in r["trace"]["steps"] if s["formula_id"] == "cbam.installation.source_stream[0]"
    )
    assert step["unit"] == "tCO2e" and step["formula"] == "process: Em = AD × EF × CF"
    assert_allclose(step["value"], 440.0, rtol=1e-12)


def test_monte_carlo_with_only_a_precursor_mass_uncertain():
    # SEE_dir = (1500 + M × 0.9) / 1000 (Reg. 2023/956 Annex IV point 3): with M = 1100 t,
    # 2.49; u(M) = 5 % of 1100 = 55 t, so u(SEE) = 55 × 0.9 / 1000 = 0.0495 (JCGM 101:2008,
    # Monte Carlo; 20 000 draws, seeded: the sample sd within 3 % of it).  Only the mass
    # carries draws, so the precursors' shape must come from the mass too.
    case = {
        "methodology": "cbam.installation",
        "good": {"cn_code": "7208", "activity_level_t": 1000},
        "direct": {"attributed_emissions_t": 1500},
        "precursors": [
            {
                "cn_code": "7203",
                "mass_t": {"value": 1100, "uncertainty": {"relative": 0.05}},
                "origin": "IN",
                "see_direct_t_per_t": 0.9,
                "see_indirect_t_per_t": 0.1,
            }
        ],
        "uncertainty": {"method": "monte_carlo", "samples": 20000, "seed": 11},
    }
    r = run_case(case)
    assert_allclose(r["see_total_t_per_t"], 2.49, rtol=1e-12)
    assert r["uncertainty_method"] == "monte_carlo"
    assert_allclose(r["interval"]["sd"], 0.0495, rtol=0.03)
    assert_allclose(r["interval"]["mean"], 2.49, rtol=2e-3)
