"""The modelled rung measured against reality: EU ETS verified emissions 2013–2020.

    python benchmarks/modelled_vs_reported.py              # validation years 2017–2020
    python benchmarks/modelled_vs_reported.py --calibrate  # fit the global factors on 2013–2016
    python benchmarks/modelled_vs_reported.py --eutl fixtures/eu_ets  # the committed subset

Plants: the operating plants of both Global Energy Monitor trackers (fixtures/plants/).
Reported: the European Union Transaction Log's verified emissions (by default
/work/shared/data/emissions_reported/eu_ets/, see docs/modelled.md), summed over the EU ETS
installations that make up each plant's site (apps.facilities.matching.eutl_site_matches:
name, town and coordinates).  For every matched plant and year it prints modelled direct
emissions (nominal, 5 % and 95 %) beside the reported figure, then the median
|ln(modelled/reported)| and the share of reported values inside the modelled 5–95 %
interval, against the targets ln 1.5 and 80–98 %.

``--calibrate`` fits, on 2013–2016 only, one scale factor k and one log-sd s per route
group (BF-BOF sites, EAF sites, cement): k = exp(median ln(reported/modelled with k = 1)),
s = sqrt(max(σ² − σ_u², 0.05²)) where σ is the robust (1.4826 × MAD) spread of the
residuals and σ_u the utilisation spread already in the Monte Carlo.  It prints the
values to copy into methodologies.modelled.PARAMETERS; the default run reports on
2017–2020, which the fit never saw.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.facilities.matching import eutl_site_matches  # noqa: E402
from ingest.eu_ets.reader import read_eutl_compliance, read_eutl_installations  # noqa: E402
from ingest.facilities.gem import read_gem  # noqa: E402
from ingest.grid_averages.reader import read_ember  # noqa: E402
from methodologies import modelled  # noqa: E402

SHARED = Path("/work/shared/data/emissions_reported/eu_ets")
TRACKERS = (
    ROOT / "fixtures/plants/GEM_Global_Iron_and_Steel_Tracker_Sep2025_V1_plant_level.xlsx",
    ROOT / "fixtures/plants/Global-Cement-and-Concrete-Tracker_July-2025.xlsx",
)
EMBER = ROOT / "fixtures/grid/co2js/average-intensities.json"
CALIBRATION_YEARS = range(2013, 2017)
VALIDATION_YEARS = range(2017, 2021)
TARGET_LOG = math.log(1.5)
TARGET_COVERAGE = (0.80, 0.98)


def eutl_files(folder: Path) -> tuple[Path, Path]:
    for a, b in (
        ("eutl_installation.csv", "eutl_compliance_2013_2020.csv"),
        ("eutl_installation_matched.csv", "eutl_compliance_matched.csv"),
    ):
        if (folder / a).is_file():
            return folder / a, folder / b
    raise SystemExit(f"{folder}: no EUTL installation and compliance CSV")


def load_plants() -> list[dict]:
    plants = []
    for path in TRACKERS:
        rows, _ = read_gem(path)
        plants += [p for p in rows if p["status"] in modelled.OPERATING]
    return plants


def grid() -> dict[str, tuple[float, str]]:
    frame, _ = read_ember(EMBER)
    return {
        (r.iso2 or r.code): (r.intensity_g_per_kwh / 1000.0, f"Ember {r.year} {r.code}")
        for r in frame.itertuples()
    }


def group_of(case: dict) -> str:
    if case["sector"] == "cement":
        return "cement"
    if case.get("capacity_bof_t", 0) > 0 or (
        case.get("capacity_bf_t", 0) > 0 and case.get("capacity_eaf_t", 0) <= 0
    ):
        return "bf_bof"
    return "eaf"


def matched_sites(plants: list[dict], folder: Path):
    inst_path, comp_path = eutl_files(folder)
    inst, _ = read_eutl_installations(inst_path)
    comp, _ = read_eutl_compliance(comp_path)
    countries = set(inst["country"])
    candidates = [
        {
            "identifier": p["identifier"],
            "names": [p["name"], *p["other_names"], p["owner"]],
            "owners": [p["owner"], *(x["name"] for x in p["parents"])],
            "country": p["country"],
            "municipality": p["municipality"],
            "latitude": p["latitude"],
            "longitude": p["longitude"],
        }
        for p in plants
        if p["country"] in countries
    ]
    rows = [
        {
            "id": r.id,
            "name": r.name,
            "city": r.city,
            "country": r.country,
            "latitude": None if math.isnan(r.latitude) else r.latitude,
            "longitude": None if math.isnan(r.longitude) else r.longitude,
        }
        for r in inst.itertuples()
    ]
    matches = eutl_site_matches(candidates, rows)
    by_plant: dict[str, list[str]] = defaultdict(list)
    for m in matches:
        by_plant[m.plant].append(m.eutl_id)
    emitted = {(r.installation_id, r.year): r.emission_t for r in comp.itertuples()}
    return matches, by_plant, emitted


def compare(plants, by_plant, emitted, years, factors):
    grid_ef = factors
    cases, reported = [], []
    for p in plants:
        ids = by_plant.get(p["identifier"])
        if not ids:
            continue
        ef, src = grid_ef.get(p["country"], grid_ef["World"])
        for year in years:
            values = [emitted.get((i, year)) for i in ids]
            total = sum(v for v in values if v is not None)
            if not total or total <= 0:
                continue
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
            if case is None:
                continue
            cases.append(case)
            reported.append(total)
    return cases, np.asarray(reported), modelled.model_cases(cases)


def calibrate(cases, reported, results) -> None:
    """Print k and s per group, fitted on these (calibration) plant-years."""
    groups = np.array([group_of(c) for c in cases])
    nominal = np.array([r["direct_emissions_t"] for r in results])
    for g in ("bf_bof", "eaf", "cement"):
        k_now = modelled.PARAMETERS[f"k_{g}"]["value"]
        rows = (groups == g) & (nominal > 0)
        if not rows.any():
            print(f"{g}: no plant-years")
            continue
        resid = np.log(reported[rows] / (nominal[rows] / k_now))
        k = float(np.exp(np.median(resid)))
        spread = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
        su = modelled.PARAMETERS["su_cement" if g == "cement" else "su_steel"]["value"]
        has_reported = np.array(
            [
                any(key.startswith("reported_") for key in c)
                for c, ok in zip(cases, rows, strict=True)
                if ok
            ]
        )
        s = math.sqrt(max(spread**2 - su**2 * (1 - has_reported.mean()), 0.05**2))
        print(f"{g}: n={rows.sum()} k={k:.3f} s={s:.3f} (residual spread {spread:.3f})")


def report(cases, reported, results, *, verbose: bool) -> dict[str, float]:
    nominal = np.array([r["direct_emissions_t"] for r in results])
    lo = np.array([r["direct_emissions_p05_t"] for r in results])
    hi = np.array([r["direct_emissions_p95_t"] for r in results])
    ok = nominal > 0
    if verbose:
        print(
            f"{'plant':15} {'year':4} {'group':7} {'modelled':>12} {'p05':>12} {'p95':>12} "
            f"{'reported':>12} {'ln ratio':>8} src"
        )
        for c, r, m, a, b in zip(cases, reported, nominal, lo, hi, strict=True):
            ratio = math.log(m / r) if m > 0 else float("nan")
            src = "rep" if any(k.startswith("reported_") for k in c) else "cap"
            print(
                f"{c['installation']:15} {c['year']:4} {group_of(c):7} {m:12,.0f} {a:12,.0f} "
                f"{b:12,.0f} {r:12,.0f} {ratio:8.3f} {src}"
            )
    logr = np.abs(np.log(nominal[ok] / reported[ok]))
    inside = (reported[ok] >= lo[ok]) & (reported[ok] <= hi[ok])
    groups = np.array([group_of(c) for c in cases])[ok]
    out = {
        "n": int(ok.sum()),
        "median_abs_log": float(np.median(logr)),
        "coverage": float(inside.mean()),
    }
    for g in ("bf_bof", "eaf", "cement"):
        sel = groups == g
        if sel.any():
            print(
                f"  {g:7} n={sel.sum():4}  median |ln ratio| {np.median(logr[sel]):.3f}  "
                f"coverage {inside[sel].mean():.1%}"
            )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eutl", type=Path, default=SHARED, help="folder of the EUTL CSVs")
    parser.add_argument("--calibrate", action="store_true", help="fit on 2013–2016")
    parser.add_argument("--quiet", action="store_true", help="totals only")
    args = parser.parse_args()
    t0 = time.perf_counter()
    plants = load_plants()
    matches, by_plant, emitted = matched_sites(plants, args.eutl)
    print(
        f"{len(plants)} operating plants; {len(by_plant)} matched to {len(matches)} EU ETS "
        f"installations ({time.perf_counter() - t0:.1f} s)"
    )
    years = CALIBRATION_YEARS if args.calibrate else VALIDATION_YEARS
    cases, reported, results = compare(plants, by_plant, emitted, years, grid())
    label = "calibration 2013–2016" if args.calibrate else "validation 2017–2020"
    print(f"{label}: {len(cases)} plant-years")
    if args.calibrate:
        calibrate(cases, reported, results)
    out = report(cases, reported, results, verbose=not args.quiet and not args.calibrate)
    print(
        f"TOTAL {label}: n={out['n']}  median |ln(modelled/reported)| = "
        f"{out['median_abs_log']:.3f} (target ≤ ln 1.5 = {TARGET_LOG:.3f}, ratio "
        f"{out['median_abs_log'] / TARGET_LOG:.2f})  coverage of the 5–95 % interval = "
        f"{out['coverage']:.1%} (target {TARGET_COVERAGE[0]:.0%}–{TARGET_COVERAGE[1]:.0%})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
