"""Every page of the web app, for every role: who may see what, what the pages say, and
what they cost at the database."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.shipments.models import Shipment
from tests.apps.helpers import ingest_json, write_customs

pytestmark = pytest.mark.services

ROLES = ["official", "auditor", "admin", "exporter_a"]


def pages(world) -> dict[str, str]:
    return {
        "dashboard": "/dashboard/",
        "list": "/shipments/",
        "report": f"/shipments/{world['steel_cn_a'].pk}/",
        "exporter": f"/exporters/{world['org_a'].pk}/",
        "estimate": f"/estimates/{world['steel_cn_a'].estimate_id}/",
        "methodologies": "/methodologies/",
        "methodology": "/methodologies/cbam.default/",
        "ingests": "/ingests/",
    }


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_every_role(world, client, role):
    client.force_login(world[role])
    for name, url in pages(world).items():
        response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        body = response.content.decode()
        assert '<main id="main"' in body
        assert 'nav aria-label="Main"' in body


def test_anonymous_is_sent_to_log_in_from_every_page(world, client):
    for url in pages(world).values():
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/login/"), url


def test_home_sends_a_logged_in_user_to_the_dashboard(world, client):
    assert client.get("/").url.startswith("/login/")
    client.force_login(world["official"])
    assert client.get("/").url == "/dashboard/"


def test_the_navigation_follows_the_role(world, client):
    client.force_login(world["exporter_a"])
    body = client.get("/dashboard/").content.decode()
    assert f'href="/exporters/{world["org_a"].pk}/">My organisation' in body
    assert 'href="/admin/"' not in body
    client.force_login(world["admin"])
    body = client.get("/dashboard/").content.decode()
    assert 'href="/admin/"' in body and "My organisation" not in body
    assert 'href="/methodologies/">Methodologies' in body


def test_an_exporter_gets_404_for_another_exporters_pages(world, client):
    client.force_login(world["exporter_a"])
    assert client.get(f"/exporters/{world['org_b'].pk}/").status_code == 404
    assert client.get(f"/shipments/{world['steel_cn_b'].pk}/").status_code == 404
    # A shared estimate (Türkiye cement, both exporters' goods) is readable; A's alone is not.
    assert client.get(f"/estimates/{world['cement_tr_b'].estimate_id}/").status_code == 200
    client.force_login(world["exporter_b"])
    assert client.get(f"/estimates/{world['alu_in_a'].estimate_id}/").status_code == 404
    assert client.get("/methodologies/no.such/").status_code == 404


def test_an_exporters_dashboard_counts_only_its_own_goods(world, client):
    client.force_login(world["exporter_a"])
    body = client.get("/dashboard/").content.decode()
    # Exporter A: 1000 t steel + 20 t aluminium + 12 t cement.
    assert "1,032 t" in body
    client.force_login(world["official"])
    assert "1,562 t" in client.get("/dashboard/").content.decode()


def test_the_dashboard_sums_the_totals_and_marks_the_default_and_the_missing_benchmark(
    world, client
):
    client.force_login(world["official"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/dashboard/?cn=72081000")
    body = response.content.decode()
    # 1500 t of CN steel × 3.5056 tCO2e/t (IR 2025/2621 Annex I, China 7208, 2026 mark-up)
    assert "5,258.4" in body
    # "Other countries and territories" row of 7208 for 2026: 4.4536 (IR 2025/2621 Annex I).
    assert "4.4536 tCO₂e/t" in body
    assert "benchmark not available" in body
    # Every shipment is on a default value: 100 % of the tonnage.
    assert 'Default values</th><td class="num">1,562.0</td><td class="num">100.0 %' in body
    assert body.count('<svg class="chart" role="img"') == 5
    assert "<title id=" in body and "<desc id=" in body
    # From the totals only: the shipments table is read only for the lines flagged
    # implausible at ingest, through their partial index (none here), never scanned.
    flagged_only = 'WHERE ("shipments_shipment"."implausible" AND "shipments_shipment"."is_current"'
    read = [q["sql"] for q in queries if 'shipments_shipment"' in q["sql"]]
    assert read and all(flagged_only in sql for sql in read), read


def test_an_empty_platform_says_so(postgres, users, client):
    client.force_login(users["official"])
    assert "No shipments yet" in client.get("/dashboard/").content.decode()
    assert "No shipments yet" in client.get("/shipments/").content.decode()


def listed(client, query: str) -> list[str]:
    body = client.get("/shipments/?" + query).content.decode()
    return sorted(
        s.declaration_id + "/" + str(s.line)
        for s in Shipment.objects.all()
        if f">{s.declaration_id} / {s.line}</a>" in body
    )


def test_the_list_filters_by_each_field(world, client):
    client.force_login(world["official"])
    assert listed(client, "cn_code=7208") == ["W1/1", "W2/1"]
    assert listed(client, "cn_code=7208+10") == ["W1/1", "W2/1"]
    assert listed(client, "product_group=cement") == ["W2/2", "W3/1"]
    assert listed(client, "product_group=aluminium") == ["W1/2"]
    assert listed(client, "origin=tr") == ["W2/2", "W3/1"]
    # Forgiving: a country's name, in any case, with or without accents (issue #19).
    assert listed(client, "origin=T%C3%BCrkiye") == ["W2/2", "W3/1"]
    assert listed(client, "origin=turkey") == ["W2/2", "W3/1"]
    assert listed(client, "origin=Atlantis") == []
    assert listed(client, "exporter=exporter+b") == ["W2/1", "W2/2"]
    assert listed(client, "importer=south") == ["W2/1", "W2/2"]
    assert listed(client, "period_from=2026-04-01&period_to=2026-04-30") == ["W2/1", "W2/2"]
    assert listed(client, "tier=default") == ["W1/1", "W1/2", "W2/1", "W2/2", "W3/1"]
    assert listed(client, "tier=verified") == []
    assert listed(client, "flagged=yes") == []
    assert len(listed(client, "flagged=no")) == 5
    assert listed(client, "q=W2") == ["W2/1", "W2/2"]  # a declaration id
    assert listed(client, "q=north") == ["W1/1", "W3/1"]  # an importer
    assert listed(client, "q=Exporter+A") == ["W1/1", "W1/2", "W3/1"]
    # Cells are escaped: the importer's quotes come back as entities, not markup.
    body = client.get("/shipments/?origin=IN").content.decode()
    assert "=HYPERLINK(&quot;http://x&quot;)" in body
    body = client.get("/shipments/?cn_code=72x").content.decode()
    assert "digits only" in body and "No shipments match these filters" in body


def test_the_list_sorts_and_pages_by_keyset(world, client):
    from apps.shipments.selectors import shipment_list, shipment_page

    qs = shipment_list(user=world["official"])
    for sort, key, reverse in [
        ("mass", lambda s: s.net_mass_t, True),
        ("date_asc", lambda s: s.date, False),
        ("emissions", lambda s: s.embedded_emissions_t, True),
    ]:
        seen, cursor = [], ""
        while True:
            page = shipment_page(qs, sort=sort, cursor=cursor, size=2)
            seen += page.rows
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        assert len(seen) == 5 and len({s.pk for s in seen}) == 5
        assert [key(s) for s in seen] == sorted((key(s) for s in seen), reverse=reverse)
    client.force_login(world["official"])
    body = client.get("/shipments/?sort=mass").content.decode()
    assert body.index("W1 / 1") < body.index("W2 / 1") < body.index("W2 / 2")


def test_the_list_never_counts_the_shipments_table(world, client):
    client.force_login(world["official"])
    with CaptureQueriesContext(connection) as queries:
        client.get("/shipments/?origin=CN&sort=date")
    # The summary row is read from the totals; only the lines flagged implausible at ingest
    # are counted (to leave them out), through their partial index.
    flagged_only = 'WHERE ("shipments_shipment"."implausible" AND "shipments_shipment"."is_current"'
    assert not [
        q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and flagged_only not in q["sql"]
    ]


def test_the_csv_export_holds_the_filtered_lines_with_formulas_neutralised(world, client):
    client.force_login(world["official"])
    response = client.get("/shipments/?exporter=Exporter+A&export=csv")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sorted((r["declaration_id"], r["line"]) for r in rows) == [
        ("W1", "1"),
        ("W1", "2"),
        ("W3", "1"),
    ]
    alu = next(r for r in rows if r["cn_code"] == "76011010")
    assert alu["importer"] == '\'=HYPERLINK("http://x")'
    steel = next(r for r in rows if r["cn_code"] == "72081000")
    assert float(steel["embedded_emissions_t"]) == pytest.approx(3505.6)
    assert steel["tier"] == "default"


def test_the_xlsx_export_holds_the_filtered_lines_with_formulas_neutralised(world, client):
    client.force_login(world["official"])
    response = client.get("/shipments/?origin=IN&export=xlsx")
    assert response.streaming
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, *rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["importer"] == '\'=HYPERLINK("http://x")'
    assert row["net_mass_t"] == 20.0 and row["cn_code"] == "76011010"


def test_an_exporters_export_holds_only_its_own_lines(world, client):
    client.force_login(world["exporter_b"])
    body = b"".join(client.get("/shipments/?export=csv").streaming_content).decode("utf-8-sig")
    exporters = {r["exporter"] for r in csv.DictReader(io.StringIO(body))}
    assert exporters == {"Exporter B"}


def test_the_report_compares_with_the_default_and_other_exporters(world, client):
    client.force_login(world["official"])
    body = client.get(f"/shipments/{world['steel_cn_a'].pk}/").content.decode()
    assert "Default value, 2026 mark-up (+10 %)" in body
    assert "uses this default value" in body
    assert "Exporter B</a>" in body  # the other exporter of 72081000
    assert "benchmark not available" in body and "CSCF not available" in body
    assert "CBAM factor 2026</dt><dd>0.975" in body  # Directive 2003/87/EC Art. 10a(1a)
    # Trace as a step table: formula ids, inputs with units, factor citations, evidence.
    assert "<code>cbam.default.markup_rule</code>" in body
    assert "<code>total_t_per_t</code> = 3.1869 t/t" in body
    assert "Commission Implementing Regulation (EU) 2025/2621" in body
    assert f'href="/ingests/{world["steel_cn_a"].ingest_run_id}/"' in body
    assert f'href="/api/v1/estimates/{world["steel_cn_a"].estimate_id}/trace"' in body
    assert "@media print" in open("static/css/app.css").read()


def test_an_exporter_sees_other_exporters_unnamed_in_the_comparison(world, client):
    client.force_login(world["exporter_a"])
    body = client.get(f"/shipments/{world['steel_cn_a'].pk}/").content.decode()
    assert "another exporter" in body and "Exporter B" not in body


def test_the_exporter_page_shows_its_goods_over_time(world, client):
    client.force_login(world["official"])
    body = client.get(f"/exporters/{world['org_b'].pk}/").content.decode()
    assert "Exporter: Exporter B" in body
    assert "2026-04" in body and "W2 / 1" in body and "W1 / 1" not in body
    # April: (500 t × 3.5056 + 30 t × cement SEE) / 530 t — the table shows both codes.
    assert "72081000" in body and "25232900" in body


def test_the_history_says_whether_the_latest_checkpoint_includes_each_event(world, client):
    from apps.audit.services import checkpoint_ensure

    client.force_login(world["auditor"])
    url = f"/shipments/{world['steel_cn_a'].pk}/"
    body = client.get(url).content.decode()
    assert "estimate.create" in body and "ingest.customs" in body
    assert "No signed checkpoint yet" in body and "not yet" in body
    checkpoint = checkpoint_ensure()
    body = client.get(url).content.decode()
    assert f"tree size {checkpoint.tree_size}" in body and "not yet" not in body
    assert f"tree_size={checkpoint.tree_size}" in body  # inclusion-proof links
    body = client.get(f"/estimates/{world['steel_cn_a'].estimate_id}/").content.decode()
    assert "estimate.create" in body and "inclusion proof" in body


def test_open_reconciliation_flags_are_counted_and_filter_the_list(world_tx, client, tmp_path):
    """A shipment declared from an installation with an open flag is 'flagged'."""
    import datetime as dt

    from apps.facilities.models import Installation
    from apps.satellite.models import ActivityIndex, ReconciliationFlag

    ingest_json(
        "customs",
        write_customs(
            tmp_path / "flagged.csv",
            ["F1,1,2026-06-01,72081000,CN,Exporter A,Importer North,1000,,4000,INST-1"],
        ),
    )
    plant = Installation.objects.create(
        identifier="INST-1", name="Plant one", organisation=world_tx["org_a"], country="CN"
    )
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    index = ActivityIndex.objects.create(
        installation=plant, period="2026", period_start=start, period_end=start,
        n_period=1, n_baseline=1, baseline_p10=1, baseline_median=1, period_mean=1,
        activity_index=1, activity_index_sigma=0.1, methodology="satellite.activity",
        methodology_version="1", trace="{}", trace_sha256="0" * 64,
    )  # fmt: skip
    common = dict(
        installation=plant, activity_index=index, period="2026", disclosed_value=100,
        disclosed_sigma=5, satellite_value=50, satellite_sigma=5, combined_uncertainty=7.1,
        z_score=7.0, k=2, model="satellite.activity", model_version="1", trace="{}",
        trace_sha256="0" * 64, reason="disclosed production far above the satellite's",
    )  # fmt: skip
    ReconciliationFlag.objects.create(**common, variable="a")
    ReconciliationFlag.objects.create(**common, variable="b", status="closed")

    client.force_login(world_tx["official"])
    body = client.get("/dashboard/").content.decode()
    kpi = 'Flags to review</span><span class="kpi-value">'
    assert kpi + "1 <small>(1 open, 0 under review)" in body
    assert "Shipments from flagged installations" in body
    flags = client.get("/flags/").content.decode()  # where the card leads: not empty
    assert "Installation Plant one (INST-1), 2026" in flags and "Unresolved (1)" in flags
    assert listed(client, "flagged=yes") == ["F1/1"]
    assert "F1/1" not in listed(client, "flagged=no")
    client.force_login(world_tx["exporter_b"])  # not its installation: no flag to see
    assert kpi + "0" in client.get("/dashboard/").content.decode()
