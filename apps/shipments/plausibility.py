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


def shipments_plausibility_mark(staged: pd.DataFrame) -> int:
    """Mark the lines of ``staged`` (the ingest's frame, before it is stored) that lie far
    outside their heading's norms: columns ``implausible`` and ``implausible_reason``,
    written with the lines themselves (no pass over the stored lines afterwards); returns
    how many lines are marked. The review flags (:func:`line_flags_ensure`) follow once
    the lines are stored."""
    flags = customs_line_flags(
        staged["cn_code"].to_numpy(),
        staged["net_mass_t"].to_numpy(dtype=float),
        staged["statistical_value_eur"].to_numpy(dtype=float),
        heading_norms(),
    )
    staged["implausible"] = flags.flagged
    staged["implausible_reason"] = flags.reason
    return int(flags.flagged.sum())


# The flags of the given lines (declaration id, line, date) stored by a run: each found by
# the natural key, so the cost follows the flagged lines, not the size of the table.
_FLAGS_OF_LINES = """
INSERT INTO shipments_lineflag (shipment_id, reason, status, note, created_at, updated_at)
SELECT s.id, s.implausible_reason, %s, '', now(), now()
FROM unnest(%s::text[], %s::int[], %s::date[]) AS f (declaration_id, line, date)
JOIN shipments_shipment s ON s.declaration_id = f.declaration_id AND s.line = f.line
    AND s.date = f.date
WHERE s.ingest_run_id = %s AND s.implausible AND s.is_current
ON CONFLICT (shipment_id) DO NOTHING
"""


def line_flags_ensure(*, run_id: int, lines: pd.DataFrame | None = None) -> None:
    """A flag to review (``LineFlag``, open) for each flagged current line of the run
    that has none yet: idempotent. ``lines`` (``declaration_id``, ``line``, ``date``):
    the flagged lines of the run's file, looked up by their key (PostgreSQL)."""
    from apps.shipments.models import LineFlag, Shipment

    if lines is not None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _FLAGS_OF_LINES,
                [
                    LineFlag.Status.OPEN.value,
                    lines["declaration_id"].tolist(),
                    [int(x) for x in lines["line"]],
                    [d.date() for d in pd.to_datetime(lines["date"])],
                    run_id,
                ],
            )
        return

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
