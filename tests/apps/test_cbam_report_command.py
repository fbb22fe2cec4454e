"""``manage.py cbam_report``: an importer's shipments become a Registry report valid against v19.

By hand: the importer "Imp" brought in, in Q1 2026, 900 t + 5 t of CN 7208 10 00 from China on
default values; IR 2025/2621 Annex I (China, CN 7208) gives 3.5056 tCO2e/t for 2026 with
its mark-up, direct only (no indirect value: Reg. 2023/956 Annex II lists iron and steel
as direct-only). So one ImportedGood of 905 t with one GoodsEmissions line of 905 t at
3.5056 (the published direct 3.1869 scaled by the mark-up, see
registry_report.declared_see), method default, and no IndirectEmissions. The April shipment
and another importer's are left out.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from lxml import etree

from ingest.cbam_report import CODES, NS, SCHEMAS, read_cbam_report
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services


@pytest.fixture
def shipments(postgres, tmp_path):
    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "c.csv",
            [
                "R1,1,2026-03-02,72081000,CN,Rep Steel,Imp,900000,,4000,",
                "R1,2,2026-03-02,72081000,CN,Rep Steel,Imp,5000,,4000,",
                "R2,1,2026-04-02,72081000,CN,Rep Steel,Imp,7000,,4000,",
                "R3,1,2026-03-05,72081000,CN,Rep Steel,Other Importer,1000,,4000,",
            ],
        ),
    )


def test_quarter_report_of_one_importer(shipments, tmp_path):
    out = tmp_path / "q1.xml"
    stdout = io.StringIO()
    call_command(
        "cbam_report", "--importer", "imp", "--eori", "DE1234567890", "--year", "2026",
        "--quarter", "1", "--output", str(out), stdout=stdout,
    )  # fmt: skip
    assert "1 good(s), 1 emissions line(s), period Q1 2026" in stdout.getvalue()
    doc = etree.parse(str(out))
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS["19.00"])))
    assert schema.validate(doc), schema.error_log
    goods = doc.findall(f"{{{NS}}}ImportedGood")
    assert len(goods) == 1
    assert goods[0].findtext(f"{{{NS}}}MeasureImported/{{{NS}}}NetMass") == "905"
    ge = goods[0].find(f"{{{NS}}}GoodsEmissions")
    direct = ge.find(f"{{{NS}}}DirectEmissions")
    assert direct.findtext(f"{{{NS}}}SpecificEmbeddedEmissions") == "3.5056"
    assert direct.findtext(f"{{{NS}}}DeterminationType") == CODES["determination"]["default"]
    assert ge.find(f"{{{NS}}}IndirectEmissions") is None
    data, meta = read_cbam_report(out)
    assert (meta["period"], meta["declarant_id"]) == ("Q1", "DE1234567890")
    assert data["embedded_emissions_t"].iloc[0] == pytest.approx(905 * 3.5056)


def test_whole_year_takes_april_too(shipments, tmp_path):
    out = tmp_path / "y.xml"
    call_command(
        "cbam_report", "--importer", "Imp", "--eori", "DE1234567890", "--year", "2026",
        "--output", str(out), stdout=io.StringIO(),
    )  # fmt: skip
    data, meta = read_cbam_report(out)
    assert meta["period"] == "YR"
    assert list(data["net_mass_t"]) == [pytest.approx(912.0)]


def test_refusals_name_the_reason(shipments, tmp_path):
    out = tmp_path / "x.xml"
    with pytest.raises(CommandError, match="needs the declarant's EORI"):
        call_command("cbam_report", "--importer", "Imp", "--year", "2026", "--output", str(out))
    with pytest.raises(CommandError, match="no current shipments of importer 'Nobody'"):
        call_command(
            "cbam_report", "--importer", "Nobody", "--eori", "DE1", "--year", "2026",
            "--output", str(out),
        )  # fmt: skip
    with pytest.raises(CommandError, match="a quarter is 1, 2, 3 or 4"):
        call_command(
            "cbam_report", "--importer", "Imp", "--eori", "DE1", "--year", "2026",
            "--quarter", "5", "--output", str(out),
        )  # fmt: skip
    assert not out.exists()
