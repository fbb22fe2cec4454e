"""``modelled.installation``: hand-worked plants (one BF-BOF, one EAF, one cement), the
batch equals the single run byte for byte, and the trace recomputes from its case.

Expected numbers are worked from the parameters docs/modelled.md lists: JRC129297 Table A4
EU Scope 1 (integrated 1.76, EAF 0.04 tCO2/t), the EU ETS 2013–2016 calibration factors
(k_bf_bof 0.688, k_eaf 2.650, k_cement 1.011), IPCC 2006 Eq. 2.4 (0.51 × 1.02), the IPCC
coal factor 94.6 tCO2/TJ, and the assumed electricity intensities."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from methodologies import modelled, recompute, run_case
from methodologies.errors import CaseError
from methodologies.trace import canonical_bytes, sha256_hex

CASES = Path(__file__).resolve().parents[2] / "fixtures" / "modelled"


def case(name: str) -> dict:
    return json.loads((CASES / f"{name}_case.json").read_text())


def draws(seed: int, n: int = 1000) -> np.ndarray:
    """The plant's own standard normals (rows: production, route, electricity)."""
    return np.random.default_rng(seed).standard_normal((3, n))


def test_a_bf_bof_site_with_reported_production_by_hand():
    out = run_case(case("bf_bof"))
    # 3 Mt crude steel reported, all BOF (no EAF capacity): 3e6 × 1.76 × 0.688
    assert_allclose(out["direct_emissions_t"], 3_632_640.0, rtol=1e-12)
    # electricity 3e6 t × 0.10 MWh/t × 0.4 t/MWh
    assert_allclose(out["indirect_emissions_t"], 120_000.0, rtol=1e-12)
    assert_allclose(out["see_direct_t_per_t"], 1.21088, rtol=1e-12)
    assert_allclose(out["see_indirect_t_per_t"], 0.04, rtol=1e-12)
    assert out["direct_only"] and out["see_total_t_per_t"] == out["see_direct_t_per_t"]
    assert out["production_source"] == "reported" and out["tier"] == "modelled"
    # The SEE draws are 1.21088 × exp(0.568 z_route): production cancels out.
    z = draws(42)[1]
    lo, hi = np.percentile(1.21088 * np.exp(0.568 * z), [5, 95])
    assert_allclose([out["interval_low_t_per_t"], out["interval_high_t_per_t"]], [lo, hi])
    assert lo < 1.21088 < hi


def test_an_eaf_plant_from_capacity_by_hand():
    out = run_case(case("eaf"))
    # 1 Mt capacity × utilisation 0.78 = 780 kt; × 0.04 × 2.650
    assert_allclose(out["direct_emissions_t"], 780_000 * 0.04 * 2.65, rtol=1e-12)
    assert_allclose(out["indirect_emissions_t"], 780_000 * 0.6 * 0.3, rtol=1e-12)
    assert_allclose(out["see_direct_t_per_t"], 0.106, rtol=1e-12)
    assert_allclose(out["see_indirect_t_per_t"], 0.18, rtol=1e-12)
    assert out["production_source"] == "capacity"
    z = draws(7)
    produced = 1e6 * np.minimum(0.78 * np.exp(0.25 * z[0]), 1.0)
    emitted = produced * 0.04 * 2.65 * np.exp(0.505 * z[1])
    assert_allclose(
        [out["direct_emissions_p05_t"], out["direct_emissions_p95_t"]],
        np.percentile(emitted, [5, 95]),
    )


def test_an_integrated_cement_plant_by_hand():
    out = run_case(case("cement"))
    ef_clinker = (0.51 * 1.02 + 3.5 * 0.0946) * 1.011  # 0.86066… tCO2/t clinker
    clinker, cement = 700_000, 910_000  # capacities × 0.70
    assert_allclose(out["direct_emissions_t"], clinker * ef_clinker, rtol=1e-12)
    assert_allclose(out["indirect_emissions_t"], cement * 0.11 * 0.7, rtol=1e-12)
    assert_allclose(out["see_direct_t_per_t"], clinker * ef_clinker / cement, rtol=1e-12)
    assert_allclose(out["see_indirect_t_per_t"], 0.077, rtol=1e-12)
    # cement counts direct and indirect emissions (Reg. 2023/956 Annex II)
    assert not out["direct_only"]
    assert_allclose(out["see_total_t_per_t"], clinker * ef_clinker / cement + 0.077)
    clinker_case = {**case("cement"), "cn_code": "25231000"}
    assert_allclose(run_case(clinker_case)["see_direct_t_per_t"], ef_clinker, rtol=1e-12)


@pytest.mark.parametrize("name", ["bf_bof", "eaf", "cement"])
def test_the_trace_recomputes_byte_for_byte(name):
    out = run_case(case(name))
    data, sha = recompute(out["trace"])
    assert sha == out["trace_sha256"] == sha256_hex(canonical_bytes(out["trace"]))
    assert data == canonical_bytes(out["trace"])


def test_a_batch_gives_each_plant_the_bytes_of_its_own_run():
    cases = [case("bf_bof"), case("eaf"), case("cement")]
    plants = modelled.model_cases([{k: v for k, v in c.items() if k != "cn_code"} for c in cases])
    for c, plant in zip(cases, plants, strict=True):
        from methodologies.cbam_goods import normalise_cn_code

        sealed = modelled.seal_good(plant, normalise_cn_code(c["cn_code"], "cn_code"))
        assert sealed["trace_sha256"] == run_case(c)["trace_sha256"]


def test_the_fast_serialiser_writes_rfc8785():
    values = [0.0, -0.0, 1.0, 1e21, 1e-7, 123456.789, 1 / 3, -2.5e-12, 5e-324, 2**53 - 1, 'é\n"\\']
    for value in values:
        assert modelled.jcs(value).encode() == canonical_bytes(value)
    nested = {"b": [1.5, None, True], "a": {"z": "x", "m": 1e300}}
    assert modelled.jcs(nested).encode() == canonical_bytes(nested)


def test_goods_follow_the_plant():
    assert modelled.goods_of(case("bf_bof")) == ["7207", "7208"]
    assert modelled.goods_of({**case("cement"), "plant_type": "grinding"}) == ["25232900"]
    iron = {"sector": "steel", "capacity_bf_t": 1e6}
    assert modelled.goods_of(iron) == ["7201"]


def test_it_refuses_a_good_the_plant_does_not_make_and_names_the_key():
    with pytest.raises(CaseError, match="cn_code"):
        run_case({**case("eaf"), "cn_code": "25231000"})
    with pytest.raises(CaseError, match="electricity_ef_t_per_mwh"):
        run_case({k: v for k, v in case("eaf").items() if k != "electricity_ef_t_per_mwh"})
    with pytest.raises(CaseError, match="sector"):
        run_case({**case("eaf"), "sector": "glass"})


def test_satellite_activity_scales_the_sector_utilisation():
    seen = {**case("eaf"), "activity_index": 0.5, "activity_index_sigma": 0.05}
    out = run_case(seen)
    # utilisation 0.78 × 0.5 = 0.39 of 1 Mt; the index's spread (0.1) is narrower than
    # the sector's (0.25), so it is the one drawn
    assert out["production_source"] == "satellite"
    assert_allclose(out["direct_emissions_t"], 390_000 * 0.04 * 2.65, rtol=1e-12)
    z = draws(7)
    produced = 1e6 * np.minimum(0.39 * np.exp(0.1 * z[0]), 1.0)
    emitted = produced * 0.04 * 2.65 * np.exp(0.505 * z[1])
    assert_allclose(
        [out["direct_emissions_p05_t"], out["direct_emissions_p95_t"]],
        np.percentile(emitted, [5, 95]),
    )
