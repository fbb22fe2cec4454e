"""Vectorised batch path: embedded emissions of many shipments, and grouped totals.

A shipment's embedded emissions are its net mass × the SEE chosen for it
(docs/design.md §2): ``E_j [tCO2e] = M_j [t] × SEE_total[k(j)] [tCO2e/t]``, where ``k(j)``
indexes the
estimate used for shipment j.  Estimates are computed once per distinct estimate (with
:func:`methodologies.run_case`); this module only gathers and sums, with numpy and no
Python loop over rows.  Accumulation is float64 throughout (``np.bincount`` sums its
weights in float64).

- :func:`embedded_emissions`: ``mass × see_total[index]`` (a 1-D estimate table).
- :func:`embedded_emissions_2d`: ``mass × see[installation, good]`` (a 2-D table of SEE
  per installation and good, gathered through one flat index).
- :func:`group_sums`: sums over the distinct combinations of any keys (sorted output).
- :func:`dense_group_sums`: sums over integer codes with known sizes, as a dense array
  (one combined integer key and ``np.bincount(minlength=...)``; no sort).
- :func:`shipment_totals`: the one call of the pipeline: gather the SEE, multiply by
  the mass, and sum emissions, mass and shipment counts by (country, CN, period).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from methodologies.errors import MethodologyError


def embedded_emissions(
    mass_t: np.ndarray, estimate_index: np.ndarray, see_total: np.ndarray
) -> np.ndarray:
    """Embedded emissions per shipment [tCO2e] = ``mass_t`` [t] ×
    ``see_total[estimate_index]`` [tCO2e/t], as float64.

    ``estimate_index`` holds, per shipment, the integer position of its estimate in
    ``see_total``.  Reference: Reg. (EU) 2023/956 Annex IV §1; docs/design.md §2.
    """
    mass = np.asarray(mass_t, dtype=np.float64)
    index = np.asarray(estimate_index)
    see = np.asarray(see_total, dtype=np.float64)
    if mass.shape != index.shape:
        raise MethodologyError(
            f"estimate_index: shape {index.shape} differs from mass_t {mass.shape} "
            "(expected one estimate index per shipment)"
        )
    if index.size and not np.issubdtype(index.dtype, np.integer):
        raise MethodologyError(f"estimate_index: dtype {index.dtype} (expected integers)")
    if index.size and (index.min() < 0 or index.max() >= see.shape[0]):
        raise MethodologyError(
            f"estimate_index: values must lie in [0, {see.shape[0]}) "
            "(expected positions in see_total)"
        )
    return mass * see[index]


def group_sums(values: np.ndarray, *keys: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Sum ``values`` over the distinct combinations of ``keys`` (same unit as ``values``).

    Returns ``(unique_keys, sums)``: ``unique_keys`` is one array per key, holding the
    distinct combinations sorted lexicographically (first key first), and ``sums`` is
    float64.  Codes each key (an integer key of small range by offset from its minimum,
    any other key by ``np.unique(return_inverse=True)``), combines the codes into
    one integer per row with ``np.ravel_multi_index`` and sums with ``np.bincount``
    (over the dense code space when it is small, else over ``np.unique`` of the codes).
    """
    vals = np.asarray(values, dtype=np.float64).reshape(-1)
    if not keys:
        raise MethodologyError("keys: none given (expected at least one key array)")
    uniques, codes = [], []
    for i, key in enumerate(keys):
        arr = np.asarray(key).reshape(-1)
        if arr.shape != vals.shape:
            raise MethodologyError(
                f"keys[{i}]: length {arr.shape[0]} differs from values "
                f"{vals.shape[0]} (expected one key per value)"
            )
        uniq, code = _codes(arr)
        uniques.append(uniq)
        codes.append(code)
    if vals.size == 0:
        return tuple(u[:0] for u in uniques), np.zeros(0, dtype=np.float64)
    dims = tuple(len(u) for u in uniques)
    size = math.prod(dims)
    if size <= max(4 * vals.size, 1 << 16):
        flat = np.ravel_multi_index(tuple(codes), dims)
        groups = np.flatnonzero(np.bincount(flat, minlength=size))
        sums = np.bincount(flat, weights=vals, minlength=size)[groups]
        positions = np.unravel_index(groups, dims)
    else:  # sparse combinations: sort the code tuples instead of a dense table
        table, group_of_row = np.unique(np.stack(codes, axis=1), axis=0, return_inverse=True)
        sums = np.bincount(group_of_row.reshape(-1), weights=vals, minlength=len(table))
        positions = tuple(table.T)
    return tuple(u[p] for u, p in zip(uniques, positions, strict=True)), sums


#: Largest value range of an integer key coded by offset (no sort) in :func:`group_sums`.
_DENSE_RANGE = 1 << 22


def _codes(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(candidate values, code per row): offset codes for an integer key of small range
    (values absent from the data are dropped later), else ``np.unique`` codes."""
    if arr.size and np.issubdtype(arr.dtype, np.integer) and arr.dtype != np.uint64:
        low, high = int(arr.min()), int(arr.max())
        if high - low < _DENSE_RANGE:
            code = arr.astype(np.intp)  # widen first: no overflow in small dtypes
            if low:
                code -= low
            return np.arange(low, high + 1).astype(arr.dtype), code
    uniq, inverse = np.unique(arr, return_inverse=True)
    return uniq, inverse.reshape(-1)


def _check_codes(name: str, codes: np.ndarray, size: int, n: int) -> np.ndarray:
    arr = np.asarray(codes).reshape(-1)
    if arr.shape[0] != n:
        raise MethodologyError(
            f"{name}: length {arr.shape[0]} differs from mass_t {n} "
            "(expected one code per shipment)"
        )
    if n and not np.issubdtype(arr.dtype, np.integer):
        raise MethodologyError(f"{name}: dtype {arr.dtype} (expected integer codes)")
    if n and (arr.min() < 0 or arr.max() >= size):
        raise MethodologyError(
            f"{name}: codes must lie in [0, {size}) (expected integer "
            "codes below the size given for this key)"
        )
    return arr


def embedded_emissions_2d(
    mass_t: np.ndarray,
    see_table: np.ndarray,
    installation_index: np.ndarray,
    good_index: np.ndarray,
) -> np.ndarray:
    """Embedded emissions per shipment [tCO2e] = ``mass_t`` [t] ×
    ``see_table[installation_index, good_index]`` [tCO2e/t], float64.

    ``see_table`` is the SEE of every (installation, good) pair; the gather goes
    through one flat index into the C-contiguous table (``np.take``), which is what
    numpy's 2-D fancy indexing does internally, without its per-call overhead.
    Reference: Reg. (EU) 2023/956 Annex IV §1; docs/design.md §2.
    """
    see = np.ascontiguousarray(see_table, dtype=np.float64)
    if see.ndim != 2:
        raise MethodologyError(
            f"see_table: {see.ndim} dimensions (expected a 2-D table "
            "[installation, good] in tCO2e/t)"
        )
    mass = np.asarray(mass_t, dtype=np.float64).reshape(-1)
    inst = _check_codes("installation_index", installation_index, see.shape[0], mass.size)
    good = _check_codes("good_index", good_index, see.shape[1], mass.size)
    flat = inst.astype(np.intp) * see.shape[1]
    flat += good
    out = np.take(see.reshape(-1), flat)
    out *= mass
    return out


def dense_group_sums(
    values: np.ndarray | None,
    codes: tuple[np.ndarray, ...],
    sizes: tuple[int, ...],
) -> np.ndarray:
    """Sums of ``values`` (same unit; counts of rows when ``values`` is None) over
    integer ``codes`` (one array per key, code k of key i in [0, sizes[i])), as a dense
    float64 array of shape ``sizes`` (int64 counts).

    One combined key, ``((c_0 × s_1 + c_1) × s_2 + c_2) …``, and one ``np.bincount``
    with ``minlength`` = ∏ sizes: linear time, no sort.  Meant for key spaces of up to a
    few tens of millions of cells; use :func:`group_sums` for sparse or text keys.
    """
    if len(codes) != len(sizes) or not codes:
        raise MethodologyError("codes: expected one code array per size (at least one)")
    n = np.asarray(codes[0]).reshape(-1).shape[0]
    key = None
    for i, (code, size) in enumerate(zip(codes, sizes, strict=True)):
        arr = _check_codes(f"codes[{i}]", code, size, n)
        if key is None:
            key = arr.astype(np.intp)
        else:
            key *= size
            key += arr
    cells = math.prod(sizes)
    if values is None:
        return np.bincount(key, minlength=cells).astype(np.int64, copy=False).reshape(sizes)
    vals = np.asarray(values, dtype=np.float64).reshape(-1)
    if vals.shape[0] != n:
        raise MethodologyError(f"values: length {vals.shape[0]} differs from the codes {n}")
    return _weighted_bincount(key, vals, cells).reshape(sizes)


def _weighted_bincount(key: np.ndarray, weights: np.ndarray, cells: int) -> np.ndarray:
    """``np.bincount`` with float64 weights, float64 also for no rows (numpy gives int)."""
    return np.bincount(key, weights=weights, minlength=cells).astype(np.float64, copy=False)


@dataclass(frozen=True)
class ShipmentTotals:
    """Per-shipment embedded emissions and their sums by (country, CN, period).

    The sums are dense arrays of shape ``(n_countries, n_cn_codes, n_periods)``: cell
    ``[c, g, p]`` holds the shipments whose codes are (c, g, p); ``shipments`` counts
    them (0 = no such shipment, so a 0.0 sum there means "none", not "zero").
    """

    embedded_emissions_t: np.ndarray  # per shipment [tCO2e]
    sum_embedded_emissions_t: np.ndarray  # [tCO2e]
    sum_net_mass_t: np.ndarray  # [t]
    shipments: np.ndarray  # [count]

    def rows(self) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
        """The non-empty groups: ((country, cn, period) codes, emissions [tCO2e],
        net mass [t]), in code order."""
        cells = np.flatnonzero(self.shipments.reshape(-1))
        keys = np.unravel_index(cells, self.shipments.shape)
        return (
            keys,
            self.sum_embedded_emissions_t.reshape(-1)[cells],
            self.sum_net_mass_t.reshape(-1)[cells],
        )


@dataclass(frozen=True)
class ShipmentBatch:
    """Shipments prepared for repeated evaluation against SEE tables.

    Everything that depends on the shipments alone is computed once by
    :meth:`prepare`: the flat index ``inst × n_goods + good`` into the SEE table, the
    combined group key ``(country × n_cn + cn) × n_periods + period``, and the sums of
    net mass and the shipment counts by group.  :meth:`totals` then only gathers,
    multiplies and sums emissions, so re-evaluating after the estimates change costs
    one gather, one multiply and one ``np.bincount``.
    """

    table_shape: tuple[int, int]
    sizes: tuple[int, int, int]
    flat_index: np.ndarray  # intp, per shipment
    group_key: np.ndarray  # intp, per shipment
    mass_t: np.ndarray  # float64, per shipment [t]
    sum_net_mass_t: np.ndarray  # dense, shape sizes [t]
    shipments: np.ndarray  # dense, shape sizes [count]

    @classmethod
    def prepare(
        cls,
        table_shape: tuple[int, int],
        installation_index: np.ndarray,
        good_index: np.ndarray,
        mass_t: np.ndarray,
        country: np.ndarray,
        cn_code: np.ndarray,
        period: np.ndarray,
        sizes: tuple[int, int, int],
    ) -> ShipmentBatch:
        """Check the codes against ``table_shape`` (installations, goods) and ``sizes``
        (countries, CN codes, periods), and build the keys and the mass sums."""
        mass = np.asarray(mass_t, dtype=np.float64).reshape(-1)
        n = mass.shape[0]
        inst = _check_codes("installation_index", installation_index, table_shape[0], n)
        good = _check_codes("good_index", good_index, table_shape[1], n)
        flat = (
            inst * table_shape[1]
            if inst.dtype == np.intp
            else inst.astype(np.intp) * table_shape[1]
        )
        flat += good
        c, g, p = (
            _check_codes(name, codes, size, n)
            for name, codes, size in zip(
                ("country", "cn_code", "period"), (country, cn_code, period), sizes, strict=True
            )
        )
        key = (
            c * (sizes[1] * sizes[2])
            if c.dtype == np.intp
            else c.astype(np.intp) * (sizes[1] * sizes[2])
        )
        key += g * sizes[2]
        key += p
        cells = math.prod(sizes)
        return cls(
            table_shape=(int(table_shape[0]), int(table_shape[1])),
            sizes=(int(sizes[0]), int(sizes[1]), int(sizes[2])),
            flat_index=flat,
            group_key=key,
            mass_t=mass,
            sum_net_mass_t=_weighted_bincount(key, mass, cells).reshape(sizes),
            shipments=np.bincount(key, minlength=cells).reshape(sizes),
        )

    def totals(self, see_table: np.ndarray) -> ShipmentTotals:
        """E_j = M_j [t] × SEE[inst_j, good_j] [tCO2e/t] and the sums of E [tCO2e] by
        group.  Reference: Reg. (EU) 2023/956 Annex IV §1; docs/design.md §2."""
        see = np.ascontiguousarray(see_table, dtype=np.float64)
        if see.shape != self.table_shape:
            raise MethodologyError(
                f"see_table: shape {see.shape} (expected {self.table_shape}, as prepared)"
            )
        emissions = np.take(see.reshape(-1), self.flat_index)
        emissions *= self.mass_t
        sums = _weighted_bincount(self.group_key, emissions, math.prod(self.sizes)).reshape(
            self.sizes
        )
        return ShipmentTotals(emissions, sums, self.sum_net_mass_t, self.shipments)


def shipment_totals(
    see_table: np.ndarray,
    installation_index: np.ndarray,
    good_index: np.ndarray,
    mass_t: np.ndarray,
    country: np.ndarray,
    cn_code: np.ndarray,
    period: np.ndarray,
    sizes: tuple[int, int, int],
) -> ShipmentTotals:
    """One call for a batch of shipments: E_j = M_j × SEE[inst_j, good_j] [tCO2e], and
    the sums of E and M [t] and the counts by (country, CN code, period) codes
    (``sizes`` = numbers of countries, CN codes and periods).  Keys are integer codes
    (e.g. positions in sorted lists of ISO codes, CN codes and months).  Same as
    ``ShipmentBatch.prepare(...).totals(see_table)``.
    Reference: docs/design.md §2 and docs/interfaces.md
    (``/api/v1/totals/?group_by=origin,cn_code,month``).
    """
    see = np.asarray(see_table)
    if see.ndim != 2:
        raise MethodologyError(
            f"see_table: {see.ndim} dimensions (expected a 2-D table "
            "[installation, good] in tCO2e/t)"
        )
    batch = ShipmentBatch.prepare(
        see.shape, installation_index, good_index, mass_t, country, cn_code, period, sizes
    )
    return batch.totals(see)
