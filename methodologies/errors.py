"""Errors of the methodology engine.

One base class, :class:`MethodologyError`, with narrow subclasses whose messages name
the key, the expected unit or form, and the reason (docs/contributing.md, "Tests").
"""

from __future__ import annotations


class MethodologyError(Exception):
    """Base class of every error the engine raises on purpose."""


class CaseError(MethodologyError):
    """A case is malformed: a key is missing, has the wrong type, or is out of range.

    ``key`` is the dotted path of the offending key (``"good.activity_level_t"``,
    ``"precursors[0].mass_t"``), ``expected`` the unit or form it must have.
    """

    def __init__(self, key: str, expected: str, reason: str) -> None:
        self.key = key
        self.expected = expected
        self.reason = reason
        super().__init__(f"{key}: {reason} (expected {expected})")


class UnknownMethodologyError(CaseError):
    """``case["methodology"]`` names no registered methodology."""

    def __init__(self, name: object, known: list[str]) -> None:
        super().__init__(
            "methodology",
            "one of " + ", ".join(sorted(known)),
            f"unknown methodology {name!r}",
        )


class NoDefaultValueError(MethodologyError):
    """No row of the default-value table matches the case's CN code and origin."""

    def __init__(self, cn_code: str, origin: str, hint: str = "") -> None:
        self.cn_code = cn_code
        self.origin = origin
        message = (
            f"cn_code: no default value for CN {cn_code} from origin {origin}, nor in "
            "'Other countries and territories' (expected a CN code listed in "
            "IR 2025/2621 Annex I)"
        )
        super().__init__(message + (f"; {hint}" if hint else ""))


class AmbiguousCNCodeError(MethodologyError):
    """The case's CN code is less specific than every table row under it."""

    def __init__(self, cn_code: str, candidates: list[str]) -> None:
        self.cn_code = cn_code
        self.candidates = candidates
        shown = ", ".join(candidates[:20]) + (" …" if len(candidates) > 20 else "")
        super().__init__(
            f"cn_code: CN {cn_code} is ambiguous: the table only has more specific codes "
            f"under it ({shown}) (expected one of those codes)"
        )


class TraceError(MethodologyError):
    """A value cannot go into a canonical trace (NaN, infinity, unsupported type)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(f"{path}: {reason} (expected a finite JSON number, string, bool or null)")


class ExemptOriginError(CaseError):
    """Goods of the case's origin are not CBAM imports (EU-27, or Reg. 2023/956 Art. 2
    and Annex III point 1: Iceland, Liechtenstein, Norway, Switzerland), so no default
    value applies.  A refusal of the case: the CLI exits with status 2."""

    def __init__(self, key: str, origin: str, rule: str) -> None:
        self.origin = origin
        self.rule = rule
        super().__init__(key, "the origin of a CBAM import (a third country)", rule)


class ImplausibleValueError(CaseError):
    """A case input lies outside its physical range (:mod:`methodologies.plausibility`).

    ``key`` the input's dotted key, ``value`` the number checked (the input itself, or
    its ratio to ``per`` when the range is per tonne), ``low``/``high`` the range
    [``unit``], ``hint`` the likely unit mistake ("48 TJ/t: did you mean GJ/t?") or ""."""

    def __init__(
        self,
        key: str,
        value: float,
        low: float,
        high: float,
        unit: str,
        hint: str = "",
        per: str | None = None,
    ) -> None:
        self.value = value
        self.low = low
        self.high = high
        self.unit = unit
        self.hint = hint
        self.per = per
        shown = "" if unit.startswith("1") else f" {unit}"
        what = f"{key} / {per} = {value:g}{shown}" if per else f"{value:g}{shown}"
        reason = (
            f"implausible value: {what} is outside the physical range "
            f"between {low:g} and {high:g}{shown}"
        )
        if hint:
            reason += f"; {hint}"
        super().__init__(
            key, f"a number in [{low:g}, {high:g}] (between {low:g} and {high:g}) {unit}", reason
        )
