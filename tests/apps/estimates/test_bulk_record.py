"""``estimates_record_bulk`` stores what ``estimate_record`` would one by one: each new
(subject, trace) once, one ``estimate.create`` event each, in item order and with gapless
indices; a repeated call stores nothing (docs/modelled.md: the modelling run stores its
20,000 estimates this way)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import transaction

import methodologies
from apps.audit.models import AuditEvent
from apps.audit.services import leaf_hash
from apps.estimates.models import Estimate, Tier
from apps.estimates.services import EstimateItem, estimate_record, estimates_record_bulk
from tests.apps.api.helpers import ENGINE_CASES

pytestmark = pytest.mark.services


def _item(case: dict, subject: str) -> EstimateItem:
    return EstimateItem(
        result=methodologies.run_case(case),
        subject_key=subject,
        tier=Tier.MODELLED,
        cn_code="7208",
        origin="IN",
        period_start=dt.date(2024, 1, 1),
        period_end=dt.date(2024, 12, 31),
    )


def test_bulk_records_each_new_trace_once_with_its_event(postgres):
    steel, _, _ = ENGINE_CASES["route.steel"]
    cement, _, _ = ENGINE_CASES["route.cement"]
    with transaction.atomic():
        # One estimate stored the old way first: the bulk call finds it.
        first = _item(steel, "installation|A|7208|2024")
        known = estimate_record(
            result=first.result,
            subject_key=first.subject_key,
            tier=first.tier,
            cn_code=first.cn_code,
            origin=first.origin,
            period_start=first.period_start,
            period_end=first.period_end,
        )
    events_before = AuditEvent.objects.count()
    items = [
        first,
        _item(cement, "installation|B|2523|2024"),
        _item(steel, "installation|C|7208|2024"),
        _item(cement, "installation|B|2523|2024"),  # repeated: stored once
    ]
    with transaction.atomic():
        recorded = estimates_record_bulk(items=items)
    assert recorded.created == 2
    b, c = recorded.ids[1], recorded.ids[2]
    assert recorded.ids == [known.pk, b, c, b]
    assert Estimate.objects.count() == 3
    stored = Estimate.objects.get(pk=b)
    assert stored.trace_sha256 == items[1].result["trace_sha256"]
    assert stored.see_total_t_per_t == items[1].result["see_total_t_per_t"]
    assert stored.tier == Tier.MODELLED and stored.installation_id is None

    events = list(AuditEvent.objects.order_by("index")[events_before:])
    assert [e.index for e in events] == [events_before, events_before + 1]  # gapless
    for event, pk in zip(events, (b, c), strict=True):
        data = json.loads(bytes(event.data))
        assert (event.action, event.object_id) == ("estimate.create", str(pk))
        estimate = Estimate.objects.get(pk=pk)
        assert data["payload"] == {
            "subject": estimate.subject_key,
            "trace_sha256": estimate.trace_sha256,
        }
        assert event.leaf_hash == leaf_hash(bytes(event.data)) and event.public
    indices = list(AuditEvent.objects.order_by("index").values_list("index", flat=True))
    assert indices == list(range(len(indices)))

    with transaction.atomic():
        again = estimates_record_bulk(items=items)
    assert again.created == 0 and again.ids == recorded.ids
    assert AuditEvent.objects.count() == events_before + 2
