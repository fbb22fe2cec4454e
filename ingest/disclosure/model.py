"""What the disclosure readers and extractors return, and the errors they raise.

Both extractors (:mod:`ingest.disclosure.rules`, :mod:`ingest.disclosure.llm`) share one
interface, ``extract(document) -> Extraction``. Every accepted value carries its evidence:
the page (PDF) or cell/line (CSV, XLSX) it came from and the quoted text, so a person can
find it in the file; that is the ``"values"`` list of ``ingest disclosure --json``
(docs/interfaces.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ingest.base import IngestError


@dataclass(frozen=True)
class ExtractedValue:
    """One value found in a document.

    ``value`` and ``unit`` are as the document gives them (the unit normalised to a
    canonical unit of :mod:`ingest.disclosure.units` when it is known); ``page`` is 1-based;
    ``quote`` is the document's text that holds the value (one line of a page for PDFs).
    ``context`` names where in a table the value sits (``table``, ``row``, ``group``,
    ``column``) or anything else the extractor knows.
    """

    field: str
    value: float
    unit: str
    quote: str
    page: int | None = None
    cell: str | None = None
    line: int | None = None
    period: str | None = None
    context: dict[str, Any] = field(default_factory=dict)

    def evidence(self) -> dict:
        """``{"field", "value", "unit", "page" or "cell" or "line", "quote"}``
        (docs/interfaces.md)."""
        out: dict[str, Any] = {"field": self.field, "value": self.value, "unit": self.unit}
        if self.page is not None:
            out["page"] = self.page
        elif self.cell is not None:
            out["cell"] = self.cell
        elif self.line is not None:
            out["line"] = self.line
        out["quote"] = self.quote
        return out

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Dropped:
    """A candidate value that was not accepted, and why (``reason`` is a short code,
    ``detail`` a sentence)."""

    candidate: dict[str, Any]
    reason: str
    detail: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Flag:
    """An accepted value (``index`` into ``Extraction.values``) or a whole document that a
    person should look at: an outlier, a total that does not add up."""

    index: int | None
    kind: str
    detail: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Extraction:
    """The result of one extractor over one document.

    ``extractor`` is ``"rules"`` or ``"llm:<model>"``; ``trace`` holds what is needed to
    audit the run (for the LLM: request and response bodies, model id, prompt SHA-256,
    attempts).
    """

    extractor: str
    values: list[ExtractedValue]
    dropped: list[Dropped] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    trace: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict:
        """The part of the ``ingest disclosure --json`` summary this extraction gives."""
        return {"extractor": self.extractor, "values": [v.evidence() for v in self.values]}

    def to_dict(self) -> dict:
        return {
            "extractor": self.extractor,
            "values": [v.to_dict() for v in self.values],
            "dropped": [d.to_dict() for d in self.dropped],
            "flags": [f.to_dict() for f in self.flags],
            "trace": self.trace,
        }


class DisclosureError(IngestError):
    """Base of the errors of this package."""


class UnsafeFile(DisclosureError):
    """The file is not a type we accept, too large, or built to hurt a parser (zip bomb,
    XML entity expansion, HTML dressed as a workbook)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: rejected: {reason}")


class PdfError(DisclosureError):
    """The PDF could not be turned into text: the sandboxed child failed, was killed for
    using too much memory, or ran out of time."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: cannot read the PDF: {reason}")
