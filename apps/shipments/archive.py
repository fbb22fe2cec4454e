"""Old declaration periods archived and attached again (PostgreSQL only; docs/scaling.md,
"Partitions by declaration period").

- :func:`shipment_period_archive` detaches a quarter, writes its lines to a gzip'd CSV in
  the evidence store, takes its line flags with them, drops the detached table and
  rebuilds the totals of its months (the totals are those of the lines in the table).
- :func:`shipment_period_reattach` reads an archive back and attaches it again.

Apart from :mod:`apps.shipments.partitions` because it writes the totals through
:mod:`apps.shipments.services`, which itself ensures partitions when it stores lines.
"""

from __future__ import annotations

import datetime as dt
import gzip
import tempfile

from django.db import IntegrityError, connection, transaction

from apps.shipments.partitions import (
    _FLAG_COLUMNS,
    TABLE,
    PartitionError,
    Quarter,
    _create_partition,
    _existing,
    _lock,
    partition_name,
    partitioned,
    period_parse,
    quarter_bounds,
    quarter_label,
)


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


__all__ = ["shipment_period_archive", "shipment_period_reattach"]
