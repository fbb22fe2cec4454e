"""The Registry report XML: written valid against QReport_v19.00.xsd, read back, bad input refused.

Figures by hand: Reg. 2023/956 Annex IV point 2 makes a good's embedded emissions its mass
times its specific embedded emissions (direct + indirect): 100 t × (1.91 + 0.14) tCO2e/t
= 205 tCO2e. The schema's ``dec16-7`` keeps 7 decimals, so 2.1234567891 is written
2.1234568 (half up) and 20.5 t × 2.1234568 = 43.5308644 tCO2e.
"""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from ingest.base import UnreadableFile
from ingest.cbam_report import NS, SCHEMAS, ReportError, read_cbam_report, write_cbam_report


def _report(**over):
    r = {
        "year": 2026,
        "period": "Q1",
        "submission_date": dt.datetime(2026, 4, 30, 12, 0, tzinfo=dt.UTC),
        "declarant": {
            "id": "DE123456789012345",
            "name": "Acme Import GmbH",
            "country": "DE",
            "city": "Hamburg",
        },
        "goods": [
            {
                "cn_code": "72081000",
                "description": "hot-rolled coil",
                "origin": "TR",
                "net_mass_t": 120.5,
                "emissions": [
                    {
                        "net_mass_t": 100.0,
                        "see_direct_t_per_t": 1.91,
                        "see_indirect_t_per_t": 0.14,
                        "method": "actual",
                        "production_country": "TR",
                        "installation": {"id": "TR-INST-1", "name": "Works 1", "country": "TR"},
                        "carbon_price": {"amount": 1500.0, "currency": "TRY", "country": "TR"},
                    },
                    {
                        "net_mass_t": 20.5,
                        "see_direct_t_per_t": 2.1234567891,
                        "see_indirect_t_per_t": None,
                        "method": "default",
                    },
                ],
            }
        ],
    }
    r.update(over)
    return r


def test_written_report_is_valid_against_the_commissions_v19_schema():
    xml = write_cbam_report(_report())
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS["19.00"])))
    doc = etree.fromstring(xml)
    assert schema.validate(doc), schema.error_log
    ge = doc.findall(f".//{{{NS}}}GoodsEmissions")
    assert [
        g.findtext(f"{{{NS}}}DirectEmissions/{{{NS}}}SpecificEmbeddedEmissions") for g in ge
    ] == [
        "1.91",
        "2.1234568",
    ]
    # direct-only line: no IndirectEmissions element at all
    assert ge[1].find(f"{{{NS}}}IndirectEmissions") is None
    assert ge[0].findtext(f"{{{NS}}}CarbonPriceDue/{{{NS}}}Amount") == "1500"


def test_round_trip_reads_back_what_was_declared(tmp_path):
    p = tmp_path / "r.xml"
    p.write_bytes(write_cbam_report(_report()))
    data, meta = read_cbam_report(p)
    assert meta["schema_version"] == "19.00"
    assert (meta["year"], meta["period"], meta["declarant_id"]) == (2026, "Q1", "DE123456789012345")
    assert meta["rows_read"] == meta["rows_accepted"] == 2 and meta["errors"] == []
    assert list(data["method"]) == ["actual", "default"]
    assert next(iter(data["installation_id"])) == "TR-INST-1"
    assert data["embedded_emissions_t"].iloc[0] == pytest.approx(205.0, abs=1e-9)
    assert data["embedded_emissions_t"].iloc[1] == pytest.approx(43.5308644, abs=1e-9)
    assert data["imported_net_mass_t"].iloc[0] == 120.5


def test_writer_names_the_bad_field():
    bad = _report()
    bad["goods"][0]["cn_code"] = "7208"
    with pytest.raises(ReportError, match=r"goods\[0\]\.cn_code"):
        write_cbam_report(bad)
    bad = _report()
    bad["goods"][0]["emissions"][0]["method"] = "guess"
    with pytest.raises(ReportError, match=r"emissions\[0\]\.method"):
        write_cbam_report(bad)
    with pytest.raises(ReportError, match=r"not valid against QReport_v19\.00\.xsd"):
        write_cbam_report(_report(period="Q10"))


def test_entities_are_refused(tmp_path):
    p = tmp_path / "evil.xml"
    p.write_text(
        '<?xml version="1.0"?><!DOCTYPE q [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f'<QReport xmlns="{NS}">&x;</QReport>'
    )
    with pytest.raises(UnreadableFile, match="DTD or entities"):
        read_cbam_report(p)


def test_wrong_namespace_is_refused(tmp_path):
    p = tmp_path / "ns.xml"
    p.write_bytes(write_cbam_report(_report()).replace(NS.encode(), b"urn:other"))
    with pytest.raises(ReportError, match="expected QReport in namespace"):
        read_cbam_report(p)


def test_a_report_valid_against_no_supported_version_is_refused(tmp_path):
    doc = etree.fromstring(write_cbam_report(_report()))
    doc.remove(doc.find(f"{{{NS}}}Declarant"))
    p = tmp_path / "v.xml"
    p.write_bytes(etree.tostring(doc))
    with pytest.raises(
        ReportError, match=r"not valid against any supported schema version \(19.00, 18.00\)"
    ):
        read_cbam_report(p)


def test_oversized_empty_and_broken_files(tmp_path, monkeypatch):
    import ingest.cbam_report as mod

    p = tmp_path / "r.xml"
    p.write_bytes(write_cbam_report(_report()))
    monkeypatch.setattr(mod, "MAX_BYTES", 100)
    with pytest.raises(UnreadableFile, match="more than the 100"):
        read_cbam_report(p)
    monkeypatch.undo()
    e = tmp_path / "e.xml"
    e.write_bytes(b"")
    with pytest.raises(UnreadableFile, match="empty"):
        read_cbam_report(e)
    t = tmp_path / "t.xml"
    t.write_bytes(write_cbam_report(_report())[:300])
    with pytest.raises(UnreadableFile, match="not well-formed"):
        read_cbam_report(t)


def test_unknown_mass_unit_is_a_row_error_naming_the_element(tmp_path):
    doc = etree.fromstring(write_cbam_report(_report()))
    second = doc.findall(f".//{{{NS}}}GoodsEmissions")[1]
    second.find(f"{{{NS}}}ProducedMeasure/{{{NS}}}MeasurementUnit").text = "LTR"
    xml = etree.tostring(doc)
    p = tmp_path / "u.xml"
    p.write_bytes(xml)
    _data, meta = read_cbam_report(p)
    assert meta["rows_read"] == 2 and meta["rows_accepted"] == 1 and meta["rows_rejected"] == 1
    (err,) = meta["errors"]
    assert "ProducedMeasure/MeasurementUnit 'LTR'" in err.reason and err.field == "net_mass_t"


def _el(name, text=None, *children):
    e = etree.Element(f"{{{NS}}}{name}")
    if text is not None:
        e.text = text
    e.extend(children)
    return e


def to_v18(xml: bytes) -> bytes:
    """The same report in the v18 form: v18 also asks for totals, the competent authority,
    the signature date and each installation's emissions (QReport_18.00.xsd)."""
    doc = etree.fromstring(xml)
    q = lambda p: doc.find(p.replace("{}", f"{{{NS}}}"))  # noqa: E731
    year = q("{}Year")
    year.addnext(_el("TotalImported", "1"))
    year.getnext().addnext(_el("TotalEmissions", "248.5308644"))
    q("{}Declarant").addnext(_el("NationalCompetentAuth", None, _el("ReferenceNumber", "DE")))
    q("{}Signatures/{}ReportConfirmation/{}UseOfDataConfirmation").addnext(
        _el("SignatureDate", "20260430")
    )
    for good in doc.findall(f"{{{NS}}}ImportedGood"):
        good.find(f"{{{NS}}}MeasureImported").addnext(
            _el(
                "TotalEmissions",
                None,
                _el("EmissionsPerUnit", "2.06"),
                _el("OverallEmissions", "248.53"),
                _el("TotalDirect", "234.53"),
                _el("TotalIndirect", "14"),
                _el("MeasurementUnit", "EMTNE"),
            )
        )
        for ge in good.findall(f"{{{NS}}}GoodsEmissions"):
            ge.find(f"{{{NS}}}ProducedMeasure").addnext(
                _el(
                    "InstallationEmissions",
                    None,
                    _el("OverallEmissions", "0"),
                    _el("TotalDirect", "0"),
                    _el("TotalIndirect", "0"),
                    _el("MeasurementUnit", "EMTNE"),
                )
            )
    return etree.tostring(doc)


def test_a_v18_report_is_read_too(tmp_path):
    p = tmp_path / "v18.xml"
    p.write_bytes(to_v18(write_cbam_report(_report())))
    data, meta = read_cbam_report(p)
    assert meta["schema_version"] == "18.00"
    assert list(data["embedded_emissions_t"]) == [pytest.approx(205.0), pytest.approx(43.5308644)]
    assert list(data["method"]) == ["actual", "default"]
