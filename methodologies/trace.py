"""Canonical traces: RFC 8785 JSON, SHA-256, and the trace's building blocks.

A trace (docs/design.md §4) is one JSON object::

    {"methodology": {"id", "version"},
     "inputs":  [{"name", "value", "unit", "evidence"?: {"ref", "sha256"},
                 "uncertainty"?: {...}}],
     "factors": [{"name", "value", "unit", "source", "valid_from", "valid_to"}],
     "steps":   [{"formula_id", "formula", "inputs": {...}, "value", "unit"}],
     "result":  {... outputs, "tier", "interval" when relevant},
     "case":    {... the complete normalised input case},
     "versions": {"engine", "python", "numpy"}}

Its bytes are the JSON Canonicalization Scheme of RFC 8785
(https://www.rfc-editor.org/rfc/rfc8785), produced by the ``rfc8785`` package, and
``trace_sha256`` is the SHA-256 of those bytes.  Because ``case`` holds the whole
normalised input, ``run_case(trace["case"])`` recomputes the same bytes.

Numbers: floats are kept at full float64 precision; RFC 8785 §3.2.2.3 serialises them
with the shortest round-tripping decimal (ECMAScript ``Number.prototype.toString``),
which is deterministic.  Values are rounded only where a regulation says so (the CBAM
default values, :mod:`methodologies.cbam_default`).  NaN and ±infinity are refused
with :class:`~methodologies.errors.TraceError`.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import rfc8785

from methodologies.errors import TraceError


def _plain(obj: Any, path: str) -> Any:
    """Return ``obj`` as plain JSON types (dict, list, str, int, float, bool, None).

    numpy scalars become Python numbers, tuples become lists; NaN, ±inf and
    unsupported types raise :class:`TraceError` naming ``path``.
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        value = float(obj)
        if not math.isfinite(value):
            raise TraceError(path, f"{value!r} is not allowed in a trace")
        return value
    if isinstance(obj, Mapping):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TraceError(f"{path}.{key!r}", "object keys must be strings")
            out[key] = _plain(value, f"{path}.{key}")
        return out
    if isinstance(obj, list | tuple):
        return [_plain(value, f"{path}[{i}]") for i, value in enumerate(obj)]
    raise TraceError(path, f"unsupported type {type(obj).__name__}")


def es_number(x: float | int) -> str:
    """A number as ECMAScript's Number::toString writes it (RFC 8785 §3.2.2.3), from
    Python's shortest round-tripping digits."""
    if isinstance(x, int):
        if abs(x) >= 2**53:
            raise TraceError("$", f"integer {x} beyond ±2**53")
        return str(x)
    if not math.isfinite(x):
        raise TraceError("$", f"{x!r} is not allowed in a trace")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    digits, exponent = Decimal(repr(abs(x))).as_tuple()[1:]
    text = "".join(map(str, digits)).rstrip("0")
    k = len(text)
    n = len(digits) + exponent  # value = 0.text × 10^n
    if k <= n <= 21:
        out = text + "0" * (n - k)
    elif 0 < n <= 21:
        out = text[:n] + "." + text[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + text
    else:
        e = n - 1
        out = (
            text[0]
            + ("." + text[1:] if k > 1 else "")
            + "e"
            + ("+" if e > 0 else "-")
            + str(abs(e))
        )
    return sign + out


class _NeedsReference(Exception):
    """A value the fast path of :func:`canonical_bytes` leaves to the ``rfc8785`` package."""


_SAFE = 2**53  # RFC 8785 §3.2.2.3 (I-JSON): integers in (-2**53, 2**53)


_MARK = "\ue000"  # private use: a float's placeholder is "<MARK><index><MARK>"
_PLACEHOLDER = re.compile('"' + _MARK + "([0-9]+)" + _MARK + '"')


def _jcs_ready(obj: Any, numbers: list[float]) -> Any:
    """``obj`` as data whose ``json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`` text is its RFC 8785 text, or :class:`_NeedsReference`.

    The standard library's C encoder already writes what RFC 8785 asks for strings (the
    same escapes: ``\\b \\t \\n \\f \\r \\" \\\\`` and ``\\u00xx`` in lower case for other
    control characters, everything else as is), for ``true``, ``false`` and ``null``, and
    for floats whose shortest round-trip digits Python and ECMAScript write alike: integral
    floats below 2**53 (written here as integers: ``3.0`` is ``3`` in both), and other
    floats between 1e-4 and 1e16 (both in plain decimal notation); any other finite float
    is written by :func:`es_number` in place of a placeholder string. Member order is the
    same as RFC 8785's UTF-16 order while keys hold no character beyond U+FFFF. Anything
    else (NaN, ±inf, large integers, such keys, other types) raises, and
    :func:`canonical_bytes` hands the whole value to the ``rfc8785`` package.
    """
    kind = type(obj)
    if kind is str or obj is None or kind is bool:
        return obj
    if kind is float:
        if obj.is_integer():  # False for NaN and ±inf
            if -_SAFE < obj < _SAFE:
                return int(obj)
        elif 1e-4 <= abs(obj) < 1e16:  # False for NaN
            return obj
        if not math.isfinite(obj):
            raise _NeedsReference
        numbers.append(obj)  # written by es_number in place of its placeholder
        return f"{_MARK}{len(numbers) - 1}{_MARK}"
    if kind is dict:
        out = {}
        for key, value in obj.items():
            if type(key) is not str or (not key.isascii() and max(key) > "\uffff"):
                raise _NeedsReference
            out[key] = _jcs_ready(value, numbers)
        return out
    if kind is list or kind is tuple:
        return [_jcs_ready(value, numbers) for value in obj]
    if kind is int:
        if -_SAFE < obj < _SAFE:
            return obj
        raise _NeedsReference
    # numpy scalars, other mappings and sequences: as _plain makes them
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer) and not isinstance(obj, bool):
        return _jcs_ready(int(obj), numbers)
    if isinstance(obj, float | np.floating):
        return _jcs_ready(float(obj), numbers)
    if isinstance(obj, Mapping):
        return _jcs_ready(dict(obj), numbers)
    if isinstance(obj, list | tuple):
        return [_jcs_ready(value, numbers) for value in obj]
    raise _NeedsReference


def canonical_bytes(obj: Any) -> bytes:
    """Serialise ``obj`` as RFC 8785 canonical JSON [UTF-8 bytes].

    Reference: RFC 8785, JSON Canonicalization Scheme (JCS). Most traces take a fast path
    through the standard library's C JSON encoder (:func:`_jcs_ready` says when its text is
    RFC 8785's); the rest, and every error, go through the ``rfc8785`` package. Both give
    the same bytes: tests/methodologies/test_trace_canonical.py checks the fast path
    against the package on generated data (docs/engine.md, speed).
    """
    numbers: list[float] = []
    try:
        ready = _jcs_ready(obj, numbers)
        text = json.dumps(
            ready, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
        )
        if numbers:
            pieces = _PLACEHOLDER.split(text)
            found = pieces[1::2]
            # A string of the data that looks like a placeholder makes the count differ.
            if sorted(map(int, found)) != list(range(len(numbers))):
                raise _NeedsReference
            pieces[1::2] = [es_number(numbers[int(i)]) for i in found]
            text = "".join(pieces)
        return text.encode("utf-8")
    except (_NeedsReference, UnicodeEncodeError, RecursionError, ValueError):
        pass
    try:
        return rfc8785.dumps(_plain(obj, "$"))
    except rfc8785.CanonicalizationError as exc:  # e.g. integers beyond ±2**53
        raise TraceError("$", str(exc)) from exc


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as 64 lowercase hex digits (FIPS 180-4)."""
    return hashlib.sha256(data).hexdigest()


def engine_versions() -> dict[str, str]:
    """Versions recorded in every trace: the engine, Python and numpy."""
    from methodologies import ENGINE_VERSION  # late import: the package imports us

    return {
        "engine": ENGINE_VERSION,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def input_item(
    name: str,
    value: Any,
    unit: str,
    evidence: Mapping[str, str] | None = None,
    uncertainty: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of ``trace["inputs"]``; ``evidence`` is ``{"ref", "sha256"}`` if known;
    ``uncertainty`` the input's normalised uncertain-number object, if it has one
    (:mod:`methodologies.uncertainty`; ``value`` is then its nominal value)."""
    item: dict[str, Any] = {"name": name, "unit": unit, "value": value}
    if evidence is not None:
        item["evidence"] = {"ref": evidence["ref"], "sha256": evidence["sha256"]}
    if uncertainty is not None:
        item["uncertainty"] = dict(uncertainty)
    return item


def factor_item(
    name: str,
    value: Any,
    unit: str,
    source: str,
    valid_from: str | None,
    valid_to: str | None,
) -> dict[str, Any]:
    """One entry of ``trace["factors"]``: a published value with its citation and validity."""
    return {
        "name": name,
        "source": source,
        "unit": unit,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "value": value,
    }


def step_item(
    formula_id: str, formula: str, inputs: Mapping[str, Any], value: Any, unit: str
) -> dict[str, Any]:
    """One entry of ``trace["steps"]``: a formula, the values it used and its result."""
    return {
        "formula": formula,
        "formula_id": formula_id,
        "inputs": dict(inputs),
        "unit": unit,
        "value": value,
    }


def build_trace(
    *,
    methodology_id: str,
    version: str,
    inputs: list[dict[str, Any]],
    factors: list[dict[str, Any]],
    steps: list[dict[str, Any]],
    result: Mapping[str, Any],
    case: Mapping[str, Any],
) -> dict[str, Any]:
    """Assemble a trace object (see the module docstring) as plain JSON types."""
    trace = {
        "case": case,
        "factors": factors,
        "inputs": inputs,
        "methodology": {"id": methodology_id, "version": version},
        "result": result,
        "steps": steps,
        "versions": engine_versions(),
    }
    return _plain(trace, "$")


def seal(trace: Mapping[str, Any]) -> tuple[bytes, str]:
    """Canonical bytes of ``trace`` and their SHA-256 hex digest."""
    data = canonical_bytes(trace)
    return data, sha256_hex(data)
