"""Partition the shipments by declaration period: one range partition of ``date`` per
quarter (the CBAM reporting period, Reg. 2023/956 Art. 35) and a default partition
(docs/scaling.md, "Partitions by declaration period").

PostgreSQL only, in place, in one transaction: the table is locked against writes (reads
go on), a partitioned table is created beside it with the same columns, identity sequence
position, storage settings and indexes, the rows are copied one quarter at a time into a
standalone table that is then attached (its indexes are built once, after its rows, and
a CHECK constraint of its bounds spares the scan that would validate them), the old table
is dropped and the new one takes its name, its constraints' and its indexes' names.

PostgreSQL requires the partition key in every unique constraint: at the database the
primary key becomes ``(id, date)`` and the natural key ``(declaration_id, line, version,
date)``. Django's state is left as it is (``id`` is the model's primary key, the natural
key names three columns): ids still come from one sequence, so each is unique across the
partitions. Nothing can hold a database foreign key to ``shipments_shipment(id)`` any more:
the line flags' reference loses its constraint first (integrity kept by the services,
checked by ``manage.py shipments_partitions check`` and a test).

Reversible: backwards copies the rows into a plain table with the keys and indexes of
0012 (the archived periods stay archived: re-attach them first to keep them). SQLite (the
embedded default) keeps its plain table: both directions do nothing there.
"""

from __future__ import annotations

import datetime as dt

import django.db.models.deletion
from django.db import migrations, models

TABLE = "shipments_shipment"
PARTITION_KEY = "date"
#: Quarters created ahead of today's, so that ingests of the coming year find theirs.
AHEAD_QUARTERS = 4


def _quarter(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def _bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return start, end


def _quarters(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    out, (year, quarter) = [], first
    while (year, quarter) <= last:
        out.append((year, quarter))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return out


def _relkind(cursor, name: str) -> str | None:
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [name])
    row = cursor.fetchone()
    return row[0] if row else None


def _indexes(cursor, table: str) -> list[tuple[str, str, str | None, str | None]]:
    """(index name, definition, constraint name, constraint definition) of each index."""
    cursor.execute(
        """
        SELECT ic.relname, pg_get_indexdef(i.indexrelid), con.conname,
               pg_get_constraintdef(con.oid)
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('p', 'u')
        WHERE i.indrelid = %s::regclass ORDER BY ic.relname
        """,
        [table],
    )
    return cursor.fetchall()


def _reloptions(cursor, table: str) -> str:
    cursor.execute(
        "SELECT array_to_string(reloptions, ', ') FROM pg_class WHERE oid = %s::regclass", [table]
    )
    options = cursor.fetchone()[0]
    return f" WITH ({options})" if options else ""


def _set_aside(cursor, table: str, aside: str, indexes) -> None:
    """Rename ``table``, its identity sequence, constraints and indexes out of the way."""
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    cursor.execute(f"ALTER TABLE {table} RENAME TO {aside}")
    for n, (index, _definition, constraint, _condef) in enumerate(indexes):
        if constraint:
            cursor.execute(
                f'ALTER TABLE {aside} RENAME CONSTRAINT "{constraint}" TO "{aside}_c{n}"'
            )
        else:
            cursor.execute(f'ALTER INDEX "{index}" RENAME TO "{aside}_i{n}"')
    if sequence:
        cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {aside}_seq")


def _copy_sequence(cursor, source: str, target: str) -> None:
    cursor.execute(f"SELECT last_value, is_called FROM {source}_seq")
    last, called = cursor.fetchone()
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)", [target, last, called]
    )


def _with_key(condef: str) -> str:
    """``PRIMARY KEY (id)`` → ``PRIMARY KEY (id, date)``: the partition key is added."""
    return condef[: condef.rindex(")")] + f", {PARTITION_KEY})"


def _without_key(condef: str) -> str:
    return condef.replace(f", {PARTITION_KEY})", ")")


def partition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if _relkind(cursor, TABLE) != "r":
            return  # already partitioned
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = %s::regclass",
            [TABLE],
        )
        held = cursor.fetchall()
        if held:
            raise RuntimeError(
                f"{TABLE} cannot be partitioned while foreign keys point at it: {held}"
            )
        # Writes wait until the end of the migration; reads of the old table go on.
        cursor.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")
        old = f"{TABLE}_unpartitioned"
        indexes = _indexes(cursor, TABLE)
        options = _reloptions(cursor, TABLE)
        _set_aside(cursor, TABLE, old, indexes)
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY "
            "INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS INCLUDING CONSTRAINTS) "
            f"PARTITION BY RANGE ({PARTITION_KEY})"
        )
        _copy_sequence(cursor, old, TABLE)
        for _index, definition, constraint, condef in indexes:
            if constraint:
                cursor.execute(
                    f'ALTER TABLE {TABLE} ADD CONSTRAINT "{constraint}" {_with_key(condef)}'
                )
            else:
                cursor.execute(definition)  # names the table by its name, now the new one
        # The quarters that hold lines, and today's and the next ones (an ingest creates
        # any other when a file brings it).
        cursor.execute(f"SELECT DISTINCT date_trunc('quarter', {PARTITION_KEY})::date FROM {old}")
        held = {_quarter(day) for (day,) in cursor.fetchall()}
        ahead = dt.date.today() + dt.timedelta(days=92 * AHEAD_QUARTERS)
        coming = _quarters(_quarter(dt.date.today()), _quarter(ahead))
        for year, quarter in sorted(held | set(coming)):
            start, end = _bounds(year, quarter)
            part = f"{TABLE}_p{year}q{quarter}"
            cursor.execute(f"CREATE TABLE {part} (LIKE {TABLE} INCLUDING DEFAULTS){options}")
            cursor.execute(
                f"INSERT INTO {part} SELECT * FROM {old} "
                f"WHERE {PARTITION_KEY} >= %s AND {PARTITION_KEY} < %s ORDER BY id",
                [start, end],
            )
            cursor.execute(
                f"ALTER TABLE {part} ADD CONSTRAINT {part}_bounds "
                f"CHECK ({PARTITION_KEY} >= '{start}' AND {PARTITION_KEY} < '{end}')"
            )
            cursor.execute(
                f"ALTER TABLE {TABLE} ATTACH PARTITION {part} "
                f"FOR VALUES FROM ('{start}') TO ('{end}')"
            )
            cursor.execute(f"ALTER TABLE {part} DROP CONSTRAINT {part}_bounds")
        cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT{options}")
        cursor.execute(f"SELECT (SELECT count(*) FROM {old}) - (SELECT count(*) FROM {TABLE})")
        (lost,) = cursor.fetchone()
        if lost:
            raise RuntimeError(f"{lost} rows of {old} were not copied")
        cursor.execute(f"DROP TABLE {old}")
        cursor.execute(f"ANALYZE {TABLE}")


def unpartition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if _relkind(cursor, TABLE) != "p":
            return
        cursor.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")
        old = f"{TABLE}_partitioned"
        indexes = _indexes(cursor, TABLE)
        options = _reloptions(cursor, f"{TABLE}_default")
        _set_aside(cursor, TABLE, old, indexes)
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY "
            "INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS INCLUDING CONSTRAINTS)"
            f"{options}"
        )
        _copy_sequence(cursor, old, TABLE)
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {old} ORDER BY id")
        for _index, definition, constraint, condef in indexes:
            if constraint:
                cursor.execute(
                    f'ALTER TABLE {TABLE} ADD CONSTRAINT "{constraint}" {_without_key(condef)}'
                )
            else:
                cursor.execute(definition.replace(" ON ONLY ", " ON "))
        cursor.execute(f"DROP TABLE {old}")  # and its partitions
        cursor.execute(f"ANALYZE {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("shipments", "0013_figures_hot_rechoose")]

    operations = [
        # No foreign-key constraint can point at a partitioned table's ``id``.
        migrations.AlterField(
            model_name="lineflag",
            name="shipment",
            field=models.OneToOneField(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="flag",
                to="shipments.shipment",
            ),
        ),
        migrations.RunPython(partition, unpartition),
    ]
