"""cbam.installation: precursor chains given as nested installation cases, cycles, and
the scaling properties of SEE = (AttrEm + Σ M_i × SEE_i) / AL.

Hand-worked numbers follow IR 2025/2547 Annex III and Reg. 2023/956 Annex IV §3 as
summarised in docs/method-cbam.md; the arithmetic is written in the comments.
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from methodologies import cbam_installation, recompute, run_case
from methodologies.cbam_installation import PrecursorCycleError
from methodologies.errors import CaseError, MethodologyError
from methodologies.trace import canonical_bytes

#: Level 3: sintered ore 2601 12 00 (not Annex II) from installation C.
SINTER = {
    "installation_id": "C",
    "good": {"cn_code": "2601 12 00", "activity_level_t": 100},
    "direct": {
        "source_streams": [
            {"type": "process", "ad_t": 100, "ef_t_per_t": 0.2},
            {"type": "mass_balance", "ad_t": 10, "carbon_content_t_per_t": 0.5},
            {"type": "mass_balance", "ad_t": 20, "carbon_content_t_per_t": 0.1, "output": True},
        ]
    },
    "electricity": {"consumed_mwh": 100, "ef_t_per_mwh": 0.5},
}
#: Level 2: pig iron 7201 (Annex II) from installation B, using 80 t of C's sinter.
PIG_IRON = {
    "installation_id": "B",
    "good": {"cn_code": "7201", "activity_level_t": 50},
    "direct": {"attributed_emissions_t": 50},
    "precursors": [{"mass_t": 80, "origin": "BR", "installation": SINTER}],
}
#: Level 1: hot-rolled flat 7208 at installation A, using 45 t of B's pig iron.
CHAIN = {
    "methodology": "cbam.installation",
    "installation_id": "A",
    "good": {"cn_code": "7208", "activity_level_t": 40},
    "direct": {"attributed_emissions_t": 20},
    "precursors": [{"mass_t": 45, "origin": "IN", "cn_code": "7201", "installation": PIG_IRON}],
}


def test_a_three_level_chain_by_hand():
    # C (sinter, AL 100 t): process 100 × 0.2 = 20; mass balance 3.664 × 10 × 0.5 = 18.32
    #   in, 3.664 × 20 × 0.1 = 7.328 out → DirEm = 20 + 18.32 − 7.328 = 30.992 t;
    #   SEE_dir = 0.30992; SEE_indir = 100 MWh × 0.5 / 100 = 0.5 t/t.
    # B (pig iron 7201, AL 50 t): 80 t of C from BR (not EU, not Annex II: both carried)
    #   → 80 × 0.30992 = 24.7936 direct, 80 × 0.5 = 40 indirect;
    #   SEE_dir = (50 + 24.7936) / 50 = 1.495872; SEE_indir = 40 / 50 = 0.8;
    #   7201 is direct-only, but the 40 t are the indirect emissions of a non-Annex II
    #   precursor and count (IR 2025/2547 Annex I pt 3.1): SEE_indir,counted = 0.8,
    #   SEE_total = 1.495872 + 0.8 = 2.295872.
    # A (7208, AL 40 t): 45 t of B from IN; 7201 is Annex II: its own indirect (none)
    #   is dropped, the sinter's indirect counted in it is carried: 45 × 0.8 = 36 t;
    #   45 × 1.495872 = 67.31424; SEE_dir = (20 + 67.31424) / 40 = 2.182856 t/t;
    #   SEE_indir = SEE_indir,counted = 36 / 40 = 0.9; SEE_total = 3.082856 t/t.
    #   (Before issue #15 the sinter's indirect was dropped: total 2.182856.)
    r = run_case(CHAIN)
    assert_allclose(r["see_direct_t_per_t"], 2.182856, rtol=1e-14)
    assert_allclose(r["see_indirect_t_per_t"], 0.9, rtol=1e-15)
    assert_allclose(r["see_indirect_counted_t_per_t"], 0.9, rtol=1e-15)
    assert r["see_indirect_reported_only_t_per_t"] == 0.0
    assert_allclose(r["see_total_t_per_t"], 3.082856, rtol=1e-14)
    steps = {s["formula_id"]: s for s in r["trace"]["steps"]}
    b = "precursors[0].installation"
    c = "precursors[0].installation.precursors[0].installation"
    assert_allclose(steps[f"{c}:cbam.installation.direct_emissions"]["value"], 30.992, rtol=1e-14)
    assert_allclose(steps[f"{c}:cbam.installation.see_indirect"]["value"], 0.5, rtol=1e-15)
    assert_allclose(
        steps[f"{b}:cbam.installation.precursor[0]"]["value"], [24.7936, 40.0], rtol=1e-14
    )
    assert_allclose(steps[f"{b}:cbam.installation.see_indirect"]["value"], 0.8, rtol=1e-15)
    assert_allclose(steps[f"{b}:cbam.installation.see_total"]["value"], 2.295872, rtol=1e-14)
    top = steps["cbam.installation.precursor[0]"]
    assert top["inputs"]["installation_id"] == "B" and top["inputs"]["installation"] == b
    assert_allclose(top["value"], [67.31424, 36.0], rtol=1e-14)
    assert "B" in r["reason"]


def test_each_supplying_installation_keeps_its_own_steps():
    # Two suppliers of the same precursor (two precursor entries): 30 t from B1, 15 t
    # from B2, each with its own installation case; each gets its own steps.
    case = copy.deepcopy(CHAIN)
    b1 = copy.deepcopy(PIG_IRON) | {"installation_id": "B1"}
    b2 = copy.deepcopy(PIG_IRON) | {
        "installation_id": "B2",
        "direct": {"attributed_emissions_t": 100},
    }
    case["precursors"] = [
        {"mass_t": 30, "origin": "IN", "installation": b1},
        {"mass_t": 15, "origin": "IN", "installation": b2},
    ]
    r = run_case(case)
    ids = [s["formula_id"] for s in r["trace"]["steps"]]
    assert "precursors[0].installation:cbam.installation.see_direct" in ids
    assert "precursors[1].installation:cbam.installation.see_direct" in ids
    # B1: 1.495872 (above). B2: (100 + 24.7936) / 50 = 2.495872.
    # A: (20 + 30 × 1.495872 + 15 × 2.495872) / 40 = (20 + 44.87616 + 37.43808) / 40
    #    = 2.557856 t/t.
    assert_allclose(r["see_direct_t_per_t"], 2.557856, rtol=1e-14)


def test_a_chain_recomputes_byte_for_byte():
    r = run_case(CHAIN)
    data, sha = recompute(json.loads(canonical_bytes(r["trace"])))
    assert data == canonical_bytes(r["trace"]) and sha == r["trace_sha256"]


def test_a_cycle_is_rejected_naming_it():
    case = copy.deepcopy(CHAIN)
    case["precursors"][0]["installation"]["precursors"][0]["installation"]["installation_id"] = "A"
    with pytest.raises(PrecursorCycleError) as exc:
        run_case(case)
    assert isinstance(exc.value, MethodologyError)
    assert "A → B → A" in str(exc.value)
    assert exc.value.chain == ["A", "B", "A"]


def test_a_self_referencing_object_is_refused():
    case = copy.deepcopy(CHAIN)
    del case["installation_id"]
    inner = {
        "good": {"cn_code": "7201", "activity_level_t": 1},
        "direct": {"attributed_emissions_t": 1},
    }
    inner["precursors"] = [{"mass_t": 1, "origin": "IN", "installation": inner}]
    case["precursors"] = [{"mass_t": 1, "origin": "IN", "installation": inner}]
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert "levels deep" in exc.value.expected


def test_an_eu_precursor_in_a_chain_counts_zero():
    # B's sinter made in Germany: B's SEE_dir = (50 + 0) / 50 = 1; A = (20 + 45) / 40.
    case = copy.deepcopy(CHAIN)
    case["precursors"][0]["installation"]["precursors"][0]["origin"] = "DE"
    r = run_case(case)
    assert_allclose(r["see_direct_t_per_t"], 65 / 40, rtol=1e-15)
    step = next(
        s
        for s in r["trace"]["steps"]
        if s["formula_id"] == "precursors[0].installation:cbam.installation.precursor[0]"
    )
    assert step["value"] == [0.0, 0.0] and "exempt origin" in step["formula"]


def test_a_direct_and_indirect_good_carries_a_nested_non_annex_ii_precursor():
    # Cement 2523 29 00 (AL 1000 t, DirEm 100 t, 50 MWh × 0.4 = 20 t) from clinker made
    # at installation K (2523 10 00, AL 800 t, DirEm 680 t, 100 MWh × 0.4 = 40 t):
    # K: SEE_dir = 0.85, SEE_indir = 0.05.  Cement uses 800 t from TR:
    # SEE_dir = (100 + 680) / 1000 = 0.78; SEE_indir = (20 + 40) / 1000 = 0.06; total 0.84.
    clinker = {
        "installation_id": "K",
        "good": {"cn_code": "25231000", "activity_level_t": 800},
        "direct": {"attributed_emissions_t": 680},
        "electricity": {"consumed_mwh": 100, "ef_t_per_mwh": 0.4},
    }
    case = {
        "methodology": "cbam.installation",
        "good": {"cn_code": "2523 29 00", "activity_level_t": 1000},
        "direct": {"attributed_emissions_t": 100},
        "electricity": {"consumed_mwh": 50, "ef_t_per_mwh": 0.4},
        "precursors": [{"mass_t": 800, "origin": "TR", "installation": clinker}],
    }
    r = run_case(case)
    assert r["direct_only"] is False
    assert_allclose(
        [r["see_direct_t_per_t"], r["see_indirect_t_per_t"], r["see_total_t_per_t"]],
        [0.78, 0.06, 0.84],
        rtol=1e-14,
    )


def test_direct_only_good_reports_indirect_but_excludes_it():
    # Aluminium 7601, AL 10 t, DirEm 20 t, 150 MWh × 0.6 = 90 t:
    # SEE_dir = 2, SEE_indir = 9 (reported), SEE_total = 2.
    r = run_case(
        {
            "methodology": "cbam.installation",
            "good": {"cn_code": "7601", "activity_level_t": 10},
            "direct": {"attributed_emissions_t": 20},
            "electricity": {"consumed_mwh": 150, "ef_t_per_mwh": 0.6},
        }
    )
    assert r["direct_only"] is True
    assert_allclose(
        [r["see_direct_t_per_t"], r["see_indirect_t_per_t"], r["see_total_t_per_t"]],
        [2.0, 9.0, 2.0],
        rtol=1e-15,
    )


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda p: p.update(see_direct_t_per_t=1.0), "precursors[0].see_direct_t_per_t"),
        (lambda p: p.update(cn_code="7208"), "precursors[0].cn_code"),
        (
            lambda p: p["installation"]["good"].update(activity_level_t=-1),
            "precursors[0].installation.good.activity_level_t",
        ),
        (
            lambda p: p["installation"]["direct"].update(heat_exported_emissions_t="x"),
            "precursors[0].installation.direct.heat_exported_emissions_t",
        ),
        (
            lambda p: p["installation"].update(uncertainty={}),
            "precursors[0].installation.uncertainty",
        ),
    ],
)
def test_malformed_nested_cases_name_the_full_key(change, key):
    case = copy.deepcopy(CHAIN)
    change(case["precursors"][0])
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert exc.value.key == key


# --------------------------------------------------------------------------- properties

positive = st.floats(0.01, 1e5, allow_nan=False, allow_infinity=False)
see_values = st.floats(0.0, 10.0, allow_nan=False, allow_infinity=False)
precursor = st.fixed_dictionaries(
    {
        "cn_code": st.sampled_from(["7203", "26011200", "25231000", "72024100", "7601"]),
        "origin": st.sampled_from(["IN", "CN", "DE", "TR", "BR"]),
        "mass_t": positive,
        "see_direct_t_per_t": see_values,
        "see_indirect_t_per_t": see_values,
    }
)
cases = st.fixed_dictionaries(
    {
        "methodology": st.just("cbam.installation"),
        "good": st.fixed_dictionaries(
            {
                "cn_code": st.sampled_from(["7208", "2523 29 00", "3102"]),
                "activity_level_t": positive,
            }
        ),
        "direct": st.fixed_dictionaries(
            {
                "source_streams": st.lists(
                    st.one_of(
                        st.fixed_dictionaries(
                            {"type": st.just("process"), "ad_t": positive, "ef_t_per_t": see_values}
                        ),
                        st.fixed_dictionaries(
                            {
                                "type": st.just("mass_balance"),
                                "ad_t": positive,
                                "carbon_content_t_per_t": st.floats(0, 1),
                                "output": st.booleans(),
                            }
                        ),
                    ),
                    min_size=1,
                    max_size=3,
                ),
                "heat_imported_emissions_t": see_values,
            }
        ),
        "electricity": st.fixed_dictionaries(
            {"consumed_mwh": positive, "ef_t_per_mwh": see_values}
        ),
        "precursors": st.lists(precursor, max_size=3),
    }
)


def _scaled(case: dict, emissions: float, activity: float) -> dict:
    out = copy.deepcopy(case)
    for s in out["direct"]["source_streams"]:
        s["ad_t"] *= emissions
    out["direct"]["heat_imported_emissions_t"] *= emissions
    out["electricity"]["consumed_mwh"] *= emissions
    for p in out["precursors"]:
        p["mass_t"] *= emissions
    out["good"]["activity_level_t"] *= activity
    return out


KEYS = ("see_direct_t_per_t", "see_indirect_t_per_t", "see_total_t_per_t")

# The properties below are of the arithmetic, over inputs drawn without regard to physics
# (up to 1e7 MWh/t): they call the methodology itself, not run_case, whose plausibility
# check (methodologies.plausibility) would refuse most draws.
run_case = cbam_installation.run  # noqa: F811


@settings(max_examples=60, deadline=None)
@given(cases)
def test_doubling_all_emissions_and_precursor_masses_doubles_see(case):
    base, doubled = run_case(case), run_case(_scaled(case, 2.0, 1.0))
    assert_allclose([doubled[k] for k in KEYS], [2 * base[k] for k in KEYS], rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(cases)
def test_doubling_activity_level_and_all_emissions_leaves_see_unchanged(case):
    base, doubled = run_case(case), run_case(_scaled(case, 2.0, 2.0))
    assert_allclose([doubled[k] for k in KEYS], [base[k] for k in KEYS], rtol=1e-12, atol=1e-12)
