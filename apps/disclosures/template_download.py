"""A confirmed disclosure written into the Commission's blank communication template
(v2.1.1), input cells filled and every formula kept, for the exporter to download and send
on (docs/official-formats.md, "Writing it from a confirmed disclosure")."""

from __future__ import annotations

import datetime as dt
import functools
import json
import tempfile
from pathlib import Path

from apps.disclosures.models import DisclosureVersion, Status
from apps.disclosures.template_cases import (
    TemplateWriteMappingError,
    good_from_case,
    template_cells,
)
from apps.estimates.models import Estimate
from ingest.disclosure.cbam_template_writer import fill_template
from ingest.disclosure.template_full import template_cn_categories

BLANK = (
    Path(__file__).resolve().parents[2]
    / "fixtures/cbam/official/communication_template_v2.1.1_blank.xlsx"
)
TEMPLATE_VERSION = "2.1.1"


class TemplateDownloadError(ValueError):
    """A version that cannot be written into the template (said why)."""


@functools.lru_cache(maxsize=1)
def _categories() -> dict[str, str]:
    return template_cn_categories(BLANK)


def disclosure_template_goods(version: DisclosureVersion) -> list[dict]:
    """Per good the platform computed from this confirmed version (its estimates), what
    the template needs, with the platform's SEE."""
    if version.status != Status.CONFIRMED:
        raise TemplateDownloadError(
            f"version {version.number} is {version.status}: only a confirmed version is "
            "written into the communication template"
        )
    ids = [e["id"] for e in (version.engine or {}).get("estimates", [])]
    goods = []
    for estimate in Estimate.objects.filter(pk__in=ids).order_by("cn_code", "pk"):
        case = json.loads(estimate.trace)["case"]
        if case.get("methodology") != "cbam.installation":
            continue
        goods.append(good_from_case(case, name=f"CN {estimate.cn_code}"))
    if not goods:
        raise TemplateDownloadError(
            f"version {version.number} has no estimate computed from installation data"
        )
    return goods


def disclosure_template_write(version: DisclosureVersion) -> bytes:
    """The filled template's bytes (XLSX)."""
    disclosure = version.disclosure
    installation = disclosure.installation
    goods = disclosure_template_goods(version)
    try:
        cells = template_cells(
            installation={"name": installation.name},
            period=(
                dt.datetime.combine(disclosure.period_start, dt.time()),
                dt.datetime.combine(disclosure.period_end, dt.time()),
            ),
            goods=goods,
            cn_categories=_categories(),
        )
    except TemplateWriteMappingError as exc:
        raise TemplateDownloadError(str(exc)) from exc
    with tempfile.TemporaryDirectory(prefix="cm-template-") as folder:
        out = fill_template(BLANK, cells, Path(folder) / "template.xlsx")
        return out.read_bytes()
