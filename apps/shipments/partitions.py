"""The partitions of the shipments table by declaration period (PostgreSQL only).

On PostgreSQL ``shipments_shipment`` is partitioned by range of ``date``, one partition per
quarter (``shipments_shipment_p2026q1`` …) and a default partition for a line whose quarter
has none (migration ``0014_partition_shipments``; docs/scaling.md, "Partitions by
declaration period"). This module keeps them:

- :func:`shipment_partitions_ensure` creates the partitions of given quarters (the ingest
  calls it for the quarters of every file before storing a line; ``manage.py
  shipments_partitions create`` calls it for the quarters ahead). Lines of that quarter
  that landed in the default partition meanwhile move into the new partition with it.
- archiving a quarter and attaching it again: :mod:`apps.shipments.archive` (it rebuilds
  the totals through the services, which call this module when they store lines).

On SQLite (the embedded default) the table is a plain table: ensuring does nothing, and
archiving is refused with a clear error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction

TABLE = "shipments_shipment"
DEFAULT_PARTITION = f"{TABLE}_default"
#: Serialises the creation, detaching and attaching of partitions ("CMPA").
_PARTITIONS_LOCK = 0x434D_5041
_PERIOD = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_FLAG_COLUMNS = ["id", "shipment_id", "reason", "status", "note", "created_at", "updated_at",
                 "updated_by_id"]  # fmt: skip


class PartitionError(ValueError):
    """A period that cannot be archived or re-attached, with the reason."""


Quarter = tuple[int, int]


def quarter_of(day: dt.date) -> Quarter:
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(quarter: Quarter) -> tuple[dt.date, dt.date]:
    """[first day, first day of the next quarter)."""
    year, q = quarter
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return start, end


def quarter_label(quarter: Quarter) -> str:
    return f"{quarter[0]}Q{quarter[1]}"


def partition_name(quarter: Quarter) -> str:
    return f"{TABLE}_p{quarter[0]}q{quarter[1]}"


def period_parse(text: str) -> Quarter:
    """``2024Q1`` (or ``2024-Q1``, any case) → (2024, 1); a clear error otherwise."""
    match = _PERIOD.match(text.strip())
    if not match:
        raise PartitionError(f"period {text!r}: expected a quarter such as 2024Q1")
    return int(match[1]), int(match[2])


def quarters_ahead(count: int, *, today: dt.date | None = None) -> list[Quarter]:
    """Today's quarter and the ``count`` after it."""
    year, q = quarter_of(today or dt.date.today())
    out = []
    for _ in range(count + 1):
        out.append((year, q))
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return out


def quarters_of(dates: Iterable) -> set[Quarter]:
    """The quarters of ``dates`` (dates, datetimes or numpy datetime64 values)."""
    import pandas as pd

    index = pd.DatetimeIndex(pd.unique(pd.Series(list(dates), dtype="datetime64[s]")))
    return {(int(y), int(q)) for y, q in zip(index.year, index.quarter, strict=True)}


def partitioned() -> bool:
    """Whether the shipments table is partitioned here (PostgreSQL after migration 0013)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


@dataclass(frozen=True)
class Partition:
    name: str
    period: str  # "2026Q1", or "default"
    start: dt.date | None
    end: dt.date | None
    rows: int  # the planner's estimate (exact after ANALYZE), or an exact count
    bytes: int  # heap and indexes


_PARTITION_OF = re.compile(r"_p(\d{4})q([1-4])$")


def shipment_partitions(*, exact: bool = False) -> list[Partition]:
    """The attached partitions, oldest first (the default partition last)."""
    if not partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, greatest(c.reltuples, 0)::bigint, pg_total_relation_size(c.oid) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        rows = cursor.fetchall()
        out = []
        for name, estimate, size in rows:
            if exact:
                cursor.execute(f"SELECT count(*) FROM {name}")
                estimate = cursor.fetchone()[0]
            match = _PARTITION_OF.search(name)
            if match:
                quarter = (int(match[1]), int(match[2]))
                start, end = quarter_bounds(quarter)
                out.append(Partition(name, quarter_label(quarter), start, end, estimate, size))
            else:
                out.append(Partition(name, "default", None, None, estimate, size))
    return sorted(out, key=lambda p: (p.start is None, p.start or dt.date.min))


def _existing(cursor) -> set[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass",
        [TABLE],
    )
    return {row[0] for row in cursor.fetchall()}


def _lock(cursor) -> None:
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PARTITIONS_LOCK])


def _storage_options(cursor) -> str:
    """The storage settings of the default partition (fillfactor, from migration 0009),
    for a new partition: a partitioned table holds none itself."""
    cursor.execute(
        "SELECT array_to_string(reloptions, ', ') FROM pg_class WHERE oid = to_regclass(%s)",
        [DEFAULT_PARTITION],
    )
    row = cursor.fetchone()
    return f" WITH ({row[0]})" if row and row[0] else ""


def _create_partition(cursor, quarter: Quarter, *, fill=None) -> int:
    """Create the partition of ``quarter`` as a standalone table, move into it the lines of
    the quarter held by the default partition, fill it (``fill(cursor, name)``), then
    attach it: its indexes are built once, after its rows, and a CHECK of its bounds
    spares the scan that would validate them. Returns the lines moved from the default."""
    name = partition_name(quarter)
    start, end = quarter_bounds(quarter)
    cursor.execute(
        f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS){_storage_options(cursor)}"
    )
    cursor.execute(
        f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE date >= %s AND date < %s "
        f"RETURNING *) INSERT INTO {name} SELECT * FROM moved",
        [start, end],
    )
    moved = cursor.rowcount
    if fill is not None:
        fill(cursor, name)
    cursor.execute(
        f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds "
        f"CHECK (date >= '{start}' AND date < '{end}')"
    )
    cursor.execute(
        f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM ('{start}') TO ('{end}')"
    )
    cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bounds")
    return moved


def shipment_partitions_ensure(*, quarters: Iterable[Quarter]) -> list[str]:
    """Create the missing partitions of ``quarters``; returns the names created.

    A quarter that is archived gets no partition here: its new lines go to the default
    partition and join the archived ones when the period is re-attached. Nothing is done
    on SQLite or on a table that is not partitioned."""
    wanted = set(quarters)
    if not wanted or not partitioned():
        return []
    from apps.shipments.models import ShipmentArchive

    with connection.cursor() as cursor:
        if {partition_name(q) for q in wanted} <= _existing(cursor):
            return []  # the usual case: one catalogue read, no lock
        created = []
        with transaction.atomic():
            _lock(cursor)
            existing = _existing(cursor)
            archived = set(ShipmentArchive.objects.values_list("period", flat=True))
            for quarter in sorted(wanted):
                if partition_name(quarter) in existing or quarter_label(quarter) in archived:
                    continue
                _create_partition(cursor, quarter)
                created.append(partition_name(quarter))
    return created


def shipment_integrity_problems() -> list[str]:
    """What the database no longer enforces once the table is partitioned, checked:
    every line flag points at a line, an id names one line, and a (declaration, line)
    has distinct versions and one current version. Reads the whole table (a maintenance
    check: ``manage.py shipments_partitions check``, never a page)."""
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT f.id, f.shipment_id FROM shipments_lineflag f WHERE NOT EXISTS "
            f"(SELECT 1 FROM {TABLE} s WHERE s.id = f.shipment_id) ORDER BY f.id LIMIT 10"
        )
        problems += [f"line flag {f} points at no shipment ({s})" for f, s in cursor.fetchall()]
        cursor.execute(f"SELECT id, count(*) FROM {TABLE} GROUP BY id HAVING count(*) > 1 LIMIT 10")
        problems += [f"id {i} names {n} lines" for i, n in cursor.fetchall()]
        cursor.execute(
            f"SELECT declaration_id, line, count(*) FILTER (WHERE is_current), "
            f"count(*) - count(DISTINCT version) FROM {TABLE} GROUP BY 1, 2 "
            "HAVING count(*) FILTER (WHERE is_current) <> 1 "
            "OR count(*) <> count(DISTINCT version) LIMIT 10"
        )
        problems += [
            f"declaration {d} line {n}: {c} current versions, {r} repeated versions"
            for d, n, c, r in cursor.fetchall()
        ]
    return problems


__all__ = [
    "PartitionError",
    "partitioned",
    "period_parse",
    "quarters_ahead",
    "quarters_of",
    "shipment_integrity_problems",
    "shipment_partitions",
    "shipment_partitions_ensure",
]
