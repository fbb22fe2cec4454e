"""This area's part of ``manage.py demo``: installations, a synthetic satellite time series
ingested through the queue (one scene split into tiles), activity indices and a
reconciliation flag on the installation that under-declares its production.

Everything here is fictional and seeded: three installations near 23.6° N, 72.8° E (no real
plant of the WRI database lies within 40 km) and 24 monthly GeoTIFFs (2024-01 … 2025-12) of
a thermal-anomaly product [K above the local background] on a 100 m UTM 43N grid. Each
installation adds a Gaussian hot spot whose amplitude follows its activity: usual level 1 ± 3 %,
a four-month shutdown in 2024 (relining or kiln maintenance, 5 % activity). The steel plant
discloses 60 % of what it produced in 2025; the others disclose what they produced (± 1 %).
The real WRI Global Power Plant Database file of India is loaded too, as the facilities
ingest's real example.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from pyproj import Transformer

from apps.evidence.models import IngestRun
from apps.evidence.selectors import ingest_run_wait
from apps.evidence.services import evidence_store_path, ingest_run_create
from apps.facilities.models import Installation
from apps.satellite.models import Observation, ReconciliationFlag, Scene
from apps.satellite.services import SatelliteError, reconciliation_check

SEED = 6
CRS = "EPSG:32643"  # UTM zone 43N
CENTRE = (72.80, 23.60)  # lon, lat
PIXEL_M = 100.0
SIZE = 200  # pixels a side: 20 km
HOT_SPOT_SIGMA_M = 300.0
MONTHS = [(y, m) for y in (2024, 2025) for m in range(1, 13)]
TILED_MONTH = (2025, 12)  # this scene goes through the tile path: 2 × 2 tiles
GPPD = settings.BASE_DIR / "fixtures" / "facilities" / "database_IND.csv"

# identifier, name, owner, offset east/north [km], routes, reference t/year, σ [t],
# hot-spot amplitude [K], shutdown months of 2024, disclosed share of true 2025 production.
PLANTS = [
    ("DEMO-CEM-1", "Kheda Cement Works", "Kheda Cement Ltd (fictional)", (-4.0, 2.5), "cement",
     1_200_000, 36_000, 28.0, (1, 2, 3, 4), 1.0),
    ("DEMO-STL-1", "Sabarmati Steel Plant", "Sabarmati Steel Corp (fictional)", (3.0, -1.0),
     "bf_bof", 2_000_000, 60_000, 35.0, (6, 7, 8, 9), 0.6),
    ("DEMO-ALU-1", "Anand Aluminium Smelter", "Anand Aluminium (fictional)", (3.6, -0.4),
     "al_primary", 300_000, 9_000, 22.0, (9, 10, 11, 12), 1.0),
]  # fmt: skip


def _xy_centre() -> tuple[float, float]:
    return Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(*CENTRE)


def _facilities_csv(folder: Path) -> Path:
    cx, cy = _xy_centre()
    to_lonlat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    lines = ["facility_id,name,owner,country,latitude,longitude,routes,grid_zone,production_t"]
    for ident, name, owner, (dx, dy), route, ref_t, _, _, _, _ in PLANTS:
        lon, lat = to_lonlat.transform(cx + dx * 1000, cy + dy * 1000)
        lines.append(f'{ident},{name},"{owner}",IN,{lat:.6f},{lon:.6f},{route},IN-WE,{ref_t}')
    path = folder / "demo_installations.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _activity(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Monthly activity [1] of each plant, 2024-01 … 2025-12."""
    out = {}
    for ident, *_, shutdown, _ in PLANTS:
        act = 1.0 + 0.03 * rng.standard_normal(len(MONTHS))
        for i, (year, month) in enumerate(MONTHS):
            if year == 2024 and month in shutdown:
                act[i] = 0.05 + 0.01 * rng.standard_normal()
        out[ident] = act
    return out


def _scenes(folder: Path, activity: dict[str, np.ndarray], rng: np.random.Generator) -> list:
    import rasterio
    from rasterio.transform import from_origin

    cx, cy = _xy_centre()
    west, north = cx - SIZE * PIXEL_M / 2, cy + SIZE * PIXEL_M / 2
    transform = from_origin(west, north, PIXEL_M, PIXEL_M)
    cols, rows = np.meshgrid(np.arange(SIZE) + 0.5, np.arange(SIZE) + 0.5)
    x, y = west + cols * PIXEL_M, north - rows * PIXEL_M
    kernels = {
        ident: np.exp(
            -((x - cx - dx * 1000) ** 2 + (y - cy - dy * 1000) ** 2) / (2 * HOT_SPOT_SIGMA_M**2)
        )
        for ident, _, _, (dx, dy), *_ in PLANTS
    }
    paths = []
    for i, (year, month) in enumerate(MONTHS):
        field = 0.3 * rng.standard_normal((SIZE, SIZE))
        for ident, *rest in PLANTS:
            field += rest[6] * activity[ident][i] * kernels[ident]
        if (year, month) == (2025, 2):  # a cloud over the smelter: masked, left out
            field[95:115, 125:150] = np.nan
        path = folder / f"thermal_{year}-{month:02d}.tif"
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=SIZE,
            height=SIZE,
            count=1,
            dtype="float32",
            crs=CRS,
            transform=transform,
            nodata=np.nan,
            compress="deflate",
        ) as dst:
            dst.write(field.astype(np.float32), 1)
            dst.update_tags(
                time=f"{year}-{month:02d}-15T10:30:00Z",
                variable="thermal_anomaly",
                source="Carbon Manifest demo: synthetic, seeded",
            )
            dst.update_tags(1, units="K")
        paths.append(path)
    return paths


def _ingest(path: Path, source: str, options: dict | None = None) -> IngestRun:
    with transaction.atomic():
        evidence = evidence_store_path(path=path)
        run = ingest_run_create(
            source=source, evidence=evidence, original_name=path.name, options=options
        )
    return ingest_run_wait(run=run)


def run(*, command, number: int) -> None:
    """Add this area's sample data through the queue and print what it shows."""
    out = command.stdout.write
    command._heading(f"{number}. satellite evidence (synthetic thermal series, fictional plants)")
    folder = settings.VAR_DIR / "demo" / "satellite"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)

    gppd = _ingest(GPPD, "facilities")
    out(
        f"  WRI Global Power Plant Database, India: accepted {gppd.accepted}, rejected "
        f"{gppd.rejected} (no coordinates), duplicates {gppd.duplicates}"
    )
    plants = _ingest(_facilities_csv(folder), "facilities")
    out(f"  demo installations: accepted {plants.accepted}, duplicates {plants.duplicates}")

    activity = _activity(rng)
    paths = _scenes(folder, activity, rng)
    failed = 0
    for path in paths:
        tiled = path.name == f"thermal_{TILED_MONTH[0]}-{TILED_MONTH[1]:02d}.tif"
        done = _ingest(path, "raster", {"tile_shape": [SIZE // 2, SIZE // 2]} if tiled else None)
        failed += done.status == IngestRun.Status.FAILED
    scenes = Scene.objects.filter(ingest_run__original_name__startswith="thermal_")
    tiled_scene = scenes.filter(tile_count__gt=1).first()
    out(
        f"  {len(paths)} monthly scenes ingested through the queue ({failed} failed); "
        f"{Observation.objects.filter(scene__in=scenes).count()} observations"
        + (
            f"; scene {tiled_scene.pk} split into {tiled_scene.tile_count} tiles"
            if tiled_scene
            else ""
        )
    )

    out("  2025 production: disclosed vs satellite-implied (satellite.activity v1, k = 2)")
    by_ident = {
        i.identifier: i for i in Installation.objects.filter(identifier__startswith="DEMO-")
    }
    flagged = None
    for ident, name, *_, ref_t, _, _, _, share in PLANTS:
        true_t = ref_t * float(np.mean(activity[ident][12:]))
        disclosed = round(true_t * share * (1 + 0.01 * rng.standard_normal()), -2)
        inst = by_ident[ident]
        inst.reference_production_sigma_t = ref_t * 0.03
        inst.save(update_fields=["reference_production_sigma_t"])
        try:
            result = reconciliation_check(
                installation=inst,
                period="2025",
                disclosed_production_t=disclosed,
                disclosed_sigma_t=0.02 * disclosed,
                disclosure_ref="demo:2025",
            )
        except SatelliteError as exc:
            out(f"    {name}: no check ({exc})")
            continue
        mark = "FLAG" if result.flagged else "ok"
        out(
            f"    {name:<26} disclosed {result.disclosed_production_t:>11,.0f} t   satellite "
            f"{result.expected_production_t:>11,.0f} t   σ {result.combined_sigma_t:>8,.0f} t"
            f"   z {result.z_score:+6.1f}  {mark}"
        )
        if result.flagged:
            flagged = inst
    base = "http://127.0.0.1:8000"
    opened = ReconciliationFlag.objects.filter(status="open", disclosure_ref="demo:2025")
    out(f"  open reconciliation flags: {opened.count()}")
    pages = [("installations", "/installations/")]
    if flagged is not None:
        pages.append(
            ("the flagged installation (map, chart, flag)", f"/installations/{flagged.pk}/")
        )
        flag = opened.filter(installation=flagged).first()
        if flag is not None:
            pages.append(
                (
                    "the flag's trace (canonical JSON)",
                    f"/api/v1/reconciliation-flags/{flag.pk}/trace",
                )
            )
    pages.append(
        ("API: flags (also activity-indices, observations)", "/api/v1/reconciliation-flags/")
    )
    out("  Pages to look at (log in as official):")
    for label, path in pages:
        out(f"    {label:<50} {base}{path}")
