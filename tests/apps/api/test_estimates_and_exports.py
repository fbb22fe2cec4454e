"""Estimates through the API: filters, the trace in JSON, CSV and XLSX (each rebuilding the
same canonical bytes), the bulk zip with its SHA-256 manifest, scoping by role, and the
default-value table."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import zipfile

import pytest
import rfc8785
from openpyxl import load_workbook
from rest_framework.test import APIClient

from apps.estimates.models import Estimate
from apps.shipments.models import Shipment
from tests.apps.api.helpers import client_for, record_every_type
from tests.apps.audit.helpers import TEST_SEED
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, make_users, write_customs
from tests.worlds import module_world

pytestmark = pytest.mark.services


@module_world(env={"CM_AUDIT_SIGNING_KEY": base64.b64encode(TEST_SEED).decode()})
def estimates_world(tmp_path):
    """Built once per module on committed transactions (tests/worlds.py), with the signing
    key this folder's tests use (tests/apps/api/conftest.py)."""
    users = make_users()
    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "w.csv",
            [
                "W1,1,2026-03-02,72081000,CN,Exporter A,Imp,1000000,,4000,",
                "W1,2,2026-03-02,76011010,IN,Exporter A,Imp,20000,,4000,",
                "W2,1,2026-05-02,25232900,TR,Exporter B,Imp,30000,,4000,",
                "W3,1,2027-06-02,72081000,CN,Exporter B,Imp,5000,,4000,",
            ],
        ),
    )
    return users


@pytest.fixture
def world(estimates_world, db, settings):
    return estimates_world.use(settings)


def _assign(node, key, value) -> None:
    if isinstance(node, list):
        node.extend([None] * (key + 1 - len(node)))
    node[key] = value


def _leaf(value, kind: str):
    if kind == "object":
        return {}
    if kind == "array":
        return []
    if kind == "null":
        return None
    if kind == "string":
        return unguard(str(value))
    if isinstance(value, str):  # CSV: numbers and booleans in their JSON spelling
        return json.loads(value)
    return value


# The exports put an apostrophe before each piece of text a spreadsheet could read as a
# formula: at the start or after , ; | TAB CR LF, before = + - @ TAB CR (after any spaces,
# quotes and apostrophes). Undone here independently of the platform's code.
_GUARD = re.compile("(^|[,;|\\t\\r\\n])'(?=[ \"']*[=+\\-@\\t\\r])")


def unguard(text: str) -> str:
    return _GUARD.sub(r"\1", text)


def rebuild(rows) -> object:
    """The JSON value whose leaves are ``rows`` (path, value, type): the inverse of the
    flat forms, written here independently of the platform's code."""
    root: dict = {}
    for raw_path, value, kind in rows:
        path = unguard(raw_path)
        keys = [
            int(m[1]) if m[1] is not None else m[2]
            for m in re.finditer(r"\[(\d+)\]|\.([^.\[]+)", path[1:])
        ]
        node, key = root, "$"
        for nxt in keys:
            present = key < len(node) if isinstance(node, list) else key in node
            child = node[key] if present else None
            if child is None:
                child = [] if isinstance(nxt, int) else {}
                _assign(node, key, child)
            node, key = child, nxt
        _assign(node, key, _leaf(value, kind))
    return root["$"]


def test_the_estimates_list_filters_as_documented(world):
    api = client_for("official")
    every = api.get("/api/v1/estimates/").json()["results"]
    # (CN, 7208, 2026), (IN, 7601, 2026), (TR, 2523, 2026), 2027: each default value twice,
    # with the year's mark-up (the CBAM figure) and without (the best estimate,
    # docs/design.md "The two figures of a shipment").
    assert len(every) == 8
    assert {e["origin"] for e in api.get("/api/v1/estimates/?origin=cn").json()["results"]} == {
        "CN"
    }
    assert len(api.get("/api/v1/estimates/?cn_code=72").json()["results"]) == 4
    in_2027 = api.get("/api/v1/estimates/?period_from=2027-01-01").json()["results"]
    assert [e["period_start"] for e in in_2027] == ["2027-01-01", "2027-01-01"]
    of_b = api.get("/api/v1/estimates/?exporter=exporter%20b").json()["results"]
    assert {(e["origin"], e["period_start"][:4]) for e in of_b} == {("TR", "2026"), ("CN", "2027")}
    assert len(api.get("/api/v1/estimates/?tier=default").json()["results"]) == 8
    assert api.get("/api/v1/estimates/?cn_code=7x").status_code == 400
    page = api.get("/api/v1/estimates/?page_size=5").json()
    assert len(page["results"]) == 5 and page["next"]
    rest = api.get(page["next"]).json()
    assert len(rest["results"]) == 3 and rest["next"] is None


def test_the_trace_csv_and_xlsx_rebuild_the_canonical_bytes(world):
    api = client_for("auditor")
    estimate = Estimate.objects.get(  # the CBAM figure's default (with the mark-up)
        origin="CN", period_start__year=2026, subject_key__startswith="default|"
    )
    canonical = api.get(f"/api/v1/estimates/{estimate.pk}/trace")
    digest = canonical["X-Trace-SHA256"]
    assert hashlib.sha256(canonical.content).hexdigest() == digest

    flat = api.get(f"/api/v1/estimates/{estimate.pk}/trace.csv")
    assert flat.status_code == 200 and flat["Content-Type"].startswith("text/csv")
    assert flat["X-Trace-SHA256"] == digest
    rows = list(csv.reader(io.StringIO(flat.content.decode("utf-8-sig"))))
    assert rows[0] == ["path", "value", "type"]
    assert ["$.methodology.id", "cbam.default", "string"] in rows
    assert ["$.result.see_total_t_per_t", "3.5056", "number"] in rows  # IR 2025/2621, CN 7208
    rebuilt = rebuild([tuple(r) for r in rows[1:]])
    assert hashlib.sha256(rfc8785.dumps(rebuilt)).hexdigest() == digest

    book = api.get(f"/api/v1/estimates/{estimate.pk}/trace.xlsx")
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.content))["trace"]
    cells = list(sheet.iter_rows(values_only=True))
    assert cells[0] == ("path", "value", "type")
    assert ("$.result.see_total_t_per_t", 3.5056, "number") in cells
    rebuilt = rebuild([tuple(r) for r in cells[1:]])
    assert hashlib.sha256(rfc8785.dumps(rebuilt)).hexdigest() == digest


def test_text_that_looks_like_a_formula_is_never_a_formula(world):
    from apps.estimates.api import trace_csv, trace_xlsx

    trace = {"note": '=HYPERLINK("http://x")', "n": -1.5, "s": "-5"}
    rows = list(csv.reader(io.StringIO(trace_csv(trace).decode("utf-8-sig"))))
    assert ["$.note", '\'=HYPERLINK("http://x")', "string"] in rows
    assert ["$.n", "-1.5", "number"] in rows  # numbers stay numbers
    assert rebuild([tuple(r) for r in rows[1:]]) == trace
    estimate = Estimate.objects.first()
    sheet = load_workbook(io.BytesIO(trace_xlsx(trace, estimate=estimate)))["trace"]
    cell = next(c for c in sheet["B"] if c.value and str(c.value).startswith("'=HYPER"))
    assert cell.data_type == "s"


def read_zip(content: bytes) -> tuple[dict, dict[str, bytes]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.testzip() is None
    files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files["manifest.json"]), files


def test_the_bulk_export_streams_every_trace_of_the_filter_with_a_manifest(world):
    api = client_for("auditor")
    response = api.get("/api/v1/estimates/traces.zip?cn_code=7208&period_to=2026-12-31")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/zip"
    manifest, files = read_zip(b"".join(response.streaming_content))
    expected = Estimate.objects.filter(cn_code__startswith="7208", period_start__lte="2026-12-31")
    assert manifest["count"] == expected.count() == 2  # with and without the mark-up
    assert manifest["filters"] == {"cn_code": "7208", "period_to": "2026-12-31"}
    for entry in manifest["files"]:
        data = files[entry["path"]]
        estimate = Estimate.objects.get(pk=entry["estimate"])
        assert data == estimate.trace.encode()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] == estimate.trace_sha256
    sums = files["SHA256SUMS"].decode().splitlines()
    assert sums == [f"{e['sha256']}  {e['path']}" for e in manifest["files"]]
    assert manifest["audit_checkpoint"]["tree_size"] > 0

    everything, _ = read_zip(b"".join(api.get("/api/v1/estimates/traces.zip").streaming_content))
    assert everything["count"] == Estimate.objects.count() == 8
    assert api.get("/api/v1/estimates/traces.zip?period_from=soon").status_code == 400


def test_exporters_export_and_read_only_their_own_traces(world):
    exporter = client_for("exporter_b")
    manifest, _ = read_zip(b"".join(exporter.get("/api/v1/estimates/traces.zip").streaming_content))
    own = set()  # both figures of its shipments: the CBAM figure's and the best estimate's
    for cbam, best in Shipment.objects.filter(exporter__name="Exporter B").values_list(
        "estimate", "best_estimate"
    ):
        own |= {cbam, best}
    assert {e["estimate"] for e in manifest["files"]} == own and len(own) == 4
    foreign = Shipment.objects.get(declaration_id="W1", line=1).estimate_id
    for suffix in ("trace", "trace.csv", "trace.xlsx"):
        assert exporter.get(f"/api/v1/estimates/{foreign}/{suffix}").status_code == 404
    assert APIClient().get("/api/v1/estimates/traces.zip").status_code in (401, 403)


def test_recompute_is_byte_identical_for_every_estimate_type(world):
    made = record_every_type()
    api = client_for("auditor")
    for name, estimate in made.items():
        assert estimate.methodology == name
        answer = api.post(f"/api/v1/estimates/{estimate.pk}/verify").json()
        assert answer == {
            "match": True,
            "stored_sha256": estimate.trace_sha256,
            "recomputed_sha256": estimate.trace_sha256,
            "differences": [],
        }, name


def test_default_values_are_read_with_filters(world):
    api = client_for("exporter_a")  # reference data: every role reads it
    rows = api.get("/api/v1/default-values/?origin=cn&cn_code=7208").json()["results"]
    assert rows and {r["origin"] for r in rows} == {"CN"}
    row = next(r for r in rows if r["cn_code"] == "7208")
    # IR 2025/2621 Annex I, China, CN 7208 (heading): total 3.1869 → 2026 value 3.5056.
    assert row["total_t_per_t"] == pytest.approx(3.1869)
    assert row["dv_2026_t_per_t"] == pytest.approx(3.5056)
    cement = api.get("/api/v1/default-values/?sector=cement&origin=TR").json()["results"]
    assert cement and {r["sector"] for r in cement} == {"Cement"}
    assert api.get("/api/v1/default-values/?cn_code=abc").status_code == 400
