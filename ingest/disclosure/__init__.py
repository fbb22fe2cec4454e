"""Facility disclosures: our template (CSV/XLSX), the CBAM communication template's product
summary (XLSX), and free-form PDF reports (rule-based or LLM extraction, grounded).

:func:`read_disclosure` is the reader of the ``disclosure`` source (ingest/base.py contract):
it checks the file (:mod:`.safety`), picks the reader by content, and returns ``(data,
meta)`` with ``meta["extractor"]`` and ``meta["values"]`` as ``ingest disclosure --json``
prints them (docs/interfaces.md). The LLM extractor needs an endpoint and is called by the
platform explicitly: ``LLMExtractor(LLMConfig(...)).extract(read_pdf_text(path))``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from ingest.disclosure.model import Extraction

#: Where each public name lives. Imported on first use (PEP 562): a program that only needs
#: the units or the model (Django's start-up, a Celery worker, ``manage.py``) does not pay
#: for pandas, openpyxl and pdfplumber (docs/testing.md, "Start-up cost").
_LAZY: dict[str, str] = {
    "read_cbam_template": "cbam_template",
    "LLMConfig": "llm",
    "LLMError": "llm",
    "LLMExtractor": "llm",
    "LLMOutputInvalid": "llm",
    "LLMRequestFailed": "llm",
    "LLMUnavailable": "llm",
    "DisclosureError": "model",
    "Dropped": "model",
    "ExtractedValue": "model",
    "Extraction": "model",
    "Flag": "model",
    "PdfError": "model",
    "UnsafeFile": "model",
    "Document": "pdf_text",
    "read_pdf_text": "pdf_text",
    "RuleExtractor": "rules",
    "check_file": "safety",
    "read_template": "template",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "DisclosureError",
    "Document",
    "Dropped",
    "ExtractedValue",
    "Extraction",
    "Flag",
    "LLMConfig",
    "LLMError",
    "LLMExtractor",
    "LLMOutputInvalid",
    "LLMRequestFailed",
    "LLMUnavailable",
    "PdfError",
    "RuleExtractor",
    "UnsafeFile",
    "extraction_frame",
    "read_cbam_template",
    "read_disclosure",
    "read_pdf_text",
    "read_template",
]

SOURCE = "disclosure"
VALUE_COLUMNS = ["field", "value", "unit", "page", "quote", "period", "source_line"]


def extraction_frame(extraction: Extraction) -> pd.DataFrame:
    """An extraction's accepted values as a DataFrame (``source_line`` = page)."""
    import pandas as pd

    rows = [
        {
            "field": v.field,
            "value": v.value,
            "unit": v.unit,
            "page": v.page,
            "quote": v.quote,
            "period": v.period,
            "source_line": v.page,
        }
        for v in extraction.values
    ]
    return pd.DataFrame(rows, columns=VALUE_COLUMNS)


def _is_cbam_template(path: Path) -> bool:
    from openpyxl import load_workbook

    from ingest.disclosure.cbam_template import SHEETS

    workbook = load_workbook(path, read_only=True)
    try:
        return any(name in SHEETS for name in workbook.sheetnames)
    finally:
        workbook.close()


def read_disclosure(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read a disclosure of any supported kind; raises :class:`UnsafeFile`,
    :class:`PdfError` or another :class:`~ingest.base.IngestError` when nothing can be read.
    """
    from ingest.disclosure import cbam_template, template
    from ingest.disclosure.cbam_template import read_cbam_template
    from ingest.disclosure.pdf_text import read_pdf_text
    from ingest.disclosure.rules import RuleExtractor
    from ingest.disclosure.safety import check_file
    from ingest.disclosure.template import read_template

    path = Path(path)
    kind = check_file(path)
    if kind == "pdf":
        document = read_pdf_text(path)
        extraction = RuleExtractor().extract(document)
        data = extraction_frame(extraction)
        meta = {
            "source": SOURCE,
            "path": str(path),
            "format": "pdf",
            "pages": len(document.pages),
            "rows_read": len(data),
            "rows_accepted": len(data),
            "rows_rejected": 0,
            "errors": [],
            "extraction": extraction,
            **extraction.summary(),
        }
        return data, meta
    if kind == "xlsx" and _is_cbam_template(path):
        data, meta = read_cbam_template(path)
        meta["values"] = cbam_template.to_values(data)
        return data, meta
    data, meta = read_template(path)
    meta["values"] = template.to_values(data)
    return data, meta
