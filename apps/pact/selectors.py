"""Reads of the PACT exchange: access tokens, and estimates filtered as ListFootprints asks.

The filters are those of the v3 ``ListFootprints`` action (``productId``, ``companyId``,
``geography``, ``classification``, ``validOn``, ``validAfter``, ``validBefore``,
``status``; the list ones repeat, ``?geography=CN&geography=IN``, matched
case-insensitively), translated to the fields our footprints are made from
(:mod:`apps.pact.mapping`). A value that cannot name any of our footprints matches none.
A ``RequestCreatedEvent`` carries the same criteria in its ``data`` (PACT v3: "the same
filters"), so both go through :func:`footprint_filters`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.estimates.models import Estimate
from apps.pact.mapping import ORGANISATION_URN, PLATFORM_URN
from apps.pact.models import PactAccessToken, SentEvent


class TokenInvalid(Exception):
    """No such access token."""


class TokenExpired(Exception):
    """The access token has expired, or its client was revoked."""


def pact_token_client(*, token: str):
    """The client an access token was issued to; raises TokenInvalid or TokenExpired."""
    record = (
        PactAccessToken.objects.select_related("client")
        .filter(key_sha256=hashlib.sha256(token.encode()).hexdigest())
        .first()
    )
    if record is None:
        raise TokenInvalid
    if record.expires_at <= timezone.now() or record.client.revoked_at is not None:
        raise TokenExpired
    return record.client, record


@dataclass
class FootprintFilters:
    product_ids: list[str] = field(default_factory=list)
    company_ids: list[str] = field(default_factory=list)
    geography: list[str] = field(default_factory=list)
    classification: list[str] = field(default_factory=list)
    valid_on: dt.datetime | None = None
    valid_after: dt.datetime | None = None
    valid_before: dt.datetime | None = None
    status: str | None = None


class CriteriaError(ValueError):
    """A ListFootprints criterion is malformed; the message names it."""


#: The criteria of ListFootprints and RequestCreatedEvent, by FootprintFilters field.
LIST_CRITERIA = {
    "productId": "product_ids",
    "companyId": "company_ids",
    "geography": "geography",
    "classification": "classification",
}
TIME_CRITERIA = {"validOn": "valid_on", "validAfter": "valid_after", "validBefore": "valid_before"}
#: The status of a criterion that is neither Active nor Deprecated: no footprint has it.
UNKNOWN_STATUS = "unknown"


def footprint_filters(criteria: Mapping[str, Any]) -> FootprintFilters:
    """Filters from the spec's criteria: each list criterion a list of strings, each time an
        RFC 3339 date-time with a zone, ``status`` a string (Active or Deprecated in any case
    select; another matches nothing). Other
        keys are not criteria and are ignored. Raises :class:`CriteriaError`."""
    filters = FootprintFilters()
    for name, attr in LIST_CRITERIA.items():
        values = criteria.get(name, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise CriteriaError(f"{name} must be a list of strings")
        setattr(filters, attr, [v for v in values if v.strip()])
    for name, attr in TIME_CRITERIA.items():
        if name not in criteria:
            continue
        raw = criteria[name]
        try:
            moment = parse_datetime(raw) if isinstance(raw, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise CriteriaError(
                f"{name} must be an RFC 3339 date-time with a time zone, got {raw!r}"
            )
        try:
            moment.astimezone(dt.UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 lies before year 1 in UTC
            raise CriteriaError(f"{name} is out of range in UTC, got {raw!r}") from None
        setattr(filters, attr, moment)
    if "status" in criteria:
        # PACT v3 ``status`` "MUST be Active or Deprecated", matched case-insensitively; any
        # other text names no footprint, so it matches none (conformance case 37:
        # ``?status=BogusStatus`` is answered 200 ``{"data": []}``, not 400).
        status = criteria["status"]
        if not isinstance(status, str):
            raise CriteriaError("status must be a string, Active or Deprecated")
        status = status.strip().lower()
        filters.status = status if status in ("active", "deprecated") else UNKNOWN_STATUS
    return filters


_PRODUCT = re.compile(r"urn:pact:carbon-manifest:product-id:cn:(\d{4,8}):origin:([a-z]{2,8})")
_CLASSIFICATION = re.compile(r"urn:pact:productclassification:cn:(\d{2,8})")
_ORGANISATION = re.compile(ORGANISATION_URN.format(pk=r"(\d+)"))


def _any(conditions: list[Q]) -> Q:
    combined = Q(pk__in=[])  # matches nothing
    for condition in conditions:
        combined |= condition
    return combined


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def footprint_estimates(*, filters: FootprintFilters) -> QuerySet[Estimate]:
    """Estimates published as footprints, oldest first; ``superseded`` is annotated (a later
    estimate of the same subject exists)."""
    later = Estimate.objects.filter(subject_key=OuterRef("subject_key"), pk__gt=OuterRef("pk"))
    qs = (
        Estimate.objects.select_related("installation__organisation")
        .annotate(superseded=Exists(later))
        .order_by("pk")
    )
    if filters.product_ids:
        matches = [_PRODUCT.fullmatch(p.strip().lower()) for p in filters.product_ids]
        qs = qs.filter(
            _any([Q(cn_code=m[1], origin=m[2].upper()) for m in matches if m is not None])
        )
    if filters.company_ids:
        conditions = []
        for value in (c.strip().lower() for c in filters.company_ids):
            if value == PLATFORM_URN:
                conditions.append(Q(installation__organisation__isnull=True))
            elif m := _ORGANISATION.fullmatch(value):
                conditions.append(Q(installation__organisation_id=int(m[1])))
        qs = qs.filter(_any(conditions))
    if filters.geography:
        # Our footprints are country-level: ISO 3166-1 alpha-2 codes match; UN regions and
        # ISO 3166-2 subdivisions name no footprint of ours.
        codes = [g.strip().upper() for g in filters.geography if re.fullmatch(r"\s*\w\w\s*", g)]
        qs = qs.filter(origin__in=codes)
    if filters.classification:
        matches = [_CLASSIFICATION.fullmatch(c.strip().lower()) for c in filters.classification]
        qs = qs.filter(_any([Q(cn_code__startswith=m[1]) for m in matches if m is not None]))
    # Validity period = [period_start 00:00Z, (period_end + 1 day) 00:00Z] (mapping).
    if filters.valid_on is not None:
        moment = _utc(filters.valid_on)
        last_day = moment.date() - dt.timedelta(days=1 if moment.time() == dt.time() else 0)
        qs = qs.filter(period_start__lte=moment.date(), period_end__gte=last_day)
    if filters.valid_after is not None:
        qs = qs.filter(period_start__gt=_utc(filters.valid_after).date())
    if filters.valid_before is not None:
        moment = _utc(filters.valid_before)
        bound = moment.date() - dt.timedelta(days=1 if moment.time() == dt.time() else 0)
        qs = qs.filter(period_end__lt=bound)
    if filters.status == UNKNOWN_STATUS:
        qs = qs.none()
    elif filters.status is not None:
        deprecated = Q(superseded=True) | Q(superseded_by__isnull=False)
        qs = qs.filter(deprecated if filters.status == "deprecated" else ~deprecated)
    return qs


def sent_events_due(*, limit: int = 1000) -> list[int]:
    """Ids of the events waiting to be sent whose next attempt is due, oldest first."""
    due = SentEvent.objects.filter(
        status=SentEvent.Status.PENDING, next_attempt_at__lte=timezone.now()
    )
    return list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
