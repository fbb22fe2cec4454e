"""Build ``cbam_default_values_IR2025-2621.csv`` from the shared default-value table.

Run once from the repository root (needs pycountry, a development dependency)::

    python methodologies/data/make_defaults_table.py \
        /work/shared/data/cbam/cbam_default_values_IR2025-2621_by_country.csv

The output is the input, byte for byte, with ONE added last column ``iso2``: the
ISO 3166-1 alpha-2 code of the country sheet, or ``OTHER`` for the sheet
``_Other Countries and Territorie``.  Names that pycountry cannot look up, or that it
could resolve to the wrong country, are mapped by the explicit ``ALIASES`` below.
The script fails loudly when a sheet does not map, when two sheets map to one code,
when the sheet count is not 120 (119 countries plus "Other countries and
territories"; the data README's "120 country sheets plus Other" over-counts by one),
or when the input does not round-trip unchanged.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pycountry

OUTPUT = Path(__file__).with_name("cbam_default_values_IR2025-2621.csv")
OTHER_SHEET = "_Other Countries and Territorie"
EXPECTED_SHEETS = 120  # 119 country sheets + "Other countries and territories"

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


def main(source: Path) -> None:
    """Write OUTPUT from ``source``; see the module docstring for the checks."""
    raw = source.read_bytes()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    header, body = rows[0], rows[1:]

    check = io.StringIO(newline="")
    csv.writer(check, lineterminator="\r\n").writerows(rows)
    if check.getvalue().encode("utf-8") != raw:
        raise SystemExit("the input does not round-trip through the csv module unchanged")

    column = header.index("country")
    codes = {sheet: iso2_of(sheet) for sheet in sorted({row[column] for row in body})}
    if len(codes) != EXPECTED_SHEETS:
        raise SystemExit(f"expected {EXPECTED_SHEETS} sheets, found {len(codes)}")
    if len(set(codes.values())) != len(codes):
        raise SystemExit(f"two sheets map to the same code: {codes}")

    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*header, "iso2"])
    writer.writerows([*row, codes[row[column]]] for row in body)
    OUTPUT.write_bytes(out.getvalue().encode("utf-8"))
    print(f"wrote {OUTPUT} ({len(body)} rows, {len(codes)} sheets)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
