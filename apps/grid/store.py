"""The hourly-intensity store: NetCDF files under ``settings.VAR_DIR / "grid"``.

Layout (one zone × one calendar year per file, so a writer rewrites only what it adds to
and a reader opens only the zone-years it needs)::

    <VAR_DIR>/grid/intensity/<zone>/<year>.nc   the Dataset of methodologies.grid
                                               (direct, lifecycle, provenance, fill_method)
                                               + ``evidence`` (int16: index into the
                                               attribute ``evidence_sha256``, −1 none)
    <VAR_DIR>/grid/mix/<zone>/<year>.nc        generation per mode [MW], load [MW],
                                               day-ahead price [EUR/MWh], hourly

Files are written to a temporary name and renamed (``os.replace``), so a reader never
sees half a file; writers of one zone-year are serialised by a row lock on its
:class:`~apps.grid.models.IntensitySeries` (``apps.grid.services``).

Several hosts: the bytes of every file are kept in the database
(:class:`~apps.grid.models.GridStoreFile`, written in the writer's transaction), and the
files under ``<VAR_DIR>/grid`` are this host's copies: before a file is read, its SHA-256
(kept beside it as ``<file>.sha256``) is checked against the database's, and a missing or
older copy is fetched first. A host never reads a zone-year another host has changed
since (docs/operations-workers.md, "Several hosts").

Merging new hours into a file: an hour keeps the value of the best provenance
(measured > computed > the publisher's own estimate); our own gap fills are dropped and
redone after every merge (``methodologies.grid.fill_gaps``) on the regular hourly axis
from the file's first to its last hour, so a gap that new data covers stops being filled.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings

from methodologies import grid as g

if TYPE_CHECKING:
    import xarray as xr


def root() -> Path:
    return Path(settings.VAR_DIR) / "grid"


def intensity_path(zone: str, year: int) -> Path:
    return root() / "intensity" / zone / f"{year}.nc"


def mix_path(zone: str, year: int) -> Path:
    return root() / "mix" / zone / f"{year}.nc"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _name(path: Path) -> str:
    return path.relative_to(root()).as_posix()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _place(path: Path, data: bytes, sha: str) -> None:
    """Write this host's copy of a file (atomically), then the hash it holds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".nc")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _sidecar(path).write_text(sha)


def _atomic_write(ds: xr.Dataset, path: Path, writer) -> None:
    """Write ``ds`` as the file ``path`` of the store: its bytes to the database (in the
    caller's transaction), and this host's copy."""
    from apps.grid.models import GridStoreFile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".nc")
    os.close(fd)
    try:
        writer(ds, tmp)
        data = Path(tmp).read_bytes()
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    sha = hashlib.sha256(data).hexdigest()
    GridStoreFile.objects.update_or_create(name=_name(path), defaults={"sha256": sha, "data": data})
    _place(path, data, sha)


def _current(path: Path) -> Path | None:
    """``path`` as the database holds it now (fetched when this host's copy is missing or
    older), or None when the store has no such file."""
    from apps.grid.models import GridStoreFile

    sha = GridStoreFile.objects.filter(name=_name(path)).values_list("sha256", flat=True).first()
    if sha is None:
        return None
    side = _sidecar(path)
    if not (path.exists() and side.exists() and side.read_text() == sha):
        data = GridStoreFile.objects.filter(name=_name(path)).values_list("data", flat=True).get()
        _place(path, bytes(data), sha)
    return path


def names_under(prefix: str) -> list[str]:
    """Names of the store's files under ``prefix`` (e.g. ``mix/``), from the database."""
    from apps.grid.models import GridStoreFile

    return sorted(
        GridStoreFile.objects.filter(name__startswith=prefix).values_list("name", flat=True)
    )


def _evidence_list(ds: xr.Dataset) -> list[str]:
    text = ds.attrs.get("evidence_sha256", "")
    return text.split() if text else []


def load_intensity(zone: str, year: int) -> xr.Dataset | None:
    """The stored zone-year fully in memory (for merging), or None."""
    import xarray as xr

    path = _current(intensity_path(zone, year))
    if path is None:
        return None
    with xr.open_dataset(path, engine="netcdf4", cache=False) as ds:
        return ds.load()


def merge_intensity(
    old: xr.Dataset | None, new: xr.Dataset, evidence_sha256: str
) -> tuple[xr.Dataset, int, int, int]:
    """Merge ``new`` (one zone, hours of one year, provenance measured/computed/estimated)
    into ``old``; returns (dataset with gaps refilled, hours added, hours corrected, hours
    unchanged). ``new``'s values carry ``evidence_sha256``."""
    import pandas as pd

    zone = str(new["zone"].values[0])
    new_times = pd.DatetimeIndex(new["time"].values)
    evidence = _evidence_list(old) if old is not None else []
    if evidence_sha256 not in evidence:
        evidence.append(evidence_sha256)
    code = evidence.index(evidence_sha256)
    if old is not None:
        times = pd.DatetimeIndex(old["time"].values).union(new_times)
    else:
        times = new_times
    times = pd.date_range(times.min(), times.max(), freq="h")
    n = len(times)
    direct = np.full(n, np.nan)
    life = np.full(n, np.nan)
    prov = np.full(n, g.MISSING, dtype=np.int8)
    method = np.zeros(n, dtype=np.int8)
    source = np.full(n, -1, dtype=np.int16)
    if old is not None:
        at = times.get_indexer(pd.DatetimeIndex(old["time"].values))
        o_prov = old["provenance"].values[0].astype(np.int8)
        o_method = old["fill_method"].values[0].astype(np.int8)
        # keep what came from evidence: measured, computed, the publisher's estimates
        keep = (o_prov != g.MISSING) & ~((o_prov == g.GAP_FILLED) & (o_method != g.SOURCE_ESTIMATE))
        direct[at[keep]] = old["direct"].values[0][keep]
        life[at[keep]] = old["lifecycle"].values[0][keep]
        prov[at[keep]] = o_prov[keep]
        method[at[keep]] = o_method[keep]
        source[at[keep]] = old["evidence"].values[0][keep]
    at = times.get_indexer(new_times)
    n_prov = new["provenance"].values[0].astype(np.int8)
    n_method = new["fill_method"].values[0].astype(np.int8)
    n_direct = new["direct"].values[0]
    n_life = new["lifecycle"].values[0]
    has = n_prov != g.MISSING
    same = has & (prov[at] == n_prov) & (direct[at] == n_direct) & (life[at] == n_life)
    # the provenance codes are their ranks: measured 0 < computed 1 < estimated 2 < missing 3
    take = has & ~same & (n_prov <= prov[at])
    corrected = take & (prov[at] != g.MISSING)  # replaces a value that came from evidence
    direct[at[take]] = n_direct[take]
    life[at[take]] = n_life[take]
    prov[at[take]] = n_prov[take]
    method[at[take]] = n_method[take]
    source[at[take]] = code
    merged = g.intensity_dataset([zone], times, direct[None], life[None], prov[None], method[None])
    filled = g.fill_gaps(merged)
    filled["evidence"] = (("zone", "time"), source[None])
    filled["evidence"].attrs["flag_meaning"] = "index into the evidence_sha256 attribute, -1 none"
    filled.attrs["evidence_sha256"] = " ".join(evidence)
    filled.attrs["gap_rule"] = (
        "linear <= 3 h; same hour of week in the surrounding 4 weeks; zone annual mean "
        "(methodologies.grid.fill_gaps)"
    )
    return filled, int((take & ~corrected).sum()), int(corrected.sum()), int(same.sum())


def save_intensity(ds: xr.Dataset, zone: str, year: int) -> Path:
    path = intensity_path(zone, year)
    _atomic_write(ds, path, g.save_intensity)
    return path


def open_intensity(
    zones: list[str], start=None, end=None, years: list[int] | None = None
) -> xr.Dataset | None:
    """Lazily open the stored hours of ``zones`` in [start, end) (aware datetimes): only
    the files of those zone-years are opened and nothing is read until values are used.
    Zones without a file are left out; None when no zone has one."""
    import pandas as pd
    import xarray as xr

    if years is None:
        y0 = start.year if start is not None else 1970
        y1 = (end - pd.Timedelta("1ns")).year if end is not None else 2100
        years = list(range(y0, y1 + 1))
    per_zone = []
    for zone in zones:
        wanted = {f"intensity/{zone}/{y}.nc" for y in years}
        present = [n for n in names_under(f"intensity/{zone}/") if n in wanted]
        paths = [_current(root() / n) for n in present]
        if not paths:
            continue
        parts = [g.open_intensity(p, start=start, end=end) for p in paths]
        parts = [p for p in parts if p.sizes["time"]]
        if parts:
            per_zone.append(xr.concat(parts, dim="time") if len(parts) > 1 else parts[0])
    if not per_zone:
        return None
    if len(per_zone) == 1:
        return per_zone[0]
    return xr.concat(per_zone, dim="zone", join="outer")


# --------------------------------------------------------------------------- mix


def merge_mix(old: xr.Dataset | None, new: xr.Dataset) -> xr.Dataset:
    """Union of two mix Datasets (variables over ``time``; ``generation`` over
    ``mode`` × ``time``); the new values win where both have one."""
    if old is None:
        return new
    return new.combine_first(old)


def save_mix(ds: xr.Dataset, zone: str, year: int) -> Path:
    path = mix_path(zone, year)

    def write(data: xr.Dataset, target: str) -> None:
        encoding = {
            name: {"zlib": True, "complevel": 1, "_FillValue": np.nan} for name in data.data_vars
        }
        encoding["time"] = {"units": "hours since 1970-01-01 00:00:00", "dtype": "int64"}
        data.to_netcdf(target, engine="netcdf4", encoding=encoding)

    _atomic_write(ds, path, write)
    return path


def load_mix(zone: str, year: int) -> xr.Dataset | None:
    import xarray as xr

    path = _current(mix_path(zone, year))
    if path is None:
        return None
    with xr.open_dataset(path, engine="netcdf4", cache=False) as ds:
        return ds.load()


def mix_years(zone: str) -> list[int]:
    """Years with a mix file for ``zone``."""
    stems = [Path(n).stem for n in names_under(f"mix/{zone}/")]
    return sorted(int(stem) for stem in stems if stem.isdigit())
