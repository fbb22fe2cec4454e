"""Build ``cbam_default_values_IR2025-2621.csv`` from the Commission's own workbook.

Run from the repository root (needs openpyxl and pycountry)::

    python methodologies/data/make_defaults_table.py \
        fixtures/cbam/default_values_IR2025-2621.xlsx \
        [--compare fixtures/cbam/cbam_default_values_IR2025-2621_by_country.csv]

Source: the Commission's spreadsheet version of Commission Implementing Regulation (EU)
2025/2621, Annex I (``default_values_IR2025-2621.xlsx``, sheet "Version History":
version 1 of 2026-02-04, "Default values based on Implementing Regulation (EU)
2025/2621 published on 17 December 2025"); a copy is in ``fixtures/cbam/``.

One row per (country sheet, CN line) that publishes a direct value.  Lines the
workbook marks ``–`` (no value) or ``see below`` (a heading whose values are on its
sub-codes) are left out, as is the one anomaly of the act itself: lines whose
direct, indirect and total read ``–`` but whose marked-up columns hold numbers
(for instance Albania "White Portland cement": ``– – – 1,230 0,140 1,370``, the same in
the Official Journal text); they are printed as warnings.

Numbers are the workbook's cached values rounded half-up to 4 decimals (which strips
Excel's float noise such as ``0.9570000000000001``), written without trailing zeros: the
precision of the table the platform loaded before, which ``cbam.default`` rounds to.
(The workbook holds unrounded values such as Thailand 7207 11 90, total 1.439625; the
Official Journal prints 3 decimals, 1,440: see ``README.md``.)  The
columns are those of the table the platform loaded before (so
``methodologies.cbam_default`` reads this file unchanged), plus ``iso2``: the ISO 3166-1
alpha-2 code of the country sheet (pycountry plus ``ALIASES``), or ``OTHER`` for
``_Other Countries and Territorie``.

``--compare OLD.csv`` prints every difference between the rows written and the rows of
an earlier table with the same columns (key: country, CN code as published,
description): rows only in one of them, and each differing cell.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pycountry

OUTPUT = Path(__file__).with_name("cbam_default_values_IR2025-2621.csv")
OTHER_SHEET = "_Other Countries and Territorie"
EXPECTED_SHEETS = 120  # 119 country sheets + "Other countries and territories"
NOT_COUNTRIES = ("Overview", "Version History")
SECTORS = ("Cement", "Fertilisers", "Aluminium", "Hydrogen", "Iron and steel")
HEADER = [
    "country",
    "sector",
    "cn_code_as_published",
    "cn_code_digits",
    "description",
    "direct_tco2e_per_t",
    "indirect_tco2e_per_t",
    "total_tco2e_per_t",
    "dv_2026_incl_markup",
    "dv_2027_incl_markup",
    "dv_2028_onwards_incl_markup",
    "indirect_applicable",
    "production_route_flag",
    "iso2",
]
KEY = ("country", "cn_code_as_published", "description")

#: Sheet names (cut to Excel's 31 characters, or informal) → ISO 3166-1 alpha-2.
ALIASES: dict[str, str] = {
    OTHER_SHEET: "OTHER",
    "Brunei": "BN",
    "Congo": "CG",  # the Republic of the Congo; the DRC has its own sheet
    "Democratic Republic of the Cong": "CD",
    "Myanmar_Burma": "MM",
    "Russia": "RU",
}


def iso2_of(sheet: str) -> str:
    """ISO 3166-1 alpha-2 code of a country sheet name (``ALIASES`` first, then pycountry)."""
    if sheet in ALIASES:
        return ALIASES[sheet]
    try:
        return pycountry.countries.lookup(sheet).alpha_2
    except LookupError:
        raise SystemExit(
            f"country sheet {sheet!r} does not map to an ISO code; add an alias"
        ) from None


def number_text(value: object) -> str:
    """A workbook number as the table writes it: rounded half-up to 4 decimals (of its
    shortest decimal form, so Excel's ``1.72755`` gives ``1.7276``, not the binary
    float's ``1.7275``), no trailing zeros."""
    exact = Decimal(repr(float(value))).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    text = f"{exact:f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def sheet_rows(ws: openpyxl.worksheet.worksheet.Worksheet, sheet: str) -> Iterator[list[str]]:
    """The table rows of one country sheet (see the module docstring)."""
    sector = ""
    for n, cells in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = list(cells) + [None] * (9 - len(cells))
        code, desc, direct, indirect, total, dv26, dv27, dv28, route = cells[:9]
        if isinstance(code, str) and code.strip() in SECTORS and direct is None:
            sector = code.strip()
            continue
        if code is None or not str(code).strip()[:1].isdigit():
            continue
        if not _is_number(direct):
            if any(_is_number(v) for v in (indirect, total, dv26, dv27, dv28)):
                print(
                    f"warning: {sheet!r} row {n} ({code} {desc}): no direct value but "
                    f"numbers in later columns {[indirect, total, dv26, dv27, dv28]}; left out"
                )
            continue
        published = str(code).strip()
        route_text = re.sub(r"[()\s]", "", str(route or ""))  # "(C)/(F)" -> "C/F"
        rest = [
            number_text(v) if _is_number(v) else "" for v in (indirect, total, dv26, dv27, dv28)
        ]
        yield [
            sheet,
            sector,
            published,
            published.replace(" ", ""),
            str(desc or "").strip(),
            number_text(direct),
            *rest,
            "True" if _is_number(indirect) else "False",
            route_text,
            iso2_of(sheet),
        ]


def read_workbook(path: Path) -> list[list[str]]:
    """All table rows of the workbook, sheet by sheet in workbook order."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheets = [s for s in wb.sheetnames if s not in NOT_COUNTRIES]
    if len(sheets) != EXPECTED_SHEETS:
        raise SystemExit(f"expected {EXPECTED_SHEETS} country sheets, found {len(sheets)}")
    codes = {s: iso2_of(s) for s in sheets}
    if len(set(codes.values())) != len(codes):
        raise SystemExit(f"two sheets map to the same code: {codes}")
    return [row for s in sheets for row in sheet_rows(wb[s], s)]


def compare(new: list[dict[str, str]], old: list[dict[str, str]]) -> list[str]:
    """Every difference between two tables keyed by country, CN code and description."""

    def index(rows: list[dict[str, str]]) -> dict[tuple[str, ...], dict[str, str]]:
        out: dict[tuple[str, ...], dict[str, str]] = {}
        for r in rows:
            out.setdefault(tuple(r[k] for k in KEY), r)
        return out

    a, b = index(old), index(new)
    lines = [f"only in the old table: {k}" for k in a if k not in b]
    lines += [f"only in the workbook: {k}" for k in b if k not in a]
    for k in a.keys() & b.keys():
        for col in HEADER:
            if col in KEY or col not in a[k]:
                continue
            if a[k][col] != b[k][col]:
                lines.append(f"{k} {col}: old {a[k][col]!r} -> workbook {b[k][col]!r}")
    return sorted(lines)


def main() -> None:
    """Write OUTPUT from the workbook; optionally compare with an older table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", type=Path)
    parser.add_argument("--compare", type=Path, help="an earlier table to diff against")
    args = parser.parse_args()
    rows = read_workbook(args.workbook)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    OUTPUT.write_bytes(out.getvalue().encode("utf-8"))
    print(f"wrote {OUTPUT} ({len(rows)} rows)")
    if args.compare:
        with args.compare.open(newline="", encoding="utf-8") as fh:
            old = list(csv.DictReader(fh))
        new = [dict(zip(HEADER, r, strict=True)) for r in rows]
        diffs = compare(new, old)
        print(f"{len(diffs)} differences against {args.compare}")
        for line in diffs:
            print(line)


if __name__ == "__main__":
    main()
