"""Speed of the modelled rung: every operating plant of both GEM trackers for three years,
Monte Carlo included, against the 60 s target and a bare numpy floor.

    python benchmarks/model_installations.py [--years 2022 2023 2024]

Prints the time to model (methodologies.modelled.model_cases: production, route
emissions and 1,000 seeded draws per plant-year), the time to seal one trace per good
(RFC 8785 bytes and SHA-256), their sum against the 60 s target, and the ratio of the
model to a floor: the same per-plant seeded draws and one exp + 5/95 percentile pass
over the same arrays in bare numpy.  Reading the workbooks is not timed (the registry
holds them already).  Run by hand; the machine's load is printed beside the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.modelled_vs_reported import grid, load_plants  # noqa: E402
from methodologies import modelled  # noqa: E402

TARGET_S = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--years", type=int, nargs="+", default=[2022, 2023, 2024])
    args = parser.parse_args()
    plants, factors = load_plants(), grid()
    cases = []
    for p in plants:
        ef, src = factors.get(p["country"], factors["World"])
        for year in args.years:
            case = modelled.registry_case(
                identifier=p["identifier"],
                country=p["country"],
                source=p["tracker"],
                start_year=p["start_year"],
                capacities=p["capacities"],
                production=p["production"],
                plant_type=p["plant_type"],
                production_type=p["production_type"],
                routes=p["routes"],
                year=year,
                electricity_ef_t_per_mwh=ef,
                electricity_ef_source=src,
            )
            if case is not None:
                cases.append(case)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    results = modelled.model_cases(cases)
    t_model = time.perf_counter() - t0
    t0 = time.perf_counter()
    sealed = [
        modelled.seal_good(r, cn)
        for r in results
        for cn, g in r["goods"].items()
        if g.get("production_t", 0) > 0
    ]
    t_seal = time.perf_counter() - t0
    t0 = time.perf_counter()
    for start in range(0, len(cases), modelled.BLOCK):
        block = cases[start : start + modelled.BLOCK]
        z = modelled.standard_normals(
            [c["seed"] for c in block], [modelled.DRAWS] * len(block), modelled.DRAWS
        )
        np.percentile(np.exp(0.3 * z[:, 1]), [5.0, 95.0], axis=1)
    t_floor = time.perf_counter() - t0
    total = t_model + t_seal
    print(
        f"{len(plants)} operating plants, years {args.years}: {len(cases)} plant-years, "
        f"{len(sealed)} goods sealed; load average {load:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"model {t_model:.1f} s (floor {t_floor:.1f} s, ratio {t_model / t_floor:.1f}x); "
        f"seal {t_seal:.1f} s; total {total:.1f} s = {total / TARGET_S:.2f} × the "
        f"{TARGET_S:.0f} s target"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
