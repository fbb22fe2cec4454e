"""Build the bundled tables of IR 2025/2621 Annexes II–IV and IR 2025/2620 (benchmarks).

Run from the repository root (needs openpyxl and pycountry)::

    python methodologies/data/make_annex_tables.py \
        fixtures/cbam/IR_2025-2621_annexes_II-IV.txt \
        fixtures/cbam/benchmarks_IR2025-2620.xlsx

Inputs:

- the text of Commission Implementing Regulation (EU) 2025/2621 from "ANNEX II" to its
  end (OJ L, 31.12.2025, pages 2349–2400), as extracted from the Official Journal PDF
  (``fixtures/cbam/IR_2025-2621_annexes_II-IV.txt``, cut from the project's plain text
  of the act);
- the Commission's workbook of the benchmarks of Commission Implementing Regulation
  (EU) 2025/2620 (``fixtures/cbam/benchmarks_IR2025-2620.xlsx``, sheet "Benchmarks").

Outputs, in this folder:

- ``cbam_electricity_factors_IR2025-2621.json``: Annex II (default emission factors of
  each country's electricity, for the indirect emissions of goods not listed in Annex II
  of Reg. 2023/956) and Annex III (default factors for imported electricity), each row
  with the country as printed, its ISO 3166-1 alpha-2 code (``OTHER`` for "Other
  countries and territories", ``EU`` for "European Union", ``XK`` for Kosovo) and the
  factor in tCO2e/MWh, together with the IEA licence notice the act prints above both
  tables (CC BY-NC-SA 4.0): kept in a file of their own for that reason.
- ``cbam_precursor_defaults_unknown_origin_IR2025-2621.csv``: Annex IV (default values
  for a precursor whose country of production cannot be identified): CN code,
  description, sector, highest default value and the values with the mark-ups of 2026,
  2027 and 2028 onwards [tCO2e/t], and the production-route letter.
- ``cbam_benchmarks_IR2025-2620.csv``: one row per (CN code, column, route): BM_g
  [tCO2e/t] of column A (goods declared with actual data) or column B (default
  values), with the route indicator as printed.

The text is parsed strictly: decimal commas, one row per CN code, page headers and
footers skipped.  The script stops with the line number when a row cannot be read, and
checks every Annex IV row: each marked-up value must lie within rounding of the highest
default value × (1 + mark-up of the row's sector) (the Commission marked up its
unrounded value, so 7606 prints 4,986 and, for 2027, 5,984 rather than 5,983).
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pycountry

HERE = Path(__file__).parent
ELECTRICITY = HERE / "cbam_electricity_factors_IR2025-2621.json"
PRECURSORS = HERE / "cbam_precursor_defaults_unknown_origin_IR2025-2621.csv"
BENCHMARKS = HERE / "cbam_benchmarks_IR2025-2620.csv"

#: Country names as Annexes II and III print them → ISO 3166-1 alpha-2 (the rest
#: resolve through pycountry).  Kosovo has no ISO code; XK is the user-assigned code
#: the EU and most registries use for it.
ALIASES: dict[str, str] = {
    "Other countries and territories": "OTHER",
    "European Union": "EU",
    "Kosovo": "XK",
    "Brunei": "BN",
    "Congo": "CG",
    "Congo, Democratic Republic of": "CD",
    "Ivory Coast": "CI",
    "Korea, Republic of (South Korea)": "KR",
    "North Korea (Democratic People’s Republic of Korea)": "KP",
    "Occupied Palestinian Territory": "PS",
    "Russian Federation": "RU",
    "Laos": "LA",
    "Syria": "SY",
    "Taiwan": "TW",
    "Türkiye": "TR",
    "Turkey": "TR",
    "Iran, Islamic Republic of": "IR",
    "Moldova, Republic of": "MD",
    "Tanzania, United Republic of": "TZ",
    "Viet Nam": "VN",
    "Venezuela": "VE",
    "Bolivia": "BO",
}
SECTORS = {"Cement": "cement", "Fertilisers": "fertilisers", "Aluminium": "aluminium",
           "Hydrogen": "hydrogen", "Iron and steel": "iron_and_steel"}  # fmt: skip
#: IR 2025/2621 Annex IV column headings: the mark-up of each sector by year.
MARKUP = {
    "cement": (Decimal("0.10"), Decimal("0.20"), Decimal("0.30")),
    "aluminium": (Decimal("0.10"), Decimal("0.20"), Decimal("0.30")),
    "hydrogen": (Decimal("0.10"), Decimal("0.20"), Decimal("0.30")),
    "iron_and_steel": (Decimal("0.10"), Decimal("0.20"), Decimal("0.30")),
    "fertilisers": (Decimal("0.01"), Decimal("0.01"), Decimal("0.01")),
}
IEA_NOTICE = (
    "Disclaimer: The data provided are based on data sourced from the International "
    "Energy Agency (IEA) and is subject to a Creative Commons Non-Commercial Share-Alike "
    "4.0 CC BY NC SA licence (https://creativecommons.org/licenses/by-nc-sa/4.0/deed.en). "
    "These data are intended for the purpose of determining embedded emissions of CBAM "
    "goods under the CBAM Regulation. Any further use or redistribution of the data is "
    "permitted for non-commercial purposes only. Anyone wishing to use emissions factors "
    "data for commercial purposes is invited to contact the IEA to acquire an appropriate "
    "licence."
)

HALF_MILLI = Decimal("0.0005")  # half a unit of the 3 printed decimals
_NUM = r"\d+(?:,\d+)?"
_VALUES = re.compile(
    rf"^(.*?)\s*(?<!\S)({_NUM}) ({_NUM}) ({_NUM}) ({_NUM})(?: (\([A-Z]\)(?:/\([A-Z]\))*))?$"
)
_SEE_BELOW = re.compile(r"^(.*?)\s*(?:see below ?){4}$", re.IGNORECASE)
_CN = re.compile(r"^(\d{4}(?: \d{2}){0,3})(?= |$)(.*)$")
_SECTOR = re.compile(r"^(Cement|Fertilisers|Aluminium|Hydrogen|Iron and steel) \d+% mark-up")
#: The column headings of Annex IV when the PDF wraps them, one fragment a line
#: ("2027" would otherwise read as a CN heading).
HEADER_FRAGMENTS = frozenset(
    {"Default", "Value", "(including mark-up)", "2027", "2028 and onwards",
     "Underlying production", "route determining CBAM", "BM"}
)  # fmt: skip
_FOOTER = re.compile(r"^(OJ L, |EN OJ L, |ELI: |\d+/2400 ELI:)")


class AnnexParseError(SystemExit):
    """A line of the annex text that cannot be read (names the line and the reason)."""


def number(text: str) -> Decimal:
    """A number printed with a decimal comma (``0,498``) as an exact Decimal."""
    return Decimal(text.replace(",", "."))


def iso2(name: str) -> str:
    """ISO 3166-1 alpha-2 code of a country as Annexes II and III print it."""
    if name in ALIASES:
        return ALIASES[name]
    try:
        return pycountry.countries.lookup(name).alpha_2
    except LookupError:
        raise AnnexParseError(f"country {name!r} does not map to an ISO code") from None


def _lines(text: str) -> list[str]:
    # The PDF's hyphen at a line break comes out as U+0002 ("free\x02cutting").
    text = text.replace("\r\n", "\n").replace("\x02", "-")
    return [line.strip() for line in text.split("\n")]


def _section(lines: list[str], start: str, stop: str | None) -> list[tuple[int, str]]:
    begin = lines.index(start) + 1
    end = lines.index(stop) if stop else len(lines)
    return [(n + 1, line) for n, line in enumerate(lines) if begin <= n < end]


def parse_factor_table(rows: list[tuple[int, str]], annex: str) -> list[dict[str, object]]:
    """Annex II or III: ``Country value`` lines under the heading "Emission factor"."""
    out, seen = [], set()
    row = re.compile(rf"^(.+?) ({_NUM})$")
    for n, line in rows:
        if not line or _FOOTER.match(line) or "ELI: http" in line:
            continue
        m = row.match(line)
        if not m or line.startswith(("Country or territory", "(tCO2eq/MWh)")):
            continue
        name, value = m.group(1), number(m.group(2))
        code = iso2(name)
        if code in seen:
            raise AnnexParseError(f"Annex {annex}, line {n}: {name!r} ({code}) listed twice")
        seen.add(code)
        out.append({"country": name, "iso2": code, "ef_t_per_mwh": float(value), "text_line": n})
    return out


def parse_annex_iv(rows: list[tuple[int, str]]) -> list[dict[str, object]]:
    """Annex IV: one row per CN line (see the module docstring)."""
    out: list[dict[str, object]] = []
    sector = ""
    pending: tuple[int, str, str] | None = None  # (line, CN code, description so far)
    in_header = False
    for n, raw in rows:
        # A sector heading can be glued to the previous row's route letter: "(K)Hydrogen".
        for line in re.sub(r"\)(Cement|Fertilisers|Aluminium|Hydrogen|Iron and steel) ",
                           r")\n\1 ", raw).split("\n"):  # fmt: skip
            if not line or _FOOTER.match(line) or "ELI: http" in line:
                continue
            if line.startswith("Product CN Code"):
                in_header = True
                continue
            sec = _SECTOR.match(line)
            if sec:
                sector, in_header = SECTORS[sec.group(1)], False
                continue
            cn = _CN.match(line)
            if in_header and (not cn or line in HEADER_FRAGMENTS):
                continue  # the wrapped column headings, or a description's last words
            in_header = False
            if cn and pending is None:
                pending = (n, cn.group(1), cn.group(2).strip())
                line = ""
            elif cn and len(cn.group(1)) >= 7:
                # A new CN line while the last one has no values yet: a row the
                # patterns did not read; stop rather than merge two rows.
                raise AnnexParseError(
                    f"Annex IV, line {n}: CN {cn.group(1)} starts before the values of "
                    f"CN {pending[1]} (line {pending[0]}) were read: {pending[2]!r}"
                )
            elif pending is None:
                continue  # a description wrapped past its row's values and a page break
            text = f"{pending[2]} {line}".strip()
            if _SEE_BELOW.match(text):
                pending = None
                continue
            m = _VALUES.match(text)
            if not m:
                pending = (pending[0], pending[1], text)
                continue
            if not sector:
                raise AnnexParseError(f"Annex IV, line {pending[0]}: a row before any sector")
            values = [number(m.group(i)) for i in range(2, 6)]
            for year, (rate, published) in enumerate(
                zip(MARKUP[sector], values[1:], strict=True), start=2026
            ):
                rule = (values[0] * (1 + rate)).quantize(Decimal("0.001"), ROUND_HALF_UP)
                # The Commission marked up its unrounded value (7606: 4,986 printed,
                # 2027 5,984, not 5,983): allow the rounding envelope of the total.
                if abs(published - values[0] * (1 + rate)) > HALF_MILLI * (2 + rate):
                    raise AnnexParseError(
                        f"Annex IV, line {pending[0]} (CN {pending[1]}): {year} value "
                        f"{published} ≠ {values[0]} × {1 + rate} = {rule}"
                    )
            out.append(
                {
                    "cn_code": pending[1].replace(" ", ""),
                    "cn_code_as_published": pending[1],
                    "description": m.group(1).strip(),
                    "sector": sector,
                    "highest_default_t_per_t": str(values[0]),
                    "dv_2026_t_per_t": str(values[1]),
                    "dv_2027_t_per_t": str(values[2]),
                    "dv_2028_onwards_t_per_t": str(values[3]),
                    "route_flag": re.sub(r"[()]", "", m.group(6) or ""),  # "(C)/(F)" -> "C/F"
                    "text_line": pending[0],
                }
            )
            pending = None
    if pending is not None:
        raise AnnexParseError(f"Annex IV, line {pending[0]}: row {pending[1]} has no values")
    return out


def read_benchmarks(path: Path) -> list[dict[str, object]]:
    """IR 2025/2620 benchmarks in long form: one row per (CN code, column, route).

    The sheet writes a CN code once; the rows below it with a blank code carry further
    routes, and columns A and B list their routes independently (7205 10 00: column A
    one value for every route, column B one per route C, D, E).  Sector headings are
    rows with a name and no value.  Route indicators are kept as printed, e.g. ``(C)``,
    ``(F)(1)``, ``(2)``, or empty when the benchmark does not depend on the route.
    """
    ws = openpyxl.load_workbook(path, data_only=True)["Benchmarks"]
    out: list[dict[str, object]] = []
    code = desc = sector = ""
    for n, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        cn, description, bm_a, route_a, bm_b, route_b = (list(row) + [None] * 6)[:6]
        if isinstance(cn, str) and not cn.strip()[:1].isdigit() and bm_a is None:
            sector = cn.strip()
            continue
        if cn is not None:
            code, desc = re.sub(r"\D", "", str(cn)), str(description or "").strip()
            if len(code) != 8:
                raise AnnexParseError(f"{path.name} sheet Benchmarks row {n}: CN {cn!r}")
        for column, bm, route in (("A", bm_a, route_a), ("B", bm_b, route_b)):
            if bm is None:
                continue
            if not code or not isinstance(bm, int | float) or bm < 0:
                raise AnnexParseError(
                    f"{path.name} sheet Benchmarks row {n} column {column}: BM {bm!r}"
                )
            out.append(
                {
                    "cn_code": code,
                    "description": desc,
                    "sector": sector,
                    "column": column,
                    "route": str(route or "").strip(),
                    "bm_t_per_t": repr(round(float(bm), 6)),
                    "sheet_row": n,
                }
            )
    return out


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def build(annex_text: Path, benchmarks: Path) -> dict[str, object]:
    """Parse both sources; return what the three files hold."""
    lines = _lines(annex_text.read_text(encoding="utf-8"))
    ii = parse_factor_table(_section(lines, "ANNEX II", "ANNEX III"), "II")
    iii = parse_factor_table(_section(lines, "ANNEX III", "ANNEX IV"), "III")
    iv = parse_annex_iv(_section(lines, "ANNEX IV", None))
    electricity = {
        "source": "Commission Implementing Regulation (EU) 2025/2621 of 16 December 2025, "
        "Annexes II and III (OJ L, 2025/2621, 31.12.2025, pages 2350-2354)",
        "unit": "tCO2e/MWh",
        "licence_notice": IEA_NOTICE,
        "annex_ii": ii,
        "annex_iii": iii,
    }
    return {"electricity": electricity, "annex_iv": iv, "benchmarks": read_benchmarks(benchmarks)}


def main(annex_text: Path, benchmarks: Path) -> None:
    """Write the three tables (see the module docstring)."""
    data = build(annex_text, benchmarks)
    ELECTRICITY.write_text(
        json.dumps(data["electricity"], indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    _write_csv(PRECURSORS, data["annex_iv"])
    _write_csv(BENCHMARKS, data["benchmarks"])
    e = data["electricity"]
    print(
        f"Annex II: {len(e['annex_ii'])} countries, Annex III: {len(e['annex_iii'])}, "
        f"Annex IV: {len(data['annex_iv'])} CN lines, benchmarks: {len(data['benchmarks'])} rows"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
