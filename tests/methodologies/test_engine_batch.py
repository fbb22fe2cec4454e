"""The vectorised batch path equals the single-case path."""

from __future__ import annotations

from collections import defaultdict
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from methodologies import run_case
from methodologies.batch import (
    ShipmentBatch,
    dense_group_sums,
    embedded_emissions,
    embedded_emissions_2d,
    group_sums,
    shipment_totals,
)
from methodologies.errors import MethodologyError

#: (origin, CN code, year) of a few real shipments' default estimates.
ESTIMATES = [
    ("CN", "7208", 2026),
    ("IN", "7601", 2026),
    ("AQ", "72081000", 2027),
    ("TR", "25232900", 2028),
    ("CN", "28141000", 2026),
    ("US", "76109010", 2027),
]


def case_of(i: int) -> dict:
    origin, cn, year = ESTIMATES[i]
    return {"methodology": "cbam.default", "cn_code": cn, "origin": origin, "year": year}


@cache
def see_total(i: int) -> float:
    """The batch path's estimate table: one run_case per distinct estimate."""
    return run_case(case_of(i))["see_total_t_per_t"]


def test_embedded_emissions_is_mass_times_see():
    # China 7208 2026: 3.5056 t/t (data README §1a); 10 t → 35.056 t.
    out = embedded_emissions(np.array([10.0, 2.0]), np.array([0, 0]), np.array([3.5056]))
    assert out.dtype == np.float64
    assert_allclose(out, [35.056, 7.0112], rtol=1e-15)


def test_a_bad_index_is_refused():
    with pytest.raises(MethodologyError):
        embedded_emissions(np.array([1.0]), np.array([3]), np.array([1.0]))
    with pytest.raises(MethodologyError):
        embedded_emissions(np.array([1.0, 2.0]), np.array([0]), np.array([1.0]))


def test_group_sums_by_two_keys():
    values = np.array([1.0, 2.0, 3.0, 4.0])
    origin = np.array(["CN", "IN", "CN", "CN"])
    month = np.array([1, 1, 2, 1])
    (o, m), sums = group_sums(values, origin, month)
    assert list(zip(o.tolist(), m.tolist(), sums.tolist(), strict=True)) == [
        ("CN", 1, 5.0),
        ("CN", 2, 3.0),
        ("IN", 1, 2.0),
    ]


shipments = st.lists(
    st.tuples(
        st.integers(0, len(ESTIMATES) - 1), st.floats(0, 1e6, allow_nan=False, allow_infinity=False)
    ),
    max_size=60,
)


@settings(max_examples=40, deadline=None)
@given(shipments)
def test_batch_path_equals_single_case_path(rows):
    index = np.array([i for i, _ in rows], dtype=np.int64)
    mass = np.array([m for _, m in rows], dtype=np.float64)
    table = np.array([see_total(i) for i in range(len(ESTIMATES))])
    batch = embedded_emissions(mass, index, table)
    # The single-case path: one run_case per shipment, mass × its SEE.
    single = [m * run_case(case_of(i))["see_total_t_per_t"] for i, m in rows]
    assert_allclose(batch, single, rtol=0, atol=0)

    # Totals by origin and year, against a plain loop.
    origins = np.array([ESTIMATES[i][0] for i, _ in rows], dtype="<U2")
    years = np.array([ESTIMATES[i][2] for i, _ in rows], dtype=np.int64)
    (o, y), sums = group_sums(batch, origins, years)
    expected: dict[tuple[str, int], float] = defaultdict(float)
    for (i, _), e in zip(rows, single, strict=True):
        expected[(ESTIMATES[i][0], ESTIMATES[i][2])] += e
    got = dict(zip(zip(o.tolist(), y.tolist(), strict=True), sums.tolist(), strict=True))
    assert set(got) == set(expected)
    assert_allclose(
        [got[k] for k in sorted(got)], [expected[k] for k in sorted(got)], rtol=1e-12, atol=1e-6
    )


def test_group_sums_with_sparse_key_combinations_matches_a_loop():
    # 3 000 rows over ~3 000 × ~3 000 possible combinations: the sorted-tuples branch.
    rng = np.random.default_rng(7)
    a = rng.integers(0, 100_000, 3000)
    b = rng.integers(0, 100_000, 3000).astype(str)
    v = rng.uniform(size=3000)
    (ka, kb), sums = group_sums(v, a, b)
    expected: dict[tuple[int, str], float] = defaultdict(float)
    for i, j, w in zip(a.tolist(), b.tolist(), v.tolist(), strict=True):
        expected[(i, j)] += w
    assert list(zip(ka.tolist(), kb.tolist(), strict=True)) == sorted(expected)
    assert_allclose(sums, [expected[k] for k in sorted(expected)], rtol=1e-12)


# --------------------------------------------------------------------------- 2-D batch path


def installation_case(direct_t: float, mwh: float, al: float, cn: str) -> dict:
    return {
        "methodology": "cbam.installation",
        "good": {"cn_code": cn, "activity_level_t": al},
        "direct": {"attributed_emissions_t": direct_t},
        "electricity": {"consumed_mwh": mwh, "ef_t_per_mwh": 0.5},
    }


GOODS = ("7208", "2523 29 00")
# (direct t, MWh, AL t) drawn per tonne within the plausible ranges run_case checks
# (<= 50 tCO2e/t direct, <= 70 MWh/t).
installations = st.lists(
    st.tuples(st.floats(0, 40), st.floats(0, 60), st.floats(1, 1e4)).map(
        lambda t: (t[0] * t[2], t[1] * t[2], t[2])
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=30, deadline=None)
@given(
    installations,
    st.lists(
        st.tuples(
            st.integers(0, 3),
            st.integers(0, 1),
            st.floats(0, 1e5),
            st.integers(0, 2),
            st.integers(0, 11),
        ),
        max_size=40,
    ),
)
def test_shipment_totals_equal_the_single_case_path(insts, rows):
    # SEE table [installation, good] from one cbam.installation run per pair.
    table = np.array(
        [
            [run_case(installation_case(d, e, al, g))["see_total_t_per_t"] for g in GOODS]
            for d, e, al in insts
        ]
    )
    rows = [(i % len(insts), g, m, c, p) for i, g, m, c, p in rows]
    inst = np.array([r[0] for r in rows], dtype=np.int64)
    good = np.array([r[1] for r in rows], dtype=np.int64)
    mass = np.array([r[2] for r in rows], dtype=np.float64)
    country = np.array([r[3] for r in rows], dtype=np.int64)
    period = np.array([r[4] for r in rows], dtype=np.int64)
    out = shipment_totals(table, inst, good, mass, country, good, period, (3, 2, 12))
    single = [
        m * run_case(installation_case(*insts[i], GOODS[g]))["see_total_t_per_t"]
        for i, g, m, _, _ in rows
    ]
    assert_allclose(out.embedded_emissions_t, single, rtol=0, atol=0)
    expected: dict[tuple[int, int, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for (_, g, m, c, p), e in zip(rows, single, strict=True):
        cell = expected[(c, g, p)]
        cell[0] += e
        cell[1] += m
        cell[2] += 1
    (kc, kg, kp), emissions, net_mass = out.rows()
    keys = list(zip(kc.tolist(), kg.tolist(), kp.tolist(), strict=True))
    assert keys == sorted(expected)
    assert_allclose(emissions, [expected[k][0] for k in keys], rtol=1e-12, atol=1e-9)
    assert_allclose(net_mass, [expected[k][1] for k in keys], rtol=1e-12, atol=1e-9)
    assert out.shipments.sum() == len(rows)
    assert out.sum_embedded_emissions_t.dtype == np.float64


def test_a_prepared_batch_re_evaluates_against_a_new_table():
    # 2 installations × 2 goods; shipments (inst, good, mass): (0,1,10), (1,0,2), (1,1,4).
    # Table 1 [[1, 2], [3, 4]]: E = 20, 6, 16.  Table 2 = 2 × table 1: E = 40, 12, 32.
    batch = ShipmentBatch.prepare(
        (2, 2),
        np.array([0, 1, 1]),
        np.array([1, 0, 1]),
        np.array([10.0, 2.0, 4.0]),
        np.array([0, 0, 1]),
        np.array([1, 0, 1]),
        np.array([0, 0, 0]),
        (2, 2, 1),
    )
    first = batch.totals(np.array([[1.0, 2.0], [3.0, 4.0]]))
    second = batch.totals(np.array([[2.0, 4.0], [6.0, 8.0]]))
    assert_allclose(first.embedded_emissions_t, [20.0, 6.0, 16.0], rtol=0)
    assert_allclose(second.embedded_emissions_t, [40.0, 12.0, 32.0], rtol=0)
    # Groups (country, cn): (0,1) → 20, (0,0) → 6, (1,1) → 16.
    assert_allclose(first.sum_embedded_emissions_t[:, :, 0], [[6.0, 20.0], [0.0, 16.0]])
    assert_allclose(first.sum_net_mass_t[:, :, 0], [[2.0, 10.0], [0.0, 4.0]])
    with pytest.raises(MethodologyError):
        batch.totals(np.ones((3, 2)))


def test_embedded_emissions_2d_is_mass_times_the_gathered_see():
    table = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    out = embedded_emissions_2d(np.array([1.0, 2.0]), table, np.array([1, 0]), np.array([2, 1]))
    assert_allclose(out, [6.0, 4.0], rtol=0)  # 1 × 6, 2 × 2


def test_dense_group_sums_and_code_checks():
    sums = dense_group_sums(
        np.array([1.0, 2.0, 4.0]), (np.array([0, 1, 1]), np.array([2, 0, 0])), (2, 3)
    )
    assert_allclose(sums, [[0, 0, 1], [6, 0, 0]])
    counts = dense_group_sums(None, (np.array([0, 1, 1]),), (2,))
    assert counts.tolist() == [1, 2]
    with pytest.raises(MethodologyError, match="codes"):
        dense_group_sums(None, (np.array([0, 5]),), (2,))
    with pytest.raises(MethodologyError, match="good_index"):
        shipment_totals(
            np.ones((2, 2)),
            np.array([0]),
            np.array([2]),
            np.array([1.0]),
            np.array([0]),
            np.array([0]),
            np.array([0]),
            (1, 1, 1),
        )


def test_group_sums_with_small_integer_keys_skip_the_sort_but_keep_its_output():
    # Offset codes (no np.unique) for a small-range integer key, incl. negative and int8.
    values = np.array([1.0, 2.0, 3.0, 4.0])
    (k,), sums = group_sums(values, np.array([-3, 5, -3, 100], dtype=np.int8))
    assert k.tolist() == [-3, 5, 100] and k.dtype == np.int8
    assert sums.tolist() == [4.0, 2.0, 4.0]
