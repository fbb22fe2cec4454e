"""The review page at scale (issue #19 §4): a PDF report gives hundreds of values, so the
page groups them by the table (or sheet, or template section) they came from, each group
folded with its counts and a button that confirms its values still unreviewed at once; and
each value's evidence shows the real page, rendered server-side to an image by pypdfium2
(the PDFium renderer, already installed with pdfplumber), with the value's box drawn on it.

Rendering reads the stored file the version was extracted from; images are kept under
``CM_VAR_DIR/page-previews`` by the file's SHA-256 and page number (the same bytes always
render the same page), so a page is rendered once however many values cite it.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from apps.disclosures.models import ExtractedValue
from apps.evidence.models import EvidenceFile
from apps.evidence.store import evidence_open

#: The rendered page's width [px]: readable beside the row, small enough to send quickly.
PREVIEW_WIDTH_PX = 480
#: The largest page height rendered [px] (a very long page is cut to its top).
PREVIEW_MAX_HEIGHT_PX = 2000

_FIELD = re.compile(r"^(?P<section>\w+)\[")


class PagePreviewError(ValueError):
    """A page that cannot be rendered (said why)."""


def value_group(value: ExtractedValue) -> str:
    """The group a value is reviewed in: its PDF table (with the page), its page's labelled
    numbers, its sheet, or its template section."""
    context = value.context or {}
    if context.get("table"):
        return _("Table %(table)s (page %(page)s)") % {
            "table": context["table"],
            "page": value.page,
        }
    if value.page is not None:
        return _("Page %(page)s: labelled numbers") % {"page": value.page}
    if value.cell:
        sheet = value.cell.rpartition("!")[0]
        return _("Sheet %(sheet)s") % {"sheet": sheet} if sheet else _("Cells")
    match = _FIELD.match(value.field)
    if match:
        return _("Section %(section)s") % {"section": match["section"]}
    return _("Other values")


def review_groups(rows: Iterable[tuple[ExtractedValue, dict]]) -> list[dict]:
    """Rows (value, evidence view) grouped by :func:`value_group` in file order, each group
    with its key, its rows, and the count of values by status."""
    groups: dict[str, dict] = {}
    for value, evidence in rows:
        name = value_group(value)
        group = groups.setdefault(
            name,
            {"name": name, "slug": f"g{len(groups) + 1}", "rows": [], "counts": {}},
        )
        group["rows"].append((value, evidence))
        group["counts"][value.status] = group["counts"].get(value.status, 0) + 1
    for group in groups.values():
        group["open"] = group["counts"].get(ExtractedValue.ValueStatus.EXTRACTED, 0)
        group["ids"] = ",".join(str(v.pk) for v, _evidence in group["rows"])
    return list(groups.values())


def _cache_path(sha256: str, page: int) -> Path:
    folder = Path(settings.VAR_DIR) / "page-previews"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{sha256}-{page}-{PREVIEW_WIDTH_PX}.png"


def page_preview_png(*, evidence: EvidenceFile, page: int) -> bytes:
    """Page ``page`` (1-based) of the stored PDF as a PNG :data:`PREVIEW_WIDTH_PX` wide."""
    import pypdfium2 as pdfium

    cached = _cache_path(evidence.sha256, page)
    if cached.is_file():
        return cached.read_bytes()
    with evidence_open(evidence) as stream:
        data = stream.read()
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise PagePreviewError(f"the file is not a readable PDF: {exc}") from exc
    try:
        if not 1 <= page <= len(document):
            raise PagePreviewError(f"the PDF has {len(document)} pages, not a page {page}")
        pdf_page = document[page - 1]
        width_pt, height_pt = pdf_page.get_size()
        scale = PREVIEW_WIDTH_PX / max(width_pt, 1.0)
        crop_pt = max(0.0, height_pt - PREVIEW_MAX_HEIGHT_PX / scale)
        bitmap = pdf_page.render(scale=scale, crop=(0, crop_pt, 0, 0))
        image = bitmap.to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
    finally:
        document.close()
    png = out.getvalue()
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(png)
    partial.replace(cached)  # atomic: a reader never sees half an image
    return png
