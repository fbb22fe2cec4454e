"""Reads of shipments, scoped by role: exporters see only their own organisation's."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.core.cache import cache
from django.db import connection
from django.db.models import F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, ExtractYear
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Organisation, User
from apps.accounts.services import organisation_key
from apps.estimates.models import Estimate
from apps.shipments.models import Shipment, ShipmentTotal


def shipment_list(*, user: User) -> QuerySet[Shipment]:
    """Current shipments the user may read, with their estimate and exporter. The
    estimate's trace (kilobytes of JSON each) is left out: lists never show it, and a
    report that does loads it for its one estimate."""
    qs = (
        Shipment.objects.filter(is_current=True)
        .select_related("estimate", "exporter", "best_estimate", "installation")
        .defer("estimate__trace", "best_estimate__trace")
    )
    return _scoped(qs, user=user)


def shipment_scope(*, user: User) -> QuerySet[Shipment]:
    """Every shipment line the user may read, current or superseded: what a filter of
    another list (``estimates?exporter=``) may search, so that a filter never answers a
    question about rows its caller cannot see (issue #16 item 7)."""
    return _scoped(Shipment.objects.all(), user=user)


def _scoped(qs: QuerySet[Shipment], *, user: User) -> QuerySet[Shipment]:
    """Exporters read their own organisation's shipments only, importers the customs lines
    that name their organisation as importer (docs/official-formats.md, "Importers");
    other roles read all."""
    if user.role == User.Role.EXPORTER:
        return qs.filter(exporter_id=user.organisation_id) if user.organisation_id else qs.none()
    if user.role == User.Role.IMPORTER:
        if not user.organisation_id:
            return qs.none()
        return qs.filter(importer_lines(organisation=user.organisation))
    return qs


def importer_organisation(*, name: str = "", eori: str = "") -> Organisation | None:
    """The organisation holding ``eori`` (the oldest), else the organisation of ``name``."""
    organisation = None
    if eori:
        organisation = Organisation.objects.filter(eori=eori).order_by("id").first()
    if organisation is None and name.strip():
        organisation = Organisation.objects.filter(key=organisation_key(name)).first()
    return organisation


def importer_lines(
    *, name: str = "", eori: str = "", organisation: Organisation | None = None
) -> Q:
    """The customs lines of one importer (docs/official-formats.md, "Importers"): those
    whose importer organisation (resolved at ingest) is ``organisation`` — else the
    organisation holding ``eori`` where one holds it, else the organisation of ``name`` —
    and the lines no organisation was resolved for that carry its name (any case)."""
    if organisation is None:
        organisation = importer_organisation(name=name, eori=eori)
    name = organisation.name if organisation is not None and not name else name
    q = Q(importer_id=organisation.pk) if organisation is not None else Q(pk__in=[])
    if name:
        # The whole name in any case: the distinct names that match (few), then the
        # (importer_name, id) index, as the importer filter does (docs/scaling.md).
        own = name.strip().upper()
        names = [n for n in importer_names() if n.strip().upper() == own]
        q |= Q(importer__isnull=True, importer_name__in=names)
    return q


T = TypeVar("T")
_MISSING = object()


_TOTALS_VERSION_SQL = (
    'SELECT MAX(id), MAX(finished_at), SUM(accepted), (SELECT MAX("index") FROM audit_auditevent)'
    " FROM evidence_ingestrun"
)


def totals_version() -> str:
    """Changes whenever the totals may have changed: an ingest started, committed a batch
    or finished, or anything else that rewrites totals appended to the audit log (an
    estimate applied to shipments does, in the same transaction)."""
    with connection.cursor() as cursor:  # one round trip for both tables
        cursor.execute(_TOTALS_VERSION_SQL)
        raw = "|".join(str(v) for v in cursor.fetchone())
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def cached_on_totals(
    key: str, compute: Callable[[], T], *, version: str | None = None, timeout: int = 3600
) -> T:
    """``compute()``, kept in the cache under ``key`` until the totals change: reads of the
    pre-aggregated totals (dashboard sums, comparisons of exporters) are shared by every
    page view between two ingests instead of summed again per request. A page that makes
    several such reads passes the ``version`` (``totals_version()``) it read once. The
    language is part of the key: some values hold translated labels (product groups)."""
    versioned = f"{key}:{get_language()}:{version or totals_version()}"
    value = cache.get(versioned, _MISSING)
    if value is _MISSING:  # (None is a value: "no default value published", say)
        value = compute()
        cache.set(versioned, value, timeout=timeout)
    return value


TOTALS_GROUPS = ("origin", "cn_code", "exporter", "month", "year")


def shipment_totals(
    *,
    user: User,
    group_by: list[str],
    cn_code: str = "",
    origin: str = "",
    period_from=None,
    period_to=None,
    include_implausible: bool = False,
) -> list[dict]:
    """Totals of current shipments from the pre-aggregated table, grouped as asked; the
    lines flagged implausible at ingest are left out unless ``include_implausible``."""
    qs = ShipmentTotal.objects.all()
    if user.role == User.Role.EXPORTER:
        qs = qs.filter(exporter_id=user.organisation_id) if user.organisation_id else qs.none()
    if cn_code:
        qs = qs.filter(cn_code__startswith=cn_code)
    if origin:
        qs = qs.filter(origin=origin.upper())
    if period_from:
        qs = qs.filter(month__gte=period_from.replace(day=1))
    if period_to:
        qs = qs.filter(month__lte=period_to)
    fields = {
        "origin": "origin",
        "cn_code": "cn_code",
        "exporter": "exporter__name",
        "month": "month",
        "year": "year",
    }
    qs = qs.annotate(year=ExtractYear("month"))
    keys = [fields[g] for g in group_by]
    rows = (
        qs.values(*keys)
        .annotate(
            shipments=Sum("shipments"),
            net_mass_t=Sum("net_mass_t"),
            embedded_emissions_t=Sum("embedded_emissions_t"),
            default_mass_t=Sum("default_mass_t"),
        )
        .order_by(*keys)
    )
    rows = list(rows)
    if not include_implausible:
        flagged = flagged_sums(
            flagged_lines(
                user=user,
                cn_code=cn_code,
                origin=origin,
                period_from=period_from,
                period_to=period_to,
            ),
            group_by=keys,
        )
        rows = minus_flagged(rows, flagged, key=tuple(keys))
    return [
        {**{g: row[fields[g]] for g in group_by}, **{k: row[k] for k in _TOTAL_VALUES}}
        for row in rows
    ]


_TOTAL_VALUES = ("shipments", "net_mass_t", "embedded_emissions_t", "default_mass_t")


# --------------------------------------------------------------------------- list pages

# A loose scan of the (importer_name, id) index: one descent per distinct name.
_IMPORTER_NAMES_SQL = """
WITH RECURSIVE names AS (
    SELECT min(importer_name) AS name FROM shipments_shipment
    UNION ALL
    SELECT (SELECT min(importer_name) FROM shipments_shipment WHERE importer_name > names.name)
    FROM names WHERE names.name IS NOT NULL
)
SELECT name FROM names WHERE name IS NOT NULL
"""


def importer_names(*, version: str | None = None) -> list[str]:
    """The distinct importer names of the shipment lines (a few thousand at most, read
    with one index descent each and kept until the next ingest): the importer filter and
    an importer's own lines match names here first, then read their lines from the
    ``(importer_name, id)`` index (docs/scaling.md, "Indexes of the shipments table")."""

    def compute() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(_IMPORTER_NAMES_SQL)
            return [row[0] for row in cursor.fetchall()]

    return cached_on_totals("shipments:importer-names", compute, version=version)


_PERIOD_ID_RANGE_SQL = """
WITH span AS (
    SELECT GREATEST(%(start)s::date, (SELECT min(date) FROM shipments_shipment)) AS first,
           LEAST(%(end)s::date, (SELECT max(date) FROM shipments_shipment)) AS last
)
SELECT min(day_ids.low), max(day_ids.high)
FROM span, generate_series(span.first, span.last, interval '1 day') AS day,
LATERAL (
    SELECT min(id) AS low, max(id) AS high FROM shipments_shipment WHERE date = day::date
) AS day_ids
"""


def shipment_id_range_of_period(
    *, start: dt.date | None, end: dt.date | None
) -> tuple[int, int] | None:
    """The lowest and highest id of the shipment lines (any version) dated from ``start``
    to ``end`` (either open), or None when there is none: two descents of the
    ``(date, id)`` index per day of the period that the table holds (at most a few
    thousand, whatever the table's size). A filter by period adds ``id BETWEEN`` them,
    which leaves its rows as they are and lets a keyset walk by id start inside the period
    (docs/scaling.md, "Indexes of the shipments table")."""
    with connection.cursor() as cursor:
        cursor.execute(
            _PERIOD_ID_RANGE_SQL, {"start": start or dt.date.min, "end": end or dt.date.max}
        )
        low, high = cursor.fetchone()
    return None if low is None else (low, high)


#: Sort orders of the list pages: name → (label, field, descending). Every order is a
#: keyset on (field, id), so a page costs the same at any depth and no COUNT(*) is needed.
SORTS: dict[str, tuple[str, str, bool]] = {
    "newest": (_("Newest first"), "id", True),
    "date": (_("Date, newest first"), "date", True),
    "date_asc": (_("Date, oldest first"), "date", False),
    "mass": (_("Net mass, largest first"), "net_mass_t", True),
    "emissions": (_("Embedded emissions, largest first"), "embedded_emissions_t", True),
}


@dataclass(frozen=True)
class Page:
    rows: list[Shipment] | list[dict]
    next_cursor: str | None


def _cursor_value(field: str, raw: str):
    if field == "date":
        return dt.date.fromisoformat(raw)
    if field == "id":
        return int(raw)
    return float(raw)


def shipment_page(
    qs: QuerySet[Shipment],
    *,
    sort: str = "newest",
    cursor: str = "",
    size: int = 50,
    values: tuple[str, ...] = (),
) -> Page:
    """One keyset page of ``qs`` in the order ``sort``, after ``cursor`` ("value|id").

    With ``values`` the rows are dicts of those fields (and ``id``, ``sort_key``), read
    without building model instances; otherwise they are shipments.

    A shipment without embedded emissions sorts as -1 in the emissions order (last).
    A malformed cursor starts from the first page.
    """
    _, field, descending = SORTS.get(sort, SORTS["newest"])
    if field == "embedded_emissions_t":
        qs = qs.annotate(sort_key=Coalesce(F(field), Value(-1.0)))
    else:
        qs = qs.annotate(sort_key=F(field))
    if cursor:
        try:
            raw_value, raw_id = cursor.rsplit("|", 1)
            value, last_id = _cursor_value(field, raw_value), int(raw_id)
        except ValueError:
            value = last_id = None
        if last_id is not None:
            if descending:
                after = Q(sort_key__lt=value) | Q(sort_key=value, id__lt=last_id)
            else:
                after = Q(sort_key__gt=value) | Q(sort_key=value, id__gt=last_id)
            qs = qs.filter(after)
    order = ("-sort_key", "-id") if descending else ("sort_key", "id")
    qs = qs.order_by(*order)
    if values:
        rows = list(qs.values("id", "sort_key", *values)[: size + 1])
    else:
        rows = list(qs[: size + 1])
    next_cursor = None
    if len(rows) > size:
        last = rows[size - 1]
        key, pk = (last["sort_key"], last["id"]) if values else (last.sort_key, last.id)
        next_cursor = f"{key}|{pk}"
    return Page(rows=rows[:size], next_cursor=next_cursor)


def exporter_comparison(
    *, cn_code: str, user: User, limit: int = 12, version: str | None = None
) -> list[dict]:
    """Mass-weighted SEE of each exporter of a CN code, from the pre-aggregated totals
    (embedded emissions ÷ mass with an estimate). Other exporters' names are not shown to
    an exporter: they read "another exporter"."""
    rows = cached_on_totals(
        f"shipments:comparison:{cn_code}:{limit}",
        lambda: _comparison_rows(cn_code, limit),
        version=version,
    )
    own = user.organisation_id if user.role == User.Role.EXPORTER else None
    out = []
    for row in rows:
        visible = user.role != User.Role.EXPORTER or row["exporter_id"] == own
        out.append(
            {
                "exporter_id": row["exporter_id"] if visible else None,
                "exporter": row["exporter__name"] if visible else "another exporter",
                "net_mass_t": row["mass"],
                "embedded_emissions_t": row["emissions"],
                "see_t_per_t": row["emissions"] / row["estimated"],
                "default_share": row["default_mass"] / row["estimated"],
            }
        )
    return out


def _comparison_rows(cn_code: str, limit: int) -> list[dict]:
    """The totals of each exporter of ``cn_code``, less its lines flagged implausible at
    ingest (apps.shipments.plausibility), largest first."""
    rows = list(
        ShipmentTotal.objects.filter(cn_code=cn_code, estimated_mass_t__gt=0)
        .values("exporter_id", "exporter__name")
        .annotate(
            net_mass_t=Sum("net_mass_t"),
            estimated_mass_t=Sum("estimated_mass_t"),
            embedded_emissions_t=Sum("embedded_emissions_t"),
            default_mass_t=Sum("default_mass_t"),
        )
    )
    flagged = Shipment.objects.filter(is_current=True, implausible=True, cn_code=cn_code)
    rows = minus_flagged(
        rows, flagged_sums(flagged, group_by=["exporter_id"]), key=("exporter_id",)
    )
    rows = [r for r in rows if (r["estimated_mass_t"] or 0.0) > 1e-9]
    rows.sort(key=lambda r: -(r["net_mass_t"] or 0.0))
    return [
        {
            "exporter_id": r["exporter_id"],
            "exporter__name": r["exporter__name"],
            "mass": r["net_mass_t"],
            "estimated": r["estimated_mass_t"],
            "emissions": r["embedded_emissions_t"],
            "default_mass": r["default_mass_t"],
        }
        for r in rows[:limit]
    ]


# --- Served figures against their estimates (verify_estimates, the verify API) ------


#: Relative tolerance of a stored sum against its recomputation (summation order differs).
SUM_RTOL = 1e-9


def _close(a: float | None, b: float | None) -> bool:
    a, b = a or 0.0, b or 0.0
    return abs(a - b) <= SUM_RTOL * max(abs(a), abs(b), 1.0)


def shipments_served_differences(*, estimates=None, limit: int = 20) -> list[str]:
    """Current shipments whose tier or embedded emissions disagree with their estimate
    (``embedded = net mass × SEE total``, Reg. 2023/956 Annex IV point 1; docs/design.md),
    for both figures (the CBAM figure, ``estimate``; the best estimate,
    ``best_estimate``): one set-based query per figure over the shipments of
    ``estimates`` (a queryset, or all)."""
    out = []
    for prefix in ("", "best_"):
        out += _figure_differences(prefix, estimates=estimates, limit=limit - len(out))
        if len(out) >= limit:
            break
    return out


def _figure_differences(prefix: str, *, estimates, limit: int) -> list[str]:
    from django.db.models import ExpressionWrapper, FloatField
    from django.db.models.functions import Abs, Greatest

    est, tier, embedded = f"{prefix}estimate", f"{prefix}tier", f"{prefix}embedded_emissions_t"
    qs = Shipment.objects.filter(is_current=True, **{f"{est}_id__isnull": False})
    if estimates is not None:
        qs = qs.filter(**{f"{est}_id__in": estimates.values("pk")})
    expected = ExpressionWrapper(
        F("net_mass_t") * F(f"{est}__see_total_t_per_t"), output_field=FloatField()
    )
    qs = qs.annotate(
        expected=expected,
        off=ExpressionWrapper(
            Abs(Coalesce(F(embedded), -1.0) - expected), output_field=FloatField()
        ),
        bound=ExpressionWrapper(SUM_RTOL * Greatest(Abs(expected), 1.0), output_field=FloatField()),
        estimate_tier=F(f"{est}__tier"),
    ).filter(Q(off__gt=F("bound")) | ~Q(**{tier: F(f"{est}__tier")}))
    label = "best estimate" if prefix else "estimate"
    return [
        f"shipment {s.pk} ({s.declaration_id}/{s.line}) on {label} "
        f"{getattr(s, est + '_id')}: tier {getattr(s, tier)!r}, embedded "
        f"{getattr(s, embedded)!r} t; the estimate gives tier {s.estimate_tier!r} and "
        f"{s.expected!r} t"
        for s in qs.order_by("pk")[: max(limit, 0)]
    ]


def totals_differences(*, where: Q | None = None, limit: int = 20) -> list[str]:
    """Monthly totals (``ShipmentTotal``, by origin, CN code, exporter and month) that are
    not the sums of the current shipments; ``where`` narrows the keys compared (fields of
    ``ShipmentTotal``: origin, cn_code, exporter_id, month)."""
    from django.db.models import Count, Sum
    from django.db.models.functions import Coalesce, TruncMonth

    where = where or Q()
    sums = (
        Shipment.objects.filter(is_current=True)
        .annotate(month=TruncMonth("date"))
        .filter(where)
        .values("origin", "cn_code", "exporter_id", "month")
        .annotate(
            shipments=Count("id"),
            net_mass_t=Sum("net_mass_t"),
            embedded_emissions_t=Coalesce(Sum("embedded_emissions_t"), 0.0),
            best_embedded_emissions_t=Coalesce(Sum("best_embedded_emissions_t"), 0.0),
        )
    )
    expected = {(r["origin"], r["cn_code"], r["exporter_id"], r["month"]): r for r in sums}
    totals = ShipmentTotal.objects.filter(where)
    stored = {(t.origin, t.cn_code, t.exporter_id, t.month): t for t in totals}
    out = []
    for key in sorted(expected.keys() | stored.keys(), key=str):
        want, have = expected.get(key), stored.get(key)
        label = f"total {key[0]} {key[1]} exporter {key[2]} {key[3]:%Y-%m}"
        if have is None or want is None:
            out.append(f"{label}: {'missing' if have is None else 'has no current shipment'}")
            continue
        for column in (
            "shipments",
            "net_mass_t",
            "embedded_emissions_t",
            "best_embedded_emissions_t",
        ):
            if not _close(getattr(have, column), want[column]):
                out.append(
                    f"{label}: {column} = {getattr(have, column)!r}, the shipments sum to "
                    f"{want[column]!r}"
                )
    return out[:limit] + ([f"… {len(out) - limit} more"] if len(out) > limit else [])


def estimate_shipment_differences(estimate: Estimate) -> list[str]:
    """:func:`shipments_served_differences` for the shipments on ``estimate``, and
    :func:`totals_differences` for the (origin, CN code, exporter, month) keys they fall
    in."""
    from django.db.models.functions import TruncMonth

    pk = type(estimate).objects.filter(pk=estimate.pk)
    out = shipments_served_differences(estimates=pk, limit=5)
    keys = (
        Shipment.objects.filter(Q(estimate_id=estimate.pk) | Q(best_estimate_id=estimate.pk))
        .filter(is_current=True)
        .annotate(m=TruncMonth("date"))
        .values_list("origin", "cn_code", "exporter_id", "m")
        .distinct()
    )
    where = Q()
    for origin, cn_code, exporter_id, month in keys:
        where |= Q(origin=origin, cn_code=cn_code, exporter_id=exporter_id, month=month)
    if where:
        out += totals_differences(where=where, limit=5)
    return out


# --- Lines flagged implausible at ingest (apps.shipments.plausibility) ------------------


#: The totals' sums, as computed from the lines themselves (same names as ShipmentTotal).
def _line_sums() -> dict:
    from django.db.models import Case, Count, FloatField, When

    def mass_where(**kw):
        return Coalesce(
            Sum(Case(When(**kw, then=F("net_mass_t")), default=0.0, output_field=FloatField())),
            0.0,
        )

    return {
        "shipments": Count("id"),
        "net_mass_t": Coalesce(Sum("net_mass_t"), 0.0),
        "embedded_emissions_t": Coalesce(Sum("embedded_emissions_t"), 0.0),
        "estimated_mass_t": mass_where(estimate_id__isnull=False),
        "default_mass_t": mass_where(tier="default"),
        "best_embedded_emissions_t": Coalesce(Sum("best_embedded_emissions_t"), 0.0),
        "best_verified_mass_t": mass_where(best_tier="verified"),
        "best_disclosed_mass_t": mass_where(best_tier="disclosed"),
        "best_modelled_mass_t": mass_where(best_tier="modelled"),
        "best_default_mass_t": mass_where(best_tier="default"),
    }


def flagged_lines(
    *,
    user: User,
    year: int | None = None,
    cn_code: str = "",
    origin: str = "",
    period_from=None,
    period_to=None,
) -> QuerySet[Shipment]:
    """The current lines flagged implausible, in the scope of the totals (an exporter its
    own organisation's), read through their partial index."""
    qs = Shipment.objects.filter(is_current=True, implausible=True)
    if user.role == User.Role.EXPORTER:
        qs = qs.filter(exporter_id=user.organisation_id) if user.organisation_id else qs.none()
    if year:
        qs = qs.filter(date__year=year)
    if cn_code:
        qs = qs.filter(cn_code__startswith=cn_code)
    if origin:
        qs = qs.filter(origin=origin.upper())
    if period_from:
        qs = qs.filter(date__gte=period_from.replace(day=1))
    if period_to:
        qs = qs.filter(date__lte=period_to)
    return qs


def flagged_sums(qs: QuerySet[Shipment], *, group_by: list[str] = ()) -> list[dict]:
    """The totals' sums of the flagged lines ``qs``, grouped by ``group_by`` (of origin,
    cn_code, exporter_id, month, year); one row without groups."""
    from django.db.models.functions import TruncMonth

    qs = qs.annotate(month=TruncMonth("date"), year=ExtractYear("date"))
    # Computed under other names: a field of the model cannot name its own sum.
    sums = {f"sum_{k}": v for k, v in _line_sums().items()}

    def renamed(row: dict) -> dict:
        return {k.removeprefix("sum_"): v for k, v in row.items()}

    if not group_by:
        return [renamed(qs.aggregate(**sums))]
    return [renamed(r) for r in qs.values(*group_by).annotate(**sums).order_by(*group_by)]


def minus_flagged(rows: list[dict], flagged: list[dict], *, key: tuple[str, ...]) -> list[dict]:
    """``rows`` of totals less the flagged lines' sums of the same ``key``; a row left with
    no shipment is dropped. Sums absent from a row are left alone."""

    def key_of(row: dict) -> tuple:
        return tuple(
            row[k].date() if hasattr(row[k], "date") and callable(row[k].date) else row[k]
            for k in key
        )

    by_key = {key_of(f): f for f in flagged}
    out = []
    for row in rows:
        f = by_key.get(key_of(row))
        if f is not None:
            row = {
                **row,
                **{k: (row[k] or 0.0) - (f[k] or 0.0) for k in row if k in f and k not in key},
            }
            if row.get("shipments", 1) <= 0:
                continue
        out.append(row)
    return out
