"""The ingest side of the template recomputation: read the whole communication template,
recompute it with the engine (:mod:`apps.disclosures.template_cases`, pure) and turn the
result into what the disclosure keeps: the per-product comparison stored on the
extraction trace, and each disagreement as a warning shown on review
(docs/official-formats.md, "Recomputing it")."""

from __future__ import annotations

from pathlib import Path

from apps.disclosures.template_cases import TemplateRecomputeError, recompute_template
from ingest.disclosure.template_full import (
    NotAFullTemplate,
    TemplateValueError,
    TemplateVersionError,
    read_template_full,
)

__all__ = ["TemplateVersionError", "template_recompute"]


def _stated(flag: dict) -> str:
    """The template's own figure a flag disagrees with (a product's SEE or a stream's t)."""
    value = flag.get("template_t_per_t", flag.get("template_t"))
    return "" if value is None else str(value)


def template_recompute(path: Path) -> tuple[dict, list[dict]]:
    """``(recompute, warnings)`` for a CBAM communication template.

    A template of an unsupported version raises :class:`TemplateVersionError` (the file is
    refused). A template whose inputs cannot be recomputed (a value missing or not a
    number, a process cycle) keeps its summary values and gets one warning saying why; a
    workbook with the product summary alone is read as before, without recomputation."""
    try:
        template = read_template_full(path)
        result = recompute_template(template)
    except NotAFullTemplate as exc:
        # the product summary alone (no input sheets): read as before, nothing to recompute
        return {"products": [], "flags": [], "error": exc.reason}, []
    except (TemplateValueError, TemplateRecomputeError) as exc:
        return (
            {"products": [], "flags": [], "error": str(exc)},
            [
                {
                    "line": None,
                    "field": "recompute",
                    "value": "",
                    "reason": f"the template's SEE could not be recomputed: {exc}",
                }
            ],
        )
    result["template"] = {
        "version": template["version"],
        "installation": {k: v for k, v in template["installation"].items() if k != "cells"},
        "period": {k: v for k, v in template["period"].items() if k != "cells"},
        "source_streams": len(template["source_streams"]),
        "processes": [p["name"] for p in template["processes"]],
        "purchased_precursors": [p["name"] for p in template["purchased_precursors"]],
    }
    warnings = [
        {
            "line": None,
            "field": f"{flag['cn_code'] or flag['cell']}.{flag.get('field', 'see')}",
            "value": _stated(flag),
            "reason": flag["reason"],
        }
        for flag in result["flags"]
    ]
    return result, warnings
