"""A small world for the authorisation matrix: two exporters (A and B), each with its own
installation, disclosure (a confirmed version and one in review, with extracted values),
ingest runs, shipments, estimates, satellite evidence, hydrogen assessment and API token;
plus the reference data every role reads (CBAM default values, grid zones and factors,
trade aggregates, the audit log).

Everything is loaded through the platform's own services and ingest tasks (executed in
process, inside the caller's transaction), except the satellite rows, which are written
directly: a raster ingest would cost seconds and the matrix only needs rows to point at.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.test import TestCase

from tests.apps.disclosures.conftest import template_2026, upload
from tests.apps.grid.conftest import EMBER, FACTORS_CSV, hourly_csv
from tests.apps.helpers import make_users, write_customs
from tests.apps.web.world import defaults_extract

UTC = dt.UTC
ROLES = ("anonymous", "official", "exporter_a", "exporter_b", "auditor", "admin")
OWNERS = ("a", "b")

CUSTOMS_A = [
    "MA1,1,2026-03-02,72081000,CN,Exporter A,Importer North,1000000,,4000,",
    "MA1,2,2026-03-02,76011010,IN,Exporter A,Importer North,20000,,4000,",
    "MA1,3,2026-03-02,72081000,Atlantis,Exporter A,Importer North,1000,,4000,",  # rejected
]
CUSTOMS_B = [
    "MB1,1,2026-04-10,25232900,TR,Exporter B,Importer South,30000,,4000,",
    "MB1,2,2026-04-10,25232900,Narnia,Exporter B,Importer South,1000,,4000,",  # rejected
]
# Names that must never reach exporter A's pages (B's organisation, installation, files).
B_MARKERS = ("Exporter B", "TR-B-0001", "Works of B", "customs-b.csv", "disclosure-b")


@dataclass
class World:
    users: dict  # role → User (and "org_a", "org_b")
    tokens: dict[str, str]  # role → raw API token
    ids: dict[str, dict[str, int]] = field(default_factory=dict)  # kind → owner → an id
    all_ids: dict[str, dict[str, set[int]]] = field(default_factory=dict)  # … → every id
    refs: dict[str, object] = field(default_factory=dict)  # reference kind → key or id
    versions: dict[str, tuple[int, int]] = field(default_factory=dict)  # owner → (pk, n)
    var_dir: Path | None = None
    media_root: Path | None = None


def _ingest(source: str, path: Path, *, user=None):
    """The ingest command's service and task, executed in process on 'commit'."""
    from apps.evidence.models import IngestRun
    from apps.evidence.services import evidence_store_path, ingest_run_create

    evidence = evidence_store_path(path=path)
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = ingest_run_create(
            source=source, evidence=evidence, original_name=path.name, requested_by=user
        )
    run.refresh_from_db()
    assert run.status == IngestRun.Status.DONE, run.failure
    return run


def _upload(user, installation, path: Path):
    with TestCase.captureOnCommitCallbacks(execute=True):
        version = upload(user, installation, path, 2026)
    version.refresh_from_db()
    return version


def _satellite(installation, run, evidence, suffix: str) -> dict[str, int]:
    from apps.satellite.models import ActivityIndex, Observation, ReconciliationFlag, Scene

    trace = json.dumps({"methodology": {"id": "satellite.activity"}, "case": {}}, sort_keys=True)
    sha = hashlib.sha256(trace.encode()).hexdigest()
    scene = Scene.objects.create(
        evidence=evidence,
        ingest_run=run,
        variable=f"no2-{suffix}",
        format="GTiff",
        transform=[30.0, 0.0, 500000.0, 0.0, -30.0, 5000000.0],
        bands=1,
        height=10,
        width=10,
        grid_key="0" * 64,
        plan_key="0" * 64,
        installation_ids=[installation.pk],
        pixel_rule="coverage_fraction",
        pixel_rule_version="1",
        tile_rows=1,
        tile_cols=1,
        tile_count=1,
        status=Scene.Status.DONE,
    )
    observation = Observation.objects.create(
        installation=installation,
        scene=scene,
        band=1,
        time=dt.datetime(2026, 3, 1, tzinfo=UTC),
        variable=f"no2-{suffix}",
        count=9.0,
        valid_fraction=1.0,
        in_raster_fraction=1.0,
        footprint_px=9.0,
        sum=90.0,
        mean=10.0,
        max=12.0,
        p95=11.5,
        pixel_rule="coverage_fraction",
        pixel_rule_version="1",
    )
    index = ActivityIndex.objects.create(
        installation=installation,
        variable=f"no2-{suffix}",
        period="2026-03",
        period_start=dt.datetime(2026, 3, 1, tzinfo=UTC),
        period_end=dt.datetime(2026, 4, 1, tzinfo=UTC),
        n_period=1,
        n_baseline=12,
        baseline_p10=1.0,
        baseline_median=5.0,
        period_mean=10.0,
        activity_index=2.0,
        activity_index_sigma=0.2,
        methodology="satellite.activity",
        methodology_version="1",
        trace=trace,
        trace_sha256=sha,
    )
    flag = ReconciliationFlag.objects.create(
        installation=installation,
        activity_index=index,
        period="2026-03",
        variable=f"no2-{suffix}",
        disclosed_value=100.0,
        disclosed_sigma=5.0,
        satellite_value=200.0,
        satellite_sigma=10.0,
        combined_uncertainty=11.2,
        z_score=8.9,
        k=3.0,
        model="satellite.activity",
        model_version="1",
        trace=trace,
        trace_sha256=sha,
        reason="disclosed production far below the satellite-implied value",
    )
    return {"observation": observation.pk, "activity_index": index.pk, "flag": flag.pk}


def build_world(tmp: Path) -> World:
    """Build the world in the current transaction (the caller rolls it back)."""
    from apps.accounts.services import api_token_create
    from apps.audit.models import AuditEvent
    from apps.catalogue.models import DefaultValue
    from apps.disclosures.models import Disclosure, ExtractedValue, Status
    from apps.disclosures.services import disclosure_version_confirm
    from apps.estimates.models import Estimate
    from apps.evidence.models import IngestRun
    from apps.facilities.models import Installation
    from apps.grid.models import EmissionFactor, GridAverage, GridZone, HydrogenAssessment
    from apps.grid.services import hydrogen_assessment_run
    from apps.satellite.models import ActivityIndex, Observation, ReconciliationFlag
    from apps.shipments.models import Shipment, TradeAggregate

    users = make_users()
    tokens = {role: api_token_create(user=users[role])[0] for role in ROLES[1:]}
    world = World(users=users, tokens=tokens)
    orgs = {"a": users["org_a"], "b": users["org_b"]}
    exporters = {"a": users["exporter_a"], "b": users["exporter_b"]}

    # Reference data: CBAM default values, grid factors, a zone with hourly intensity.
    _ingest("defaults", defaults_extract(tmp / "defaults.csv"))
    lines = FACTORS_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    factors = tmp / "factors.csv"
    factors.write_text(
        lines[0] + "".join(x for x in lines[1:] if x.startswith(("DE,", "_DEFAULT,"))),
        encoding="utf-8",
    )
    _ingest("factors", factors)
    _ingest("grid", EMBER)
    hours = [(f"2024-01-01 {h:02d}:00", 300.0, 300.0) for h in range(4)]
    _ingest("grid", hourly_csv(tmp / "h2.csv", "H2-TEST", hours))

    # Customs: each exporter's lines in a run its own user started (one bad line each).
    customs = {
        owner: _ingest(
            "customs", write_customs(tmp / f"customs-{owner}.csv", lines), user=exporters[owner]
        )
        for owner, lines in (("a", CUSTOMS_A), ("b", CUSTOMS_B))
    }
    assert customs["a"].errors and customs["b"].errors
    TradeAggregate.objects.create(
        reporter="EU27_2020",
        origin="CN",
        cn_code="72081000",
        month=dt.date(2026, 3, 1),
        tonnes=1000.0,
        value_eur=500000.0,
        ingest_run=customs["a"],
        source_line=1,
    )

    installations = {
        "a": Installation.objects.create(
            identifier="IN-MH-0042",
            name="Example Steel Works Unit 2",
            organisation=orgs["a"],
            country="IN",
            latitude=19.0,
            longitude=72.8,
            routes=[Installation.Route.H2_ELECTROLYSIS],
            grid_zone="H2-TEST",
        ),
        "b": Installation.objects.create(
            identifier="TR-B-0001",
            name="Works of B",
            organisation=orgs["b"],
            country="TR",
            latitude=41.0,
            longitude=29.0,
            routes=[Installation.Route.H2_ELECTROLYSIS],
            grid_zone="H2-TEST",
        ),
    }

    # Disclosures: version 1 confirmed (it feeds installation estimates), version 2 in review.
    versions = {}
    for owner in OWNERS:
        first = template_2026(tmp).rename(tmp / f"disclosure-{owner}-1.csv")
        if owner == "b":
            text = first.read_text(encoding="utf-8").replace("IN-MH-0042", "TR-B-0001")
            first.write_text(text, encoding="utf-8")
        v1 = _upload(exporters[owner], installations[owner], first)
        assert v1.status == Status.REVIEW, (owner, v1.status, v1.failure)
        with TestCase.captureOnCommitCallbacks(execute=True):
            disclosure_version_confirm(version=v1, user=exporters[owner])
        second = tmp / f"disclosure-{owner}-2.csv"
        second.write_text(first.read_text(encoding="utf-8").replace("410,kt", "420,kt"))
        v2 = _upload(exporters[owner], installations[owner], second)
        assert v2.status == Status.REVIEW, (owner, v2.status, v2.failure)
        versions[owner] = v2
        world.versions[owner] = (v2.disclosure_id, v2.number)

    # Satellite evidence and a hydrogen assessment per installation.
    satellite = {
        owner: _satellite(installations[owner], customs[owner], customs[owner].evidence, owner)
        for owner in OWNERS
    }
    hydrogen = {
        owner: hydrogen_assessment_run(
            installation=installations[owner],
            start=dt.datetime(2024, 1, 1, tzinfo=UTC),
            renewable_mwh=[20.0, 0.0, 20.0, 0.0],
            consumption_mwh=[10.0] * 4,
            electrolyser_efficiency=0.6,
        )
        for owner in OWNERS
    }

    # Every id the matrix fills URLs with, and every row an owner's lists may show.
    from apps.accounts.models import ApiToken

    def of(owner: str) -> dict[str, set[int]]:
        org = orgs[owner]
        shipments = Shipment.objects.filter(exporter=org, is_current=True)
        estimates = Estimate.objects.filter(pk__in=shipments.values("estimate_id")) | (
            Estimate.objects.filter(installation__organisation=org)
        )
        return {
            "shipment": set(shipments.values_list("pk", flat=True)),
            "estimate": set(estimates.values_list("pk", flat=True)),
            "installation": {installations[owner].pk},
            "disclosure": set(
                Disclosure.objects.filter(organisation=org).values_list("pk", flat=True)
            ),
            "extracted_value": set(
                ExtractedValue.objects.filter(version__disclosure__organisation=org).values_list(
                    "pk", flat=True
                )
            ),
            "ingest_run": set(
                IngestRun.objects.filter(requested_by=exporters[owner]).values_list("pk", flat=True)
            ),
            "observation": set(
                Observation.objects.filter(installation__organisation=org).values_list(
                    "pk", flat=True
                )
            ),
            "activity_index": set(
                ActivityIndex.objects.filter(installation__organisation=org).values_list(
                    "pk", flat=True
                )
            ),
            "flag": set(
                ReconciliationFlag.objects.filter(installation__organisation=org).values_list(
                    "pk", flat=True
                )
            ),
            "hydrogen": set(
                HydrogenAssessment.objects.filter(installation__organisation=org).values_list(
                    "pk", flat=True
                )
            ),
            "organisation": {org.pk},
            "token": set(
                ApiToken.objects.filter(user=exporters[owner]).values_list("pk", flat=True)
            ),
        }

    for owner in OWNERS:
        for kind, ids in of(owner).items():
            world.all_ids.setdefault(kind, {})[owner] = ids
    # No row belongs to both exporters (else "B's rows" would be meaningless).
    for kind, by_owner in world.all_ids.items():
        assert by_owner["a"] and by_owner["b"], kind
        assert not by_owner["a"] & by_owner["b"], kind

    shipment = {
        owner: Shipment.objects.filter(
            exporter=orgs[owner], is_current=True, estimate__isnull=False
        )
        .order_by("pk")
        .first()
        for owner in OWNERS
    }
    for owner in OWNERS:
        world.ids.setdefault("shipment", {})[owner] = shipment[owner].pk
        world.ids.setdefault("estimate", {})[owner] = shipment[owner].estimate_id
        world.ids.setdefault("installation", {})[owner] = installations[owner].pk
        world.ids.setdefault("disclosure", {})[owner] = versions[owner].disclosure_id
        world.ids.setdefault("extracted_value", {})[owner] = (
            versions[owner].values.order_by("pk").first().pk
        )
        world.ids.setdefault("ingest_run", {})[owner] = customs[owner].pk
        world.ids.setdefault("hydrogen", {})[owner] = hydrogen[owner].pk
        world.ids.setdefault("organisation", {})[owner] = orgs[owner].pk
        world.ids.setdefault("token", {})[owner] = min(world.all_ids["token"][owner])
        for kind, pk in satellite[owner].items():
            world.ids.setdefault(kind, {})[owner] = pk

    from apps.pact.services import pact_client_create

    pact_client, pact_secret = pact_client_create(name="matrix recipient")
    from apps.facilities.models import MatchSuggestion

    match = MatchSuggestion.objects.create(
        kind=MatchSuggestion.Kind.ORGANISATION,
        organisation=orgs["a"],
        other_organisation=orgs["b"],
        score=0.95,
        evidence={"names": [orgs["a"].name, orgs["b"].name]},
    )
    world.refs = {
        # The review queue: officials decide, auditors and admins read, exporters are refused.
        "match_suggestion": match.pk,
        "pact_client": (pact_client.client_id, pact_secret),
        # A zone without stored hours: its page skips the hourly charts (seconds each).
        "zone": GridZone.objects.create(key="DE", country="DE", name="Germany").key,
        "hourly_zone": "H2-TEST",
        "grid_factor": EmissionFactor.objects.order_by("pk").first().pk,
        "grid_average": GridAverage.objects.order_by("pk").first().pk,
        "default_value": DefaultValue.objects.order_by("pk").first().pk,
        "trade_aggregate": TradeAggregate.objects.get().pk,
        "methodology": "cbam.default",
        # An entry every signed-in user reads: a public one (reference data, nobody's).
        "audit_index": AuditEvent.objects.filter(public=True).order_by("index").first().index,
        "pf_id": "00000000-0000-4000-8000-000000000000",
    }
    # A methodology version (docs/adoption.md): public method, every signed-in user reads it.
    from apps.adoption.services import methodology_version_propose

    world.refs["methodology_version"] = methodology_version_propose(label="2026.1").label
    # An export job of each exporter, written (a job is its user's alone: docs/web.md).
    from apps.shipments.services import shipment_export_request, shipment_export_run

    for owner in OWNERS:
        job = shipment_export_request(user=exporters[owner], query="", fmt="csv")
        shipment_export_run(job_id=job.pk)  # in place of the worker (idempotent: claimed once)
        world.ids.setdefault("export_job", {})[owner] = job.pk
    return world
