"""Shared evidence carries no uploader's meaning to anyone else (issue #16, item 1).

The same bytes are stored once (docs/design.md §1, content-addressed), but the name, the source
that reads them and the uploader belong to each upload: an exporter who uploads the public
``PL.yaml`` factor library as ``defaults.yaml`` through the disclosure portal must not make
an official's later ``ingest factors PL.yaml`` load Poland's factors as the global default
(``ingest.emission_factors``: ``defaults.yaml`` is zone ``_DEFAULT``, another file's stem
is its zone). And the deduplication must not tell one organisation another's file name, nor
whether it uploaded the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from apps.disclosures.models import DisclosureVersion
from apps.evidence.models import EvidenceFile, IngestRun
from apps.facilities.models import Installation
from apps.grid.models import EmissionFactor
from tests.conftest import ROOT

pytestmark = pytest.mark.services

PL_YAML = ROOT / "fixtures" / "grid" / "electricitymaps" / "zones" / "PL.yaml"
TEMPLATE_CSV = ROOT / "fixtures" / "disclosures" / "template_example.csv"


def _installation(org, identifier: str) -> Installation:
    return Installation.objects.create(
        identifier=identifier, name=f"Works {identifier}", organisation=org, country="IN"
    )


def _portal_upload(user, installation: Installation, name: str, data: bytes, year: int):
    client = Client()
    client.force_login(user)
    response = client.post(
        "/disclosures/upload/",
        {
            "installation": installation.pk,
            "period": year,
            "file": SimpleUploadedFile(name, data, content_type="application/octet-stream"),
        },
    )
    assert response.status_code == 302, response.content[:500]
    return client


def test_an_exporters_name_for_public_bytes_does_not_change_an_officials_factor_ingest(
    postgres_tx, users
):
    """Old code: the official's run read the blob under the exporter's name
    ``defaults.yaml`` and wrote Poland's factors into zone ``_DEFAULT``."""
    data = PL_YAML.read_bytes()
    installation = _installation(users["org_a"], "IN-A-1")
    _portal_upload(users["exporter_a"], installation, "defaults.yaml", data, 2025)
    version = DisclosureVersion.objects.get()
    assert version.status == "failed", "a YAML file is not a disclosure"

    out = io.StringIO()
    call_command("ingest", "factors", str(PL_YAML), "--json", stdout=out, stderr=io.StringIO())
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["accepted"] > 0, summary

    run = IngestRun.objects.get(source="factors")
    assert run.original_name == "PL.yaml"
    assert run.evidence_id == version.evidence_id, "the bytes are still stored once"
    zones = set(EmissionFactor.objects.filter(ingest_run=run).values_list("zone", flat=True))
    assert zones == {"PL"}, zones
    assert not EmissionFactor.objects.filter(zone=EmissionFactor.DEFAULT_ZONE).exists()
    # The exporter's upload keeps its own name on its own run.
    assert version.ingest_run.original_name == "defaults.yaml"


def test_the_same_bytes_do_not_reveal_another_organisations_file_name(postgres_tx, users):
    """Exporter B uploads the bytes exporter A uploaded under a telling name: B sees only
    its own name, in the API, the portal and its ingest runs, and its answer is the same
    as for bytes nobody uploaded before (old code: B's version showed A's file name)."""
    data = TEMPLATE_CSV.read_bytes()
    secret = "A-confidential-merger-plan.csv"
    _portal_upload(users["exporter_a"], _installation(users["org_a"], "IN-A-1"), secret, data, 2025)

    fresh = data.replace(b"Example Steel Works", b"Other Steel Works")
    inst_b = _installation(users["org_b"], "IN-B-1")
    client = _portal_upload(users["exporter_b"], inst_b, "ours.csv", data, 2025)
    _portal_upload(users["exporter_b"], inst_b, "ours-2.csv", fresh, 2024)

    shared = hashlib.sha256(data).hexdigest()
    assert EvidenceFile.objects.filter(sha256=shared).count() == 1

    api = client.get("/api/v1/disclosures/").json()
    versions = {d["period_year"]: d["versions"][0] for d in api["results"]}
    assert {v["file"] for v in versions.values()} == {"ours.csv", "ours-2.csv"}
    seen_then_fresh = [versions[2025], versions[2024]]
    # Nothing in B's answers tells a shared blob from a fresh one but the file's hash.
    keys = [
        sorted(set(v) - {"id", "file", "file_sha256", "ingest_run", "created_at"})
        for v in seen_then_fresh
    ]
    assert keys[0] == keys[1]
    for field in ("number", "status", "failure", "queue_failure"):
        assert seen_then_fresh[0][field] == seen_then_fresh[1][field], field

    pages = [client.get("/api/v1/disclosures/").content, client.get("/ingests/").content]
    for pk in (
        v.disclosure_id for v in DisclosureVersion.objects.filter(submitted_by=users["exporter_b"])
    ):
        pages.append(client.get(f"/disclosures/{pk}/").content)
    for run in IngestRun.objects.filter(requested_by=users["exporter_b"]):
        pages.append(client.get(f"/ingests/{run.pk}/").content)
        csv = client.get(f"/ingests/{run.pk}/errors.csv")
        pages.append(b"".join(csv.streaming_content))
    for page in pages:
        assert b"confidential" not in page


def _old_state(executor, target):
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def test_the_migration_moves_names_to_runs_without_leaking_them(postgres_tx, users):
    """Rows of the old layout: the blob's name goes to its first uploader's runs and to
    runs of the same organisation; another organisation's run of the blob gets no name."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    old = _old_state(executor, ("evidence", "0003_ingestrun_deliveries"))
    try:
        Blob = old.get_model("evidence", "EvidenceFile")
        Run = old.get_model("evidence", "IngestRun")
        blob = Blob.objects.create(
            sha256="a" * 64,
            kind="disclosure",
            original_name="A-secret.csv",
            size=1,
            uploaded_by_id=users["exporter_a"].pk,
            organisation_id=users["org_a"].pk,
        )
        public = Blob.objects.create(
            sha256="b" * 64, kind="factors", original_name="DE.yaml", size=1
        )
        own = Run.objects.create(
            source="disclosure", evidence=blob, requested_by_id=users["exporter_a"].pk
        )
        other = Run.objects.create(
            source="disclosure", evidence=blob, requested_by_id=users["exporter_b"].pk
        )
        command = Run.objects.create(source="factors", evidence=blob)
        official = Run.objects.create(source="factors", evidence=public)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    names = dict(IngestRun.objects.values_list("pk", "original_name"))
    assert names[own.pk] == "A-secret.csv"
    assert names[other.pk] == "" and names[command.pk] == ""
    assert names[official.pk] == "DE.yaml"
    assert not hasattr(EvidenceFile, "original_name")
    assert IngestRun.objects.get(pk=other.pk).name == f"sha256 {'a' * 12}…"
