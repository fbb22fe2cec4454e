"""The communication template written with its formulas kept, and recalculated by LibreOffice.

Source: the Commission's cement example (v2.1, fixtures/cbam/official/template_examples/).
Its D_Processes!L54 is the process's directly attributable emissions DirEm = 1 037 310 tCO2e
and Summary_Products!I10 the SEE (direct) of CN 2523 29 00, 0.7852147410358565 tCO2e/t
(Excel's cached value). IR 2025/2547 Annex IV: SEE_direct = (DirEm + embedded emissions of
precursors) / activity level; the example has no precursor, so doubling DirEm doubles SEE
(direct) to 1.570429482071713 and leaves SEE (indirect), 0.12224275, as it was. Only the
workbook's own formulas, recalculated by LibreOffice, can produce those numbers here.
"""

from __future__ import annotations

import os
import shutil

import pytest

from ingest.disclosure.cbam_template_writer import (
    TemplateWriteError,
    fill_template,
    recalculate,
    summary_products,
)
from tests.apps.helpers import ROOT

CEMENT = ROOT / "fixtures/cbam/official/template_examples/1_CBAM_SEE_V2.1_Example_Cement.xlsx"
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture
def soffice():
    if shutil.which("soffice") is None:
        if os.environ.get("CM_REQUIRE_SERVICES"):
            pytest.fail("LibreOffice (soffice) is required: apt-get install libreoffice-calc")
        pytest.skip("LibreOffice not installed")


def test_the_commissions_cached_summary_is_read():
    (row,) = summary_products(CEMENT)
    assert row == {
        "row": 10,
        "cn_code": "25232900",
        "see_direct_t_per_t": 0.7852147410358565,
        "see_indirect_t_per_t": 0.12224275,
    }


def test_a_written_input_is_recomputed_by_the_workbooks_own_formulas(soffice, tmp_path):
    filled = fill_template(CEMENT, {("D_Processes", "L54"): 2 * 1037310}, tmp_path / "f.xlsx")
    (row,) = summary_products(recalculate(filled, tmp_path / "out"))
    assert row["cn_code"] == "25232900"
    assert row["see_direct_t_per_t"] == pytest.approx(2 * 0.7852147410358565, rel=1e-12)
    assert row["see_indirect_t_per_t"] == pytest.approx(0.12224275, rel=1e-12)


def test_formula_cells_and_unknown_sheets_are_refused(tmp_path):
    with pytest.raises(TemplateWriteError, match=r"Summary_Products!I10 holds a formula"):
        fill_template(CEMENT, {("Summary_Products", "I10"): 1.0}, tmp_path / "x.xlsx")
    with pytest.raises(TemplateWriteError, match="no sheet 'Nope'"):
        fill_template(CEMENT, {("Nope", "A1"): 1.0}, tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()
