"""No list query scans the whole shipments table (issue #21 §1; docs/scaling.md,
"Indexes of the shipments table").

A module world copies 150,000 shipments into PostgreSQL with one ``INSERT … SELECT FROM
generate_series`` (skewed: one exporter ships a third of the lines, one origin half), with
ten "rare" lines scattered through the table that carry a rare value in every filtered
column, then ``ANALYZE``. Each test asks the list page and the list API for one filter, as
an official, as the exporter that ships most, and as an importer, captures the exact SQL the
request ran, and runs ``EXPLAIN (ANALYZE, FORMAT JSON)`` on every query that reads the
shipments table. A plan fails when it holds a sequential scan of the table, or when its
scans of the table throw away more rows than a page needs (a backward walk of the primary
key that filters a rare value out of the whole table is a full scan under another name).
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.shipments.views import SUMMARY_CAP
from tests.apps.helpers import make_users
from tests.worlds import module_world

pytestmark = pytest.mark.services

N = 150_000
RARE_EVERY = 15_000  # rows i ≡ 7 (mod 15,000): ten rare lines across the whole id range
#: Rows a plan may read from the table and throw away: a tenth of it. A full scan for a
#: rare value throws away ~150,000, and so does a walk of the ids from the newest for an
#: old period; a walk that fills a page from a value on a few percent of the lines throws
#: away ~100/p rows whatever the table's size, and one inside the ids of a month a
#: twelfth of the table.
DISCARD_BOUND = N // 10
TABLE = "shipments_shipment"
#: Rows a sequential scan of one partition may read: a quarter with next to no lines.
SMALL_PARTITION = 100

#: The quarters the lines are dated in: 2025Q3 (the rare lines) and the four of 2026.
PERIODS = {(2025, 3), (2026, 1), (2026, 2), (2026, 3), (2026, 4)}
ORIGINS = ["CN", "IN", "TR", "UA", "US", "BR", "ZA", "EG"]
CN_CODES = ["72081000", "72085120", "72104900", "76011010", "73089098", "25232900", "31021010"]

# Skewed columns: a power of random() piles the lines onto the first values.
SEED_SQL = f"""
INSERT INTO {TABLE} (declaration_id, line, version, is_current, date, cn_code, origin,
    exporter_id, importer_name, net_mass_t, mass_unit, procedure, installation_identifier,
    installation_id, ingest_run_id, source_line, tier, embedded_emissions_t, best_tier,
    created_at)
SELECT 'D' || lpad((i / 4)::text, 9, '0'), i %% 4 + 1, 1, i %% 97 <> 0 OR rare,
    CASE WHEN rare THEN DATE '2025-07-15' ELSE DATE '2026-01-01' + (i * 365 / {N}) END,
    CASE WHEN rare THEN '28141000'
         ELSE (%(cn)s::text[])[1 + floor({len(CN_CODES)} * random() ^ 2)::int] END,
    CASE WHEN rare THEN 'IS'
         ELSE (%(origins)s::text[])[1 + floor({len(ORIGINS)} * random() ^ 3)::int] END,
    CASE WHEN rare THEN %(rare_exporter)s
         ELSE (%(exporters)s::bigint[])[1 + floor(%(n_exporters)s * random() ^ 3)::int] END,
    CASE WHEN rare THEN 'Rare Importer Ltd' ELSE 'Importer ' || floor(30 * random() ^ 2) END,
    round((random() * 900 + 1)::numeric, 3), 'kg', '4000',
    CASE WHEN rare THEN 'RARE-PLANT-1' ELSE '' END,
    CASE WHEN rare THEN %(installation)s END,
    %(run)s, i + 2,
    CASE WHEN rare THEN 'verified' WHEN i %% 10 = 0 THEN '' ELSE 'default' END,
    CASE WHEN i %% 10 = 0 THEN NULL ELSE random() * 2000 END,
    CASE WHEN rare THEN 'disclosed' WHEN i %% 5 = 0 THEN 'modelled' ELSE 'default' END,
    now()
FROM (SELECT i, i %% {RARE_EVERY} = 7 AS rare FROM generate_series(0, {N - 1}) AS i) AS g
"""  # noqa: S608 (this module's constants)


@module_world
def plans_world(tmp) -> dict:
    from apps.accounts.models import Organisation, User
    from apps.evidence.models import EvidenceFile, IngestRun
    from apps.facilities.models import Installation
    from apps.shipments.partitions import shipment_partitions_ensure
    from tests.apps.helpers import password_hash

    users = make_users()
    exporters = [
        users["org_a"],
        *Organisation.objects.bulk_create(
            Organisation(name=f"Exporter {i:02d}", key=f"exporter {i:02d}", kind="exporter")
            for i in range(49)
        ),
    ]
    rare = Organisation.objects.create(name="Rare Exporter", key="rare exporter", kind="exporter")
    importer_org = Organisation.objects.create(name="Importer 0", key="importer 0", kind="importer")
    importer = User(username="importer", role=User.Role.IMPORTER, organisation=importer_org)
    importer.password = password_hash("pw-importer")
    importer.save()
    installation = Installation.objects.create(
        identifier="RARE-PLANT-1", name="Rare plant", country="IS"
    )
    evidence = EvidenceFile.objects.create(sha256="0" * 64, size=0)
    run = IngestRun.objects.create(source="customs", evidence=evidence, status="done")
    # The partitions of the quarters seeded, as the ingest creates those a file brings.
    shipment_partitions_ensure(quarters=PERIODS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.21)")
        cursor.execute(
            SEED_SQL,
            {
                "cn": CN_CODES,
                "origins": ORIGINS,
                "exporters": [o.pk for o in exporters],
                "n_exporters": len(exporters),
                "rare_exporter": rare.pk,
                "installation": installation.pk,
                "run": run.pk,
            },
        )
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
    return {**users, "importer": importer}


@pytest.fixture
def world(plans_world, db, settings):
    return plans_world.use(settings)


def _is_shipments(relation: str | None) -> bool:
    """The table, or one of its partitions by period (on PostgreSQL the scans name the
    partitions: docs/scaling.md, "Partitions by declaration period")."""
    return bool(relation) and (relation == TABLE or relation.startswith(f"{TABLE}_"))


def _shipment_scans(plan: dict):
    if _is_shipments(plan.get("Relation Name")) and "Scan" in plan["Node Type"]:
        yield plan
    for child in plan.get("Plans", []):
        yield from _shipment_scans(child)


def explained(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        raw = cursor.fetchone()[0]
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def plan_text(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def plan_faults(sql: str) -> list[str]:
    """What is wrong with the plan of ``sql``: sequential scans of the shipments table, and
    scans of it that read and discard more than ``DISCARD_BOUND`` rows."""
    plan = explained(sql)
    faults, discarded = [], 0
    for node in _shipment_scans(plan):
        loops = node.get("Actual Loops", 1)
        read = loops * (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0))
        # A partition the world left empty (the default, a quarter ahead) or nearly so (the
        # ten rare lines' quarter) is read whole at no cost: the planner's right choice.
        if node["Node Type"] == "Seq Scan" and read > SMALL_PARTITION:
            if f"Seq Scan on {TABLE}" not in faults:
                faults.append(f"Seq Scan on {TABLE}")
        discarded += loops * (
            node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
        )
    if discarded > DISCARD_BOUND:
        faults.append(f"{discarded:,} rows of {TABLE} read and discarded")
    return faults


def shipment_queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [q["sql"] for q in ctx.captured_queries if f'"{TABLE}"' in q["sql"]]


#: Every filter of the list page and the API: a common value and a rare one (10 lines).
FILTERS = {
    "origin common": "origin=CN",
    "origin rare": "origin=IS",
    "origin by name": "origin=Iceland",
    "CN code common": "cn_code=72081000",
    "CN code rare": "cn_code=28141000",
    "CN prefix common": "cn_code=72",
    "CN prefix rare": "cn_code=2814",
    "product group rare": "product_group=fertilisers",
    "exporter common": "exporter=Exporter+A",
    "exporter rare": "exporter=Rare+Exporter",
    "importer common": "importer=Importer+0",
    "importer rare": "importer=Rare+Importer",
    "tier common": "tier=default",
    "tier rare": "tier=verified",
    "best tier rare": "best_tier=disclosed",
    "period common": "period_from=2026-03-01&period_to=2026-03-31",
    "period rare": "period_from=2025-07-01&period_to=2025-07-31",
    "installation rare": "installation=RARE-PLANT-1",
    "origin and CN code": "origin=TR&cn_code=7208",
    "origin and period": "origin=UA&period_from=2026-06-01&period_to=2026-06-30",
    "CN code and period": "cn_code=7601&period_from=2026-10-01&period_to=2026-10-31",
    "exporter and origin": "exporter=Exporter+A&origin=IS",
}

ROLES = ["official", "exporter_a", "importer"]


@pytest.mark.parametrize("name", list(FILTERS))
def test_no_list_query_scans_the_whole_table(world, client, name):
    """For each role (all lines, the exporter's own, the importer's own) and both lists."""
    faults = {}
    for role in ROLES:
        client.force_login(world[role])
        for url in (f"/shipments/?{FILTERS[name]}", f"/api/v1/shipments/?{FILTERS[name]}"):
            queries = shipment_queries(client, url)
            assert queries, url  # the page read the table (else the test tests nothing)
            for sql in queries:
                found = plan_faults(sql)
                if f"LIMIT {SUMMARY_CAP}" in sql:
                    # The summary row of a filter the totals cannot answer reads at most
                    # SUMMARY_CAP lines through an index: for a pair of common values it
                    # must read one and drop the other's misses, bounded by the cap.
                    found = [f for f in found if f.startswith("Seq Scan")]
                if found:
                    faults[f"{role} {url}"] = (found, sql, plan_text(sql))
    assert not faults, faults


def test_the_rare_values_are_ten_lines_and_the_check_catches_a_full_scan(world):
    """The world is what the tests above assume, and ``plan_faults`` fails a plan that
    walks the table: the same rare filter without its index (a sequential scan forced)."""
    from apps.shipments.models import Shipment

    assert Shipment.objects.filter(origin="IS").count() == N // RARE_EVERY == 10
    assert Shipment.objects.filter(origin="CN").count() > N // 3
    sql = f"SELECT id FROM {TABLE} WHERE origin = 'IS' ORDER BY id DESC LIMIT 51"  # noqa: S608
    assert plan_faults(sql) == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;"
            " SET LOCAL max_parallel_workers_per_gather = 0"
        )
    assert plan_faults(sql) == [
        f"Seq Scan on {TABLE}",
        f"{N - 10:,} rows of {TABLE} read and discarded",
    ]


def _scanned(sql: str) -> set[str]:
    return {node["Relation Name"] for node in _shipment_scans(explained(sql))}


@pytest.mark.parametrize(
    ("name", "partition"),
    [("period common", "p2026q1"), ("period rare", "p2025q3"), ("CN code and period", "p2026q4")],
)
def test_a_period_filter_reads_only_its_partition(world, client, name, partition):
    """Partition pruning (issue #21 §1): every list query that filters by the period scans
    the partition of that quarter only, none of the other four nor the default one."""
    if connection.vendor != "postgresql":
        pytest.skip("partitions are PostgreSQL's")
    client.force_login(world["official"])
    checked = 0
    for url in (f"/shipments/?{FILTERS[name]}", f"/api/v1/shipments/?{FILTERS[name]}"):
        for sql in shipment_queries(client, url):
            if f'"{TABLE}"."date" >=' not in sql and f'"{TABLE}"."date" BETWEEN' not in sql:
                continue  # (the id range of the period, importer names …: not period filters)
            assert _scanned(sql) == {f"{TABLE}_{partition}"}, (url, plan_text(sql))
            checked += 1
    assert checked >= 2, "no query of the page or the API filtered by the period"
    # And a whole year's lines: its four quarters, not 2025Q3 nor the default partition.
    year = f"SELECT id FROM {TABLE} WHERE date BETWEEN '2026-01-01' AND '2026-12-31'"  # noqa: S608
    assert _scanned(year) == {f"{TABLE}_p2026q{q}" for q in (1, 2, 3, 4)}


#: The admin's list of shipments: unsearched, and each search it offers.
ADMIN_SEARCHES = {
    "unsearched": ("", None),
    "a declaration": ("q=D000012345", 4),
    "CN prefix common": ("q=7208", None),
    "CN prefix rare": ("q=2814", 10),
}


@pytest.mark.parametrize("name", list(ADMIN_SEARCHES))
def test_the_admin_list_of_shipments_reads_no_table_whole(world, client, name):
    """The admin is a page too: no list filter, searches by a whole declaration id or a CN
    prefix, and the count PostgreSQL estimates (an exact one for a handful of lines)."""
    query, exact = ADMIN_SEARCHES[name]
    client.force_login(world["admin"])
    url = f"/admin/shipments/shipment/?{query}"
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    queries = [
        q["sql"]
        for q in ctx.captured_queries
        if f'"{TABLE}"' in q["sql"] and not q["sql"].startswith("EXPLAIN")
    ]
    assert queries
    faults = {sql: plan_faults(sql) for sql in queries}
    assert not {sql: f for sql, f in faults.items() if f}, faults
    count = response.context["cl"].result_count
    if exact is not None:
        assert count == exact  # under the paginator's bound: counted, not estimated
    elif not query:
        assert abs(count - N) < N // 20, count  # the planner's estimate of the whole table
    else:
        assert count > 10_000


def test_the_archived_periods_are_listed_in_the_admin_and_read_only(world, client):
    client.force_login(world["admin"])
    response = client.get("/admin/shipments/shipmentarchive/")
    assert response.status_code == 200
    assert client.get("/admin/shipments/shipmentarchive/add/").status_code == 403
