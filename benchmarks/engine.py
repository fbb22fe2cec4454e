"""Benchmark of the engine's batch path (``methodologies.batch.shipment_totals``).

    python benchmarks/engine.py [N_SHIPMENTS]

World: a SEE table of 20 000 installations × 500 goods (float64, tCO2e/t) and N
shipments (default 5 000 000), each with a random installation and good, a net mass,
and country (150), CN (500) and period (12) codes; all index and code arrays are
int64, numpy's default integer.  Timed, best of 3 after a warm-up:

- engine, one call: ``shipment_totals``: check the codes, build the keys, gather
  SEE[inst, good], multiply by mass, and sum emissions, mass and shipment counts by
  (country, CN, period);
- engine, prepared: ``ShipmentBatch.totals``: the same with the keys, mass sums and
  counts (which depend on the shipments only) built once by ``prepare`` (timed
  apart): the cost of re-evaluating the shipments after the estimates change;
- floor:  the bare numpy ``see[inst, good] * mass`` (gather and multiply only, no
  group sums), measured in the same run;
- pandas: a merge of the shipments with the SEE table in long form on (installation,
  good), a multiply, and ``groupby([country, cn, period]).sum()`` of emissions and
  mass.

Prints the three times and the ratios engine / floor (target <= 3) and pandas /
engine (target >= 10), and checks that the engine's sums equal pandas'.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from methodologies.batch import ShipmentBatch, shipment_totals

N_INSTALLATIONS, N_GOODS = 20_000, 500
N_COUNTRIES, N_CN, N_PERIODS = 150, 500, 12


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Smallest wall time of ``repeat`` calls [s], after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(n: int) -> None:
    """Build the world for ``n`` shipments, time the three paths and print the figures."""
    rng = np.random.default_rng(20260101)
    see = rng.uniform(0.0, 3.0, (N_INSTALLATIONS, N_GOODS))
    inst = rng.integers(0, N_INSTALLATIONS, n)
    good = rng.integers(0, N_GOODS, n)
    mass = rng.uniform(0.0, 500.0, n)
    country = rng.integers(0, N_COUNTRIES, n)
    cn = good % N_CN  # the good's CN code
    period = rng.integers(0, N_PERIODS, n)
    sizes = (N_COUNTRIES, N_CN, N_PERIODS)

    def engine() -> object:
        return shipment_totals(see, inst, good, mass, country, cn, period, sizes)

    batch = ShipmentBatch.prepare(see.shape, inst, good, mass, country, cn, period, sizes)

    def prepared() -> object:
        return batch.totals(see)

    def prepare() -> object:
        return ShipmentBatch.prepare(see.shape, inst, good, mass, country, cn, period, sizes)

    def floor() -> object:
        return see[inst, good] * mass

    long = pd.DataFrame(
        {
            "inst": np.repeat(np.arange(N_INSTALLATIONS), N_GOODS),
            "good": np.tile(np.arange(N_GOODS), N_INSTALLATIONS),
            "see": see.reshape(-1),
        }
    )
    shipments = pd.DataFrame(
        {"inst": inst, "good": good, "mass": mass, "country": country, "cn": cn, "period": period}
    )

    def with_pandas() -> pd.DataFrame:
        df = shipments.merge(long, on=["inst", "good"], how="left")
        df["emissions"] = df["mass"] * df["see"]
        return df.groupby(["country", "cn", "period"])[["emissions", "mass"]].sum()

    t_engine = best_of(engine)
    t_prepared = best_of(prepared)
    t_prepare = best_of(prepare)
    t_floor = best_of(floor)
    t_pandas = best_of(with_pandas)

    result = engine()
    (c, g, p), emissions, net_mass = result.rows()
    reference = with_pandas()
    np.testing.assert_array_equal(reference.index.get_level_values(0), c)
    np.testing.assert_array_equal(reference.index.get_level_values(1), g)
    np.testing.assert_array_equal(reference.index.get_level_values(2), p)
    np.testing.assert_allclose(emissions, reference["emissions"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(net_mass, reference["mass"].to_numpy(), rtol=1e-9)
    np.testing.assert_array_equal(result.embedded_emissions_t, floor())
    np.testing.assert_array_equal(
        prepared().sum_embedded_emissions_t, result.sum_embedded_emissions_t
    )

    print(
        f"{n:,} shipments, SEE table {N_INSTALLATIONS:,} × {N_GOODS} float64, "
        f"groups {N_COUNTRIES} × {N_CN} × {N_PERIODS} (best of 3)"
    )
    print(f"engine, one call (codes → totals):      {t_engine * 1e3:8.1f} ms")
    print(
        f"engine, prepared (gather, ×, bincount): {t_prepared * 1e3:8.1f} ms"
        f"   (prepare once: {t_prepare * 1e3:.1f} ms)"
    )
    print(f"floor   numpy see[inst, good] * mass:   {t_floor * 1e3:8.1f} ms")
    print(f"pandas  merge + multiply + groupby:     {t_pandas * 1e3:8.1f} ms")
    print(f"ratio one call / floor:  {t_engine / t_floor:6.2f}x  (target <= 3)")
    print(f"ratio prepared / floor:  {t_prepared / t_floor:6.2f}x")
    print(f"ratio pandas / one call: {t_pandas / t_engine:6.1f}x  (target >= 10)")
    print(f"ratio pandas / prepared: {t_pandas / t_prepared:6.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000)
