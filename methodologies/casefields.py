"""Reading and checking case fields.

Every failure raises :class:`~methodologies.errors.CaseError` naming the dotted key
(``"precursors[0].mass_t"``) and the expected unit, so a caller can fix the case file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from methodologies.errors import CaseError


class _Required:
    """The default of a key that has none (shown as ``required`` on methodology pages)."""

    def __repr__(self) -> str:
        return "required"


_MISSING: Any = _Required()


def join(path: str, name: str) -> str:
    """Dotted key of ``name`` under ``path`` ("good" + "cn_code" → "good.cn_code")."""
    return f"{path}.{name}" if path else name


def mapping(value: object, path: str, expected: str = "a JSON object") -> Mapping[str, Any]:
    """``value`` itself, checked to be a JSON object."""
    if not isinstance(value, Mapping):
        raise CaseError(path or "case", expected, f"got {type(value).__name__}")
    return value


def only_keys(obj: Mapping[str, Any], allowed: set[str] | frozenset[str], path: str) -> None:
    """Refuse keys outside ``allowed``: a misspelt key must not be silently ignored."""
    for key in obj:
        if key not in allowed:
            raise CaseError(
                join(path, str(key)), "one of " + ", ".join(sorted(allowed)), "unknown key"
            )


def to_float(value: object, key: str, unit: str, *, minimum: float | None = None) -> float:
    """A finite number (int, float or Decimal, not bool) as float64 [``unit``]."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise CaseError(key, f"a number in {unit}", f"got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise CaseError(key, f"a finite number in {unit}", f"got {value!r}")
    if minimum is not None and number < minimum:
        raise CaseError(key, f"a number >= {minimum:g} in {unit}", f"got {value!r}")
    return number


def number(
    obj: Mapping[str, Any],
    name: str,
    path: str,
    unit: str,
    *,
    minimum: float | None = None,
    default: Any = _MISSING,
) -> float:
    """``obj[name]`` as a finite float [``unit``]; ``default`` when absent (if given)."""
    key = join(path, name)
    if name not in obj:
        if default is _MISSING:
            raise CaseError(key, f"a number in {unit}", "missing")
        return default
    return to_float(obj[name], key, unit, minimum=minimum)


def optional_number(
    obj: Mapping[str, Any], name: str, path: str, unit: str, *, minimum: float | None = None
) -> float | None:
    """``obj[name]`` as a finite float [``unit``], or None when absent or null."""
    if obj.get(name) is None:
        return None
    return to_float(obj[name], join(path, name), unit, minimum=minimum)


def text(
    obj: Mapping[str, Any], name: str, path: str, expected: str, *, default: Any = _MISSING
) -> str:
    """``obj[name]`` as a string; ``default`` when absent or null (if given)."""
    key = join(path, name)
    value = obj.get(name)
    if value is None:
        if default is _MISSING:
            raise CaseError(key, expected, "missing")
        return default
    if not isinstance(value, str):
        raise CaseError(key, expected, f"got {value!r}")
    return value


def integer(obj: Mapping[str, Any], name: str, path: str, expected: str) -> int:
    """``obj[name]`` as an int (a float with no fractional part is accepted)."""
    key = join(path, name)
    if name not in obj:
        raise CaseError(key, expected, "missing")
    value = obj[name]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CaseError(key, expected, f"got {value!r}")
    return value
