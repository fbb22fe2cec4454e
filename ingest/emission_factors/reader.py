"""Reader for emission-factor libraries in the Electricity Maps config schema.

Electricity Maps (electricitymaps-contrib, ``config/defaults.yaml`` and
``config/zones/<ZONE>.yaml``) gives, per production mode, a **direct** (combustion) and a
**lifecycle** emission factor in gCO2eq/kWh of electricity produced::

    emissionFactors:
      direct:
        coal:                      # one value, always valid ...
          source: IPCC 2014
          value: 820
        gas:                       # ... or dated values: each valid from its datetime
          - datetime: '2017-01-01'  # until the next one
            source: EU-ETS 2025, ENTSO-E 2017
            value: 400.5
      lifecycle: {...}

``defaults.yaml`` holds the global fallback (zone ``_DEFAULT``); a zone file overrides some
modes. The flattened table ``emission_factors_flat.csv`` (shared/data README §3) has one row
per entry: ``zone, kind, mode, valid_from, value_gco2eq_per_kwh, source, comment``.

A path may be a YAML file (``defaults.yaml`` → zone ``_DEFAULT``, else the file stem is the
zone), a config folder (``defaults.yaml`` plus ``zones/*.yaml``) or the flattened CSV.
A ``datetime`` is a date (or date-time) read as UTC; an entry without one is always valid
(``valid_from`` NaT).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ingest.base import IngestError, RowError, UnreadableFile
from ingest.tabular import (
    column_text,
    load_table,
    parse_numbers,
    require_columns,
    row_errors,
)

SOURCE = "factors"
DEFAULT_ZONE = "_DEFAULT"
KINDS = ("direct", "lifecycle")
UNIT = "gCO2eq/kWh"

COLUMNS = [
    "zone",
    "kind",
    "mode",
    "valid_from",
    "value_g_per_kwh",
    "source",
    "comment",
    "file",
    "source_line",
]

#: Field → header names of the flattened CSV.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "zone": ("zone", "zone_key"),
    "kind": ("kind", "type"),
    "mode": ("mode", "production_mode"),
    "valid_from": ("valid_from", "datetime"),
    "value_g_per_kwh": ("value_gco2eq_per_kwh", "value_g_per_kwh", "value"),
    "source": ("source",),
    "comment": ("comment", "_comment"),
}
REQUIRED = ("zone", "kind", "mode", "value_g_per_kwh")


def _timestamp(text: str) -> pd.Timestamp | None:
    """A ``datetime`` value as a UTC timestamp; None if it is not a date."""
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        return None
    if stamp is pd.NaT:
        return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


# --- YAML ------------------------------------------------------------------------------


def _node(mapping: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(mapping, yaml.MappingNode):
        return None
    for key_node, value_node in mapping.value:
        if key_node.value == key:
            return value_node
    return None


def _yaml_rows(path: Path, zone: str) -> tuple[list[dict[str, Any]], list[RowError], int]:
    """Rows of one YAML file, its row errors, and the number of entries read."""
    try:
        text = path.read_text(encoding="utf-8")
        # Aliases share one node, so a few lines of nested aliases name 10⁹ values that any
        # walk over them (or str() of an entry) expands: YAML's billion laughs. The
        # Electricity Maps files use none; refuse them before anything is built.
        for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1
                raise UnreadableFile(
                    path, f"line {line}: YAML aliases (*{event.anchor}) are refused (alias bomb)"
                )
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        loaded = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UnreadableFile(path, f"not readable YAML ({exc})") from exc
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    factors = (loaded or {}).get("emissionFactors") if isinstance(loaded, dict) else None
    if factors is None:
        return rows, errors, 0
    factors_node = _node(root, "emissionFactors")
    read = 0
    for kind, modes in factors.items():
        kind_node = _node(factors_node, kind)
        if kind not in KINDS or not isinstance(modes, dict):
            line = kind_node.start_mark.line + 1 if kind_node is not None else None
            errors.append(RowError(line, "kind", str(kind), "kind must be direct or lifecycle"))
            read += 1
            continue
        for mode, entries in modes.items():
            mode_node = _node(kind_node, mode)
            entry_nodes = (
                mode_node.value if isinstance(mode_node, yaml.SequenceNode) else [mode_node]
            )
            entries = entries if isinstance(entries, list) else [entries]
            for entry, node in zip(entries, entry_nodes, strict=True):
                read += 1
                line = node.start_mark.line + 1 if node is not None else None
                file = path.name
                if not isinstance(entry, dict):
                    errors.append(
                        RowError(line, "value_g_per_kwh", str(entry), "entry must be a mapping")
                    )
                    continue
                value = entry.get("value")
                if isinstance(value, bool) or not isinstance(value, int | float):
                    errors.append(
                        RowError(line, "value_g_per_kwh", str(value), "value is not a number")
                    )
                    continue
                if not np.isfinite(value) or value < 0:
                    errors.append(
                        RowError(line, "value_g_per_kwh", str(value), "value must be >= 0")
                    )
                    continue
                when = entry.get("datetime")
                valid_from = None
                if when is not None:
                    valid_from = _timestamp(str(when))
                    if valid_from is None:
                        errors.append(
                            RowError(line, "valid_from", str(when), "datetime is not a date")
                        )
                        continue
                rows.append(
                    {
                        "zone": zone,
                        "kind": kind,
                        "mode": str(mode),
                        "valid_from": valid_from,
                        "value_g_per_kwh": float(value),
                        "source": str(entry.get("source") or ""),
                        "comment": " ".join(str(entry.get("_comment") or "").split()),
                        "file": file,
                        "source_line": line or 0,
                    }
                )
    return rows, errors, read


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    data = pd.DataFrame(rows, columns=COLUMNS)
    data["valid_from"] = pd.to_datetime(data["valid_from"], utc=True).astype("datetime64[ns, UTC]")
    data["value_g_per_kwh"] = data["value_g_per_kwh"].astype(np.float64)
    data["source_line"] = data["source_line"].astype(np.int64)
    for name in ("zone", "kind", "mode", "source", "comment", "file"):
        data[name] = data[name].astype(str)
    return data


def _read_yaml(paths: list[tuple[Path, str]]) -> tuple[pd.DataFrame, list[RowError], int]:
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    read = 0
    for path, zone in paths:
        file_rows, file_errors, file_read = _yaml_rows(path, zone)
        rows += file_rows
        errors += [
            RowError(e.line, e.field, e.value, f"{path.name}: {e.reason}") for e in file_errors
        ]
        read += file_read
    return _frame(rows), errors, read


# --- CSV -------------------------------------------------------------------------------


def _read_csv(path: Path) -> tuple[pd.DataFrame, list[RowError], int, dict]:
    table = load_table(path)
    columns, _ = require_columns(path, table, COLUMN_ALIASES, REQUIRED)
    cells, lines = table.frame, table.lines
    n = len(cells)
    text = column_text(table, columns)

    errors = list(table.errors)
    reject = np.zeros(n, dtype=bool)

    def check(mask: np.ndarray, name: str, values: pd.Series, reason: Any) -> None:
        errors.extend(row_errors(mask, lines, values, name, reason))
        reject[mask] = True

    data = pd.DataFrame(index=cells.index)
    data["zone"] = text("zone")
    check((data["zone"] == "").to_numpy(), "zone", data["zone"], "zone is empty")
    data["kind"] = text("kind")
    check(
        ~data["kind"].isin(KINDS).to_numpy(),
        "kind",
        data["kind"],
        "kind must be direct or lifecycle",
    )
    data["mode"] = text("mode")
    check((data["mode"] == "").to_numpy(), "mode", data["mode"], "mode is empty")
    when = text("valid_from")
    uniques = pd.unique(when)
    stamps = {u: (_timestamp(u) if u else None) for u in uniques}
    bad_when = np.array([bool(w) and stamps[w] is None for w in when], dtype=bool)
    check(bad_when, "valid_from", when, lambda v: f"valid_from '{v}' is not a date")
    data["valid_from"] = pd.to_datetime(
        when.map(lambda w: stamps[w]).where(~bad_when, None), utc=True
    )
    value_text = text("value_g_per_kwh")
    value, empty, bad = parse_numbers(value_text, "point")
    check(empty, "value_g_per_kwh", value_text, "value is empty")
    check(bad, "value_g_per_kwh", value_text, lambda v: f"value '{v}' is not a number")
    check(value < 0, "value_g_per_kwh", value_text, "value must be >= 0")
    data["value_g_per_kwh"] = value
    data["source"] = text("source")
    data["comment"] = text("comment")
    data["file"] = path.name
    data["source_line"] = lines.astype(np.int64)
    data = _frame(data.loc[~reject].to_dict("records"))
    errors.sort(key=lambda e: e.line or 0)
    return data, errors, n + len(table.errors), table.meta


def read_emission_factors(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read an emission-factor library (YAML file, config folder or flattened CSV).

    ``data`` has :data:`COLUMNS`: ``zone`` (``_DEFAULT`` = global fallback), ``kind``
    (``direct`` | ``lifecycle``), ``mode`` (Electricity Maps production mode), ``valid_from``
    datetime64[ns, UTC] (NaT = always valid), ``value_g_per_kwh`` float64 [gCO2eq/kWh],
    ``source``, ``comment``, ``file`` (the file name), ``source_line`` (line of the entry in
    its file). Rows are sorted by (zone, kind, mode, valid_from). ``meta`` adds ``files``,
    ``zones`` (zones with entries) and ``unit``. A bad entry (value not a number or < 0,
    datetime not a date, unknown kind) gives one :class:`RowError`.
    """
    path = Path(path)
    extra: dict = {}
    if path.is_dir():
        defaults = path / "defaults.yaml"
        files = [(defaults, DEFAULT_ZONE)] if defaults.is_file() else []
        files += [(p, p.stem) for p in sorted((path / "zones").glob("*.yaml"))]
        if not files:
            raise UnreadableFile(path, "folder holds neither defaults.yaml nor zones/*.yaml")
        data, errors, read = _read_yaml(files)
        fmt = "electricitymaps-config"
        names = [str(p.relative_to(path)) for p, _ in files]
    elif not path.is_file():
        raise UnreadableFile(path, "no such file")
    elif path.suffix.lower() in (".yaml", ".yml"):
        zone = DEFAULT_ZONE if path.stem == "defaults" else path.stem
        data, errors, read = _read_yaml([(path, zone)])
        fmt, names = "yaml", [path.name]
        if read == 0:
            raise IngestError(f"{path}: no emissionFactors in the file")
    else:
        data, errors, read, extra = _read_csv(path)
        fmt, names = "csv", [path.name]
    data = data.sort_values(
        ["zone", "kind", "mode", "valid_from"], na_position="first", kind="stable"
    ).reset_index(drop=True)
    meta = {
        "source": SOURCE,
        "path": str(path),
        **extra,
        "format": fmt,
        "files": names,
        "zones": sorted(data["zone"].unique().tolist()),
        "unit": UNIT,
        "rows_read": read,
        "rows_accepted": len(data),
        "rows_rejected": read - len(data),
        "errors": errors,
    }
    return data, meta
