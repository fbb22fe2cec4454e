"""Customs lines far outside what is normal for their CN heading: flagged at ingest, kept,
shown as flagged, and left out of headline sums unless the reader asks to include them
(docs/readers.md, "Plausibility of unit values"; docs/web.md, "Flagged lines").

The norms of each 4-digit heading come from the Comext extract the project bundles
(``fixtures/trade/``, Eurostat, reuse with attribution): the median value per tonne of its
plausible cells of at least a tonne and its largest monthly cell
(:func:`ingest.plausibility.customs_norms`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd
from django.db import connection
from django.http import QueryDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ingest.plausibility import customs_line_flags, customs_norms

COMEXT_EXTRACT = (
    Path(__file__).resolve().parents[2]
    / "fixtures"
    / "trade"
    / "eurostat_comext_ds045409_us_eu27_monthly.csv"
)

#: The query-string switch of every page that sums lines: ``?implausible=include``.
INCLUDE_PARAM = "implausible"
INCLUDE_VALUE = "include"


@lru_cache(maxsize=1)
def heading_norms() -> pd.DataFrame:
    """Per-CN4 norms from the bundled Comext extract (read once per process)."""
    data = pd.read_csv(COMEXT_EXTRACT, dtype={"cn_code": str})
    return customs_norms(data["cn_code"], data["tonnes"], data["value_eur"])


def include_flagged(params: QueryDict | dict) -> bool:
    """Whether the reader asked to include the flagged lines in sums."""
    return params.get(INCLUDE_PARAM, "") == INCLUDE_VALUE


def toggle_query(params: QueryDict, *, include: bool) -> str:
    """``params`` as a query string with the switch set to ``include`` (cursor dropped)."""
    out = params.copy()
    out.pop("cursor", None)
    if include:
        out[INCLUDE_PARAM] = INCLUDE_VALUE
    else:
        out.pop(INCLUDE_PARAM, None)
    return out.urlencode()


_FLAG = """
UPDATE shipments_shipment AS s SET implausible = TRUE, implausible_reason = f.reason
FROM (SELECT unnest(%s::text[]) AS declaration_id, unnest(%s::int[]) AS line,
             unnest(%s::text[]) AS reason) AS f
WHERE s.declaration_id = f.declaration_id AND s.line = f.line AND s.ingest_run_id = %s
  AND s.is_current AND NOT s.implausible
"""


def shipments_plausibility_flag(staged: pd.DataFrame, *, run_id: int) -> int:
    """Flag the lines of ``staged`` (the ingest's frame) stored by run ``run_id`` that lie
    far outside their heading's norms; returns how many lines the file has flagged.
    Idempotent: a line already flagged is left as it is."""
    flags = customs_line_flags(
        staged["cn_code"].to_numpy(),
        staged["net_mass_t"].to_numpy(),
        staged["statistical_value_eur"].to_numpy(dtype=object),
        heading_norms(),
    )
    if not flags.flagged.any():
        return 0
    rows = staged.loc[flags.flagged, ["declaration_id", "line"]]
    reasons = [r for r, f in zip(flags.reason, flags.flagged, strict=True) if f]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _FLAG,
                [
                    rows["declaration_id"].tolist(),
                    [int(x) for x in rows["line"]],
                    reasons,
                    run_id,
                ],
            )
    else:
        from apps.shipments.models import Shipment

        for (decl, line), reason in zip(rows.itertuples(index=False), reasons, strict=True):
            Shipment.objects.filter(
                declaration_id=decl, line=int(line), ingest_run_id=run_id, is_current=True
            ).update(implausible=True, implausible_reason=reason)
    line_flags_ensure(run_id=run_id)
    return len(reasons)


def line_flags_ensure(*, run_id: int) -> None:
    """A flag to review (``LineFlag``, open) for each flagged current line of the run
    that has none yet: idempotent."""
    from apps.shipments.models import LineFlag, Shipment

    have = LineFlag.objects.filter(shipment__ingest_run_id=run_id).values("shipment_id")
    new = Shipment.objects.filter(ingest_run_id=run_id, implausible=True, is_current=True).exclude(
        pk__in=have
    )
    LineFlag.objects.bulk_create(
        [
            LineFlag(shipment_id=pk, reason=reason)
            for pk, reason in new.values_list("pk", "implausible_reason")
        ],
        ignore_conflicts=True,
    )


#: The steps a flag may take (docs/web.md, "Flags"): open → under review → resolved.
TRANSITIONS = {"open": {"review"}, "review": {"resolved"}, "resolved": set()}


class FlagTransitionError(ValueError):
    """A step the workflow does not allow, or a resolution without a note."""


def line_flag_transition(*, flag, status: str, note: str, actor) -> None:
    """Move a line flag to ``status`` (audited with the change); a resolution needs a note."""
    from django.db import transaction

    from apps.audit.services import audit_append

    check_transition(flag.status, status, note)
    with transaction.atomic():
        previous = flag.status
        flag.status = status
        flag.note = note.strip() or flag.note
        flag.updated_by = actor if getattr(actor, "pk", None) else None
        flag.save(update_fields=["status", "note", "updated_by", "updated_at"])
        audit_append(
            actor=actor,
            action=f"shipments.flag.{status}",
            object_type="line_flag",
            object_id=flag.pk,
            payload={
                "from": previous,
                "to": status,
                "note": note.strip(),
                "shipment": flag.shipment_id,
            },
        )


def check_transition(current: str, status: str, note: str) -> None:
    if status not in TRANSITIONS.get(current, set()):
        raise FlagTransitionError(
            gettext("a flag %(current)s cannot become %(status)s (open → under review → resolved)")
            % {
                "current": str(LABELS.get(current, current)).lower(),
                "status": str(LABELS.get(status, status)).lower(),
            }
        )
    if status == "resolved" and not note.strip():
        raise FlagTransitionError(gettext("resolving a flag needs a note saying what was found"))


LABELS = {
    "open": _("Open"),
    "review": _("Under review"),
    "resolved": _("Resolved"),
    "closed": _("Resolved"),
}
