"""Legal acts cited by the engine, and their addresses on EUR-Lex (docs/engine.md).

One mapping, :data:`ACTS`, from an act to its European Legislation Identifier (ELI,
Council conclusions 2012/C 325/02), e.g. Regulation (EU) 2023/956 →
http://data.europa.eu/eli/reg/2023/956/oj. Every page and export that shows a citation
links it through :func:`citations` (the web app's ``legal`` template filter); a test checks
that every act the engine's code names is in the mapping, so no citation goes unlinked.

A citation in the code is free text, e.g. "Commission Implementing Regulation (EU)
2025/2621, Annex I (OJ L, 31.12.2025)" or "IR 2025/2547 Annex II D.4.3"; the act is
recognised in its long and short forms (Regulation/Reg., Implementing Regulation/IR,
Delegated Regulation/DR, Directive) and the article, annex, section, table or equation
that follows it is kept as the *part* cited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ELI_BASE = "http://data.europa.eu/eli"


@dataclass(frozen=True)
class Act:
    kind: str  # ELI type: reg, reg_impl, reg_del, dir
    year: int
    number: int
    title: str

    @property
    def eli(self) -> str:
        return f"{ELI_BASE}/{self.kind}/{self.year}/{self.number}/oj"

    @property
    def label(self) -> str:
        name = {
            "reg": "Regulation",
            "reg_impl": "Implementing Regulation",
            "reg_del": "Delegated Regulation",
            "dir": "Directive",
        }[self.kind]
        return (
            f"{name} (EU) {self.year}/{self.number}"
            if self.year >= 1993
            else (f"{name} {self.year}/{self.number}")
        )


def _act(kind: str, year: int, number: int, title: str) -> tuple[tuple[str, int, int], Act]:
    return (kind, year, number), Act(kind, year, number, title)


#: The acts the engine cites, by (ELI type, year, number). ELI addresses as printed in
#: the acts themselves (/work/shared/data/cbam/official/legal/ holds the texts).
ACTS: dict[tuple[str, int, int], Act] = dict(
    [
        _act(
            "reg", 2023, 956, "CBAM Regulation (establishing a carbon border adjustment mechanism)"
        ),
        _act("reg", 2025, 2083, "Omnibus amending the CBAM Regulation (50 t de minimis)"),
        _act("reg_impl", 2025, 2547, "CBAM methodology for the definitive period"),
        _act("reg_impl", 2025, 2621, "CBAM default values"),
        _act("reg_impl", 2025, 2620, "CBAM benchmarks for free allocation adjustment"),
        _act("reg_impl", 2025, 2546, "CBAM verification and accreditation"),
        _act("reg_impl", 2026, 1740, "CBAM certificate price publication"),
        _act("reg_impl", 2018, 2066, "EU ETS monitoring and reporting (MRR)"),
        _act("reg_impl", 2018, 2067, "EU ETS verification and accreditation (AVR)"),
        _act("reg_del", 2023, 1184, "RFNBO methodology (additionality, correlation)"),
        _act("reg_del", 2023, 1185, "RFNBO greenhouse-gas savings methodology"),
        _act("reg_del", 2025, 2551, "CBAM delegated rules"),
        _act("dir", 2003, 87, "EU Emissions Trading System Directive"),
        _act("dir", 2018, 2001, "Renewable Energy Directive (RED II)"),
        _act("dir", 2023, 959, "Directive amending the EU ETS Directive"),
    ]
)

_KIND_WORDS = (
    (r"(?:Commission\s+)?Implementing\s+Regulation|IR", "reg_impl"),
    (r"(?:Commission\s+)?Delegated\s+Regulation|DR", "reg_del"),
    (r"Regulation|Reg\.", "reg"),
    (r"Directive|Dir\.", "dir"),
)
_REFERENCE = re.compile(
    r"(?<![\w.])(?P<kind>"
    + "|".join(f"(?:{words})" for words, _ in _KIND_WORDS)
    + r")\s*(?:\((?:EU|EC)\)\s*)?(?:No\.?\s*)?(?P<year>(?:19|20)\d\d)/(?P<number>\d{1,4})\b"
)
_PART = re.compile(
    r"^[\s,]*(?P<part>(?:Art(?:icle)?s?\.?|Annex(?:es)?|section|point|pt|table|row|"
    r"eq(?:uation)?\.?|recital|§)\s*[^,;()\n]{1,60})",
    re.I,
)


def _kind_of(text: str) -> str:
    for words, kind in _KIND_WORDS:
        if re.fullmatch(words, text.strip(), flags=re.I):
            return kind
    raise ValueError(text)


@dataclass(frozen=True)
class Citation:
    """One act named in a text: where (``start``, ``end``), which act, the part cited."""

    start: int
    end: int
    text: str
    act: Act | None  # None: an act not in ACTS (shown, not linked)
    part: str

    @property
    def url(self) -> str | None:
        return self.act.eli if self.act else None


def citations(text: str) -> list[Citation]:
    """The acts named in ``text``, in order, each with the part (article, annex, table,
    equation) that follows it, if any."""
    out = []
    text = text or ""
    found = list(_REFERENCE.finditer(text))
    for i, m in enumerate(found):
        stop = found[i + 1].start() if i + 1 < len(found) else len(text)
        kind = _kind_of(m["kind"])
        year, number = int(m["year"]), int(m["number"])
        act = ACTS.get((kind, year, number))
        if act is None and kind == "reg":  # "Regulation 2025/2547" written loosely
            act = next((a for (k, y, n), a in ACTS.items() if (y, n) == (year, number)), None)
        part_match = _PART.match(text[m.end() : stop])
        part = part_match["part"].strip(" ,&") if part_match else ""
        part = re.sub(r"\s+(?:and|&)$", "", part)
        out.append(Citation(m.start(), m.end(), m.group(0), act, part))
    return out


def eli(kind: str, year: int, number: int) -> str:
    """The ELI address of an act of :data:`ACTS` (KeyError naming it otherwise)."""
    return ACTS[(kind, year, number)].eli
