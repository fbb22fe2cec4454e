"""Units of disclosed quantities, parsed with pint and converted to the canonical units.

Exporters write units in many ways: ``t``, ``kt``, ``Mt``, ``kg``; ``MWh``, ``GWh``,
``kWh``, ``GJ``, ``TJ``; ``Nm³``, ``1000 Nm³``; ``%``; ``tCO2/t``, ``tCO2e/TJ``,
``kg CO2/MWh``. :func:`parse_unit` turns such a string into a pint quantity (the gas named in
an emission unit, CO2 or CO2e, is a label, not a unit, and is dropped), and :func:`convert`
gives the value in the first canonical unit of :data:`CANONICAL` with the same dimension.

Canonical units (docs/interfaces.md names quantities ``_t``, ``_mwh``, ``_tj``, ``_t_per_t``,
``_t_per_mwh``, ``_t_per_tj``): ``t``, ``MWh``, ``TJ``, ``1000 Nm3`` (gas at normal
conditions, its own dimension so it never mixes with m³ at actual conditions),
``fraction``, ``t/t``, ``t/TJ``, ``t/MWh``, ``MWh/t`` (embedded electricity), and for net
calorific values ``TJ/t`` and ``TJ/1000 Nm3``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pint

# Canonical unit → the pint expression it stands for.
CANONICAL: dict[str, str] = {
    "t": "tonne",
    "MWh": "megawatt_hour",
    "TJ": "terajoule",
    "1000 Nm3": "1000 * normal_cubic_meter",
    "fraction": "dimensionless",
    "t/t": "tonne / tonne",
    "t/TJ": "tonne / terajoule",
    "t/MWh": "tonne / megawatt_hour",
    "MWh/t": "megawatt_hour / tonne",
    "TJ/t": "terajoule / tonne",
    "TJ/1000 Nm3": "terajoule / (1000 * normal_cubic_meter)",
}

# Words and symbols people write → pint names. Matched as whole tokens, case-sensitive
# first (Mt is megatonne, mt is not a unit here), then case-insensitive.
_TOKENS: dict[str, str] = {
    "t": "tonne",
    "kt": "kilotonne",
    "Mt": "megatonne",
    "Gt": "gigatonne",
    "kg": "kilogram",
    "g": "gram",
    "tonne": "tonne",
    "tonnes": "tonne",
    "ton": "tonne",
    "tons": "tonne",
    "metric_ton": "tonne",
    "kWh": "kilowatt_hour",
    "MWh": "megawatt_hour",
    "GWh": "gigawatt_hour",
    "TWh": "terawatt_hour",
    "J": "joule",
    "kJ": "kilojoule",
    "MJ": "megajoule",
    "GJ": "gigajoule",
    "TJ": "terajoule",
    "PJ": "petajoule",
    "Nm3": "normal_cubic_meter",
    "kNm3": "(1000 * normal_cubic_meter)",
    "MNm3": "(1000000 * normal_cubic_meter)",
    "%": "percent",
    "percent": "percent",
    "fraction": "dimensionless",
    "ratio": "dimensionless",
    "per": "/",
}
_TOKENS_FOLDED = {key.lower(): value for key, value in _TOKENS.items()}
# Greenhouse gas labels inside units ("tCO2/t", "kg CO2e/MWh", "t CO₂-eq"): dropped.
_GAS = re.compile(r"(?<=[A-Za-z\s])\s*CO2(?:\s*[-_]?\s*(?:e|eq|equivalent))?(?![A-Za-z])", re.I)
_CARBON = re.compile(r"(?<=[tg])\s*C(?=\s*/|$)")  # "tC/t": tonnes of carbon
_TOKEN = re.compile(r"%|[A-Za-z_]+[0-9]?|[0-9]+(?:\.[0-9]+)?|\S")


class UnitError(ValueError):
    """A unit that cannot be read, or that does not fit the field."""


@dataclass(frozen=True)
class Converted:
    value: float
    unit: str  # a key of CANONICAL


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    import pint  # on first use: a program that converts no unit does not load it

    ureg = pint.UnitRegistry()
    ureg.define("normal_cubic_meter = [normal_volume]")
    return ureg


def _clean(text: str) -> str:
    text = text.strip()
    text = text.translate(str.maketrans({"³": "3", "²": "2", "₂": "2", "·": "*", "×": "*"}))
    text = re.sub(r"\bNm\s*(?:\^|\*\*)?\s*3\b", "Nm3", text)
    text = re.sub(r"\b(1\s*000|1,000|thousand)\s*Nm3\b", "kNm3", text, flags=re.I)
    text = _GAS.sub("", text)
    text = _CARBON.sub("", text)
    return text.strip()


@lru_cache(maxsize=512)
def parse_unit(text: str) -> pint.Quantity:
    """``"kt"`` → 1 kilotonne, ``"tCO2/TJ"`` → 1 t/TJ, ``"1000 Nm³"`` → 1000 Nm3.

    Raises :class:`UnitError` naming the text when it is not a unit this module knows.
    """
    cleaned = _clean(str(text))
    if not cleaned:
        raise UnitError("the unit is empty")
    parts = []
    for piece in _TOKEN.findall(cleaned):
        if piece in _TOKENS:
            parts.append(_TOKENS[piece])
        elif piece.lower() in _TOKENS_FOLDED:
            parts.append(_TOKENS_FOLDED[piece.lower()])
        elif piece in "/*()^" or re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", piece):
            parts.append("**" if piece == "^" else piece)
        else:
            raise UnitError(f"unit '{text}' is not known ('{piece}')")
    try:
        quantity = registry().parse_expression(" ".join(parts))
    except Exception as exc:  # pint raises several kinds for a malformed expression
        raise UnitError(f"unit '{text}' cannot be read ({exc})") from exc
    if not isinstance(quantity, registry().Quantity):  # a bare number such as "1000"
        raise UnitError(f"unit '{text}' is a number, not a unit")
    return quantity


def _canonical_quantity(name: str) -> pint.Quantity:
    return registry().parse_expression(CANONICAL[name])


def convert(value: float, unit: str, allowed: tuple[str, ...]) -> Converted:
    """``value`` in ``unit`` → the first canonical unit of ``allowed`` with its dimension.

    >>> convert(1.2, "kt", ("t",))
    Converted(value=1200.0, unit='t')

    Raises :class:`UnitError` when the unit is unknown or fits none of ``allowed``.
    """
    quantity = parse_unit(unit) * value
    for name in allowed:
        target = _canonical_quantity(name)
        if quantity.dimensionality == target.dimensionality:
            magnitude = (quantity / target).to("dimensionless").magnitude
            # 12 significant digits: no float noise (0.036000000000000004) in the evidence.
            return Converted(float(f"{float(magnitude):.12g}"), name)
    raise UnitError(f"unit '{unit}' is not a unit of {' or '.join(allowed)}")


def canonical_or_none(value: float, unit: str) -> Converted | None:
    """The value in whichever canonical unit fits, or None (for free-form extractions).

    A ratio of masses ("tCO2/t") is ``t/t``; only ``%``, "fraction" or "ratio" make a
    ``fraction``.
    """
    ratio = re.search(r"%|fraction|ratio|percent", unit, re.I) is not None
    order = [name for name in CANONICAL if name != ("t/t" if ratio else "fraction")]
    try:
        return convert(value, unit, tuple(order))
    except UnitError:
        return None
