"""``cbam.default`` — the official CBAM default value of a good, by origin and import year.

Legal basis: Regulation (EU) 2023/956, Article 7(2) and Annex IV; default values of
Commission Implementing Regulation (EU) 2025/2621, Annex I, as published in the Official
Journal on 31 December 2025 (the platform has the text of no later correction and
applies none; docs/official-tables.md); docs/design.md §2 (tier 4) and docs/engine.md.

Case (JSON)::

    {"methodology": "cbam.default",
     "cn_code": "7208",          # 4, 6 or 8 digits; spaces and dots allowed
     "origin": "CN",             # ISO 3166-1 alpha-2 country of production
     "year": 2026,               # calendar year of import, >= 2026
     "variant": "Grey clinker",  # optional: picks among rows sharing a CN code
     "without_markup": true,     # optional: m = 0, the best estimate's default rung
     "default_values": [...]}    # optional candidate rows (see below)

A candidate row is ``{"origin": "CN" | "OTHER", "country", "sector", "cn_code" (digits),
"cn_code_as_published", "description", "direct_t_per_t", "indirect_t_per_t" (null when
N/A), "total_t_per_t", "route_flag"}`` and, optionally, the marked-up values that
Annex I publishes, ``"dv_2026_t_per_t"``, ``"dv_2027_t_per_t"``,
``"dv_2028_onwards_t_per_t"`` (null when absent).  All values in [tCO2e/t].  Without
``default_values`` the engine takes the rows that can match from its bundled table
(``methodologies/data/cbam_default_values_IR2025-2621.csv``); either way the candidate
rows become part of the normalised case, so the trace says exactly what was looked at.

Outputs: ``see_direct_t_per_t`` and ``see_indirect_t_per_t`` (as published, WITHOUT the
mark-up; indirect is null where Annex I gives N/A), ``see_total_unmarked_t_per_t`` (the
published total), ``see_total_t_per_t`` (the marked-up total, the value used for the
shipment), ``markup``, ``fallback``, ``matched_cn_code``, ``matched_country``,
``matched_description``, ``direct_only`` (Reg. 2023/956 Annex II), ``tier`` ("default"),
``value_source`` ("published" or "rule", see below) and ``reason``.

Lookup.  The case's CN code matches the table row of the same 8 digits, else the row of
its 6-digit prefix, else the row of its 4-digit prefix (the most specific row wins).
The origin's rows are searched first; when none matches, the rows of "Other countries
and territories" are (``fallback`` true).  A row that publishes no total (Taiwan 7218,
a heading whose values are given on its sub-codes) is skipped.  A 4- or 6-digit case
code (as aggregate statistics declare) that Annex I gives only through ONE more specific
code matches that code (CN 7303 → 7303 00, its only subheading); if several more
specific codes lie under it, the case is ambiguous: the engine raises
:class:`~methodologies.errors.AmbiguousCNCodeError` listing them rather than guess.
Several rows at one CN code (grey vs white clinker, grey vs white hydraulic cement):
``variant`` picks the row whose description equals it (case-insensitive) or, failing
that, contains it; without ``variant`` the row with the HIGHEST total is used — the
conservative choice that IR 2025/2621 recital (3) asks of default values — and the
reason says so.

Mark-up (IR 2025/2621; docs/method-cbam.md).  The value used is the published total × (1 + m),
m = 10 % in 2026, 20 % in 2027 and 30 % from 2028 on for cement, iron and steel
(including sintered ore 2601 12 00), aluminium and hydrogen, and m = 1 % in every year
for fertilisers; rounded HALF-UP (``decimal``, never float rounding) to 4 decimals, the
precision of the published columns (the source spreadsheet's values were cut to 4
decimals, trailing zeros dropped).  The sector, hence m, is taken from the CN code
(Reg. 2023/956 Annex I), NOT from the row's ``sector`` label.

Published columns vs the rule — checked over all 10 932 rows × 3 years of the table
(``tests/methodologies/test_cbam_default.py``):

- 32 385 of the 32 792 published cells equal the rule exactly.  They include 72 cells
  (24 Tunisian rows, CN 7601–7616) labelled "Fertilisers" that are aluminium: with the
  sector read from the CN code the rule reproduces them (+10/20/30 %, not +1 %).  The
  label is an artefact of the converter (the Tunisian sheet lacks an aluminium header).
- 397 cells differ from the rule by exactly 0.0001.  All are explained by the
  Commission computing the marked-up value from its unrounded total, of which the
  4-decimal published total is itself a rounding: each published value lies within
  0.00005 × (1 + m) + 0.00005 of total × (1 + m).  Here the PUBLISHED value wins: it is
  the figure of the legal act, and the difference is a rounding artefact of our input.
- 10 cement cells (Angola and Argentina; grey clinker, grey Portland cement, grey
  hydraulic cement; 2027 and 2028) equal total × 1.21 and total × 1.331, i.e. the 10 %
  mark-up compounded (1.1², 1.1³), instead of +20 % and +30 %.  They lie far outside the
  rounding envelope, contradict the mark-up schedule of the regulation, and every
  other of the 337 cement rows follows it.  Here the RULE wins; the reason names the
  rejected published figure.
- 2 cells are empty (Chile 7306 11 00 for 2026; the Taiwan 7218 heading has no total):
  the rule applies (Chile), or the row is skipped (Taiwan).

So: a published value for the year is used when the row carries it and it lies within
the rounding envelope; otherwise the rule value.  ``value_source`` and the trace's
steps record which, with both numbers.  Rows without the ``dv_*`` keys (for instance
from a database that stores only the totals) always get the rule value.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from methodologies import casefields as cf
from methodologies.cbam_goods import (
    exempt_origin_rule,
    goods_sector,
    is_direct_only,
    normalise_cn_code,
    normalise_origin,
)
from methodologies.errors import (
    AmbiguousCNCodeError,
    CaseError,
    ExemptOriginError,
    NoDefaultValueError,
)
from methodologies.spec import SEE, CaseSpec, seal_outputs
from methodologies.trace import factor_item, input_item, step_item

METHODOLOGY_ID = "cbam.default"
VERSION = "2025.2621.2"
SUMMARY = (
    "Official CBAM default value (IR 2025/2621 Annex I) for a CN code and origin, "
    "with the mark-up of the import year"
)

#: Citation carried by every factor taken from the table.
SOURCE = "Commission Implementing Regulation (EU) 2025/2621, Annex I (OJ L, 31.12.2025)"
VALID_FROM = "2026-01-01"
FIRST_YEAR = 2026
OTHER = "OTHER"
UNIT = "tCO2e/t"

#: Decimals of the published marked-up values; rounding is half-up (IR 2025/2621).
DECIMALS = 4
_QUANTUM = Decimal(1).scaleb(-DECIMALS)

#: Mark-up m by import year for cement, iron and steel, aluminium, hydrogen; the
#: last year's rate applies to every later year.
MARKUP_BY_YEAR: dict[int, Decimal] = {
    2026: Decimal("0.10"),
    2027: Decimal("0.20"),
    2028: Decimal("0.30"),
}
#: Mark-up for fertilisers, every year.
MARKUP_FERTILISERS = Decimal("0.01")

#: Row key of the published marked-up value, by year (2028 stands for 2028 onwards).
PUBLISHED_KEY_BY_YEAR: dict[int, str] = {
    2026: "dv_2026_t_per_t",
    2027: "dv_2027_t_per_t",
    2028: "dv_2028_onwards_t_per_t",
}

BUNDLED_TABLE = Path(__file__).parent / "data" / "cbam_default_values_IR2025-2621.csv"

#: Production-route indicators of IR 2025/2621 Annex I (the column "Underlying production
#: route determining CBAM BM"), with their meaning as the Annex defines them.  "If no
#: production route is indicated for a CN code, the CBAM benchmark (BM) is independent
#: of the production route."
ROUTE_INDICATORS: dict[str, str] = {
    "A": "grey clinker / cement",
    "B": "white clinker / cement",
    "C": "Carbon Steel based on BF/BOF",
    "D": "Carbon Steel based on DRI/EAF",
    "E": "Carbon Steel based on Scrap/EAF",
    "F": "Low alloy Steel based on BF/BOF",
    "G": "Low alloy Steel based on DRI/EAF",
    "H": "Low alloy Steel based on scrap/EAF",
    "J": "High alloy Steel (based on EAF)",
    "K": "primary Aluminium",
    "L": "secondary Aluminium",
}

_CASE_KEYS = frozenset(
    {"methodology", "cn_code", "origin", "year", "variant", "default_values", "without_markup"}
)
_ROW_TEXT_KEYS = ("country", "sector", "cn_code_as_published", "description")


# --------------------------------------------------------------------------- rows


def route_indicator(value: object, key: str = "route_flag") -> str | None:
    """A row's production-route indicator: one letter of :data:`ROUTE_INDICATORS`
    ("(C)" and " c " are read as "C"), or two joined by "/" as the Annex prints them for
    goods made on either route ("C/F", "E/H"), or None when the row states none.  Anything
    else raises :class:`CaseError` naming the key.  Reference: IR 2025/2621 Annex I."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = value.strip().strip("()").strip().upper() if isinstance(value, str) else ""
    letters = [part.strip() for part in text.split("/")] if text else [""]
    if not all(letter in ROUTE_INDICATORS for letter in letters):
        raise CaseError(
            key,
            "a route indicator of IR 2025/2621 Annex I ("
            + ", ".join(ROUTE_INDICATORS)
            + "), two joined by '/', or null",
            f"got {value!r}",
        )
    return "/".join(letters)


def route_indicator_meaning(indicator: str | None) -> str | None:
    """What a route indicator means (IR 2025/2621 Annex I); "C/F" reads "… or …"."""
    if not indicator:
        return None
    return " or ".join(ROUTE_INDICATORS[letter] for letter in indicator.split("/"))


def _number_or_none(row: Mapping[str, Any], key: str, path: str) -> float | None:
    return cf.optional_number(row, key, path, UNIT, minimum=0.0)


def normalise_row(row: Mapping[str, Any], path: str = "default_values[]") -> dict[str, Any]:
    """A candidate row in canonical form: every key present, numbers as float [tCO2e/t]."""
    cf.mapping(row, path)
    origin = cf.text(row, "origin", path, "ISO 3166-1 alpha-2 code or OTHER")
    out: dict[str, Any] = {
        "origin": OTHER if origin.upper() == OTHER else normalise_origin(origin, f"{path}.origin"),
        "cn_code": normalise_cn_code(row.get("cn_code"), f"{path}.cn_code"),
    }
    for key in _ROW_TEXT_KEYS:
        out[key] = cf.text(row, key, path, "text", default="")
    out["route_flag"] = route_indicator(row.get("route_flag"), f"{path}.route_flag")
    out["direct_t_per_t"] = cf.number(row, "direct_t_per_t", path, UNIT, minimum=0.0)
    for key in ("indirect_t_per_t", "total_t_per_t", *PUBLISHED_KEY_BY_YEAR.values()):
        out[key] = _number_or_none(row, key, path)
    return out


def _row_sort_key(row: Mapping[str, Any], origin: str) -> tuple:
    return (
        row["origin"] != origin,
        row["origin"],
        row["cn_code"],
        row["description"],
        row["total_t_per_t"] if row["total_t_per_t"] is not None else -1.0,
        row["country"],
    )


def _loose_digits(value: object) -> str:
    return "".join(ch for ch in str(value) if ch.isdigit())


def candidate_rows(
    table_rows: Iterable[Mapping[str, Any]], origin: str, cn_code: str
) -> list[dict[str, Any]]:
    """The rows of ``table_rows`` that can match a case: the origin's rows and the
    "Other countries and territories" rows (origin ``OTHER``) whose CN code equals the
    case's code or is a prefix of it.  Returned normalised and in a fixed order (origin
    first, then by CN code and description), so equal inputs give equal traces.

    Cheap to call in bulk: rows are screened on origin and CN prefix before being
    normalised.
    """
    origin = normalise_origin(origin)
    cn = normalise_cn_code(cn_code)
    wanted = {origin, OTHER}
    out = []
    for i, row in enumerate(table_rows):
        row_origin = str(row.get("origin", "")).upper()
        row_cn = _loose_digits(row.get("cn_code", "x"))
        if row_origin in wanted and (cn.startswith(row_cn) or row_cn.startswith(cn)):
            out.append(normalise_row(row, f"default_values[{i}]"))
    out = [
        r
        for r in out
        if r["origin"] in wanted and (cn.startswith(r["cn_code"]) or r["cn_code"].startswith(cn))
    ]
    return sorted(out, key=lambda r: _row_sort_key(r, origin))


def _csv_number(text: str) -> float | None:
    return float(text) if text.strip() else None


def _bundled_row(rec: Mapping[str, str]) -> dict[str, Any]:
    return {
        "origin": rec["iso2"],
        "country": rec["country"],
        "sector": rec["sector"],
        "cn_code": rec["cn_code_digits"],
        "cn_code_as_published": rec["cn_code_as_published"],
        "description": rec["description"],
        "direct_t_per_t": float(rec["direct_tco2e_per_t"]),
        "indirect_t_per_t": _csv_number(rec["indirect_tco2e_per_t"]),
        "total_t_per_t": _csv_number(rec["total_tco2e_per_t"]),
        "route_flag": _bundled_route(rec.get("production_route_flag")),
        "dv_2026_t_per_t": _csv_number(rec["dv_2026_incl_markup"]),
        "dv_2027_t_per_t": _csv_number(rec["dv_2027_incl_markup"]),
        "dv_2028_onwards_t_per_t": _csv_number(rec["dv_2028_onwards_incl_markup"]),
    }


def _bundled_route(text: str | None) -> str | None:
    """The bundled CSV's route column, read leniently: a value that is not an indicator
    letter (a description spilt into the column by a mis-quoted row) counts as none."""
    try:
        return route_indicator(text)
    except CaseError:
        return None


@lru_cache(maxsize=1)
def _bundled() -> tuple[dict[str, Any], ...]:
    with BUNDLED_TABLE.open(newline="", encoding="utf-8") as fh:
        return tuple(_bundled_row(rec) for rec in csv.DictReader(fh))


@lru_cache(maxsize=1)
def _bundled_by_origin() -> dict[str, tuple[dict[str, Any], ...]]:
    index: dict[str, list[dict[str, Any]]] = {}
    for row in _bundled():
        index.setdefault(row["origin"], []).append(row)
    return {origin: tuple(rows) for origin, rows in index.items()}


def load_bundled_table() -> list[dict[str, Any]]:
    """All rows of the bundled IR 2025/2621 Annex I table, as candidate rows
    [tCO2e/t].  Parsed once and cached; each call returns fresh dict copies."""
    return [dict(row) for row in _bundled()]


# --------------------------------------------------------------------------- case


def normalise_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """The complete normalised case: CN digits, upper-case origin, int year, variant or
    null, and the candidate rows (given, or taken from the bundled table)."""
    cf.mapping(case, "")
    cf.only_keys(case, _CASE_KEYS, "")
    cn = normalise_cn_code(case.get("cn_code"))
    origin = normalise_origin(case.get("origin"))
    rule = exempt_origin_rule(origin)
    if rule:
        raise ExemptOriginError(
            "origin",
            origin,
            f"no default value: {rule}",
        )
    goods_sector(cn)
    year = cf.integer(case, "year", "", "calendar year of import (integer >= 2026)")
    if year < FIRST_YEAR:
        raise CaseError(
            "year",
            "calendar year of import (integer >= 2026)",
            f"{year} is before the definitive period (IR 2025/2621 applies from 1 January 2026)",
        )
    variant = case.get("variant")
    if variant is not None and (not isinstance(variant, str) or not variant.strip()):
        raise CaseError(
            "variant", "text matching a row description, e.g. 'Grey clinker'", f"got {variant!r}"
        )
    given = case.get("default_values")
    if given is None:
        index = _bundled_by_origin()
        rows = candidate_rows((*index.get(origin, ()), *index[OTHER]), origin, cn)
    else:
        if not isinstance(given, list):
            raise CaseError(
                "default_values",
                "a list of candidate rows [tCO2e/t]",
                f"got {type(given).__name__}",
            )
        rows = candidate_rows(given, origin, cn)
    norm = {
        "cn_code": cn,
        "default_values": rows,
        "methodology": METHODOLOGY_ID,
        "origin": origin,
        "variant": variant.strip() if variant else None,
        "year": year,
    }
    without = case.get("without_markup", False)
    if not isinstance(without, bool):
        raise CaseError("without_markup", "true or false", f"got {without!r}")
    if without:  # only when asked: the traces of marked-up values keep their bytes
        norm["without_markup"] = True
    return norm


# --------------------------------------------------------------------------- formulas


def markup_rate(sector: str, year: int) -> Decimal:
    """Mark-up m [1] of the import year: 0.10 / 0.20 / 0.30 (2026 / 2027 / 2028 on) for
    cement, iron and steel, aluminium and hydrogen; 0.01 for fertilisers.
    Reference: IR 2025/2621 (default values including mark-ups); docs/method-cbam.md."""
    if sector == "fertilisers":
        return MARKUP_FERTILISERS
    return MARKUP_BY_YEAR[min(year, max(MARKUP_BY_YEAR))]


def marked_up(total_t_per_t: float, markup: Decimal) -> Decimal:
    """round_half_up(total × (1 + m), 4) [tCO2e/t], in exact decimal arithmetic.

    ``total_t_per_t`` is converted through its shortest repr ("3.1869"), so the
    product is that of the published decimal figures.  Reference: IR 2025/2621 Annex I.
    """
    return (Decimal(repr(total_t_per_t)) * (1 + markup)).quantize(_QUANTUM, ROUND_HALF_UP)


def within_rounding(published: float, total_t_per_t: float, markup: Decimal) -> bool:
    """True when ``published`` [tCO2e/t] can be round_half_up(T × (1 + m), 4) for an
    unrounded total T that rounds to ``total_t_per_t``: |published − total × (1 + m)|
    ≤ 0.00005 × (1 + m) + 0.00005."""
    half = _QUANTUM / 2
    exact = Decimal(repr(total_t_per_t)) * (1 + markup)
    return abs(Decimal(repr(published)) - exact) <= half * (1 + markup) + half


def markup_validity(sector: str, year: int) -> tuple[str, str | None]:
    """Validity (first day, last day or None) of the mark-up rate used for ``year``."""
    last = max(MARKUP_BY_YEAR)
    if sector == "fertilisers":
        return VALID_FROM, None
    if year >= last:
        return f"{last}-01-01", None
    return f"{year}-01-01", f"{year}-12-31"


def _published_key(year: int) -> str:
    return PUBLISHED_KEY_BY_YEAR[min(year, max(PUBLISHED_KEY_BY_YEAR))]


# --------------------------------------------------------------------------- lookup


@dataclass(frozen=True)
class Match:
    """The row chosen for a case and how it was found."""

    row: dict[str, Any]
    fallback: bool
    alternatives: tuple[str, ...]  # descriptions of other rows at the same CN code
    variant_rule: str  # "only", "variant" or "highest_total"
    skipped: tuple[str, ...]  # rows passed over because they publish no total


def _pick_variant(rows: list[dict[str, Any]], variant: str | None) -> tuple[dict[str, Any], str]:
    if variant is None:
        if len(rows) == 1:
            return rows[0], "only"
        best = max(rows, key=lambda r: (r["total_t_per_t"], r["description"]))
        return best, "highest_total"
    wanted = variant.casefold()
    for test in (lambda d: d == wanted, lambda d: wanted in d):
        hits = [r for r in rows if test(r["description"].casefold())]
        if len(hits) == 1:
            return hits[0], "variant"
    raise CaseError(
        "variant",
        "one of: " + "; ".join(sorted(r["description"] for r in rows)),
        f"{variant!r} matches no single row at CN {rows[0]['cn_code']}",
    )


def find_row(rows: list[dict[str, Any]], origin: str, cn: str, variant: str | None) -> Match:
    """Most specific usable row for ``cn``: 8 → 6 → 4 digits, the origin's rows first,
    then "Other countries and territories" (see the module docstring).  A heading that
    Annex I only gives through one more specific code (CN 7303 → 7303 00) matches it."""
    skipped: list[str] = []
    for level, fallback in ((origin, False), (OTHER, True)):
        level_rows = [r for r in rows if r["origin"] == level]
        for length in (8, 6, 4):
            if length > len(cn):
                continue
            hits = [r for r in level_rows if r["cn_code"] == cn[:length]]
            usable = [r for r in hits if r["total_t_per_t"] is not None]
            skipped += [
                f"{r['country']} {r['cn_code_as_published']}"
                for r in hits
                if r["total_t_per_t"] is None
            ]
            if usable:
                row, rule = _pick_variant(usable, variant)
                others = tuple(sorted(r["description"] for r in usable if r is not row))
                return Match(row, fallback, others, rule, tuple(skipped))
        under = [
            r
            for r in level_rows
            if r["cn_code"].startswith(cn) and r["cn_code"] != cn and r["total_t_per_t"] is not None
        ]
        codes = sorted({r["cn_code"] for r in under})
        if len(codes) > 1:
            raise AmbiguousCNCodeError(cn, codes)
        if codes:
            row, rule = _pick_variant(under, variant)
            others = tuple(sorted(r["description"] for r in under if r is not row))
            return Match(row, fallback, others, rule, tuple(skipped))
    raise NoDefaultValueError(cn, origin)


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class DefaultResult:
    """Every intermediate of a ``cbam.default`` computation, and its trace."""

    case: dict[str, Any]
    row: dict[str, Any]
    sector: str
    markup: Decimal
    rule_value: Decimal
    published_value: float | None
    published_accepted: bool | None
    see_total_t_per_t: float
    fallback: bool
    direct_only: bool
    value_source: str
    reason: str
    trace: dict[str, Any]
    trace_sha256: str

    @property
    def see_direct_t_per_t(self) -> float:
        """Published direct value, unmarked [tCO2e/t]."""
        return self.row["direct_t_per_t"]

    @property
    def see_indirect_t_per_t(self) -> float | None:
        """Published indirect value, unmarked; None where Annex I gives N/A [tCO2e/t]."""
        return self.row["indirect_t_per_t"]

    @property
    def see_total_unmarked_t_per_t(self) -> float:
        """Published total, unmarked [tCO2e/t]."""
        return self.row["total_t_per_t"]

    def outputs(self) -> dict[str, Any]:
        """The result's outputs (docs/interfaces.md naming), without the trace."""
        return _outputs(
            self.row,
            self.see_total_t_per_t,
            self.markup,
            self.fallback,
            self.direct_only,
            self.value_source,
            self.reason,
        )

    def as_dict(self) -> dict[str, Any]:
        """Outputs plus ``trace`` and ``trace_sha256``: what ``run_case`` returns."""
        return {**self.outputs(), "trace": self.trace, "trace_sha256": self.trace_sha256}


def _outputs(
    row: Mapping[str, Any],
    see_total: float,
    markup: Decimal,
    fallback: bool,
    direct_only: bool,
    value_source: str,
    reason: str,
) -> dict[str, Any]:
    return {
        "see_direct_t_per_t": row["direct_t_per_t"],
        "see_indirect_t_per_t": row["indirect_t_per_t"],
        "see_total_t_per_t": see_total,
        "see_total_unmarked_t_per_t": row["total_t_per_t"],
        "markup": float(markup),
        "fallback": fallback,
        "matched_cn_code": row["cn_code"],
        "matched_country": row["country"],
        "matched_description": row["description"],
        "direct_only": direct_only,
        "route_indicator": row["route_flag"],
        "route_indicator_meaning": route_indicator_meaning(row["route_flag"]),
        "tier": "default",
        "value_source": value_source,
        "reason": reason,
    }


def _pct(markup: Decimal) -> str:
    return f"{(markup * 100).normalize():f}"


def _reason(
    case: Mapping[str, Any],
    match: Match,
    markup: Decimal,
    value: Decimal | float,
    rule: Decimal,
    published: float | None,
    accepted: bool | None,
) -> str:
    row, year = match.row, case["year"]
    parts = []
    where = (
        f"No value for origin {case['origin']}; fell back to Other countries and territories"
        if match.fallback
        else f"{row['country']} ({case['origin']})"
    )
    parts.append(
        f"{where}, CN {row['cn_code_as_published'] or row['cn_code']}, "
        f"{year} mark-up +{_pct(markup)} %: {row['total_t_per_t']!r} × "
        f"{1 + markup} → {float(value)!r} tCO2e/t"
    )
    if len(row["cn_code"]) < len(case["cn_code"]):
        parts.append(
            f"CN {case['cn_code']} matched the table's {len(row['cn_code'])}-digit "
            f"code {row['cn_code']}"
        )
    elif row["cn_code"] != case["cn_code"]:
        parts.append(f"CN heading {case['cn_code']} has a single code in Annex I, {row['cn_code']}")
    if match.variant_rule == "highest_total":
        parts.append(
            f"{len(match.alternatives) + 1} rows share this CN code; no variant "
            f"given, so the highest total (conservative) was used: "
            f"{row['description']!r}"
        )
    elif match.variant_rule == "variant":
        parts.append(f"variant {case['variant']!r} selected {row['description']!r}")
    if match.skipped:
        parts.append("skipped row(s) without a published total: " + ", ".join(match.skipped))
    if accepted is True and Decimal(repr(published)) != rule:
        parts.append(
            f"published Annex I value {published!r} used; the rule on the "
            f"4-decimal total gives {float(rule)!r} (the Commission rounded from "
            "its unrounded total)"
        )
    elif accepted is False:
        parts.append(
            f"the published Annex I figure {published!r} contradicts the "
            f"+{_pct(markup)} % mark-up (ratio "
            f"{Decimal(repr(published)) / Decimal(repr(row['total_t_per_t'])):.4f}) "
            f"and was rejected; the rule value is used"
        )
    return "; ".join(parts) + "."


def compute_default(case: Mapping[str, Any]) -> DefaultResult:
    """Default value for one case (see the module docstring for the case and the rules).

    Raises :class:`CaseError` for a malformed case, :class:`NoDefaultValueError` or
    :class:`AmbiguousCNCodeError` when the table has no usable row.
    """
    norm = normalise_case(case)
    cn, origin, year = norm["cn_code"], norm["origin"], norm["year"]
    match = find_row(norm["default_values"], origin, cn, norm["variant"])
    row = match.row
    sector = goods_sector(row["cn_code"])
    without = norm.get("without_markup", False)
    # Without the mark-up (the best estimate's last rung): m = 0 and no published
    # marked-up column applies.
    markup = Decimal(0) if without else markup_rate(sector, year)
    rule = marked_up(row["total_t_per_t"], markup)
    published = None if without else row[_published_key(year)]
    accepted = (
        None if published is None else within_rounding(published, row["total_t_per_t"], markup)
    )
    value: float = published if accepted else float(rule)
    value_source = "published" if accepted else "rule"
    direct_only = is_direct_only(cn)
    reason = _reason(norm, match, markup, value, rule, published, accepted)
    if without:
        reason = reason[:-1] + "; without the mark-up, as the best estimate's default rung."
    outputs = _outputs(row, value, markup, match.fallback, direct_only, value_source, reason)

    markup_valid_from, markup_valid_to = markup_validity(sector, year)
    label = f"{row['country']}, CN {row['cn_code_as_published'] or row['cn_code']}"
    factors = [
        factor_item(
            f"direct_t_per_t ({label})", row["direct_t_per_t"], UNIT, SOURCE, VALID_FROM, None
        ),
        factor_item(
            f"indirect_t_per_t ({label})", row["indirect_t_per_t"], UNIT, SOURCE, VALID_FROM, None
        ),
        factor_item(
            f"total_t_per_t ({label})", row["total_t_per_t"], UNIT, SOURCE, VALID_FROM, None
        ),
        factor_item(
            f"markup ({sector.replace('_', ' ')}, {year})",
            float(markup),
            "1",
            SOURCE,
            markup_valid_from,
            markup_valid_to,
        ),
    ]
    if published is not None:
        factors.append(
            factor_item(
                f"{_published_key(year)} ({label})",
                published,
                UNIT,
                SOURCE,
                markup_valid_from,
                markup_valid_to,
            )
        )
    steps = [
        step_item(
            "cbam.default.lookup",
            "row = the origin's row of the most specific CN code (8, 6, then 4 "
            "digits), else the 'Other countries and territories' row",
            {"cn_code": cn, "origin": origin, "variant": norm["variant"]},
            row["cn_code"],
            "CN code",
        ),
        step_item(
            "cbam.default.markup_rule",
            "SEE_rule = round_half_up(total × (1 + m), 4)",
            {"total_t_per_t": row["total_t_per_t"], "m": float(markup)},
            float(rule),
            UNIT,
        ),
    ]
    if published is not None:
        steps.append(
            step_item(
                "cbam.default.published_check",
                "accepted = |DV_published − total × (1 + m)| ≤ 0.00005 × (1 + m) + 0.00005",
                {
                    "dv_published_t_per_t": published,
                    "total_t_per_t": row["total_t_per_t"],
                    "m": float(markup),
                },
                accepted,
                "bool",
            )
        )
    steps.append(
        step_item(
            "cbam.default.see_total",
            "SEE_total = DV_published if accepted else SEE_rule",
            {"see_rule_t_per_t": float(rule), "dv_published_t_per_t": published},
            value,
            UNIT,
        )
    )
    inputs = [
        input_item("cn_code", cn, "CN code (digits)"),
        input_item("origin", origin, "ISO 3166-1 alpha-2"),
        input_item("year", year, "calendar year of import"),
    ]
    if norm["variant"] is not None:
        inputs.append(input_item("variant", norm["variant"], "row description"))
    sealed = seal_outputs(
        methodology_id=METHODOLOGY_ID,
        version=VERSION,
        inputs=inputs,
        factors=factors,
        steps=steps,
        outputs=outputs,
        case=norm,
    )
    trace, sha = sealed["trace"], sealed["trace_sha256"]
    return DefaultResult(
        case=norm,
        row=row,
        sector=sector,
        markup=markup,
        rule_value=rule,
        published_value=published,
        published_accepted=accepted,
        see_total_t_per_t=value,
        fallback=match.fallback,
        direct_only=direct_only,
        value_source=value_source,
        reason=reason,
        trace=trace,
        trace_sha256=sha,
    )


def run(case: Mapping[str, Any]) -> dict[str, Any]:
    """Registry entry point: outputs plus ``trace`` and ``trace_sha256``."""
    return compute_default(case).as_dict()


#: Plausible ranges of the case keys (methodologies.plausibility).
SPEC = CaseSpec(
    {},
    ranges={
        "default_values[*].direct_t_per_t": SEE,
        "default_values[*].indirect_t_per_t": SEE,
        "default_values[*].total_t_per_t": SEE,
        "default_values[*].dv_2026_t_per_t": SEE,
        "default_values[*].dv_2027_t_per_t": SEE,
        "default_values[*].dv_2028_onwards_t_per_t": SEE,
    },
)
