"""Checks a disclosure file must pass before any parser sees it.

- **Type by content, not by name**: ``%PDF-`` → PDF; a ZIP (``PK\\x03\\x04``) is an XLSX only
  if it holds ``[Content_Types].xml`` and ``xl/workbook.xml``; CSV is text that decodes
  (UTF-8, UTF-16 with BOM, else Latin-1 without control characters) and has no NUL bytes.
  HTML or XML text (a web page saved as ``.xlsx``) is rejected.
- **Size caps** per type (:data:`MAX_BYTES`).
- **XLSX**: the ZIP bomb and XML checks every XLSX reader goes through
  (:func:`ingest.safety.check_xlsx`).
- **PDF**: only ever parsed in the sandboxed child of :mod:`ingest.disclosure.pdf_text`.
- **Tables** (CSV, XLSX; ``ingest.tabular.load_table``): parsed in a limited child
  process (:func:`ingest.safety.run_limited`).
"""

from __future__ import annotations

from pathlib import Path

from ingest import safety
from ingest.disclosure.model import UnsafeFile

MAX_BYTES = {"pdf": 50 * 2**20, "xlsx": 20 * 2**20, "csv": 20 * 2**20}
_CHUNK = 2**16


def check_xlsx(path: str | Path) -> None:
    """:func:`ingest.safety.check_xlsx`, its refusal raised as a disclosure error."""
    try:
        safety.check_xlsx(path)
    except safety.UnsafeFile as exc:
        raise UnsafeFile(exc.path, exc.reason) from None


def sniff_type(head: bytes) -> str | None:
    """``"pdf"``, ``"zip"``, ``"text"`` or None from a file's first bytes (≥ 64 KiB)."""
    if head.startswith(b"%PDF-") or head[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if _decode_text(head) is not None:
        return "text"
    return None


def _decode_text(raw: bytes) -> str | None:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in raw:
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 3:  # a character cut by the sample's end
            text = raw[: exc.start].decode("utf-8-sig")
        else:
            text = raw.decode("latin-1")
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in text):
        return None
    return text


def check_file(path: str | Path) -> str:
    """The file's type (``"pdf"``, ``"xlsx"``, ``"csv"``) once it passed every check.

    Raises :class:`UnsafeFile` with the reason otherwise.
    """
    path = Path(path)
    if not path.is_file():
        raise UnsafeFile(str(path), "no such file")
    size = path.stat().st_size
    if size == 0:
        raise UnsafeFile(str(path), "the file is empty")
    with path.open("rb") as handle:
        head = handle.read(_CHUNK)
    kind = sniff_type(head)
    if kind == "zip":
        kind = "xlsx"
    elif kind == "text":
        if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
            raise UnsafeFile(str(path), "HTML or XML text is not a disclosure format")
        kind = "csv"
    elif kind is None:
        raise UnsafeFile(str(path), "not a PDF, XLSX or CSV file (binary content)")
    if size > MAX_BYTES[kind]:
        raise UnsafeFile(str(path), f"{kind.upper()} of {size} bytes exceeds {MAX_BYTES[kind]}")
    if kind == "xlsx":
        check_xlsx(path)
    elif kind == "csv":
        with path.open("rb") as handle:
            if _decode_text(handle.read()) is None:
                raise UnsafeFile(str(path), "not text: NUL or control characters")
    return kind
