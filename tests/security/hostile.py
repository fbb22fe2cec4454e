"""Builders of hostile upload files, made here from nothing (no fixture is a bomb on disk).

Each builder writes one file and returns its path. The bombs are small on disk and large
once inflated: their deflate streams are one compressed block of repeated bytes, emitted
after a full flush (so it refers to nothing before it) and repeated, which makes a valid
stream of any length in well under a second (zlib at level 9 needs about 17 s per GiB).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

#: Bytes a bomb inflates to: well above the worker's memory cap (tests/security/test_uploads).
BOMB_BYTES = 2**30
_BLOCK = 2**24  # one repeated block of the stream: 16 MiB of one byte

SPREADSHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _deflate_raw(data: bytes, *, final: bool) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)


def _bomb_stream(
    head: bytes, fill: int, total: int, tail: bytes, checksum=zlib.crc32
) -> tuple[bytes, int, int]:
    """A raw deflate stream of ``head``, ``total`` bytes of ``fill`` (a multiple of 16 MiB)
    and ``tail``: ``(stream, checksum of the inflated bytes, inflated size)``."""
    assert total % _BLOCK == 0
    chunk = bytes([fill]) * _BLOCK
    block = _deflate_raw(chunk, final=False)
    repeats = total // _BLOCK
    stream = _deflate_raw(head, final=False) + block * repeats + _deflate_raw(tail, final=True)
    value = checksum(head)
    for _ in range(repeats):
        value = checksum(chunk, value)
    return stream, checksum(tail, value), len(head) + total + len(tail)


def _zip(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP archive of already deflated entries ``(name, raw deflate, crc32, size)``."""
    out, central = bytearray(), bytearray()
    for name, data, crc, size in entries:
        encoded = name.encode()
        offset = len(out)
        out += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0
        )
        out += encoded + data
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0x21,
            crc,
            len(data),
            size,
            len(encoded),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += encoded
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(out), 0
    )
    return bytes(out + central + end)


def _plain(name: str, text: str) -> tuple[str, bytes, int, int]:
    data = text.encode()
    return name, _deflate_raw(data, final=True), zlib.crc32(data), len(data)


def workbook_parts(shared_strings: bool = True) -> list[tuple[str, bytes, int, int]]:
    """The parts of a minimal workbook (one sheet, A1 = shared string 0) but the strings."""
    strings_type = (
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
    )
    strings_rel = (
        f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
    )
    return [
        _plain(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
            + (strings_type if shared_strings else "")
            + "</Types>",
        ),
        _plain(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        ),
        _plain(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{SPREADSHEET_NS}" '
            f'xmlns:r="{_REL}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>",
        ),
        _plain(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            + (strings_rel if shared_strings else "")
            + "</Relationships>",
        ),
        _plain(
            "xl/worksheets/sheet1.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{SPREADSHEET_NS}">'
            '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>',
        ),
    ]


def zip_bomb_xlsx(path: Path, inflated: int = BOMB_BYTES) -> Path:
    """A genuine workbook whose shared-strings part (one string, which openpyxl loads whole
    into memory) inflates to ``inflated`` bytes; about 1 MB on disk per GiB."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{SPREADSHEET_NS}"><si><t>'
    stream, crc, size = _bomb_stream(head.encode(), ord("A"), inflated, b"</t></si></sst>")
    path.write_bytes(_zip([*workbook_parts(), ("xl/sharedStrings.xml", stream, crc, size)]))
    return path


def workbook_with_strings(path: Path, strings_xml: bytes) -> Path:
    """A workbook whose shared-strings part is ``strings_xml`` (an entity bomb, say)."""
    part = ("xl/sharedStrings.xml", _deflate_raw(strings_xml, final=True))
    path.write_bytes(_zip([*workbook_parts(), (*part, zlib.crc32(strings_xml), len(strings_xml))]))
    return path


def _laughs(root: str) -> bytes:
    """Billion laughs: ten levels of ten references, 10⁹ × "lol" once expanded (3 GB)."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE {root} [\n '
        + "\n ".join(entities)
        + "\n]>\n"
    ).encode()


ENTSOE_NS = "urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0"


def entsoe_document(body: str = "", *, prolog: bytes = b"") -> bytes:
    """An ENTSO-E GL_MarketDocument shell (``prolog`` goes before its root element)."""
    return (
        prolog
        + (
            f'<GL_MarketDocument xmlns="{ENTSOE_NS}"><mRID>x</mRID><type>A75</type>'
            f"{body}</GL_MarketDocument>\n"
        ).encode()
    )


def billion_laughs_xml(path: Path, root: str = "GL_MarketDocument") -> Path:
    """An ENTSO-E document whose text is the ninth entity (3 GB once expanded)."""
    path.write_bytes(entsoe_document("<mRID>&lol9;</mRID>", prolog=_laughs(root)))
    return path


def billion_laughs_strings() -> bytes:
    """A shared-strings part with the billion laughs."""
    return _laughs("sst") + (f'<sst xmlns="{SPREADSHEET_NS}"><si><t>&lol9;</t></si></sst>').encode()


def external_entity_xml(path: Path, target: str = "/etc/passwd") -> Path:
    """An ENTSO-E document that pulls ``target`` in through an external entity (XXE)."""
    prolog = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<!DOCTYPE GL_MarketDocument [<!ENTITY xxe SYSTEM "file://{target}">]>\n'
    ).encode()
    path.write_bytes(entsoe_document("<mRID>&xxe;</mRID>", prolog=prolog))
    return path


def html_named_xlsx(path: Path) -> Path:
    """A web page saved under a workbook's name (what a browser's "Save as" gives)."""
    path.write_text(
        "<!DOCTYPE html>\n<html><head><title>Export</title></head><body><table>"
        "<tr><th>declaration_id</th><th>net_mass_kg</th></tr>"
        "<tr><td>D1</td><td>1000</td></tr></table></body></html>\n"
    )
    return path


def vrt_named_tif(path: Path, target: str = "/etc/passwd") -> Path:
    """A GDAL VRT under a GeoTIFF's name whose band reads ``target`` as raw pixels."""
    path.write_text(
        '<VRTDataset rasterXSize="64" rasterYSize="16">\n'
        '  <VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand">\n'
        f'    <SourceFilename relativeToVRT="0">{target}</SourceFilename>\n'
        "    <ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset>"
        "<LineOffset>64</LineOffset>\n"
        "  </VRTRasterBand>\n</VRTDataset>\n"
    )
    return path


def geotiff(path: Path, *, size: int = 256) -> Path:
    """A valid float32 GeoTIFF (UTM 43N, 100 m pixels, near 23.6° N 72.8° E), uncompressed."""
    import rasterio
    from rasterio.transform import from_origin

    data = np.linspace(0, 1, size * size, dtype=np.float32).reshape(size, size)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=size,
        height=size,
        count=1,
        dtype="float32",
        crs="EPSG:32643",
        transform=from_origin(275_000, 2_615_000, 100, 100),
    ) as ds:
        ds.write(data, 1)
        ds.update_tags(time="2025-03-01T00:00:00Z", variable="thermal")
    return path


def truncated_geotiff(path: Path, *, keep: float = 0.5) -> Path:
    """A GeoTIFF cut at ``keep`` of its length (a download that stopped)."""
    whole = geotiff(path.with_name(path.stem + "-whole.tif"))
    raw = whole.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    whole.unlink()
    return path


def pdf_bomb(path: Path, inflated: int = 2 * BOMB_BYTES) -> Path:
    """A valid one-page PDF whose content stream (FlateDecode) inflates to ``inflated``
    bytes of spaces: a few MB on disk."""
    stream, adler, _ = _bomb_stream(b"BT ", ord(" "), inflated, b" ET", zlib.adler32)
    content = b"\x78\xda" + stream + struct.pack(">I", adler)  # zlib framing (RFC 1950)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
        + content
        + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


def yaml_alias_bomb(path: Path) -> Path:
    """An emission-factor library whose one entry is nine nested levels of ten aliases:
    10⁹ strings once expanded (YAML's billion laughs)."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)]
    lines.append("emissionFactors:\n  direct:\n    coal:\n      - *l9")
    path.write_text("\n".join(lines) + "\n")
    return path


# --- shapes that are small on disk and huge once materialised (issue #16, item 4) ------

XLSX_LAST_COLUMN = "XFD"  # column 16,384, the last an XLSX sheet can have


def sparse_xlsx(path: Path, rows: int = 32_000, *, dimension: str | None = None) -> Path:
    """A workbook whose sheet has, on each of ``rows`` rows, a value in column A and one in
    column XFD: a few hundred KB on disk, ``rows`` × 16,384 cells once each row is padded
    to its last cell (over 500 million at 32,000 rows, some 12 GB). No ``<dimension>``
    element unless ``dimension`` (e.g. ``"A1:XFD1048576"``) is given."""
    body = "".join(
        f'<row r="{n}"><c r="A{n}" t="s"><v>0</v></c>'
        f'<c r="{XLSX_LAST_COLUMN}{n}" t="s"><v>0</v></c></row>'
        for n in range(1, rows + 1)
    )
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{SPREADSHEET_NS}">'
        f"{declared}<sheetData>{body}</sheetData></worksheet>"
    )
    strings = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{SPREADSHEET_NS}">'
        "<si><t>x</t></si></sst>"
    )
    parts = [p for p in workbook_parts() if p[0] != "xl/worksheets/sheet1.xml"]
    path.write_bytes(
        _zip(
            [
                *parts,
                _plain("xl/worksheets/sheet1.xml", sheet),
                _plain("xl/sharedStrings.xml", strings),
            ]
        )
    )
    return path


def wide_csv(path: Path, columns: int = 1_000_000) -> Path:
    """A CSV whose header has ``columns`` names and one data row: about 8 MB for a million
    columns, which a column-oriented parser turns into a million arrays."""
    header = ",".join(f"c{i}" for i in range(columns))
    path.write_text(header + "\n" + ",".join(["1"] * columns) + "\n")
    return path


def entsoe_huge_period(path: Path, *, years: int = 3000) -> Path:
    """An ENTSO-E A75 document of well under 1 KB whose one period runs ``years`` years at
    PT15M: 105 million slots for 3,000 years, every one of them a row once the A03 block of
    its single point is expanded."""
    body = (
        "<TimeSeries><mRID>1</mRID><businessType>A01</businessType>"
        '<inBiddingZone_Domain.mRID codingScheme="A01">10YFI-1--------U'
        "</inBiddingZone_Domain.mRID>"
        "<quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>"
        "<curveType>A03</curveType><MktPSRType><psrType>B14</psrType></MktPSRType>"
        "<Period><timeInterval><start>2000-01-01T00:00Z</start>"
        f"<end>{2000 + years:04d}-01-01T00:00Z</end></timeInterval>"
        "<resolution>PT15M</resolution>"
        "<Point><position>1</position><quantity>100</quantity></Point></Period></TimeSeries>"
    )
    path.write_bytes(entsoe_document(body, prolog=b'<?xml version="1.0" encoding="UTF-8"?>\n'))
    return path
