"""The shipments partitioned by declaration period (issue #21 §1; docs/scaling.md,
"Partitions by declaration period"): migration ``0014_partition_shipments`` on a
populated database, in place and back; partitions created by the ingest for the quarters a
file brings; a quarter archived to the evidence store and re-attached
(``manage.py shipments_partitions``).

The lines (the norms of ``test_data_journeys``: heading 7208's median value EUR 2,723.56/t,
so 10 t at EUR 100 is flagged implausible):

- P1/1, P1/2: 2026-03-02 (2026Q1), P1/2 flagged; P2/1: 2026-04-10 (2026Q2);
- Q1/1, Q1/2: 2019-05-06 (2019Q2; 2018-08-06, 2018Q3, in the archive test: a quarter
  without a partition until a file brings it), Q1/2 flagged; then Q1/1 corrected (a
  second version, the first kept).
"""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.shipments.models import LineFlag, Shipment, ShipmentArchive, ShipmentTotal
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services

TABLE = "shipments_shipment"
BEFORE = ("shipments", "0013_figures_hot_rechoose")
LINES = [
    "P1,1,2026-03-02,72081000,CN,Exporter A,Imp,1000000,2700000,4000,",
    "P1,2,2026-03-02,72081000,CN,Exporter A,Imp,10000,100,4000,",
    "P2,1,2026-04-10,25232900,TR,Exporter B,Imp,30000,,4000,",
    "Q1,1,2019-05-06,72081000,IN,Exporter B,Imp,2000000,5400000,4000,",
    "Q1,2,2019-05-06,72081000,IN,Exporter B,Imp,10000,100,4000,",
]
#: The 2019Q2 lines moved to 2018Q3 for the archive test: a quarter no partition exists
#: for until its ingest (the migration test leaves 2019Q2's behind it, as DDL stays).
MOVED = ("2019-05-06", "2018-08-06")
CORRECTION = ["Q1,1,2019-05-06,72081000,IN,Exporter B,Imp,2500000,6750000,4000,"]


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _snapshot(where: str = "TRUE") -> dict:
    """Every column of every line (and of the totals and flags): what must survive."""
    return {
        "lines": _rows(f"SELECT * FROM {TABLE} WHERE {where} ORDER BY id"),  # noqa: S608
        "totals": _rows(
            "SELECT origin, cn_code, exporter_id, month, shipments, net_mass_t, "
            "embedded_emissions_t, estimated_mass_t, default_mass_t, best_embedded_emissions_t,"
            " best_default_mass_t FROM shipments_shipmenttotal ORDER BY 1, 2, 3, 4"
        ),
        "flags": _rows("SELECT * FROM shipments_lineflag ORDER BY id"),
    }


def _relkind() -> str:
    return _rows("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [TABLE])[0][0]


def _partitions() -> set[str]:
    return {
        name
        for (name,) in _rows(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
    }


def _migrate(target) -> None:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target] if target else executor.loader.graph.leaf_nodes())


def _ingest(tmp_path, name: str, lines: list[str]) -> dict:
    report = ingest_json("customs", write_customs(tmp_path / name, lines))
    assert report["rejected"] == 0, report
    return report


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("shipments_partitions", *args, stdout=out)
    return out.getvalue()


def test_the_migration_partitions_a_populated_table_in_place_and_back(postgres_tx, users, tmp_path):
    """0013's plain table, filled by real ingests (estimates, both figures, flags, a
    corrected line), migrated: every column of every line, the totals and the flags are
    as they were; the sequence goes on; backwards gives the plain table back as it was."""
    _migrate(BEFORE)
    try:
        assert _relkind() == "r"
        ingest_json("defaults", DEFAULTS_CSV)
        _ingest(tmp_path, "first.csv", LINES)
        _ingest(tmp_path, "correction.csv", CORRECTION)
        before = _snapshot()
        assert len(before["lines"]) == 6 and len(before["flags"]) == 2
        assert Shipment.objects.filter(estimate__isnull=False).exists()

        _migrate(None)
        assert _relkind() == "p"
        assert {f"{TABLE}_p2019q2", f"{TABLE}_p2026q1", f"{TABLE}_p2026q2"} <= _partitions()
        assert _snapshot() == before
        assert _rows(f"SELECT count(*) FROM {TABLE}_default") == [(0,)]  # noqa: S608
        assert _rows(f"SELECT count(*) FROM {TABLE}_p2019q2") == [(3,)]  # noqa: S608
        # The keys at the database carry the partition key; no foreign key points at it.
        keys = dict(
            _rows(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('p', 'u')",
                [TABLE],
            )
        )
        assert keys == {
            f"{TABLE}_pkey": "PRIMARY KEY (id, date)",
            "shipment_natural_key": "UNIQUE (declaration_id, line, version, date)",
        }
        assert _rows(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = %s::regclass",
            [TABLE],
        ) == [(0,)]
        assert _command("check").strip() == "no problem found"

        _migrate(BEFORE)
        assert _relkind() == "r"
        assert _snapshot() == before
        referenced = _rows(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = %s::regclass",
            [TABLE],
        )
        assert referenced == [(1,)]  # the line flags' foreign key is back
    finally:
        _migrate(None)
    assert _relkind() == "p"
    assert _snapshot() == before
    # The sequence went on through both copies: a new line gets a new id.
    _ingest(tmp_path, "after.csv", ["R1,1,2026-05-04,72081000,CN,Exporter A,Imp,5000,,4000,"])
    assert Shipment.objects.get(declaration_id="R1").pk > max(row[0] for row in before["lines"])


def test_an_archived_quarter_leaves_every_answer_and_comes_back_whole(
    postgres_tx, users, tmp_path, client
):
    """The ingest creates the partition of a quarter it brings (2018Q3); archiving it
    takes its lines, totals and flags out of the database into the evidence store; a line
    of that quarter ingested meanwhile waits in the default partition; re-attaching brings
    all back as they were, with that line; then the integrity check catches a broken
    flag and a line current twice."""
    assert f"{TABLE}_p2018q3" not in _partitions()
    _ingest(tmp_path, "first.csv", [line.replace(*MOVED) for line in LINES])
    _ingest(tmp_path, "correction.csv", [CORRECTION[0].replace(*MOVED)])
    assert f"{TABLE}_p2018q3" in _partitions()
    quarter = "date >= '2018-07-01' AND date < '2018-10-01'"
    before = _snapshot(quarter)
    everything = _snapshot()
    assert len(before["lines"]) == 3 and len(before["flags"]) == 2
    rest = [row for row in everything["lines"] if row not in before["lines"]]

    out = _command("archive", "2018Q3")
    record = ShipmentArchive.objects.get(period="2018Q3")
    assert "archived 2018Q3: 3 lines (2 current" in out and record.evidence.sha256 in out
    assert (record.rows, record.current_rows, len(record.flags)) == (3, 2, 1)
    assert record.net_mass_t == pytest.approx(2500 + 10)
    assert f"{TABLE}_p2018q3" not in _partitions()
    assert _snapshot(quarter)["lines"] == []
    assert _snapshot()["lines"] == rest
    assert not ShipmentTotal.objects.filter(month__year=2018).exists()
    assert LineFlag.objects.count() == 1  # 2026's flag stays
    client.force_login(users["official"])
    page = client.get("/api/v1/shipments/?period_from=2018-01-01&period_to=2018-12-31")
    assert page.status_code == 200 and page.json()["results"] == []
    assert "2018Q3   archived" in _command("list")

    # A line of the archived quarter waits in the default partition.
    _ingest(tmp_path, "late.csv", ["Q2,1,2018-09-03,72081000,IN,Exporter B,Imp,7000,,4000,"])
    assert _rows(f"SELECT declaration_id FROM {TABLE}_default") == [("Q2",)]  # noqa: S608

    assert _command("reattach", "2018Q3").strip() == "re-attached 2018Q3: 4 lines"
    assert not ShipmentArchive.objects.exists()
    assert _rows(f"SELECT count(*) FROM {TABLE}_default") == [(0,)]  # noqa: S608
    after = _snapshot(quarter)
    assert [row for row in after["lines"] if row[1] != "Q2"] == before["lines"]
    assert after["flags"] == everything["flags"]
    late = Shipment.objects.get(declaration_id="Q2")
    assert late.pk > max(row[0] for row in everything["lines"])
    # The totals are those of the lines again: as a rebuild from scratch makes them.
    totals = _snapshot()["totals"]
    from apps.shipments.services import shipment_totals_rebuild

    shipment_totals_rebuild()
    assert _snapshot()["totals"] == totals
    # August's as before the archive (Q1/1 v2, Q1/2); September's the late line's.
    august = [row for row in totals if row[3].year == 2018 and row[3].month == 8]
    assert august == [row for row in everything["totals"] if row[3].year == 2018]
    assert sum(row[4] for row in totals if row[3].year == 2018) == 3
    assert _command("check").strip() == "no problem found"
    from apps.audit.models import AuditEvent

    actions = list(
        AuditEvent.objects.filter(action__startswith="shipments.period.").values_list(
            "action", "evidence_sha256"
        )
    )
    assert actions == [
        ("shipments.period.archive", record.evidence.sha256),
        ("shipments.period.reattach", record.evidence.sha256),
    ]

    # What the database no longer enforces, found by the check: a flag pointing at no
    # line, and two current versions of one line in two partitions (the natural key holds
    # the date, so it cannot see them).
    flagged = LineFlag.objects.get(shipment__declaration_id="P1")
    LineFlag.objects.filter(pk=flagged.pk).update(shipment_id=10**9)
    line = Shipment.objects.get(declaration_id="P2")
    line.pk, line.date = None, line.date.replace(year=2027)
    line.save()
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 problem"):
        call_command("shipments_partitions", "check", stdout=out)
    assert f"line flag {flagged.pk} points at no shipment" in out.getvalue()
    assert "declaration P2 line 1: 2 current versions" in out.getvalue()
