"""Writes of grid evidence: ingest grid telemetry and factor libraries, assess hydrogen.

``grid_ingest`` (source ``grid``) recognises its file by content:

- ENTSO-E Transparency XML (``ingest.entsoe``): generation per production type becomes
  the zone's hourly mix (PT15M/PT30M averaged to hours), always stored, and its intensity
  computed from mix × the factor valid at each hour for every hour whose generating modes
  all have a factor; the run names the hours that lack one (a row error per zone and run
  of hours). When a factor library arrives later, :func:`grid_intensity_recompute`
  computes the stored mixes' hours, so the order of the two ingests does not matter
  (issue #15, item 18); load and day-ahead prices join the zone's mix file;
- an Electricity Maps hourly export (``ingest.emaps_hourly``): measured intensities, the
  publisher's estimated hours flagged;
- Ember annual averages (JSON) and the IFI harmonised grid factors (CSV with the
  "Country / Territory / Island" header): country and region rows.

``factors_ingest`` (source ``factors``) loads an emission-factor library (a zone YAML
file, ``defaults.yaml`` or the flattened CSV) into :class:`EmissionFactor`, keeping each
entry's validity period current, then recomputes the intensity of the stored generation
mixes of the zones it touched (every zone for a ``_DEFAULT`` entry).

Every ingest is idempotent: the same values come back as duplicates; an hour or a factor
that comes back with a different value is a correction (counted in ``corrections``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pycountry
import rfc8785
import xarray as xr
from django.db import transaction
from django.db.models import DateTimeField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from apps.audit.services import audit_append
from apps.evidence.models import IngestRun
from apps.evidence.services import IngestOutcome, ingest_run_finish
from apps.evidence.store import evidence_local_path
from apps.grid import store
from apps.grid.models import (
    EmissionFactor,
    GridAverage,
    GridZone,
    HydrogenAssessment,
    IntensitySeries,
)
from apps.grid.timezones import zone_timezone
from ingest.base import IngestError, RowError
from ingest.emaps_hourly import read_emaps_hourly
from ingest.emission_factors import read_emission_factors
from ingest.entsoe import read_entsoe, to_hourly
from ingest.grid_averages import read_ember, read_ifi
from methodologies import grid as g
from methodologies import hydrogen
from methodologies.trace import canonical_bytes

EMBER_SOURCE = "Ember yearly electricity data (CC BY 4.0), via co2.js average-intensities.json"
IFI_SOURCE = "IFI Harmonized Default Grid Emission Factors 2021 v3.1 (UNFCCC)"
IFI_YEAR = 2021


class NotAGridFile(IngestError):
    """The file is none of the formats the ``grid`` source knows."""


# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _named(run: IngestRun) -> Iterator[Path]:
    """The evidence under its original file name (readers read the suffix or the stem:
    ``defaults.yaml`` is the global default, ``DE.yaml`` zone DE)."""
    with evidence_local_path(run.evidence, name=run.original_name or "evidence") as path:
        yield path


def _errors(meta: dict, file: str) -> list[dict[str, Any]]:
    return [{"file": file, **asdict(e)} for e in meta["errors"]]


def zone_country(zone: str) -> str:
    """ISO 3166-1 alpha-2 of a zone key: "SE-SE4" → "SE", "DE" → "DE", "" if unknown."""
    head = zone.split("-")[0].upper()
    return head if len(head) == 2 and pycountry.countries.get(alpha_2=head) else ""


def _zone_ensure(key: str, *, name: str = "", synthetic: bool = False) -> GridZone:
    zone, created = GridZone.objects.get_or_create(
        key=key, defaults={"country": zone_country(key), "name": name, "synthetic": synthetic}
    )
    if not created and name and not zone.name:
        zone.name = name
        zone.save(update_fields=["name"])
    return zone


def detect_grid_format(path: Path) -> str:
    """``entsoe``, ``ember``, ``ifi`` or ``emaps_hourly``, from the file's first bytes."""
    with open(path, "rb") as f:  # only the head: the file may be large
        head = f.read(8192)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "entsoe"
    if text.startswith("{"):
        return "ember"
    if "Country / Territory / Island" in text or "Combined Margin" in text:
        return "ifi"
    folded = text.replace("₂", "2").lower()
    if "carbon intensity" in folded or "zone id" in folded or "direct_g_per_kwh" in folded:
        return "emaps_hourly"
    raise NotAGridFile(
        f"{path.name}: not ENTSO-E XML, an Electricity Maps hourly export, Ember JSON "
        "or the IFI grid-factor CSV"
    )


def factor_frame(zones: list[str] | None = None) -> pd.DataFrame:
    """The factor library (or its ``zones`` plus ``_DEFAULT``) in the columns of
    ``ingest.emission_factors`` that ``methodologies.grid`` takes."""
    qs = EmissionFactor.objects.all()
    if zones is not None:
        qs = qs.filter(zone__in=[*zones, EmissionFactor.DEFAULT_ZONE])
    rows = list(qs.values("zone", "kind", "mode", "valid_from", "value_g_per_kwh", "source"))
    frame = pd.DataFrame(
        rows, columns=["zone", "kind", "mode", "valid_from", "value_g_per_kwh", "source"]
    )
    frame["valid_from"] = pd.to_datetime(frame["valid_from"], utc=True)
    frame["value_g_per_kwh"] = frame["value_g_per_kwh"].astype(np.float64)
    return frame


def _series_update(zone: GridZone, year: int, ds: xr.Dataset, path: Path) -> IntensitySeries:
    prov = ds["provenance"].values[0]
    times = pd.DatetimeIndex(ds["time"].values)
    direct = ds["direct"].values[0]
    life = ds["lifecycle"].values[0]
    values = {
        "path": str(path.relative_to(store.root())),
        "sha256": store.file_sha256(path),
        "first_hour": times[0].tz_localize("UTC").to_pydatetime(),
        "last_hour": times[-1].tz_localize("UTC").to_pydatetime(),
        "hours": len(times),
        "measured": int((prov == g.MEASURED).sum()),
        "computed": int((prov == g.COMPUTED).sum()),
        "gap_filled": int((prov == g.GAP_FILLED).sum()),
        "missing": int((prov == g.MISSING).sum()),
        "mean_direct_g_per_kwh": None if np.isnan(direct).all() else float(np.nanmean(direct)),
        "mean_lifecycle_g_per_kwh": None if np.isnan(life).all() else float(np.nanmean(life)),
        "evidence_sha256": ds.attrs.get("evidence_sha256", "").split(),
    }
    series, _ = IntensitySeries.objects.update_or_create(zone=zone, year=year, defaults=values)
    return series


def _locked_series(zone: GridZone, year: int) -> None:
    """Serialise writers of one zone-year: a row lock held until the transaction ends."""
    IntensitySeries.objects.select_for_update().filter(zone=zone, year=year).first()


def intensity_store(
    *,
    ds: xr.Dataset,
    evidence_sha256: str,
    synthetic: frozenset[str] = frozenset(),
    names: dict | None = None,
) -> tuple[int, int, int]:
    """Merge an intensity Dataset (zones × hours) into the store, zone-year by zone-year,
    inside the caller's transaction. Returns (hours added, corrected, unchanged)."""
    added = corrected = unchanged = 0
    times = pd.DatetimeIndex(ds["time"].values)
    for key in [str(z) for z in ds["zone"].values]:
        zone = _zone_ensure(key, name=(names or {}).get(key, ""), synthetic=key in synthetic)
        one = ds.sel(zone=[key])
        for year in sorted(set(times.year)):
            part = one.isel(time=np.flatnonzero(times.year == year))
            if not (part["provenance"].values != g.MISSING).any():
                continue
            _locked_series(zone, year)
            old = store.load_intensity(key, year)
            merged, new, replaced, same = store.merge_intensity(old, part, evidence_sha256)
            path = store.save_intensity(merged, key, year)
            _series_update(zone, year, merged, path)
            added += new
            corrected += replaced
            unchanged += same
    return added, corrected, unchanged


# --------------------------------------------------------------------------- grid ingest


def grid_ingest(*, run: IngestRun) -> IngestOutcome:
    """Ingest one grid-telemetry file (format recognised by content, module docstring)."""
    with _named(run) as path:
        fmt = detect_grid_format(path)
        return GRID_FORMATS[fmt](run, path)


def _finish(
    run: IngestRun,
    meta: dict,
    *,
    accepted: int,
    duplicates: int,
    corrections: int = 0,
    extra: dict | None = None,
) -> IngestOutcome:
    errors = _errors(meta, run.name)
    outcome = IngestOutcome(
        rows_read=meta["rows_read"],
        accepted=accepted,
        rejected=meta["rows_rejected"],
        duplicates=duplicates,
        errors=errors,
        extra={"format": meta.get("format"), **(extra or {})},
    )
    run.corrections = corrections
    ingest_run_finish(run=run, outcome=outcome)
    return outcome


def _ingest_entsoe(run: IngestRun, path: Path) -> IngestOutcome:
    data, meta = read_entsoe(path)
    unmapped = data["zone"] == ""
    if unmapped.any():
        domains = sorted(set(data.loc[unmapped, "domain"]))
        meta["errors"].append(
            RowError(None, "domain", ", ".join(domains), "EIC area not mapped to a grid zone")
        )
        meta["rows_rejected"] += int(unmapped.sum())
        data = data[~unmapped]
    hourly = to_hourly(data)
    kind = meta["kind"]
    sha = run.evidence.sha256
    extra: dict[str, Any] = {
        "entsoe_kind": kind,
        "zones": sorted(set(hourly["zone"])),
        "hours": int(hourly["time_utc"].nunique()),
        "incomplete_hours": int((~hourly["complete"]).sum()) if len(hourly) else 0,
    }
    with transaction.atomic():
        added = corrected = unchanged = 0
        if kind == "generation" and len(hourly):
            mix = g.mix_from_frame(hourly)
            zones = [str(z) for z in mix["zone"].values]
            # The mix first: it is evidence in its own right, kept whatever the factors.
            _mix_store(mix=mix, evidence_sha256=sha)
            ds, lacking = intensity_where_factors(mix, factor_frame(zones))
            gaps = hours_without_factors(mix, lacking)
            meta["errors"].extend(gaps)
            extra["factor_fallback"] = ds.attrs.get("factor_fallback_lifecycle", "")
            extra["hours_without_factors"] = int(lacking.any(axis=2).sum())
            added, corrected, unchanged = intensity_store(ds=ds, evidence_sha256=sha)
            _mix_flag(zones=zones, times=pd.DatetimeIndex(mix["time"].values))
        elif len(hourly):
            added, unchanged = _mix_series_store(hourly=hourly, kind=kind)
        return _finish(
            run,
            meta,
            accepted=added + corrected,
            duplicates=unchanged,
            corrections=corrected,
            extra=extra,
        )


def _mix_store(*, mix: xr.DataArray, evidence_sha256: str) -> None:
    """Add the generation per mode [MW] to each zone-year's mix file, each hour with the
    file it came from (``evidence``: index into the attribute ``evidence_sha256``), so
    that its intensity can be computed, and attributed, when factors arrive later."""
    times = pd.DatetimeIndex(mix["time"].values)
    for key in [str(z) for z in mix["zone"].values]:
        _zone_ensure(key)
        for year in sorted(set(times.year)):
            part = mix.sel(zone=key).isel(time=np.flatnonzero(times.year == year))
            old = store.load_mix(key, year)
            files = old.attrs.get("evidence_sha256", "").split() if old is not None else []
            if evidence_sha256 not in files:
                files.append(evidence_sha256)
            new = xr.Dataset({"generation": part.transpose("mode", "time").astype(np.float64)})
            new["generation"].attrs["units"] = "MW"
            # A float like the file's other variables (its fill value is NaN: unknown).
            code = float(files.index(evidence_sha256))
            new["evidence"] = ("time", np.full(part.sizes["time"], code))
            new = new.drop_vars("zone", errors="ignore")
            merged = store.merge_mix(old, new)
            merged["evidence"].attrs["flag_meaning"] = (
                "index into the evidence_sha256 attribute, NaN unknown"
            )
            merged.attrs["evidence_sha256"] = " ".join(files)
            store.save_mix(merged, key, year)


def _mix_flag(*, zones: list[str], times: pd.DatetimeIndex) -> None:
    """Mark the zone-years' intensity series as having a mix file."""
    IntensitySeries.objects.filter(zone__key__in=zones, year__in=sorted(set(times.year))).update(
        has_mix=True
    )


def intensity_where_factors(
    mix: xr.DataArray, factors: pd.DataFrame
) -> tuple[xr.Dataset, np.ndarray]:
    """The intensity Dataset of ``mix`` (zone, time, mode) [MW] for the hours whose every
    generating mode has a direct and a life-cycle factor (``methodologies.grid.
    intensity_from_mix``: I_k = Σ_m G_m × EF_k,m / Σ_m G_m), and ``lacking``, a bool array
    (zone, time, mode), true where a mode generated without a factor valid at that hour.

    An hour that lacks a factor is not computed from the modes that have one (that would
    understate it): it is left ``missing``, its mix stays stored, and it is computed when
    the factor arrives (:func:`grid_intensity_recompute`)."""
    gen = mix.transpose("zone", "time", "mode")
    zones = [str(z) for z in gen["zone"].values]
    modes = [str(m) for m in gen["mode"].values]
    times = pd.DatetimeIndex(gen["time"].values)
    generating = gen.fillna(0.0).clip(min=0.0).to_numpy() > 0
    lacking = np.zeros(generating.shape, dtype=bool)
    for kind in g.KINDS:
        cube = g.factor_cube(factors, zones, modes, times, kind).to_numpy().transpose(0, 2, 1)
        lacking |= np.isnan(cube) & generating
    without = xr.DataArray(lacking.any(axis=2), dims=("zone", "time"))
    usable = gen.fillna(0.0).where(~without.assign_coords(zone=gen["zone"], time=gen["time"]), 0.0)
    return g.intensity_from_mix(usable, factors), lacking


#: Row errors :func:`hours_without_factors` gives at most per zone (runs of hours).
MAX_GAP_ERRORS = 50


def hours_without_factors(mix: xr.DataArray, lacking: np.ndarray) -> list[RowError]:
    """One :class:`RowError` per zone and run of consecutive hours that lack a factor,
    naming the hours and the modes without one."""
    gen = mix.transpose("zone", "time", "mode")
    zones = [str(z) for z in gen["zone"].values]
    modes = np.asarray([str(m) for m in gen["mode"].values])
    times = pd.DatetimeIndex(gen["time"].values)
    errors = []
    for z, zone in enumerate(zones):
        hours = np.flatnonzero(lacking[z].any(axis=1))
        if not len(hours):
            continue
        runs = np.split(hours, np.flatnonzero(np.diff(hours) != 1) + 1)
        for run in runs[:MAX_GAP_ERRORS]:
            first, last = times[run[0]], times[run[-1]] + pd.Timedelta("1h")
            missing = ", ".join(modes[lacking[z][run].any(axis=0)])
            errors.append(
                RowError(
                    None,
                    "factor",
                    f"{zone} {first:%Y-%m-%dT%H:%MZ}/{last:%Y-%m-%dT%H:%MZ} ({len(run)} h)",
                    f"no emission factor valid for {missing}: the generation mix of these "
                    "hours is stored, and their intensity is computed when the factor "
                    "library is loaded (python manage.py ingest factors PATH)",
                )
            )
        if len(runs) > MAX_GAP_ERRORS:
            left = sum(len(r) for r in runs[MAX_GAP_ERRORS:])
            errors.append(
                RowError(
                    None,
                    "factor",
                    f"{zone} ({len(runs) - MAX_GAP_ERRORS} more runs, {left} h)",
                    "no emission factor valid for some generating modes",
                )
            )
    return errors


def mix_zones() -> list[str]:
    """Zones with a generation-mix file in the store."""
    return sorted({name.split("/")[1] for name in store.names_under("mix/")})


def grid_intensity_recompute(*, zones: list[str] | None = None) -> dict[str, int]:
    """Compute the intensity of every stored generation-mix hour of ``zones`` (all zones
    with a mix when None) from the factor library as it is now, and merge it into the
    intensity store as an ENTSO-E ingest would (same values: unchanged; other values: a
    correction), each hour attributed to the file its mix came from. Called by
    :func:`factors_ingest` inside its transaction, so that a mix ingested before its
    factors gets its intensity when they arrive, and the same mix and library give the
    same store in either order. Returns counts: ``hours_added``, ``hours_corrected``,
    ``hours_unchanged``, ``hours_without_factors``."""
    counts = dict.fromkeys(
        ("hours_added", "hours_corrected", "hours_unchanged", "hours_without_factors"), 0
    )
    keys = mix_zones() if zones is None else [z for z in zones if z in set(mix_zones())]
    if not keys:
        return counts
    factors = factor_frame(keys)
    for key in keys:
        for year in store.mix_years(key):
            stored = store.load_mix(key, year)
            if stored is None or "generation" not in stored or "evidence" not in stored:
                continue  # a file written before mixes kept their evidence
            files = stored.attrs.get("evidence_sha256", "").split()
            codes = np.nan_to_num(stored["evidence"].values, nan=-1.0).astype(np.int64)
            generation = stored["generation"].fillna(0.0).expand_dims(zone=[key])
            for code in sorted(set(codes[codes >= 0].tolist())):
                part = generation.isel(time=np.flatnonzero(codes == code))
                mix = part.transpose("zone", "time", "mode")
                ds, lacking = intensity_where_factors(mix, factors)
                counts["hours_without_factors"] += int(lacking.any(axis=2).sum())
                added, corrected, same = intensity_store(ds=ds, evidence_sha256=files[code])
                counts["hours_added"] += added
                counts["hours_corrected"] += corrected
                counts["hours_unchanged"] += same
            IntensitySeries.objects.filter(zone__key=key, year=year).update(has_mix=True)
    return counts


MIX_VARIABLES = {"load": ("load_mw", "MW"), "day_ahead_price": ("price_eur_per_mwh", "EUR/MWh")}


def _mix_series_store(*, hourly: pd.DataFrame, kind: str) -> tuple[int, int]:
    """Load or day-ahead prices into each zone-year's mix file; (hours new, unchanged)."""
    name, unit = MIX_VARIABLES.get(kind, (kind, ""))
    added = unchanged = 0
    for key, rows in hourly.groupby("zone"):
        zone = _zone_ensure(str(key))
        series = rows.groupby("time_utc")["value"].mean()
        times = pd.DatetimeIndex(series.index).tz_convert(None).rename(None)
        for year in sorted(set(times.year)):
            pick = times.year == year
            new = xr.Dataset(
                {name: ("time", series.to_numpy()[pick], {"units": unit})},
                coords={"time": times[pick]},
            )
            old = store.load_mix(str(key), year)
            if old is not None and name in old:
                before = old[name].reindex(time=new["time"]).values
                same = before == new[name].values
            else:
                same = np.zeros(int(pick.sum()), dtype=bool)
            unchanged += int(same.sum())
            added += int((~same).sum())
            store.save_mix(store.merge_mix(old, new), str(key), year)
            IntensitySeries.objects.filter(zone=zone, year=year).update(has_mix=True)
    return added, unchanged


def _ingest_emaps_hourly(run: IngestRun, path: Path) -> IngestOutcome:
    data, meta = read_emaps_hourly(path)
    names = dict(zip(data["zone"], data["zone_name"], strict=False))
    made_up = data["data_source"].str.contains("synthetic", case=False, regex=False)
    synthetic = frozenset(data.loc[made_up, "zone"])
    with transaction.atomic():
        added = corrected = unchanged = 0
        if len(data):
            ds = g.from_hourly_export(data)
            added, corrected, unchanged = intensity_store(
                ds=ds, evidence_sha256=run.evidence.sha256, names=names, synthetic=synthetic
            )
        return _finish(
            run,
            meta,
            accepted=added + corrected,
            duplicates=unchanged,
            corrections=corrected,
            extra={"zones": meta["zones"], "estimated_rows": meta["estimated_rows"]},
        )


def _averages_store(
    run: IngestRun, meta: dict, rows: list[GridAverage], per_line: int
) -> IngestOutcome:
    with transaction.atomic():
        existing = {
            (a.basis, a.code, a.year): a
            for a in GridAverage.objects.filter(basis__in={r.basis for r in rows})
        }
        new, changed, same = [], [], 0
        for row in rows:
            old = existing.get((row.basis, row.code, row.year))
            if old is None:
                new.append(row)
            elif old.value_g_per_kwh != row.value_g_per_kwh:
                old.value_g_per_kwh, old.ingest_run = row.value_g_per_kwh, run
                changed.append(old)
            else:
                same += 1
        GridAverage.objects.bulk_create(new, batch_size=1000)
        GridAverage.objects.bulk_update(changed, ["value_g_per_kwh", "ingest_run"])
        return _finish(
            run,
            meta,
            accepted=(len(new) + len(changed)) // per_line,
            duplicates=same // per_line,
            corrections=len(changed) // per_line,
            extra={"basis": sorted({r.basis for r in rows})},
        )


def _ingest_ember(run: IngestRun, path: Path) -> IngestOutcome:
    data, meta = read_ember(path)
    rows = [
        GridAverage(
            basis=GridAverage.Basis.EMBER,
            code=r.code,
            iso2=r.iso2,
            name=r.name,
            year=int(r.year),
            kind="lifecycle",  # Ember computes intensities with life-cycle factors
            value_g_per_kwh=float(r.intensity_g_per_kwh),
            is_region=bool(r.is_region),
            source=EMBER_SOURCE,
            source_line=int(r.source_line),
            ingest_run=run,
        )
        for r in data.itertuples(index=False)
    ]
    return _averages_store(run, meta, rows, per_line=1)


def _ingest_ifi(run: IngestRun, path: Path) -> IngestOutcome:
    data, meta = read_ifi(path)
    rows = []
    for r in data.itertuples(index=False):
        code = r.iso3 or r.name
        for basis, value in (
            (GridAverage.Basis.IFI_CM, r.cm_firm_g_per_kwh),
            (GridAverage.Basis.IFI_OM, r.om_g_per_kwh),
        ):
            rows.append(
                GridAverage(
                    basis=basis,
                    code=code[:64],
                    iso2=r.iso2,
                    name=r.name,
                    year=IFI_YEAR,
                    kind="direct",  # combustion CO2 of the marginal plants
                    value_g_per_kwh=float(value),
                    is_region=bool(r.is_region),
                    source=IFI_SOURCE,
                    source_line=int(r.source_line),
                    ingest_run=run,
                )
            )
    return _averages_store(run, meta, rows, per_line=2)


GRID_FORMATS = {
    "entsoe": _ingest_entsoe,
    "emaps_hourly": _ingest_emaps_hourly,
    "ember": _ingest_ember,
    "ifi": _ingest_ifi,
}


# --------------------------------------------------------------------------- factors


def factors_ingest(*, run: IngestRun) -> IngestOutcome:
    """Load an emission-factor library; validity periods of the touched (zone, kind, mode)
    are recomputed (each entry valid until the next one's ``valid_from``)."""
    with _named(run) as path:
        data, meta = read_emission_factors(path)
    rows = []
    for r in data.itertuples(index=False):
        valid_from = None if pd.isna(r.valid_from) else r.valid_from.to_pydatetime()
        rows.append(
            EmissionFactor(
                natural_key=EmissionFactor.make_key(r.zone, r.kind, r.mode, valid_from),
                zone=r.zone,
                kind=r.kind,
                mode=r.mode,
                valid_from=valid_from,
                value_g_per_kwh=float(r.value_g_per_kwh),
                source=r.source,
                comment=r.comment,
                file=r.file,
                source_line=int(r.source_line),
                ingest_run=run,
            )
        )
    with transaction.atomic():
        keys = [r.natural_key for r in rows]
        existing = {
            f.natural_key: f
            for chunk in range(0, len(keys), 2000)
            for f in EmissionFactor.objects.filter(natural_key__in=keys[chunk : chunk + 2000])
        }
        new, changed, same = [], [], 0
        for row in rows:
            old = existing.get(row.natural_key)
            if old is None:
                new.append(row)
            elif (old.value_g_per_kwh, old.source) != (row.value_g_per_kwh, row.source):
                old.value_g_per_kwh, old.source, old.ingest_run = (
                    row.value_g_per_kwh,
                    row.source,
                    run,
                )
                changed.append(old)
            else:
                same += 1
        EmissionFactor.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
        EmissionFactor.objects.bulk_update(
            changed, ["value_g_per_kwh", "source", "ingest_run"], batch_size=2000
        )
        _validity_update({(r.zone, r.kind, r.mode) for r in new})
        touched = {r.zone for r in [*new, *changed]}
        recomputed = {}
        if touched:
            # Stored mixes of the touched zones get their intensity (issue #15, item 18).
            everywhere = EmissionFactor.DEFAULT_ZONE in touched
            recomputed = grid_intensity_recompute(zones=None if everywhere else sorted(touched))
        return _finish(
            run,
            meta,
            accepted=len(new) + len(changed),
            duplicates=same,
            corrections=len(changed),
            extra={"zones": len(meta["zones"]), "unit": meta["unit"], "intensity": recomputed},
        )


def _validity_update(groups: set[tuple[str, str, str]]) -> None:
    """``valid_to`` of each entry = the next entry's ``valid_from`` in its (zone, kind, mode),
    in one set-based UPDATE over the zones touched."""
    if not groups:
        return
    floor = Value(dt.datetime(1, 1, 1, tzinfo=dt.UTC), output_field=DateTimeField())
    following = (
        EmissionFactor.objects.filter(
            zone=OuterRef("zone"),
            kind=OuterRef("kind"),
            mode=OuterRef("mode"),
            valid_from__gt=Coalesce(OuterRef("valid_from"), floor),
        )
        .order_by("valid_from")
        .values("valid_from")[:1]
    )
    EmissionFactor.objects.filter(zone__in={z for z, _, _ in groups}).update(
        valid_to=Subquery(following)
    )


# --------------------------------------------------------------------------- hydrogen


def _trace_text(result: dict[str, Any]) -> str:
    """The canonical bytes of an engine result's trace, as text. ``build_trace`` already
    made the trace plain JSON types, so RFC 8785 serialisation alone gives the bytes
    ``methodologies.trace.canonical_bytes`` would (checked against ``trace_sha256``)."""
    data = rfc8785.dumps(result["trace"])
    if hashlib.sha256(data).hexdigest() != result["trace_sha256"]:
        data = canonical_bytes(result["trace"])
    return data.decode()


def _profile_sha256(profile: dict) -> str:
    return hashlib.sha256(canonical_bytes(profile)).hexdigest()


def hydrogen_matching(
    *,
    renewable_mwh: np.ndarray,
    consumption_mwh: np.ndarray,
    intensity: np.ndarray,
    times: pd.DatetimeIndex,
) -> dict[str, dict[str, list]]:
    """The electrolyser's electricity split per matching period [MWh] (DR 2023/1184 Art. 6).

    Hourly: renewable counted in an hour = min(PPA output, consumption) of that hour, the
    rest from the grid at that hour's intensity. Monthly: renewable counted in a month =
    min(Σ PPA output, Σ consumption) of the month, the rest from the grid at the month's
    consumption-weighted intensity Σ C_h I_h / Σ C_h (the zone's mean where C is 0).
    Months are calendar months of ``times``' own time zone: pass the hours in the bidding
    zone's local time. ``monthly["period_start"]`` holds each month's local start."""
    ren = np.asarray(renewable_mwh, dtype=np.float64)
    use = np.asarray(consumption_mwh, dtype=np.float64)
    inten = np.asarray(intensity, dtype=np.float64)
    matched = np.minimum(ren, use)
    hourly = {
        "renewable_electricity_mwh": matched.tolist(),
        "grid_electricity_mwh": (use - matched).tolist(),
        "grid_intensity_g_per_kwh": inten.tolist(),
    }
    # Calendar months of the times' own (local) clock, in order: (year, month) → 0, 1, …
    stamp = times.year.to_numpy() * 12 + times.month.to_numpy() - 1
    _, month = np.unique(stamp, return_inverse=True)
    present = np.unique(month)
    starts = [
        pd.Timestamp(year=int(k // 12), month=int(k % 12) + 1, day=1, tz=times.tz)
        for k in np.unique(stamp)
    ]
    r_m = np.bincount(month, weights=ren)[present]
    c_m = np.bincount(month, weights=use)[present]
    ci_m = np.bincount(month, weights=use * inten)[present]
    i_mean = (np.bincount(month, weights=inten) / np.maximum(np.bincount(month), 1))[present]
    i_m = np.divide(ci_m, c_m, out=i_mean.copy(), where=c_m > 0)
    matched_m = np.minimum(r_m, c_m)
    monthly = {
        "renewable_electricity_mwh": matched_m.tolist(),
        "grid_electricity_mwh": (c_m - matched_m).tolist(),
        "grid_intensity_g_per_kwh": i_m.tolist(),
        "months": [s.month for s in starts],
        "period_start": [s.isoformat() for s in starts],
    }
    return {"hourly": hourly, "monthly": monthly}


def hydrogen_assessment_run(
    *,
    installation,
    start: dt.datetime,
    renewable_mwh: list[float] | np.ndarray,
    consumption_mwh: list[float] | np.ndarray,
    electrolyser_efficiency: float,
    kind: str = "lifecycle",
    prevailing_wage: bool = True,
    actor: Any = None,
) -> HydrogenAssessment:
    """Assess an electrolyser over hourly profiles starting at ``start`` (aware, on the
    hour; one calendar year at most): its zone's hourly intensity (``kind``, through the
    fallback chain hour by hour, gap-filled hours flagged), the RFNBO verdict under
    monthly and under hourly temporal correlation (``hydrogen.rfnbo``), and the 45V tier
    of the hourly-matched life-cycle rate (``hydrogen.us45v``). The same profile assessed
    again returns the stored assessment."""
    from apps.grid.selectors import hourly_intensity_for

    ren = np.asarray(renewable_mwh, dtype=np.float64)
    use = np.asarray(consumption_mwh, dtype=np.float64)
    if ren.shape != use.shape or ren.ndim != 1 or not len(ren):
        raise ValueError("renewable and consumption profiles must be equal-length 1-D arrays")
    stamp = pd.Timestamp(start)
    if stamp.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    stamp = stamp.tz_convert("UTC")
    times = pd.date_range(stamp, periods=len(ren), freq="h")
    if times[-1].year != stamp.year:
        raise ValueError("the profile must lie within one calendar year")
    year = stamp.year
    zone = installation.grid_zone or installation.country
    profile = {
        "start": stamp.isoformat(),
        "renewable_mwh": ren.tolist(),
        "consumption_mwh": use.tolist(),
        "electrolyser_efficiency": electrolyser_efficiency,
        "prevailing_wage": prevailing_wage,
    }
    sha = _profile_sha256(profile)
    found = HydrogenAssessment.objects.filter(
        installation=installation, year=year, profile_sha256=sha, kind=kind
    ).first()
    if found is not None:
        return found
    hourly_i = hourly_intensity_for(zone=zone, country=installation.country, times=times, kind=kind)
    # DR 2023/1184 Art. 6: calendar months and hours of the bidding zone's local time.
    local = times.tz_convert(zone_timezone(zone, installation.country))
    # (In a zone whose offset is not a whole hour, such as India's +05:30, an hour of the
    # profile counts in the local month in which it starts.)
    split = hydrogen_matching(
        renewable_mwh=ren, consumption_mwh=use, intensity=hourly_i.values, times=local
    )
    results = {}
    for period in ("monthly", "hourly"):
        when = (
            {"period_start": split["monthly"]["period_start"]}
            if period == "monthly"
            else {"year": int(local[0].year)}
        )
        case = {
            "methodology": "hydrogen.rfnbo",
            "period": period,
            "electrolyser_efficiency": electrolyser_efficiency,
            **when,
            **{k: v for k, v in split[period].items() if k not in ("months", "period_start")},
        }
        results[period] = hydrogen.run_rfnbo(case)
    lifecycle_rate = results["hourly"]["ghg_intensity_kg_per_kg"]
    us45v = hydrogen.run_us45v(
        {
            "methodology": "hydrogen.us45v",
            "lifecycle_kg_per_kg": lifecycle_rate,
            "prevailing_wage": prevailing_wage,
            "production_kg": results["hourly"]["hydrogen_kg"],
        }
    )
    with transaction.atomic():
        assessment = HydrogenAssessment.objects.create(
            installation=installation,
            year=year,
            zone=zone,
            kind=kind,
            profile=profile,
            profile_sha256=sha,
            monthly_passes=results["monthly"]["passes"],
            hourly_passes=results["hourly"]["passes"],
            monthly_g_per_mj=results["monthly"]["ghg_intensity_g_per_mj"],
            hourly_g_per_mj=results["hourly"]["ghg_intensity_g_per_mj"],
            monthly_rfnbo_share=results["monthly"]["rfnbo_share"],
            hourly_rfnbo_share=results["hourly"]["rfnbo_share"],
            hydrogen_kg=results["hourly"]["hydrogen_kg"],
            us45v_tier_share=us45v["tier_share"],
            us45v_credit_usd_per_kg=us45v["credit_usd_per_kg"],
            gap_filled_hours=hourly_i.gap_filled_hours,
            intensity_steps={
                **hourly_i.as_dict(),
                "gap_filled_index": np.flatnonzero(hourly_i.provenance == g.GAP_FILLED).tolist(),
                "fallback_index": np.flatnonzero(hourly_i.provenance >= 4).tolist(),
            },
            monthly_trace=_trace_text(results["monthly"]),
            monthly_trace_sha256=results["monthly"]["trace_sha256"],
            hourly_trace=_trace_text(results["hourly"]),
            hourly_trace_sha256=results["hourly"]["trace_sha256"],
            us45v_trace=_trace_text(us45v),
            us45v_trace_sha256=us45v["trace_sha256"],
        )
        audit_append(
            actor=actor,
            action="hydrogen.assess",
            object_type="hydrogen_assessment",
            object_id=assessment.pk,
            payload={
                "installation": installation.identifier,
                "year": year,
                "monthly_trace_sha256": assessment.monthly_trace_sha256,
                "hourly_trace_sha256": assessment.hourly_trace_sha256,
                "us45v_trace_sha256": assessment.us45v_trace_sha256,
            },
        )
    return assessment
