"""Write the Commission's communication template, and let the workbook's own formulas check it.

The CBAM communication template for installations (IR 2025/2547 Annex IV, the information
an operator communicates to the reporting declarant: the specific embedded emissions of
each good, direct and indirect, per Reg. 2023/956 Annex IV) is an Excel workbook whose
``Summary_Products`` sheet is computed by its own formulas from the input sheets
(``A_InstData`` .. ``E_PurchPrec``). This module:

- :func:`fill_template` writes values into a template's **input** cells (never over a
  formula: that would break the Commission's computation) and saves a copy, formulas kept;
- :func:`recalculate` has LibreOffice (headless, a private throw-away profile, told to
  recalculate every formula on load) open and re-save the workbook, so that its cached
  values are the workbook's own result;
- :func:`summary_products` reads the product rows of ``Summary_Products`` (CN code, SEE
  direct, SEE indirect) from the cached values.

Pure: no Django, no network. LibreOffice (Debian ``libreoffice-calc``) must be installed
for :func:`recalculate`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import openpyxl

from ingest.base import IngestError

BLANK_TEMPLATE = (
    Path(__file__).resolve().parents[2]
    / "fixtures"
    / "cbam"
    / "official"
    / "communication_template_v2.1.1_blank.xlsx"
)
#: Seconds LibreOffice may take to open, recalculate and save one template.
RECALC_TIMEOUT_S = 240

# Calc's "recalculation on file load" settings: 0 = always recalculate (Excel 2007+ and ODF).
_RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode"
 oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode"
 oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class TemplateWriteError(IngestError):
    """The template cannot be written or recalculated; the message names file, sheet, cell."""


def fill_template(
    source: str | Path, values: dict[tuple[str, str], object], out: str | Path
) -> Path:
    """Copy ``source`` to ``out`` with ``values`` ({(sheet, cell): value}) in its input cells.

    Formulas are kept (the workbook is loaded with formulas, not cached values). A key that
    names a missing sheet, or a cell holding a formula, is refused with the sheet and cell.
    """
    source, out = Path(source), Path(out)
    try:
        wb = openpyxl.load_workbook(source)
    except Exception as exc:
        raise TemplateWriteError(f"{source}: cannot open the template: {exc}") from exc
    for (sheet, cell), value in values.items():
        if sheet not in wb.sheetnames:
            raise TemplateWriteError(f"{source}: no sheet {sheet!r} (cell {cell})")
        current = wb[sheet][cell].value
        if isinstance(current, str) and current.startswith("="):
            raise TemplateWriteError(
                f"{source}: {sheet}!{cell} holds a formula ({current[:40]}…); "
                "only input cells are written"
            )
        wb[sheet][cell].value = value
    wb.save(out)
    return out


def recalculate(path: str | Path, outdir: str | Path) -> Path:
    """Recalculate every formula of ``path`` with LibreOffice; the result goes in ``outdir``."""
    path, outdir = Path(path), Path(outdir)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise TemplateWriteError(
            "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc"
        )
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cm-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_RECALC_PROFILE, encoding="utf-8")
        cmd = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(outdir),
            str(path),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=RECALC_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise TemplateWriteError(
                f"{path}: LibreOffice took more than {RECALC_TIMEOUT_S} s"
            ) from exc
    result = outdir / (path.stem + ".xlsx")
    if done.returncode != 0 or not result.is_file():
        raise TemplateWriteError(
            f"{path}: LibreOffice failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"
        )
    return result


def summary_products(path: str | Path) -> list[dict]:
    """The product rows of ``Summary_Products`` (rows 10–109 under the header of row 8):
    ``cn_code`` (column F), ``see_direct_t_per_t`` (I), ``see_indirect_t_per_t`` (J), from the
    cached values. Rows without a CN code are empty slots of the template."""
    path = Path(path)
    try:
        ws = openpyxl.load_workbook(path, data_only=True, read_only=True)["Summary_Products"]
    except KeyError as exc:
        raise TemplateWriteError(f"{path}: no sheet 'Summary_Products'") from exc
    rows = []
    for r, row in enumerate(
        ws.iter_rows(min_row=10, max_row=109, min_col=6, max_col=10, values_only=True), 10
    ):
        cn, _name, _product, direct, indirect = row
        if cn in (None, ""):
            continue
        if not isinstance(direct, (int, float)):
            raise TemplateWriteError(
                f"{path}: Summary_Products!I{r} has no cached number ({direct!r}); "
                "recalculate first"
            )
        rows.append(
            {
                "row": r,
                "cn_code": str(cn),
                "see_direct_t_per_t": float(direct),
                "see_indirect_t_per_t": float(indirect)
                if isinstance(indirect, (int, float))
                else None,
            }
        )
    return rows
