"""A small world for the API fuzzer: rows of every kind the API serves, for both exporters,
so that generated ids hit real objects (and other organisations' objects) as well as
missing ones. Built through the platform's own ingest and services where they exist."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import rfc8785

from tests.apps.disclosures.conftest import template_2026, upload
from tests.apps.grid.conftest import hourly_csv
from tests.apps.helpers import ingest_json, write_customs
from tests.apps.web.world import defaults_extract

UTC = dt.UTC

CUSTOMS_LINES = [
    "F1,1,2026-03-02,72081000,CN,Exporter A,Importer North,1000000,4000,,IN-MH-0042",
    "F1,2,2026-03-02,76011010,IN,Exporter A,Importer North,20000,4000,,",
    "F2,1,2026-04-10,72081000,CN,Exporter B,Importer South,500000,4000,,TR-B-0001",
    "F2,2,2026-04-10,25232900,TR,Exporter B,Importer South,30000,4000,,",
]
AGGREGATES = "cn_code,period,tonnes,value_eur,partner\n72081000,2025-01,1200.5,900000,CN\n"


def _canonical(document: dict) -> tuple[str, str]:
    data = rfc8785.dumps(document)
    return data.decode(), hashlib.sha256(data).hexdigest()


def _satellite(installation, period: str) -> None:
    from apps.satellite.models import ActivityIndex, ReconciliationFlag

    trace, sha = _canonical({"case": {"methodology": "satellite.activity"}, "period": period})
    index = ActivityIndex.objects.create(
        installation=installation,
        variable="thermal_anomaly",
        period=period,
        period_start=dt.datetime(2025, 1, 1, tzinfo=UTC),
        period_end=dt.datetime(2026, 1, 1, tzinfo=UTC),
        n_period=12,
        n_baseline=12,
        baseline_p10=0.1,
        baseline_median=1.0,
        period_mean=0.6,
        activity_index=0.6,
        activity_index_sigma=0.05,
        disclosed_production_t=1000.0,
        z_score=-4.2,
        flagged=True,
        methodology="satellite.activity",
        methodology_version="1",
        trace=trace,
        trace_sha256=sha,
    )
    ReconciliationFlag.objects.create(
        installation=installation,
        activity_index=index,
        period=period,
        variable="thermal_anomaly",
        disclosure_ref="fuzz",
        disclosed_value=1000.0,
        disclosed_sigma=10.0,
        satellite_value=600.0,
        satellite_sigma=50.0,
        combined_uncertainty=51.0,
        z_score=-4.2,
        k=3.0,
        model="satellite.activity",
        model_version="1",
        trace=trace,
        trace_sha256=sha,
        reason="disclosed production above the satellite-implied value",
    )


def build_world(users: dict, tmp_path: Path) -> dict:
    """Shipments, estimates, default values, aggregates, installations, disclosures (with
    extracted values), grid zones, factors, averages, hydrogen assessments, activity
    indices and reconciliation flags, for exporters A and B; and a PACT client."""
    from apps.evidence.models import IngestRun
    from apps.facilities.models import Installation
    from apps.grid.models import EmissionFactor, GridAverage
    from apps.grid.services import hydrogen_assessment_run
    from apps.pact.services import pact_client_create

    report = ingest_json("defaults", defaults_extract(tmp_path / "defaults.csv"))
    assert report["accepted"] > 0, report
    report = ingest_json("customs", write_customs(tmp_path / "customs.csv", CUSTOMS_LINES))
    assert (report["accepted"], report["rejected"]) == (len(CUSTOMS_LINES), 0), report
    (tmp_path / "comext.csv").write_text(AGGREGATES, encoding="utf-8")
    ingest_json("customs", tmp_path / "comext.csv")

    rows = [(f"2024-01-01 {h:02d}:00", 100.0 + h, 120.0 + h) for h in range(12)]
    ingest_json("grid", hourly_csv(tmp_path / "zone.csv", "FZ-TEST", rows))
    grid_run = IngestRun.objects.filter(source="grid").latest("id")
    EmissionFactor.objects.create(
        natural_key="fuzz|FZ-TEST|direct|grid",
        zone="FZ-TEST",
        kind="direct",
        mode="grid",
        valid_from=dt.datetime(2020, 1, 1, tzinfo=UTC),
        value_g_per_kwh=400.0,
        source="fuzz world",
        ingest_run=grid_run,
    )
    GridAverage.objects.create(
        basis=GridAverage.Basis.choices[0][0],
        code="IND",
        iso2="IN",
        name="India",
        year=2024,
        kind="direct",
        value_g_per_kwh=700.0,
        source="fuzz world",
        ingest_run=grid_run,
    )

    installations = {}
    for key, org, identifier, country in (
        ("a", users["org_a"], "IN-MH-0042", "IN"),
        ("b", users["org_b"], "TR-B-0001", "TR"),
    ):
        installations[key] = Installation.objects.create(
            identifier=identifier,
            name=f"Works {key.upper()}",
            organisation=org,
            country=country,
            latitude=20.0,
            longitude=73.0,
            grid_zone="FZ-TEST",
        )
        electrolyser = Installation.objects.create(
            identifier=f"H2-{key.upper()}",
            name=f"Electrolyser {key.upper()}",
            organisation=org,
            country=country,
            routes=[Installation.Route.H2_ELECTROLYSIS],
            grid_zone="FZ-TEST",
        )
        hydrogen_assessment_run(
            installation=electrolyser,
            start=dt.datetime(2024, 1, 1, tzinfo=UTC),
            renewable_mwh=[1.0] * 6,
            consumption_mwh=[1.5] * 6,
            electrolyser_efficiency=0.6,
        )
        _satellite(installations[key], "2025")

    disclosures = {
        key: upload(
            users[f"exporter_{key}"],
            installations[key],
            template_2026(tmp_path, **({"IN-MH-0042": "TR-B-0001"} if key == "b" else {})),
            2026,
        )
        for key in ("a", "b")
    }
    client, secret = pact_client_create(name="fuzz recipient")
    return {
        "installations": installations,
        "disclosures": disclosures,
        "pact": (client.client_id, secret),
    }
