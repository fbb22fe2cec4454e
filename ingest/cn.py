"""Combined Nomenclature (CN) codes.

The CBAM annexes and the default-value tables give goods as a 4-digit heading, a 6-digit
HS subheading or an 8-digit CN code (Reg. (EU) 2023/956, Annex I; IR 2025/2621, Annex I),
written with spaces ("2523 10 00"), dots ("7208.10.00") or run together ("72081000").
Inside this project a code is the bare digit string.
"""

from __future__ import annotations

import re

import pandas as pd

# Separators people and spreadsheets put inside codes: spaces, dots, no-break spaces.
_SEPARATORS = re.compile(r"[\s.\u00a0\u202f]+")
_VALID = re.compile(r"^(?:[0-9]{4}|[0-9]{6}|[0-9]{8})$")


def cn_problem(value: str) -> str:
    """The reason ``value`` is not a CN code, phrased for an error report."""
    if not _SEPARATORS.sub("", str(value)):
        return "CN code is empty"
    return f"CN code '{value}' must have 4, 6 or 8 digits"


def normalise_cn(value: object) -> str:
    """``"7208 10 00"``, ``"7208.10.00"``, ``"72081000"`` → ``"72081000"``.

    Accepts 4, 6 or 8 digits once spaces, dots and no-break spaces (U+00A0, U+202F) are
    removed; anything else raises ``ValueError`` with the reason.
    """
    digits = _SEPARATORS.sub("", str(value))
    if not _VALID.match(digits):
        raise ValueError(cn_problem(str(value)))
    return digits


def normalise_cn_series(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Vectorised :func:`normalise_cn` over strings: ``(codes, valid)``.

    ``codes`` holds the digit strings (meaningless where ``valid`` is False).
    """
    codes = values.astype(str).str.replace(_SEPARATORS, "", regex=True)
    valid = codes.str.match(_VALID).astype(bool)
    return codes, valid


def cn_prefixes(code: str) -> list[str]:
    """The code and its parent levels, most specific first: ``"72081000"`` →
    ``["72081000", "720810", "7208"]``; ``"7208"`` → ``["7208"]``."""
    digits = normalise_cn(code)
    return [digits[:n] for n in (8, 6, 4) if n <= len(digits)]
