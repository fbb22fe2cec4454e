"""The partitions of the shipments table by declaration period (PostgreSQL only).

On PostgreSQL ``shipments_shipment`` is partitioned by range of ``date``, one partition per
quarter (``shipments_shipment_p2026q1`` …) and a default partition for a line whose quarter
has none (migration ``0014_partition_shipments``; docs/scaling.md, "Partitions by
declaration period"). This module keeps them:

- :func:`shipment_partitions_ensure` creates the partitions of given quarters (the ingest
  calls it for the quarters of every file before storing a line; ``manage.py
  shipments_partitions create`` calls it for the quarters ahead). Lines of that quarter
  that landed in the default partition meanwhile move into the new partition with it.
- :func:`shipment_period_archive` detaches a quarter, writes its lines to a gzip'd CSV in
  the evidence store, takes its line flags with them, drops the detached table and
  rebuilds the totals of its months (the totals are those of the lines in the table).
- :func:`shipment_period_reattach` reads an archive back and attaches it again.

On SQLite (the embedded default) the table is a plain table: ensuring does nothing, and
archiving is refused with a clear error.
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

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


def _audit(action: str, record, payload: dict, actor) -> None:
    from apps.audit.services import audit_append

    audit_append(
        actor=actor,
        action=action,
        object_type="shipment_archive",
        object_id=record.period,
        payload=payload,
        evidence_sha256=record.evidence.sha256,
    )


def _months(quarter: Quarter) -> set[dt.date]:
    start, _end = quarter_bounds(quarter)
    return {dt.date(start.year, start.month + k, 1) for k in range(3)}


def shipment_period_archive(*, period: str, actor=None):
    """Write the lines of ``period`` (a quarter such as ``2024Q1``) to the evidence store
    (gzip'd CSV with a header, content-addressed), detach and drop its partition, keep its
    line flags in the archive record and rebuild the totals of its months, in one
    transaction audited with the file's SHA-256. Returns the :class:`ShipmentArchive`."""
    from apps.evidence.services import evidence_store
    from apps.shipments.models import LineFlag, ShipmentArchive
    from apps.shipments.services import shipment_totals_rebuild

    quarter = period_parse(period)
    label, name = quarter_label(quarter), partition_name(quarter)
    if not partitioned():
        raise PartitionError(
            f"period {label}: the shipments table is not partitioned here "
            f"({connection.vendor}); archiving needs PostgreSQL"
        )
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        if ShipmentArchive.objects.filter(period=label).exists():
            raise PartitionError(f"period {label} is already archived")
        if name not in _existing(cursor):
            raise PartitionError(f"period {label} has no partition ({name}) to archive")
        # Writes to the quarter wait from here (reads go on) while its lines are copied
        # out and stored; only then is it detached, which locks the whole table until
        # the commit: the few quick steps after it.
        cursor.execute(f"LOCK TABLE {name} IN SHARE MODE")
        cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE is_current), "
            f"COALESCE(sum(net_mass_t) FILTER (WHERE is_current), 0), "
            f"COALESCE(sum(embedded_emissions_t) FILTER (WHERE is_current), 0) FROM {name}"
        )
        rows, current, mass, emissions = cursor.fetchone()
        cursor.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            [name],
        )
        columns = [row[0] for row in cursor.fetchall()]
        with tempfile.TemporaryFile(prefix="cm-archive-") as spool:
            # mtime=0: the same lines give the same bytes, hence the same SHA-256.
            with gzip.GzipFile(fileobj=spool, mode="wb", mtime=0) as packed:
                with cursor.cursor.copy(
                    f"COPY (SELECT * FROM {name} ORDER BY id) TO STDOUT (FORMAT csv, HEADER)"
                ) as copy:
                    for block in copy:
                        packed.write(block)
            spool.seek(0)
            evidence = evidence_store(stream=spool, name=f"shipments-{label}.csv.gz")
        cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
        flags = LineFlag.objects.filter(shipment_id__in=_ids_sql(name))
        kept = [
            {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()}
            for row in flags.values(*_FLAG_COLUMNS)
        ]
        flags.delete()
        cursor.execute(f"DROP TABLE {name}")
        start, end = quarter_bounds(quarter)
        record = ShipmentArchive.objects.create(
            period=label,
            start=start,
            end=end,
            evidence=evidence,
            columns=columns,
            rows=rows,
            current_rows=current,
            net_mass_t=mass,
            embedded_emissions_t=emissions,
            flags=kept,
        )
        shipment_totals_rebuild(months=_months(quarter))
        _audit(
            "shipments.period.archive",
            record,
            {
                "period": label,
                "rows": rows,
                "current_rows": current,
                "net_mass_t": mass,
                "embedded_emissions_t": emissions,
                "flags": len(kept),
            },
            actor,
        )
    return record


def _ids_sql(name: str):
    """The ids of the lines of the detached table ``name``, as a subquery."""
    from django.db.models.expressions import RawSQL

    return RawSQL(f"SELECT id FROM {name}", [])


def shipment_period_reattach(*, period: str, actor=None) -> int:
    """Read the archive of ``period`` back into a new partition (with the lines of the
    quarter the default partition holds meanwhile), attach it, restore its line flags,
    rebuild the totals of its months and drop the archive record (the file stays in the
    evidence store); audited. Returns the lines attached."""
    from apps.evidence.store import evidence_local_path
    from apps.shipments.models import ShipmentArchive
    from apps.shipments.services import shipment_totals_rebuild

    quarter = period_parse(period)
    label = quarter_label(quarter)
    if not partitioned():
        raise PartitionError(f"period {label}: the shipments table is not partitioned here")
    try:
        record = ShipmentArchive.objects.select_related("evidence").get(period=label)
    except ShipmentArchive.DoesNotExist:
        raise PartitionError(f"period {label} is not archived") from None

    def fill(cursor, name: str) -> None:
        columns = ", ".join(record.columns)
        # A local copy first: the database evidence store reads its chunks on this
        # connection, which cannot run a query while it is in COPY.
        with evidence_local_path(record.evidence) as path, gzip.open(path, "rb") as packed:
            with cursor.cursor.copy(
                f"COPY {name} ({columns}) FROM STDIN (FORMAT csv, HEADER)"
            ) as copy:
                while block := packed.read(1 << 20):
                    copy.write(block)

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _lock(cursor)
            if partition_name(quarter) in _existing(cursor):
                raise PartitionError(f"period {label} has a partition already")
            _create_partition(cursor, quarter, fill=fill)
            cursor.execute(f"SELECT count(*) FROM {partition_name(quarter)}")
            (attached,) = cursor.fetchone()
            _flags_restore(cursor, record.flags)
            shipment_totals_rebuild(months=_months(quarter))
            _audit(
                "shipments.period.reattach",
                record,
                {
                    "period": label,
                    "rows": record.rows,
                    "attached": attached,
                    "flags": len(record.flags),
                },
                actor,
            )
            record.delete()
    except IntegrityError as exc:
        raise PartitionError(
            f"period {label}: the archived lines collide with lines stored since "
            f"(same declaration, line and version): {exc}"
        ) from None
    return attached


def _flags_restore(cursor, flags: list[dict]) -> None:
    if not flags:
        return
    columns = ", ".join(_FLAG_COLUMNS)
    marks = ", ".join(["%s"] * len(_FLAG_COLUMNS))
    cursor.executemany(
        f"INSERT INTO shipments_lineflag ({columns}) VALUES ({marks})",
        [[flag[c] for c in _FLAG_COLUMNS] for flag in flags],
    )


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
    "shipment_period_archive",
    "shipment_period_reattach",
]
