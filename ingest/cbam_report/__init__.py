"""The CBAM Registry's report XML (``QReport``), both ways: a pure writer and a pure reader.

Legal basis: Reg. (EU) 2023/956 Art. 6(2) (the CBAM declaration states, per good, the total
quantity imported, the total embedded emissions and the carbon price due / paid in the
country of origin) and Art. 35(2) (the transitional report: quantity, embedded emissions
direct and indirect, carbon price due); the method behind each figure is actual emissions
or default values (Art. 7(2), Annex IV). The XML form is the Commission's schema
``QReport_v19.00.xsd`` (and ``QReport_18.00.xsd`` for older reports), copied in
``fixtures/cbam/official/registry_xsd/``.

- :func:`write_cbam_report` turns a plain dict (an importer, a period, goods) into XML bytes
  and validates them against v19; an invalid result is an error, never a file.
- :func:`read_cbam_report` reads a report of either version as evidence of what was
  declared: one row per ``GoodsEmissions`` element. The file is parsed defensively: bounded
  size, no DTD, no entities, no network.

Neither touches Django, the database or the network.

Codes: the schema types the code fields (``ReportingPeriod`` an2, ``DeterminationType``
an..5, ``MeasurementUnit`` an..5 ...) but the Registry's code lists are not part of the
shared reference data. The platform writes the codes in :data:`CODES` and reads them back;
they are its own reading of the Registry's lists, kept in one place so that one edit fixes
them if the Registry's lists say otherwise.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring as defused_fromstring
from lxml import etree

from ingest.base import IngestError, RowError, UnreadableFile

NS = "http://xmlns.ec.eu/BusinessObjects/CBAM/Types/V1"
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "cbam" / "official" / "registry_xsd"
SCHEMAS = {
    "19.00": SCHEMA_DIR / "v19" / "QReport_v19.00.xsd",
    "18.00": SCHEMA_DIR / "v18" / "QReport_18.00.xsd",
}
#: Largest report accepted, bytes (the schema allows 99 999 goods; 50 MB is far above any real one).
MAX_BYTES = 50 * 1024 * 1024

#: The code values the platform writes (see the module docstring).
CODES = {
    "determination": {"actual": "01", "default": "02"},
    "mass_unit": "TNE",  # tonne, UN/ECE Recommendation 20
    "emissions_unit": "EMTNE",  # tCO2e per tonne of good
    "methodology": "COMM",  # the Commission's rules (IR 2025/2547)
    "electricity_source": "01",
    "procedure": "40",  # release for free circulation
    "import_area": "EU",
    "instrument": "01",
}
_METHOD_OF = {v: k for k, v in CODES["determination"].items()}
_MASS_UNITS = {"TNE": 1.0, "t": 1.0, "KGM": 0.001, "kg": 0.001}


class ReportError(IngestError):
    """A report that cannot be written or read; the message names the file or element and why."""


# --------------------------------------------------------------------------------- writer


def _dec(value: float, places: int) -> str:
    """Round half up to ``places`` decimals (the schema's ``decN-places``) and drop the zeros."""
    q = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = format(q.normalize(), "f")
    return text


def _sub(parent: etree._Element, name: str, text: object | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{NS}}}{name}")
    if text is not None:
        el.text = str(text)
    return el


def _address(parent: etree._Element, name: str, party: dict) -> None:
    addr = _sub(parent, name)
    _sub(addr, "Country", party["country"])
    _sub(addr, "City", party.get("city") or "-")


def write_cbam_report(report: dict) -> bytes:
    """Write one Registry report as XML bytes valid against ``QReport_v19.00.xsd``.

    ``report`` holds ``year`` (int), ``period`` (two characters, e.g. ``"Q1"``),
    ``submission_date`` (aware or UTC ``datetime``), ``declarant`` ({``id`` (EORI), ``name``,
    ``country``, ``city``, ``role``}), optional ``report_id``, and ``goods``: a list of
    {``cn_code`` (8 digits), ``description``, ``origin`` (ISO alpha-2), ``net_mass_t``,
    ``emissions``: [{``net_mass_t``, ``see_direct_t_per_t``, ``see_indirect_t_per_t`` (or
    None: direct-only goods, Reg. 2023/956 Annex II), ``method`` (``"actual"`` or
    ``"default"``), optional ``production_country``, ``installation`` ({``id``, ``name``,
    ``country``}), ``carbon_price`` ({``amount``, ``currency``, ``country``, ``legal_act``})}]}.

    Each good's emissions lines carry its specific embedded emissions, direct and indirect
    (Reg. 2023/956 Art. 35(2)(b), Annex IV), and the method (Art. 7(2)); the carbon price
    paid goes in ``CarbonPriceDue`` (Art. 9, Art. 35(2)(d)). Raises :class:`ReportError`
    naming the good and field on bad input, or the schema's first complaints if the
    result does not validate.
    """
    for key in ("year", "period", "declarant", "goods"):
        if key not in report:
            raise ReportError(f"report: missing key {key!r}")
    if not report["goods"]:
        raise ReportError("report: no goods (the schema asks for at least one ImportedGood)")
    root = etree.Element(f"{{{NS}}}QReport", nsmap={None: NS})
    submitted = report.get("submission_date") or dt.datetime.now(dt.UTC)
    _sub(root, "SubmissionDate", submitted.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    if report.get("report_id"):
        _sub(root, "ReportId", report["report_id"])
    _sub(root, "ReportingPeriod", report["period"])
    _sub(root, "Year", int(report["year"]))
    d = report["declarant"]
    decl = _sub(root, "Declarant")
    _sub(decl, "IdentificationNumber", d["id"])
    _sub(decl, "Name", d["name"])
    _sub(decl, "Role", d.get("role", "IMP"))
    _address(decl, "ActorAddress", d)
    sig = _sub(_sub(root, "Signatures"), "ReportConfirmation")
    _sub(sig, "GlobalDataConfirmation", "true")
    _sub(sig, "UseOfDataConfirmation", "true")
    _sub(sig, "SignaturePlace", d.get("city") or d["country"])
    _sub(sig, "Signature", d["name"])
    _sub(sig, "PositionOfPersonSending", d.get("position", "Declarant"))
    for i, good in enumerate(report["goods"], start=1):
        _write_good(root, i, good)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    errors = _schema_errors(etree.fromstring(xml), "19.00")
    if errors:
        raise ReportError(
            "the written report is not valid against QReport_v19.00.xsd: " + "; ".join(errors[:5])
        )
    return xml


def _write_good(root: etree._Element, item: int, good: dict) -> None:
    where = f"goods[{item - 1}]"
    cn = str(good.get("cn_code", ""))
    if len(cn) != 8 or not cn.isdigit():
        raise ReportError(f"{where}.cn_code: {cn!r} is not an 8-digit CN code")
    if not good.get("emissions"):
        raise ReportError(
            f"{where}.emissions: none (the schema asks for at least one GoodsEmissions)"
        )
    el = _sub(root, "ImportedGood")
    _sub(el, "ItemNumber", item)
    cc = _sub(el, "CommodityCode")
    _sub(cc, "HsCode", cn[:6])
    _sub(cc, "CnCode", cn)
    _sub(_sub(cc, "CommodityDetails"), "Description", (good.get("description") or cn)[:512])
    _sub(_sub(el, "OriginCountry"), "Country", good["origin"])
    q = _sub(el, "ImportedQuantity")
    _sub(q, "SequenceNumber", 1)
    _sub(_sub(q, "Procedure"), "RequestedProc", good.get("procedure") or CODES["procedure"])
    _sub(_sub(q, "ImportArea"), "ImportArea", CODES["import_area"])
    mp = _sub(q, "MeasureProcedureImported")
    _sub(mp, "Indicator", 0)
    _sub(mp, "NetMass", _dec(good["net_mass_t"], 6))
    _sub(mp, "MeasurementUnit", CODES["mass_unit"])
    m = _sub(el, "MeasureImported")
    _sub(m, "NetMass", _dec(good["net_mass_t"], 6))
    _sub(m, "MeasurementUnit", CODES["mass_unit"])
    for j, em in enumerate(good["emissions"], start=1):
        method = em.get("method")
        if method not in CODES["determination"]:
            raise ReportError(
                f"{where}.emissions[{j - 1}].method: {method!r} is not 'actual' or 'default'"
            )
        ge = _sub(el, "GoodsEmissions")
        _sub(ge, "SequenceNumber", j)
        if em.get("production_country"):
            _sub(ge, "ProductionCountry", em["production_country"])
        inst = em.get("installation")
        if inst:
            ie = _sub(ge, "Installation")
            _sub(ie, "InstallationId", str(inst["id"])[:17])
            _sub(ie, "InstallationName", inst["name"][:256])
            _sub(_sub(ie, "Address"), "EstablishmentCountry", inst["country"])
        pm = _sub(ge, "ProducedMeasure")
        _sub(pm, "NetMass", _dec(em["net_mass_t"], 6))
        _sub(pm, "MeasurementUnit", CODES["mass_unit"])
        code = CODES["determination"][method]
        de = _sub(ge, "DirectEmissions")
        _sub(de, "DeterminationType", code)
        _sub(de, "ApplicableReportingTypeMethodology", CODES["methodology"])
        _sub(de, "SpecificEmbeddedEmissions", _dec(em["see_direct_t_per_t"], 7))
        _sub(de, "MeasurementUnit", CODES["emissions_unit"])
        if em.get("see_indirect_t_per_t") is not None:
            ind = _sub(ge, "IndirectEmissions")
            _sub(ind, "DeterminationType", code)
            _sub(ind, "SpecificEmbeddedEmissions", _dec(em["see_indirect_t_per_t"], 7))
            _sub(ind, "MeasurementUnit", CODES["emissions_unit"])
            _sub(ind, "ElectricitySource", CODES["electricity_source"])
        qp = _sub(ge, "ProdMethodQualifyingParams")
        _sub(qp, "SequenceNumber", 1)
        _sub(qp, "MethodId", code)
        _sub(qp, "MethodName", f"{method} values")
        price = em.get("carbon_price")
        if price:
            cp = _sub(ge, "CarbonPriceDue")
            _sub(cp, "SequenceNumber", 1)
            _sub(cp, "InstrumentType", CODES["instrument"])
            _sub(cp, "LegalActDescription", (price.get("legal_act") or "carbon price paid")[:512])
            _sub(cp, "Amount", _dec(price["amount"], 2))
            _sub(cp, "Currency", price["currency"])
            _sub(cp, "Country", price["country"])


# --------------------------------------------------------------------------------- schema

_SCHEMA_CACHE: dict[str, etree.XMLSchema] = {}


def _schema(version: str) -> etree.XMLSchema:
    if version not in _SCHEMA_CACHE:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        _SCHEMA_CACHE[version] = etree.XMLSchema(etree.parse(str(SCHEMAS[version]), parser))
    return _SCHEMA_CACHE[version]


def _schema_errors(root: etree._Element, version: str) -> list[str]:
    schema = _schema(version)
    if schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


# --------------------------------------------------------------------------------- reader

COLUMNS = [
    "source_line",
    "item_number",
    "emission_sequence",
    "cn_code",
    "origin",
    "imported_net_mass_t",
    "production_country",
    "installation_id",
    "installation_name",
    "net_mass_t",
    "see_direct_t_per_t",
    "see_indirect_t_per_t",
    "method",
    "carbon_price_amount",
    "carbon_price_currency",
    "embedded_emissions_t",
]


def _parse(path: Path) -> etree._Element:
    """Parse ``path`` with no DTD, no entities, no network, bounded size."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFile(path, f"cannot open: {exc.strerror or exc}") from exc
    if size == 0:
        raise UnreadableFile(path, "the file is empty")
    if size > MAX_BYTES:
        raise UnreadableFile(path, f"{size} bytes, more than the {MAX_BYTES} a report may have")
    raw = path.read_bytes()
    try:
        defused_fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise UnreadableFile(
            path, f"refused: the XML declares a DTD or entities ({type(exc).__name__})"
        ) from exc
    except Exception as exc:
        raise UnreadableFile(path, f"not well-formed XML: {exc}") from exc
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )
    try:
        return etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise UnreadableFile(path, f"not well-formed XML: {exc}") from exc


def _text(el: etree._Element | None, name: str) -> str | None:
    if el is None:
        return None
    child = el.find(f"{{{NS}}}{name}")
    return child.text.strip() if child is not None and child.text else None


def read_cbam_report(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read a CBAM Registry report (``QReport`` v18 or v19) as evidence of what was declared.

    One row per ``ImportedGood/GoodsEmissions`` (what Reg. 2023/956 Art. 35(2) asks the
    report to state: good, origin, installation, quantity, specific embedded emissions
    direct and indirect, method, carbon price due), with ``embedded_emissions_t`` =
    mass × (direct + indirect SEE) (Annex IV point 2). The whole file must be valid against
    one of the two schemas (else :class:`ReportError` names the schema's complaints with
    their lines); a line whose codes the platform cannot interpret (an unknown mass unit)
    becomes a :class:`~ingest.base.RowError` naming its element and is left out.
    """
    path = Path(path)
    root = _parse(path)
    qname = etree.QName(root)
    if qname.namespace != NS or qname.localname != "QReport":
        raise ReportError(
            f"{path}: root element is {{{qname.namespace}}}{qname.localname}; "
            f"expected QReport in namespace {NS}"
        )
    version = None
    complaints: dict[str, list[str]] = {}
    for candidate in SCHEMAS:
        errs = _schema_errors(root, candidate)
        if not errs:
            version = candidate
            break
        complaints[candidate] = errs
    if version is None:
        detail = "; ".join(f"v{v}: {e[0]}" for v, e in complaints.items())
        raise ReportError(
            f"{path}: not valid against any supported schema version "
            f"({', '.join(SCHEMAS)}): {detail}"
        )
    rows: list[dict] = []
    errors: list[RowError] = []
    read = 0
    for good in root.findall(f"{{{NS}}}ImportedGood"):
        item = int(_text(good, "ItemNumber"))
        cc = good.find(f"{{{NS}}}CommodityCode")
        cn = _text(cc, "CnCode")
        origin = _text(good.find(f"{{{NS}}}OriginCountry"), "Country")
        measure = good.find(f"{{{NS}}}MeasureImported")
        imported, err = _mass(measure, good.sourceline, "MeasureImported")
        for ge in good.findall(f"{{{NS}}}GoodsEmissions"):
            read += 1
            line = ge.sourceline
            mass, err2 = _mass(ge.find(f"{{{NS}}}ProducedMeasure"), line, "ProducedMeasure")
            problems = [e for e in (err, err2) if e]
            de = ge.find(f"{{{NS}}}DirectEmissions")
            ind = ge.find(f"{{{NS}}}IndirectEmissions")
            code = _text(de, "DeterminationType")
            method = _METHOD_OF.get(code or "", "other")
            direct = _text(de, "SpecificEmbeddedEmissions")
            if direct is None:
                problems.append(
                    RowError(
                        line,
                        "see_direct_t_per_t",
                        "",
                        "DirectEmissions has no SpecificEmbeddedEmissions",
                    )
                )
            if problems:
                errors.extend(problems)
                continue
            indirect = _text(ind, "SpecificEmbeddedEmissions")
            inst = ge.find(f"{{{NS}}}Installation")
            price = ge.find(f"{{{NS}}}CarbonPriceDue")
            see_d = float(direct)
            see_i = float(indirect) if indirect is not None else None
            rows.append(
                {
                    "source_line": line,
                    "item_number": item,
                    "emission_sequence": int(_text(ge, "SequenceNumber")),
                    "cn_code": cn,
                    "origin": origin,
                    "imported_net_mass_t": imported,
                    "production_country": _text(ge, "ProductionCountry"),
                    "installation_id": _text(inst, "InstallationId"),
                    "installation_name": _text(inst, "InstallationName"),
                    "net_mass_t": mass,
                    "see_direct_t_per_t": see_d,
                    "see_indirect_t_per_t": see_i,
                    "method": method,
                    "carbon_price_amount": float(_text(price, "Amount"))
                    if price is not None
                    else None,
                    "carbon_price_currency": _text(price, "Currency"),
                    "embedded_emissions_t": mass * (see_d + (see_i or 0.0)),
                }
            )
    data = pd.DataFrame(rows, columns=COLUMNS)
    meta = {
        "source": "cbam_report",
        "path": str(path),
        "format": "xml",
        "schema_version": version,
        "year": int(_text(root, "Year")),
        "period": _text(root, "ReportingPeriod"),
        "declarant_id": _text(root.find(f"{{{NS}}}Declarant"), "IdentificationNumber"),
        "declarant_name": _text(root.find(f"{{{NS}}}Declarant"), "Name"),
        "rows_read": read,
        "rows_accepted": len(data),
        "rows_rejected": read - len(data),
        "errors": errors,
    }
    return data, meta


def _mass(
    measure: etree._Element | None, line: int, where: str
) -> tuple[float | None, RowError | None]:
    unit = _text(measure, "MeasurementUnit")
    net = _text(measure, "NetMass")
    if net is None:
        return None, RowError(line, "net_mass_t", "", f"{where} has no NetMass")
    if unit not in _MASS_UNITS:
        return None, RowError(
            line,
            "net_mass_t",
            unit or "",
            f"{where}/MeasurementUnit {unit!r} is not a mass unit the platform reads "
            f"({', '.join(_MASS_UNITS)})",
        )
    return float(net) * _MASS_UNITS[unit], None
