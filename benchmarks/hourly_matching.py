"""Benchmark of hourly matching: annual indirect emissions of installations from hourly
consumption and their zone's hourly intensity (``methodologies.grid.indirect_emissions_t``).

    python benchmarks/hourly_matching.py [N_INSTALLATIONS]

World: N installations (default 5 000) × 8 760 hours of consumption [MWh] (float64), 50
zones × 8 760 hours of intensity [gCO2eq/kWh], a random zone per installation. Timed,
best of 3 after a warm-up:

- engine: ``indirect_emissions_t`` (blocks of 64 installations, their zone rows gathered
  into a cache-sized buffer, a row-wise ``numpy.vecdot``; float64 accumulation);
- floor: one pass over the consumption matrix, ``consumption.sum()``, in the same run;
- pandas: the long-format baseline: consumption and intensity melted to
  (installation, hour) and (zone, hour) rows, merged, multiplied, and
  ``groupby(installation).sum()``.

Prints the three times, engine / floor (target <= 2) and pandas / engine, and checks that
the engine equals the pandas baseline and a plain einsum.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from methodologies.grid import indirect_emissions_t

N_HOURS, N_ZONES = 8_760, 50


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Smallest wall time of ``repeat`` calls [s], after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def pandas_baseline(consumption: np.ndarray, zone: np.ndarray, intensity: np.ndarray) -> np.ndarray:
    """Annual tCO2e per installation through long-format merge and groupby."""
    n, hours = consumption.shape
    use = pd.DataFrame(
        {
            "installation": np.repeat(np.arange(n), hours),
            "hour": np.tile(np.arange(hours), n),
            "mwh": consumption.ravel(),
        }
    )
    use["zone"] = zone[use["installation"].to_numpy()]
    grid = pd.DataFrame(
        {
            "zone": np.repeat(np.arange(intensity.shape[0]), hours),
            "hour": np.tile(np.arange(hours), intensity.shape[0]),
            "g_per_kwh": intensity.ravel(),
        }
    )
    merged = use.merge(grid, on=["zone", "hour"], how="left")
    merged["t"] = merged["mwh"] * merged["g_per_kwh"] * 0.001
    return merged.groupby("installation")["t"].sum().to_numpy()


def main(n: int) -> None:
    rng = np.random.default_rng(20260101)
    consumption = rng.uniform(0.0, 2.0, (n, N_HOURS))
    zone = rng.integers(0, N_ZONES, n)
    intensity = rng.uniform(0.0, 900.0, (N_ZONES, N_HOURS))

    engine = best_of(lambda: indirect_emissions_t(consumption, zone, intensity))
    floor = best_of(lambda: consumption.sum())
    result = indirect_emissions_t(consumption, zone, intensity)
    expected = np.einsum("ih,ih->i", consumption, intensity[zone]) * 0.001
    np.testing.assert_allclose(result, expected, rtol=1e-12)

    small = min(n, 500)  # the pandas baseline on a slice (it needs ~100 B per cell), scaled
    t_pandas = best_of(lambda: pandas_baseline(consumption[:small], zone[:small], intensity), 1)
    t_pandas *= n / small
    np.testing.assert_allclose(
        pandas_baseline(consumption[:small], zone[:small], intensity), result[:small], rtol=1e-9
    )

    cells = n * N_HOURS
    print(f"hourly matching: {n} installations × {N_HOURS} hours × {N_ZONES} zones")
    rate = cells / engine / 1e9
    print(f"  engine  indirect_emissions_t   {engine * 1e3:9.1f} ms  ({rate:.2f} G cells/s)")
    print(f"  floor   consumption.sum()      {floor * 1e3:9.1f} ms")
    print(
        f"  pandas  merge + groupby        {t_pandas * 1e3:9.1f} ms  (measured on {small}, scaled)"
    )
    print(f"  engine / floor  = {engine / floor:6.2f}   (target <= 2)")
    print(f"  pandas / engine = {t_pandas / engine:6.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5_000)
