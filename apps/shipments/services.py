"""Writes of shipments: the customs ingest, and the totals kept beside them.

The ingest is built to be replayed: rows are written in batches, each batch in its own
transaction, keyed by (declaration id, line). A batch replayed after a crash finds its rows
already there and adds nothing; a line that comes back with different content becomes a
new *version* and the earlier one is kept (``is_current`` false). On PostgreSQL each batch
is loaded with ``COPY`` into a temporary staging table and merged with two set-based
statements; SQLite (the embedded default) takes a slower ORM path with the same rules.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, ExtractYear
from django.http import QueryDict
from django.utils import timezone, translation

from apps.accounts.models import Organisation, User
from apps.accounts.services import importers_ensure, organisations_ensure
from apps.catalogue.selectors import cn_index
from apps.common.exports import csv_stream
from apps.common.xlsx import xlsx_stream
from apps.estimates.models import Estimate, Tier
from apps.estimates.services import estimates_choose
from apps.evidence.models import IngestChunk, IngestRun
from apps.evidence.services import (
    IngestOutcome,
    ingest_chunk_done,
    ingest_chunks_plan,
    ingest_rows_store,
    ingest_run_finish,
)
from apps.evidence.store import evidence_local_path, evidence_open, evidence_read_range
from apps.shipments.export_jobs import (
    EXPORT_HEADER,
    FORMATS,
    ExportError,
    export_path,
    export_queryset,
    export_rows,
    rows_counted,
)
from apps.shipments.models import ExportJob, Shipment, ShipmentTotal, TradeAggregate
from apps.shipments.partitions import quarters_of, shipment_partitions_ensure
from apps.shipments.plausibility import line_flags_ensure, shipments_plausibility_mark
from ingest.base import IngestError, MissingColumns
from ingest.customs import read_customs
from ingest.plausibility import unit_value_flags
from ingest.trade_stats import is_trade_stats, read_trade_stats

# The content of a declaration line; a re-submission that differs in any is a correction.
CONTENT = [
    "date",
    "cn_code",
    "origin",
    "exporter_id",
    "importer_name",
    "importer_eori",
    "net_mass_t",
    "mass_unit",
    "statistical_value_eur",
    "supplementary_units",
    "procedure",
    "installation_identifier",
]
# What the ingest writes with each line: the importer's organisation resolved for it (not
# content: it follows from the name and EORI) and the estimate chosen before it is stored.
ESTIMATE = ["importer_id", "estimate_id", "tier", "embedded_emissions_t"]
# Also chosen before a line is stored, so that no pass rewrites the stored lines after: the
# installation its declared identifier names, its best estimate (the CBAM figure is in
# ESTIMATE; docs/design.md, the two figures), and its plausibility flag.
FIGURES = [
    "installation_id",
    "best_estimate_id",
    "best_tier",
    "best_embedded_emissions_t",
    "implausible",
    "implausible_reason",
]
STAGED = ["declaration_id", "line", *CONTENT, "source_line", *ESTIMATE, *FIGURES]
_BEST_TIERS = ("verified", "disclosed", "modelled", "default")
_TOTALS_LOCK = 0x434D_544F  # "CMTO"


def _catalogue_errors(data: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """Reject rows whose CN code is not a CBAM good of the catalogue (hierarchical match)."""
    index = cn_index()
    codes = data["cn_code"].unique()
    known_codes = {code for code in codes if code in index}
    known = data["cn_code"].isin(known_codes)
    errors = [
        {
            "line": int(line),
            "field": "cn_code",
            "value": code,
            "reason": f"CN code {code} is not a CBAM good in the catalogue",
        }
        for line, code in zip(
            data.loc[~known, "source_line"], data.loc[~known, "cn_code"], strict=True
        )
    ]
    return data.loc[known], errors


def _staged_frame(data: pd.DataFrame) -> pd.DataFrame:
    """The reader's rows in the shape of the staging table (exporters resolved to ids)."""
    exporters = organisations_ensure(
        names=data["exporter"].unique().tolist(), kind=Organisation.Kind.EXPORTER
    )
    return pd.DataFrame(
        {
            "declaration_id": data["declaration_id"],
            "line": data["line"].astype("int64"),
            "date": data["date"].astype("datetime64[s]"),  # midnight: a calendar date
            "cn_code": data["cn_code"],
            "origin": data["origin"],
            "exporter_id": data["exporter"].map(exporters).astype("int64"),
            "importer_name": data["importer"].fillna(""),
            "importer_eori": data["importer_eori"].fillna(""),
            "net_mass_t": data["net_mass_t"].astype("float64"),
            "mass_unit": data["mass_unit"],
            "statistical_value_eur": data["statistical_value_eur"].astype("float64"),
            "supplementary_units": data["supplementary_units"].astype("float64"),
            "procedure": data["procedure"].fillna(""),
            "installation_identifier": data["installation_id"].fillna(""),
            "source_line": data["source_line"].astype("int64"),
            "importer_id": _importer_ids(data),
        }
    )


def _importer_ids(data: pd.DataFrame) -> pd.Series:
    """Each line's importer organisation (NA where no importer is declared), resolved
    once per distinct (name, EORI) pair."""
    name_codes, names = pd.factorize(data["importer"].fillna(""))
    eori_codes, eoris = pd.factorize(data["importer_eori"].fillna(""))
    width = len(eoris) + 1
    pair_codes, pairs = pd.factorize(name_codes.astype(np.int64) * width + eori_codes)
    keys = [(names[p // width], eoris[p % width]) for p in pairs]
    ids = importers_ensure(importers=keys)
    resolved = np.array([ids.get(k, 0) for k in keys] or [0], dtype=np.int64)[pair_codes]
    out = pd.array(resolved, dtype="Int64")
    out[resolved == 0] = pd.NA
    return pd.Series(out, index=data.index)


@dataclass
class Figures:
    """The two figures chosen for the lines of an ingest, before they are stored: by
    distinct (origin, CN code, year, installation identifier, exporter) of the lines
    (``combos``), the installation and the chosen figures (``choice``, comparable between
    two choices)."""

    combos: pd.DataFrame
    choice: pd.DataFrame
    groups: int
    mixtures: int


def _quarter_keys(dates: pd.Series) -> np.ndarray:
    """Each date's quarter as a number (year × 4 + quarter index): the partition key."""
    months = dates.to_numpy().astype("datetime64[M]").astype(np.int64)
    return months // 3


def _no_lap(step: str) -> None:
    """No timing of the steps of a choice made at ingest."""


def _lines_combos(staged: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Each line's combo (what its figures depend on), and the distinct combos."""
    key = pd.DataFrame(
        {
            "origin": staged["origin"],
            "cn_code": staged["cn_code"],
            "year": staged["date"].dt.year.astype("int64"),
            "identifier": staged["installation_identifier"],
            "exporter_id": staged["exporter_id"],
        }
    )
    code = key.groupby(list(key.columns), sort=False).ngroup().to_numpy()
    return code, key.drop_duplicates().reset_index(drop=True)


def _combos_choose(combos: pd.DataFrame, actor) -> tuple[pd.DataFrame, int, int]:
    """The installation and both figures of each combo, by the rules of
    :func:`shipment_figures_rechoose` (the same groups, the same :func:`_figures_choose`);
    returns them with the number of groups and of mixtures."""
    from apps.facilities.models import Installation
    from apps.facilities.selectors import exporter_installation_links

    links = exporter_installation_links()
    identifiers = sorted({i for i in combos["identifier"] if i})
    known = dict(
        Installation.objects.filter(identifier__in=identifiers).values_list("identifier", "id")
        if identifiers
        else []
    )
    inst = combos["identifier"].map(known).fillna(0).astype("int64").to_numpy()
    exporter = combos["exporter_id"].to_numpy(dtype="int64")
    ek = np.where((inst == 0) & np.isin(exporter, list(links)), exporter, 0)
    keys = list(
        zip(
            combos["origin"],
            combos["cn_code"],
            combos["year"].astype(int),
            inst.tolist(),
            ek.tolist(),
            strict=True,
        )
    )
    groups = sorted(set(keys))
    table, mixtures = ([], 0) if not groups else _figures_choose(groups, links, actor, _no_lap)
    by_group = {g: row for g, row in zip(groups, table, strict=True)}
    rows = [by_group[k] for k in keys]
    choice = pd.DataFrame(
        {
            "installation_id": inst,
            "cbam_id": [r[6] or 0 for r in rows],
            "cbam_tier": [r[7] for r in rows],
            "cbam_see": np.array([np.nan if r[8] is None else r[8] for r in rows], dtype=float),
            "best_id": [r[9] or 0 for r in rows],
            "best_tier": [r[10] for r in rows],
            "best_see": np.array([np.nan if r[11] is None else r[11] for r in rows], dtype=float),
        }
    )
    return choice, len(groups), mixtures


def _figures_prechoose(staged: pd.DataFrame, actor) -> Figures:
    """Choose both figures of the lines of ``staged`` and write them into it (installation,
    CBAM figure, best estimate): the lines are then stored with their figures, and
    :func:`_figures_confirm` checks after the write that the choice still holds."""
    code, combos = _lines_combos(staged)
    choice, groups, mixtures = _combos_choose(combos, actor)
    mass = staged["net_mass_t"].to_numpy(dtype=float)

    def ids(column: str) -> pd.array:
        values = choice[column].to_numpy(dtype="int64")[code]
        out = pd.array(values, dtype="Int64")
        out[values == 0] = pd.NA
        return out

    staged["installation_id"] = ids("installation_id")
    staged["estimate_id"] = ids("cbam_id")
    staged["tier"] = choice["cbam_tier"].to_numpy(dtype=object)[code]
    staged["embedded_emissions_t"] = mass * choice["cbam_see"].to_numpy()[code]
    staged["best_estimate_id"] = ids("best_id")
    staged["best_tier"] = choice["best_tier"].to_numpy(dtype=object)[code]
    staged["best_embedded_emissions_t"] = mass * choice["best_see"].to_numpy()[code]
    return Figures(combos, choice, groups, mixtures)


def _flagged_lines(staged: pd.DataFrame) -> pd.DataFrame:
    return staged.loc[staged["implausible"], ["declaration_id", "line", "date"]]


def _figures_summary(staged: pd.DataFrame, figures: Figures) -> dict:
    """For the audit of the ingest: the groups and mixtures of the choice, the lines by
    best tier."""
    tiers = staged["best_tier"].replace("", "none").value_counts()
    return {
        "groups": figures.groups,
        "mixtures": figures.mixtures,
        "best_tiers": {str(k): int(v) for k, v in sorted(tiers.items())},
    }


def _figures_confirm(figures: Figures, *, run: IngestRun) -> bool:
    """After the lines are stored: choose their figures again; where anything changed
    meanwhile (an estimate recorded, an installation registered or linked between the
    choice and the commit of the lines, whose own re-choice did not see them), re-choose
    the run's lines in the database. Returns whether the first choice held.

    Evidence recorded after the lines committed re-chooses them itself (its re-choice
    waits for the lines' writes: ``shipment_figures_rechoose`` locks the table)."""
    again, _, _ = _combos_choose(figures.combos, run.requested_by)
    if again.equals(figures.choice):
        return True
    shipment_figures_rechoose(ingest_run_id=run.pk, actor=run.requested_by)
    return False


def shipments_ingest(*, run: IngestRun) -> IngestOutcome | None:
    """Read, validate, estimate, then store declaration lines in batches; refresh totals.

    A file of aggregate statistics (tonnes by CN code × partner × month, no declaration
    lines) is recognised by its header and stored as :class:`TradeAggregate` rows.

    On PostgreSQL a CSV of more than ``settings.CUSTOMS_CHUNK_LINES`` data lines is split
    into chunks, each stored by its own task (:func:`shipments_chunk_ingest`) on any worker
    of any host; the run is finished by the task that stores the last chunk."""
    if connection.vendor == "postgresql" and settings.CUSTOMS_CHUNK_LINES > 0:
        ranges = _chunk_ranges(run, settings.CUSTOMS_CHUNK_LINES)
        if ranges is not None:
            ingest_chunks_plan(run=run, ranges=ranges)
            return None
    try:
        with evidence_local_path(run.evidence) as path:
            data, meta = read_customs(path)
    except MissingColumns as exc:
        if is_trade_stats(exc.found):
            return trade_aggregates_ingest(run=run)
        raise
    errors = [asdict(e) for e in meta["errors"]]
    data, cn_errors = _catalogue_errors(data)
    errors.extend(cn_errors)
    errors.sort(key=lambda e: (e["line"] or 0, e["field"]))
    rejected = len({e["line"] for e in errors})
    staged = _staged_frame(data)
    IngestRun.objects.filter(pk=run.pk).update(rows_read=meta["rows_read"], rejected=rejected)

    # The estimate pass: what could be estimated and why not (the outcome reports it).
    chosen = estimates_choose(
        origin=staged["origin"].to_numpy(),
        cn_code=staged["cn_code"].to_numpy(),
        year=staged["date"].dt.year.to_numpy(),
        net_mass_t=staged["net_mass_t"].to_numpy(),
        actor=run.requested_by,
        # A line declaring an installation with a current actual estimate gets it.
        installation_identifier=staged["installation_identifier"].to_numpy(),
    )
    # Each line is stored as it will stay: both figures chosen (by group of lines, as a
    # re-choice would), the plausibility flag set; no pass rewrites the stored lines.
    figures = _figures_prechoose(staged, run.requested_by)
    # Lines far outside their heading's norms: kept, flagged with the reason.
    implausible = shipments_plausibility_mark(staged)

    if connection.vendor == "postgresql":
        # The partitions of the file's quarters, before any line is written.
        shipment_partitions_ensure(quarters=quarters_of(staged["date"].unique()))
        # A file none of whose declarations is stored yet (the usual bulk load) is copied
        # straight into the table; otherwise (a re-submission, or the replay of a run that
        # crashed) each batch is merged through the staging table.
        fresh = not _any_stored(staged["declaration_id"].unique().tolist())
        write = partial(_write_batch_postgres, fresh=fresh)
        step = settings.CUSTOMS_BATCH_ROWS
        # Batches hold disjoint lines (the reader drops repeats), so several can be written
        # at once, each on its own connection and in its own transaction. Not inside an
        # enclosing transaction: other connections could not see its uncommitted rows.
        writers = 1 if connection.in_atomic_block else settings.CUSTOMS_WRITERS
    else:
        write, step, writers = _write_batch_orm, 10_000, 1
    if writers > 1:
        # In the order of the partitions (quarters; the file's order within each): the
        # writers, each taking a run of consecutive batches, then fill different
        # partitions and their indexes rather than the same pages at once.
        staged = staged.iloc[np.argsort(_quarter_keys(staged["date"]), kind="stable")]
    batches = [staged.iloc[start : start + step] for start in range(0, len(staged), step)]
    _batches_store(batches, run=run, write=write, writers=writers)
    if implausible:  # a flag to review for each flagged line
        line_flags_ensure(run_id=run.pk, lines=_flagged_lines(staged))

    with transaction.atomic():
        if connection.vendor != "postgresql":
            shipment_totals_rebuild()  # the embedded default is small: rebuild them all
        run.refresh_from_db(fields=["accepted", "corrections"])
        accepted = run.accepted
        outcome = IngestOutcome(
            rows_read=meta["rows_read"],
            accepted=accepted,
            rejected=rejected,
            duplicates=len(staged) - accepted,
            errors=errors,
            extra={
                "estimates": chosen.estimates,
                "unestimated": chosen.unestimated,
                "unestimated_reasons": chosen.reasons[:100],
                "corrections": run.corrections,
                "implausible": implausible,
                "figures": _figures_summary(staged, figures),
            },
        )
        ingest_run_finish(run=run, outcome=outcome)
    shipment_installations_link()
    # The figures were chosen before the lines were written: re-chosen in the database
    # only if the evidence changed meanwhile (docs/design.md, the two figures).
    _figures_confirm(figures, run=run)
    return outcome


# --- Chunked ingest of a large customs file (docs/operations-workers.md, "Several hosts") --

#: Lines read from the head of a file to check its header before it is split.
_HEAD_LINES = 50


def _chunk_ranges(run: IngestRun, chunk_lines: int) -> list[tuple[int, int, int]] | None:
    """The ``(start, end, first_line)`` byte ranges of the chunks of ``run``'s file, each of
    about ``chunk_lines`` data lines; None when the file is not split (an XLSX workbook,
    a file of aggregate statistics, or no more than ``chunk_lines`` data lines).

    Ranges end at record boundaries: a line break outside double quotes (a quoted field
    may hold line breaks; a doubled quote inside it keeps the count even). A header the
    reader refuses is raised here, before anything is split."""
    with evidence_open(run.evidence) as stream:
        if stream.read(4) == b"PK\x03\x04":
            return None  # an XLSX workbook: read whole
    ranges: list[tuple[int, int, int]] = []
    head: list[bytes] = []
    header_end = None
    offset = start = 0
    line_no = 0  # physical lines read so far
    first_line = 0
    records = 0
    quotes = 0
    pending = b""
    with evidence_open(run.evidence) as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            data = pending + block
            lines = data.split(b"\n")
            pending = lines.pop()
            for line in lines:
                size = len(line) + 1
                offset += size
                line_no += 1
                quotes += line.count(b'"')
                if len(head) < _HEAD_LINES:
                    head.append(line + b"\n")
                if quotes % 2:
                    continue  # inside a quoted field: the record goes on
                if header_end is None:
                    header_end, start, first_line = offset, offset, line_no + 1
                    continue
                records += 1
                if records == chunk_lines:
                    ranges.append((start, offset, first_line))
                    start, first_line, records = offset, line_no + 1, 0
        if pending:
            offset += len(pending)
            records += 1
    if header_end is None:
        return None
    if records:
        ranges.append((start, offset, first_line))
    if len(ranges) <= 1:
        return None
    # The header, read as the reader reads it: a file of aggregate statistics is not
    # split, a header lacking a column fails the run here, naming it.
    with tempfile.TemporaryDirectory(prefix="cm-customs-head-") as folder:
        path = Path(folder) / (Path(run.original_name).name or "customs.csv")
        path.write_bytes(b"".join(head))
        try:
            read_customs(path)
        except MissingColumns as exc:
            if is_trade_stats(exc.found):
                return None
            raise MissingColumns(run.name, exc.missing, exc.found) from None
    return ranges


def shipments_chunk_ingest(*, run: IngestRun, chunk: IngestChunk, worker: str = "") -> None:
    """Store one chunk of a chunked customs run: read its lines under the file's header,
    validate, estimate, and write them with the chunk's ``done`` mark in one transaction
    (a chunk whose worker died left nothing and is read again from nothing)."""
    first = IngestChunk.objects.filter(run=run, index=0).values_list("start", flat=True).get()
    header = evidence_read_range(run.evidence, 0, first)
    body = evidence_read_range(run.evidence, chunk.start, chunk.end)
    with tempfile.TemporaryDirectory(prefix="cm-customs-chunk-") as folder:
        path = Path(folder) / (Path(run.original_name).name or "customs.csv")
        path.write_bytes(header + body)
        try:
            data, meta = read_customs(path)
        except IngestError as exc:
            raise IngestError(f"{run.name}: {exc}") from None
    # The reader numbers the chunk's lines after the header; the file's numbers follow.
    shift = chunk.first_line - (header.count(b"\n") + 1)
    data["source_line"] = data["source_line"] + shift
    errors = [asdict(e) for e in meta["errors"]]
    for e in errors:
        if e["line"] is not None:
            e["line"] += shift
    data, cn_errors = _catalogue_errors(data)
    errors.extend(cn_errors)
    # A line this run already stored from another chunk is a repeat, rejected as the reader
    # rejects a line repeated within one file (the one stored first is kept).
    seen = _stored_by_run(run, data["declaration_id"].unique().tolist())
    if seen:
        keys = list(zip(data["declaration_id"], data["line"].astype(int), strict=True))
        repeat = np.array([key in seen for key in keys], dtype=bool)
        errors.extend(
            {
                "line": int(line),
                "field": "line",
                "value": str(number),
                "reason": f"duplicate: declaration '{declaration}' line {number} "
                f"already on line {seen[(declaration, int(number))]}",
            }
            for declaration, number, line in zip(
                data.loc[repeat, "declaration_id"],
                data.loc[repeat, "line"],
                data.loc[repeat, "source_line"],
                strict=True,
            )
        )
        data = data.loc[~repeat]
    errors.sort(key=lambda e: (e["line"] or 0, e["field"]))
    rejected = len({e["line"] for e in errors})
    staged = _staged_frame(data)
    chosen = estimates_choose(
        origin=staged["origin"].to_numpy(),
        cn_code=staged["cn_code"].to_numpy(),
        year=staged["date"].dt.year.to_numpy(),
        net_mass_t=staged["net_mass_t"].to_numpy(),
        actor=run.requested_by,
        installation_identifier=staged["installation_identifier"].to_numpy(),
    )
    # Stored as they will stay, as in shipments_ingest: figures chosen, flags set.
    figures = _figures_prechoose(staged, run.requested_by)
    implausible = shipments_plausibility_mark(staged)
    fresh = not _any_stored(staged["declaration_id"].unique().tolist())
    shipment_partitions_ensure(quarters=quarters_of(staged["date"].unique()))
    with transaction.atomic():
        stored, corrected = (
            _write_batch_postgres(staged, run, fresh=fresh) if len(staged) else (0, 0)
        )
        if implausible:  # a flag to review for each flagged line
            line_flags_ensure(run_id=run.pk, lines=_flagged_lines(staged))
        outcome = IngestOutcome(
            rows_read=meta["rows_read"],
            accepted=stored,
            rejected=rejected,
            duplicates=len(data) - stored,
            errors=errors,
            extra={
                "estimate_ids": sorted({int(i) for i in chosen.estimate_id if i}),
                "unestimated": chosen.unestimated,
                "unestimated_reasons": chosen.reasons[:100],
                "implausible": implausible,
                "figures": _figures_summary(staged, figures),
            },
        )
        ingest_chunk_done(chunk=chunk, outcome=outcome, corrections=corrected, worker=worker)
        # Once the chunk's lines are committed: does their choice of figures still hold?
        transaction.on_commit(partial(_figures_confirm, figures, run=run))


def _stored_by_run(run: IngestRun, declaration_ids: list[str]) -> dict[tuple[str, int], int]:
    """{(declaration id, line): file line} of the lines ``run`` stored among these."""
    array, value = _ids_param(declaration_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT declaration_id, line, source_line FROM shipments_shipment "
            f"WHERE ingest_run_id = %s AND declaration_id = ANY({array})",
            [run.pk, value],
        )
        return {(d, int(n)): int(at) for d, n, at in cursor.fetchall()}


def shipments_chunks_finish(*, run: IngestRun, chunks: list[IngestChunk]) -> IngestOutcome:
    """The outcome of a chunked customs run, from its done chunks (called once, in the
    transaction that finishes the run); links installations and re-chooses the figures
    of its lines once that transaction has committed."""
    errors = [e for c in chunks for e in c.errors]
    errors.sort(key=lambda e: (e["line"] or 0, e["field"]))
    reasons = list(dict.fromkeys(r for c in chunks for r in c.extra.get("unestimated_reasons", [])))
    outcome = IngestOutcome(
        rows_read=sum(c.rows_read for c in chunks),
        accepted=sum(c.accepted for c in chunks),
        rejected=sum(c.rejected for c in chunks),
        duplicates=sum(c.duplicates for c in chunks),
        errors=errors,
        extra={
            "estimates": len({i for c in chunks for i in c.extra.get("estimate_ids", [])}),
            "unestimated": sum(c.extra.get("unestimated", 0) for c in chunks),
            "unestimated_reasons": reasons[:100],
            "corrections": sum(c.corrections for c in chunks),
            "implausible": sum(c.extra.get("implausible", 0) for c in chunks),
            "chunks": len(chunks),
        },
    )

    # Each chunk's lines were stored with their figures, confirmed after its commit
    # (_figures_confirm); lines declaring an installation registered since are linked.
    transaction.on_commit(shipment_installations_link)
    return outcome


def shipment_installations_link() -> int:
    """Link every declaration line that carries an installation id (``installation_identifier``,
    the installation's registry identifier such as GEM's Plant ID) to that installation, where
    the registry has it and the line is not linked yet; returns the number of lines linked.
    Called after a customs ingest and after a registry ingest (either may come first)."""
    from django.db.models import OuterRef, Subquery

    from apps.facilities.models import Installation

    known = Installation.objects.values("identifier")
    with transaction.atomic():
        return (
            Shipment.objects.filter(installation__isnull=True, installation_identifier__in=known)
            .exclude(installation_identifier="")
            .update(
                installation_id=Subquery(
                    Installation.objects.filter(
                        identifier=OuterRef("installation_identifier")
                    ).values("id")[:1]
                )
            )
        )


def _batch_store(batch: pd.DataFrame, *, run: IngestRun, write) -> None:
    with transaction.atomic():
        stored, corrected = write(batch, run)
        # Progress, committed with the batch it counts: a batch replayed after a crash
        # stores nothing and adds nothing, so the counts stay exact.
        IngestRun.objects.filter(pk=run.pk).update(
            accepted=F("accepted") + stored, corrections=F("corrections") + corrected
        )


def _batches_store(batches: list[pd.DataFrame], *, run: IngestRun, write, writers: int) -> None:
    """Store the batches, each in its own transaction, with ``writers`` threads (each on
    its own database connection) each taking a run of consecutive batches. The server
    parses and indexes one batch while Python formats the next; an error in any thread
    is raised here after all have stopped (the batches already committed stay, as after
    a crash)."""
    if writers <= 1 or len(batches) <= 1:
        for batch in batches:
            _batch_store(batch, run=run, write=write)
        return

    def work(share: list[pd.DataFrame]) -> None:
        try:
            for batch in share:
                _batch_store(batch, run=run, write=write)
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=writers) as pool:
        size = -(-len(batches) // writers)  # consecutive batches to each writer
        futures = [pool.submit(work, batches[k * size : (k + 1) * size]) for k in range(writers)]
    for future in futures:
        future.result()


_STAGE_DDL = """
CREATE TEMP TABLE IF NOT EXISTS shipment_stage (
    declaration_id text, line integer, date date, cn_code text, origin text,
    exporter_id bigint, importer_name text, importer_eori text, net_mass_t double precision,
    mass_unit text, statistical_value_eur double precision, supplementary_units double precision,
    procedure text, installation_identifier text, source_line integer,
    importer_id bigint, estimate_id bigint, tier text, embedded_emissions_t double precision,
    installation_id bigint, best_estimate_id bigint, best_tier text,
    best_embedded_emissions_t double precision, implausible boolean, implausible_reason text
) ON COMMIT DELETE ROWS
"""
_CONTENT_C = ", ".join(f"c.{f}" for f in CONTENT)
_CONTENT_S = ", ".join(f"s.{f}" for f in CONTENT)
_COLUMNS = (
    f"declaration_id, line, version, is_current, {', '.join(CONTENT)}, source_line, "
    f"{', '.join(ESTIMATE + FIGURES)}, ingest_run_id, created_at"
)
_VALUES = (
    f"{_CONTENT_S}, s.source_line, {', '.join('s.' + f for f in ESTIMATE + FIGURES)}, "
    "%(run)s, %(now)s"
)
_TOTALS_OF = (
    "origin, cn_code, exporter_id, date, net_mass_t, embedded_emissions_t, estimate_id, tier, "
    "best_embedded_emissions_t, best_tier"
)
_TOTALS_OF_C = ", ".join("c." + f for f in _TOTALS_OF.split(", "))
# The sums of the monthly totals.
_TOTAL_SUMS = [
    "shipments",
    "net_mass_t",
    "embedded_emissions_t",
    "estimated_mass_t",
    "default_mass_t",
    "best_embedded_emissions_t",
    *(f"best_{b}_mass_t" for b in _BEST_TIERS),
]
# Add (sign +1) or take away (sign -1) rows from the totals of their (origin, CN, exporter,
# month), in the transaction that writes them: the totals are always those of the
# current versions.
_TOTALS_DELTA = f"""
INSERT INTO shipments_shipmenttotal AS t (origin, cn_code, exporter_id, month, shipments,
    net_mass_t, embedded_emissions_t, estimated_mass_t, default_mass_t,
    best_embedded_emissions_t, {", ".join(f"best_{b}_mass_t" for b in _BEST_TIERS)})
SELECT origin, cn_code, exporter_id, date_trunc('month', date)::date, SUM(sign),
    SUM(sign * net_mass_t), COALESCE(SUM(sign * embedded_emissions_t), 0),
    COALESCE(SUM(sign * net_mass_t) FILTER (WHERE estimate_id IS NOT NULL), 0),
    COALESCE(SUM(sign * net_mass_t) FILTER (WHERE tier = 'default'), 0),
    COALESCE(SUM(sign * best_embedded_emissions_t), 0),
    {
    ", ".join(
        f"COALESCE(SUM(sign * net_mass_t) FILTER (WHERE best_tier = '{b}'), 0)" for b in _BEST_TIERS
    )
}
FROM delta GROUP BY 1, 2, 3, 4
ON CONFLICT (origin, cn_code, exporter_id, month) DO UPDATE SET
    {", ".join(f"{c} = t.{c} + excluded.{c}" for c in _TOTAL_SUMS)}
RETURNING 1
"""
# 1. New lines (an anti-join on the natural key) go in as version 1. A line stored
#    meanwhile by a concurrent run makes the batch fail on the unique key; the task is
#    retried and the replay skips it. (On the partitioned table the unique key holds the
#    date too: a concurrent copy of the line with another date is not refused there;
#    docs/scaling.md, "Keys, and what a shipment's id is used for".)
_INSERT_NEW = f"""
WITH delta AS (
    INSERT INTO shipments_shipment ({_COLUMNS})
    SELECT s.declaration_id, s.line, 1, true, {_VALUES} FROM shipment_stage s
    WHERE NOT EXISTS (
        SELECT 1 FROM shipments_shipment c
        WHERE c.declaration_id = s.declaration_id AND c.line = s.line
    )
    RETURNING {_TOTALS_OF}, 1 AS sign
), totals AS ({_TOTALS_DELTA})
SELECT COUNT(*) FROM delta
"""
# 2. Only when some lines were already stored: retire the current version of each line
#    whose content changed and insert the new content as the next version. Unchanged
#    lines (duplicates) keep their current version.
_INSERT_CHANGED = f"""
WITH old AS (
    UPDATE shipments_shipment c SET is_current = false
    FROM shipment_stage s
    WHERE c.declaration_id = s.declaration_id AND c.line = s.line AND c.is_current
      AND ({_CONTENT_C}) IS DISTINCT FROM ({_CONTENT_S})
    RETURNING c.declaration_id, c.line, c.version, {_TOTALS_OF_C}
), new AS (
    INSERT INTO shipments_shipment ({_COLUMNS})
    SELECT s.declaration_id, s.line, o.version + 1, true, {_VALUES}
    FROM shipment_stage s JOIN old o ON o.declaration_id = s.declaration_id AND o.line = s.line
    ON CONFLICT DO NOTHING
    RETURNING {_TOTALS_OF}, 1 AS sign
), delta AS (
    SELECT {_TOTALS_OF}, -1 AS sign FROM old UNION ALL SELECT * FROM new
), totals AS ({_TOTALS_DELTA})
SELECT COUNT(*) FROM new
"""
# 3. Lines stored before their importer was resolved (unchanged, so not a new version):
#    take the organisation this ingest resolved for them.
_LINK_IMPORTERS = """
UPDATE shipments_shipment c SET importer_id = s.importer_id FROM shipment_stage s
WHERE c.declaration_id = s.declaration_id AND c.line = s.line AND c.is_current
  AND c.importer_id IS NULL AND s.importer_id IS NOT NULL
"""
_COPY = f"COPY shipment_stage ({', '.join(STAGED)}) FROM STDIN (FORMAT csv)"


_SEPARATOR = "\x1f"  # ASCII unit separator: in no declaration id the reader keeps


def _ids_param(ids: list[str]) -> tuple[str, object]:
    """A list of text ids as one query parameter: ``(SQL of the array, value)``. The ids
    joined by a separator, split by the server: the client quotes one string instead of
    each of 50,000 (measured: 0.3–0.7 s less per 200,000 lines); a list as an array where
    an id holds the separator."""
    if any(_SEPARATOR in i for i in ids):
        return "%s::text[]", ids
    return f"string_to_array(%s, '{_SEPARATOR}')", _SEPARATOR.join(ids)


def _any_stored(declaration_ids: list[str]) -> bool:
    array, value = _ids_param(declaration_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM shipments_shipment WHERE declaration_id = ANY({array}))",
            [value],
        )
        return cursor.fetchone()[0]


_DIRECT = [
    "declaration_id",
    "line",
    "version",
    "is_current",
    *CONTENT,
    "source_line",
    *ESTIMATE,
    *FIGURES,
    "ingest_run_id",
    "created_at",
]
_COPY_DIRECT = f"COPY shipments_shipment ({', '.join(_DIRECT)}) FROM STDIN (FORMAT csv)"
_TOTAL_COLUMNS = ["origin", "cn_code", "exporter_id", "month", *_TOTAL_SUMS]
_TOTALS_STAGE_DDL = f"""
CREATE TEMP TABLE IF NOT EXISTS shipmenttotal_stage (
    origin text, cn_code text, exporter_id bigint, month date, shipments integer,
    {", ".join(f"{c} double precision" for c in _TOTAL_SUMS[1:])}
) ON COMMIT DELETE ROWS
"""
_COPY_TOTALS = f"COPY shipmenttotal_stage ({', '.join(_TOTAL_COLUMNS)}) FROM STDIN (FORMAT csv)"
_TOTALS_ADD = f"""
INSERT INTO shipments_shipmenttotal AS t ({", ".join(_TOTAL_COLUMNS)})
SELECT {", ".join(_TOTAL_COLUMNS)} FROM shipmenttotal_stage
ON CONFLICT (origin, cn_code, exporter_id, month) DO UPDATE SET
    {", ".join(f"{c} = t.{c} + excluded.{c}" for c in _TOTAL_SUMS)}
"""


def _copy_payload(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV for ``COPY … (FORMAT csv)``, written by Arrow: strings quoted (so an
    empty string stays ``""``), missing values (NaN, NA) as an empty unquoted field, which
    COPY reads as NULL; floats in their shortest round-trip form."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in ("date", "month"):  # calendar dates, kept as midnight timestamps until here
        if name in table.column_names and pa.types.is_timestamp(table.schema.field(name).type):
            position = table.column_names.index(name)
            table = table.set_column(position, name, pc.cast(table[name], pa.date32()))
    sink = io.BytesIO()
    pa_csv.write_csv(
        table,
        sink,
        write_options=pa_csv.WriteOptions(include_header=False, quoting_style="needed"),
    )
    return sink.getvalue()


def _totals_lock(cursor) -> None:
    """Serialise the totals updates of concurrent batches until their commit: two batches
    adding to the same (origin, CN, exporter, month) rows in different orders would
    otherwise deadlock."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_TOTALS_LOCK])


def _copy_direct(batch: pd.DataFrame, run: IngestRun) -> None:
    """COPY a batch of new lines straight into the table, and add it to the totals."""
    rows = batch.assign(
        version=1, is_current=True, ingest_run_id=run.pk, created_at=timezone.now().isoformat()
    )
    payload = _copy_payload(rows[_DIRECT])
    month = rows["date"].to_numpy().astype("datetime64[M]").astype("datetime64[s]")
    mass = rows["net_mass_t"]
    totals = (
        rows.assign(
            month=month,
            shipments=1,
            embedded=rows["embedded_emissions_t"].fillna(0.0),
            estimated=mass.where(rows["estimate_id"].notna(), 0.0),
            on_default=mass.where(rows["tier"] == "default", 0.0),
            best_embedded=rows["best_embedded_emissions_t"].fillna(0.0),
            **{f"best_{b}": mass.where(rows["best_tier"] == b, 0.0) for b in _BEST_TIERS},
        )
        .groupby(["origin", "cn_code", "exporter_id", "month"], sort=False)
        .agg(
            shipments=("shipments", "sum"),
            net_mass_t=("net_mass_t", "sum"),
            embedded_emissions_t=("embedded", "sum"),
            estimated_mass_t=("estimated", "sum"),
            default_mass_t=("on_default", "sum"),
            best_embedded_emissions_t=("best_embedded", "sum"),
            **{f"best_{b}_mass_t": (f"best_{b}", "sum") for b in _BEST_TIERS},
        )
        .reset_index()
    )
    with connection.cursor() as cursor:
        with cursor.cursor.copy(_COPY_DIRECT) as copy:
            copy.write(payload)
        cursor.execute(_TOTALS_STAGE_DDL)
        with cursor.cursor.copy(_COPY_TOTALS) as copy:
            copy.write(_copy_payload(totals[_TOTAL_COLUMNS]))
        _totals_lock(cursor)
        cursor.execute(_TOTALS_ADD)
        cursor.execute("TRUNCATE shipmenttotal_stage")


def _write_batch_postgres(
    batch: pd.DataFrame, run: IngestRun, *, fresh: bool = False
) -> tuple[int, int]:
    """Store one batch; returns the rows it stored and how many of them are corrections.

    ``fresh``: COPY straight into the table (in a savepoint: a line stored meanwhile by a
    concurrent run breaks the unique key, and the batch is then merged as below).
    Otherwise COPY into the staging table and merge with the two statements above."""
    if fresh:
        try:
            with transaction.atomic():
                _copy_direct(batch, run)
            return len(batch), 0
        except (IntegrityError, psycopg.errors.UniqueViolation):
            pass  # (COPY raises psycopg's own error: it runs on the driver's cursor)
    payload = _copy_payload(batch[STAGED])
    params = {"run": run.pk, "now": timezone.now()}
    with connection.cursor() as cursor:
        cursor.execute(_STAGE_DDL)
        with cursor.cursor.copy(_COPY) as copy:
            copy.write(payload)
        _totals_lock(cursor)  # both merge statements add to the totals
        cursor.execute(_INSERT_NEW, params)
        (inserted,) = cursor.fetchone()
        corrected = 0
        if inserted < len(batch):
            cursor.execute(_INSERT_CHANGED, params)
            (corrected,) = cursor.fetchone()
            cursor.execute(_LINK_IMPORTERS)
        cursor.execute("TRUNCATE shipment_stage")
    return inserted + corrected, corrected


def _write_batch_orm(batch: pd.DataFrame, run: IngestRun) -> tuple[int, int]:
    """The same merge as on PostgreSQL, row by row in Python (the embedded default);
    the totals are rebuilt once at the end of the ingest."""
    records = batch.to_dict("records")
    ids = {r["declaration_id"] for r in records}
    current = {
        (s.declaration_id, s.line): s
        for s in Shipment.objects.filter(is_current=True, declaration_id__in=ids)
    }
    latest: dict[tuple[str, int], int] = {}
    for declaration_id, line, version in Shipment.objects.filter(
        declaration_id__in=ids
    ).values_list("declaration_id", "line", "version"):
        key = (declaration_id, line)
        latest[key] = max(latest.get(key, 0), version)
    new, retire, link = [], [], {}
    for r in records:
        key = (r["declaration_id"], r["line"])
        old = current.get(key)
        if old is not None and _same_content(old, r):
            if old.importer_id is None and not pd.isna(r["importer_id"]):
                link.setdefault(int(r["importer_id"]), []).append(old.pk)
            continue
        if old is not None:
            retire.append(old.pk)
        latest[key] = latest.get(key, 0) + 1
        new.append(Shipment(**_orm_fields(r), version=latest[key], ingest_run=run))
    Shipment.objects.filter(pk__in=retire).update(is_current=False)
    for importer_id, pks in link.items():
        Shipment.objects.filter(pk__in=pks).update(importer_id=importer_id)
    Shipment.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    return len(new), len(retire)


def _orm_fields(r: dict) -> dict:
    fields = {f: r[f] for f in STAGED}
    for name in (
        "statistical_value_eur",
        "supplementary_units",
        "embedded_emissions_t",
        "estimate_id",
        "importer_id",
        "installation_id",
        "best_estimate_id",
        "best_embedded_emissions_t",
    ):
        fields[name] = None if pd.isna(fields[name]) else fields[name]
    fields["implausible"] = bool(fields["implausible"])
    fields["date"] = fields["date"].date()  # a midnight Timestamp → the calendar date
    return fields


def _same_content(old: Shipment, r: dict) -> bool:
    new = _orm_fields(r)
    return all(getattr(old, f) == new[f] for f in CONTENT)


def shipment_totals_rebuild(*, months: set[dt.date] | None = None) -> None:
    """Recompute totals from the current shipments (of the given months, or all) in one
    set-based ``INSERT … SELECT … GROUP BY``, serialised by a lock on PostgreSQL.

    On PostgreSQL each batch adds its own delta (``_TOTALS_DELTA``) and this only
    repairs; the embedded default (SQLite) rebuilds at the end of each ingest."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_TOTALS_LOCK])
    month_sql, month_params = connection.ops.date_trunc_sql("month", "date", (), None)
    if connection.vendor == "postgresql":
        month_sql = f"({month_sql})::date"
    where, params = "is_current", []
    if months is not None:
        if not months:
            return
        months = sorted(months)
        where += (
            f" AND date >= %s AND date < %s AND {month_sql} IN ({', '.join(['%s'] * len(months))})"
        )
        params = [months[0], _next_month(months[-1]), *month_params, *months]
        ShipmentTotal.objects.filter(month__in=months).delete()
    else:
        ShipmentTotal.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO shipments_shipmenttotal (origin, cn_code, exporter_id, month,
                shipments, net_mass_t, embedded_emissions_t, estimated_mass_t, default_mass_t,
                best_embedded_emissions_t, best_verified_mass_t, best_disclosed_mass_t,
                best_modelled_mass_t, best_default_mass_t)
            SELECT origin, cn_code, exporter_id, {month_sql} AS m, COUNT(*), SUM(net_mass_t),
                COALESCE(SUM(embedded_emissions_t), 0),
                COALESCE(SUM(CASE WHEN estimate_id IS NOT NULL THEN net_mass_t END), 0),
                COALESCE(SUM(CASE WHEN tier = 'default' THEN net_mass_t END), 0),
                COALESCE(SUM(best_embedded_emissions_t), 0),
                COALESCE(SUM(CASE WHEN best_tier = 'verified' THEN net_mass_t END), 0),
                COALESCE(SUM(CASE WHEN best_tier = 'disclosed' THEN net_mass_t END), 0),
                COALESCE(SUM(CASE WHEN best_tier = 'modelled' THEN net_mass_t END), 0),
                COALESCE(SUM(CASE WHEN best_tier = 'default' THEN net_mass_t END), 0)
            FROM shipments_shipment WHERE {where}
            GROUP BY origin, cn_code, exporter_id, {month_sql}
            """,
            [*month_params, *params, *month_params],
        )


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def trade_aggregates_ingest(*, run: IngestRun) -> IngestOutcome:
    """Store aggregate statistics; the natural key (reporter, partner, CN, month, flow)
    makes a re-ingest a no-op."""
    with evidence_local_path(run.evidence) as path:
        data, meta = read_trade_stats(path)
    # Kept and flagged, never dropped (docs/readers.md, "Plausibility of unit values").
    flags = unit_value_flags(data["cn_code"], data["tonnes"], data["value_eur"])
    rows = [
        TradeAggregate(
            reporter=r.reporter,
            origin=r.origin,
            cn_code=r.cn_code,
            month=r.month,
            flow=r.flow,
            tonnes=float(r.tonnes),
            value_eur=None if pd.isna(r.value_eur) else float(r.value_eur),
            ingest_run=run,
            source_line=int(r.source_line),
            implausible=bool(flags.flagged[i]),
            implausible_reason=flags.reason[i],
        )
        for i, r in enumerate(data.itertuples(index=False))
    ]
    with transaction.atomic():
        return ingest_rows_store(
            run=run,
            model=TradeAggregate,
            rows=rows,
            meta=meta,
            extra={"kind": "aggregate statistics"},
        )


# --- The two figures of a shipment (docs/design.md) --------------------------------------


@dataclass
class RechooseOutcome:
    """What :func:`shipment_figures_rechoose` changed: the shipments whose CBAM figure or
    best estimate moved, the months they fall in, their best tiers before."""

    shipments: int
    months: list[str]
    tiers_before: dict[str, int] = field(default_factory=dict)
    groups: int = 0
    mixtures: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # by step, for the benchmark


_RUNG = {Tier.VERIFIED: 0, Tier.DISCLOSED: 1, Tier.MODELLED: 2}


def _rung_candidates(*, installations: set[int], years: set[int]) -> dict:
    """(installation id, year) → current verified/disclosed/modelled estimates of it, best
    rung first, then newest."""
    found: dict[tuple[int, int], list[Estimate]] = {}
    if not installations:
        return found
    qs = Estimate.objects.filter(
        tier__in=list(_RUNG),
        superseded_by__isnull=True,
        installation_id__in=sorted(installations),
        period_start__year__in=sorted(years),
    ).defer("trace")
    for e in qs:
        found.setdefault((e.installation_id, e.period_start.year), []).append(e)
    for rows in found.values():
        rows.sort(key=lambda e: (_RUNG[e.tier], -e.pk))
    return found


def _pick(candidates: dict, inst: int, origin: str, cn: str, year: int, *, verified=False):
    for e in candidates.get((inst, year), []):
        if verified and e.tier != Tier.VERIFIED:
            continue
        if e.origin == origin and cn.startswith(e.cn_code):
            return e
    return None


def _mixture_case(parts: list) -> dict:
    """The ``estimate.mixture`` case of ``parts`` [(installation, estimate)]."""
    from apps.facilities.selectors import installation_capacity_t

    capacities = [installation_capacity_t(inst) for inst, _ in parts]
    # A plant whose capacity the registry does not state weighs as the mean of the others
    # (all equal when none states one); docs/registry.md.
    known = [c for c in capacities if c]
    fill = sum(known) / len(known) if known else 1.0
    return {
        "methodology": "estimate.mixture",
        "components": [
            {
                "estimate": e.pk,
                "installation": inst.identifier,
                "tier": e.tier,
                "capacity_t": cap or fill,
                "see_direct_t_per_t": e.see_direct_t_per_t,
                "see_indirect_t_per_t": e.see_indirect_t_per_t,
                "see_total_t_per_t": e.see_total_t_per_t,
                "p05_t_per_t": e.interval_low_t_per_t,
                "p95_t_per_t": e.interval_high_t_per_t,
            }
            for (inst, e), cap in zip(parts, capacities, strict=True)
        ],
    }


def _mixtures_ensure(wanted: dict[tuple, list], actor) -> dict[tuple, Estimate]:
    """The mixture estimate of each (exporter, origin, CN, year) → parts: computed by the
    pure engine (``methodologies.mixture``); an unchanged mix reuses its estimate, a new
    one is recorded and supersedes the earlier, all in one transaction."""
    import methodologies
    from apps.estimates.models import mixture_subject_key
    from apps.estimates.services import (
        EstimateItem,
        estimates_record_bulk,
        estimates_supersede,
    )

    results = {
        key: (mixture_subject_key(*key), methodologies.run_case(_mixture_case(parts)))
        for key, parts in wanted.items()
    }
    current: dict[str, list[Estimate]] = {}
    for e in Estimate.objects.filter(
        subject_key__in=[subject for subject, _ in results.values()],
        superseded_by__isnull=True,
    ).defer("trace"):
        current.setdefault(e.subject_key, []).append(e)
    out: dict[tuple, Estimate] = {}
    fresh = []
    for key, (subject, result) in results.items():
        same = [e for e in current.get(subject, []) if e.trace_sha256 == result["trace_sha256"]]
        if same:
            out[key] = same[0]
        else:
            fresh.append((key, subject, result))
    if fresh:
        with transaction.atomic():  # one insert of the estimates, one of their events
            recorded = estimates_record_bulk(
                items=[
                    EstimateItem(
                        result=result,
                        subject_key=subject,
                        tier=result["tier"],
                        cn_code=cn,
                        origin=origin,
                        period_start=dt.date(year, 1, 1),
                        period_end=dt.date(year, 12, 31),
                    )
                    for (_, origin, cn, year), subject, result in fresh
                ],
                actor=actor,
            )
            estimates = Estimate.objects.defer("trace").in_bulk(recorded.ids)
            for (key, subject, _), pk in zip(fresh, recorded.ids, strict=True):
                if current.get(subject):
                    estimates_supersede(old=current[subject], new=estimates[pk], actor=actor)
                out[key] = estimates[pk]
    return out


_GROUPS = "shipment_figures"
_LINKED = "shipment_figures_linked"


def _exporter_key_sql(alias: str) -> str:
    """The exporter part of a shipment's group: its exporter when it declares no
    installation and the exporter reaches plants, else 0."""
    return (
        f"CASE WHEN {alias}.installation_id IS NULL AND {alias}.exporter_id IN "
        f"(SELECT exporter_id FROM {_LINKED}) THEN {alias}.exporter_id ELSE 0 END"
    )


def shipment_figures_rechoose(
    *,
    installations: list[int] | None = None,
    exporters: list[int] | None = None,
    ingest_run_id: int | None = None,
    actor=None,
) -> RechooseOutcome:
    """Re-choose both figures of the current shipments concerned by new evidence, in one
    set-based ``UPDATE … FROM`` (docs/design.md, the two figures of a shipment).

    Concerned: the shipments declaring one of ``installations`` or whose exporter reaches
    one (a disclosure confirmed, a verification report, a modelling run); those of
    ``exporters`` (a link confirmed); those of an ingest run; all when nothing is given
    (a registry release). A shipment reaches an installation through the id its
    declaration carries (``installation``), else through its exporter's plants (owned or
    linked by a confirmed match).

    The choice depends only on the shipment's group (origin, CN code, year, declared
    installation, exporter where it reaches plants), so it is made once per group in
    Python and written to every row of the group by one ``UPDATE … FROM`` joined on the
    group, only where a figure differs:

    - CBAM figure: a verified estimate of the declared installation, else the default
      value with the year's mark-up;
    - best estimate: the best rung (verified, disclosed, modelled) of the declared
      installation; else of the exporter's plants of that origin able to make the good
      (one plant: its estimate; several: their capacity-weighted mixture,
      ``methodologies.mixture``); else the default value without mark-up.

    Then the monthly totals of the months touched are brought up to date, and the change
    audited.

    On PostgreSQL it all runs in one transaction holding a ``SHARE ROW EXCLUSIVE`` lock on
    the shipments (reads go on; a concurrent ingest or re-choice waits). The groups of a
    re-choice of every shipment come from the monthly totals; one statement then reads
    the rows, rewrites those whose figures differ and returns their count and sums by
    group, exporter, month and figures before, from which the totals' deltas are worked
    out (:func:`_figures_write_pg`, docs/benchmarks.md)."""
    if connection.vendor != "postgresql":
        return _rechoose(installations, exporters, ingest_run_id, actor)
    from apps.audit.services import audit_lock

    with transaction.atomic(), connection.cursor() as cursor:
        # The audit log's lock first, then the table's: a confirmation that recorded
        # estimates (holding the audit lock) and then re-chooses takes them in the same
        # order, so the two never wait on each other crosswise.
        audit_lock()
        # The cells read are the rows the UPDATE changes: no writer of shipments between.
        cursor.execute("LOCK TABLE shipments_shipment IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SET LOCAL jit = off")  # compiling costs more than it saves here
        # The grouped read hashes its cells in memory rather than sorting 1M rows on disk
        # (the planner expects far more cells than there are).
        cursor.execute("SET LOCAL work_mem = '64MB'")
        return _rechoose(installations, exporters, ingest_run_id, actor)


def _rechoose(installations, exporters, ingest_run_id, actor) -> RechooseOutcome:
    from apps.audit.services import audit_append
    from apps.facilities.selectors import exporter_installation_links

    clock = [time.perf_counter()]
    seconds: dict[str, float] = {}

    def lap(step: str) -> None:
        clock.append(time.perf_counter())
        seconds[step] = round(clock[-1] - clock[-2], 3)

    shipment_installations_link()
    links = exporter_installation_links()
    linked = set(links)
    targeted = installations is not None or exporters is not None
    scoped = targeted or ingest_run_id is not None
    pg = connection.vendor == "postgresql"
    if pg:
        where, params = _scope_sql(installations, exporters, ingest_run_id, links)
        # All the current shipments: their groups are those of the monthly totals (no
        # read of the rows); a row the totals do not account for is caught by the write,
        # which then starts again from the groups read from the rows.
        groups = _groups_pg(where, params, linked, from_totals=not scoped)
        if not groups and not scoped:  # no totals at all: read the rows' groups
            groups = _groups_pg(where, params, linked, from_totals=False)
    else:
        groups = _groups_read(_scope(installations, exporters, ingest_run_id, links), linked)
    if not groups:
        return RechooseOutcome(0, [])
    table, mixtures = _figures_choose(groups, links, actor, lap)
    with transaction.atomic():
        if pg:
            before, months, count, lost = _figures_write_pg(table, linked, where, params)
            if lost:
                groups = _groups_pg(where, params, linked, from_totals=False)
                table, more = _figures_choose(groups, links, actor, lap)
                mixtures += more
                b2, m2, c2, lost = _figures_write_pg(table, linked, where, params)
                if lost:
                    raise RuntimeError(f"re-choice: {lost} shipments in no group; nothing written")
                for tier, n in b2.items():
                    before[tier] = before.get(tier, 0) + n
                months |= m2
                count += c2
        else:
            before, months, count = _figures_write(table, linked)
            if count:
                shipment_totals_rebuild(months=months)
        lap("update")
        if count:
            audit_append(
                actor=actor,
                action="shipments.figures_rechoose",
                object_type="shipment",
                object_id="*",
                payload={
                    "installations": installations,
                    "exporters": exporters,
                    "ingest_run": ingest_run_id,
                    "groups": len(groups),
                    "shipments": count,
                    "best_tiers_before": before,
                    "months": sorted(m.isoformat() for m in months),
                },
            )
    lap("commit")
    return RechooseOutcome(
        count, sorted(m.isoformat() for m in months), before, len(groups), mixtures, seconds
    )


def _scope(installations, exporters, ingest_run_id, links):
    """The current shipments concerned (:func:`shipment_figures_rechoose`), as a query."""
    scope = Shipment.objects.filter(is_current=True)
    if installations is not None or exporters is not None:
        q = Q(pk__in=[])
        if installations:
            reaching = [org for org, insts in links.items() if insts & set(installations)]
            q |= Q(installation_id__in=installations) | Q(
                installation__isnull=True, exporter_id__in=reaching
            )
        if exporters:
            q |= Q(exporter_id__in=exporters)
        scope = scope.filter(q)
    if ingest_run_id is not None:
        scope = scope.filter(ingest_run_id=ingest_run_id)
    return scope


def _scope_sql(installations, exporters, ingest_run_id, links) -> tuple[str, list]:
    """The same as :func:`_scope`, as a condition on the shipments ``s`` (PostgreSQL):
    written out so that the planner reads a targeted scope from the exporter and
    installation indexes."""
    where, params = "s.is_current", []
    if installations is not None or exporters is not None:
        parts = []
        if installations:
            reaching = sorted(org for org, insts in links.items() if insts & set(installations))
            parts.append(
                "s.installation_id = ANY(%s) OR (s.installation_id IS NULL"
                " AND s.exporter_id = ANY(%s))"
            )
            params += [sorted(installations), reaching]
        if exporters:
            parts.append("s.exporter_id = ANY(%s)")
            params.append(sorted(exporters))
        where += f" AND ({' OR '.join(parts) or 'false'})"
    if ingest_run_id is not None:
        where += " AND s.ingest_run_id = %s"
        params.append(ingest_run_id)
    return where, params


def _groups_read(scope, linked: set[int]) -> list[tuple]:
    """The groups (origin, CN code, year, declared installation or 0, exporter key) of
    the shipments of ``scope``, read from them."""
    rows = (
        scope.annotate(
            y=ExtractYear("date"),
            inst=Coalesce("installation_id", 0),
            ek=Case(
                When(installation__isnull=True, exporter_id__in=linked, then=F("exporter_id")),
                default=Value(0),
            ),
        )
        .values_list("origin", "cn_code", "y", "inst", "ek")
        .distinct()
    )
    return sorted((o, c, int(y), int(i), int(e)) for o, c, y, i, e in rows)


def _groups_pg(where: str, params: list, linked: set[int], *, from_totals: bool) -> list[tuple]:
    """PostgreSQL: the groups of the shipments ``where`` says. ``from_totals``: those of
    every current shipment, from the monthly totals (a few thousand rows, by origin, CN
    code, exporter and month) and the lines that declare an installation (their partial
    index); else read from the shipments."""
    ek = (
        "CASE WHEN s.installation_id IS NULL AND s.exporter_id = ANY(%s)"
        " THEN s.exporter_id ELSE 0 END"
    )
    with connection.cursor() as cursor:
        if from_totals:
            cursor.execute(
                """SELECT DISTINCT origin, cn_code, EXTRACT(YEAR FROM month)::int, 0,
                CASE WHEN exporter_id = ANY(%s) THEN exporter_id ELSE 0 END
                FROM shipments_shipmenttotal
                UNION SELECT DISTINCT s.origin, s.cn_code, EXTRACT(YEAR FROM s.date)::int,
                s.installation_id, 0 FROM shipments_shipment s
                WHERE s.is_current AND s.installation_id IS NOT NULL""",
                [sorted(linked)],
            )
        else:
            cursor.execute(
                f"""SELECT DISTINCT s.origin, s.cn_code, EXTRACT(YEAR FROM s.date)::int,
                COALESCE(s.installation_id, 0), {ek} FROM shipments_shipment s
                WHERE {where}""",
                [sorted(linked), *params],
            )
        return sorted((o, c, int(y), int(i), int(e)) for o, c, y, i, e in cursor.fetchall())


def _figures_choose(groups: list[tuple], links: dict, actor, lap) -> tuple[list[tuple], int]:
    """The chosen figures of each group, as rows of the temporary table of groups, and
    the number of mixtures; ``lap`` times the steps."""
    from apps.estimates.services import default_estimates_ensure
    from apps.facilities.models import Installation

    years = {g[2] for g in groups}
    keys = sorted({(o, c, y) for o, c, y, _, _ in groups})
    marked = default_estimates_ensure(groups=keys, without_markup=False, actor=actor)
    unmarked = default_estimates_ensure(groups=keys, without_markup=True, actor=actor)
    plants = {g[3] for g in groups if g[3]} | {i for g in groups if g[4] for i in links[g[4]]}
    candidates = _rung_candidates(installations=plants, years=years)
    installs = Installation.objects.in_bulk(sorted(plants))
    # Pass 1: the rungs of declared installations, and the plants of linked exporters.
    chosen, wanted = {}, {}
    for o, c, y, inst, ek in groups:
        cbam = (_pick(candidates, inst, o, c, y, verified=True) if inst else None) or marked.get(
            (o, c, y)
        )
        best = _pick(candidates, inst, o, c, y) if inst else None
        if best is None and ek:
            parts = [
                (installs[i], e)
                for i in sorted(links[ek])
                if i in installs
                and installs[i].country == o
                and (e := _pick(candidates, i, o, c, y)) is not None
            ]
            if len(parts) == 1:
                best = parts[0][1]
            elif parts:
                wanted[(ek, o, c, y)] = parts
        chosen[(o, c, y, inst, ek)] = (cbam, best)
    lap("groups_and_defaults")
    # Pass 2: the mixtures (one engine run each, recorded together), then the table.
    mixed = _mixtures_ensure(wanted, actor) if wanted else {}
    lap("mixtures")
    table = []
    for (o, c, y, inst, ek), (cbam, best) in chosen.items():
        best = best or mixed.get((ek, o, c, y)) or unmarked.get((o, c, y))
        table.append(
            (
                o,
                c,
                dt.date(y, 1, 1),
                dt.date(y + 1, 1, 1),
                inst,
                ek,
                cbam.pk if cbam else None,
                cbam.tier if cbam else "",
                cbam.see_total_t_per_t if cbam else None,
                best.pk if best else None,
                best.tier if best else "",
                best.see_total_t_per_t if best else None,
            )
        )
    return table, len(mixed)


_DELTAS = "shipment_figures_deltas"
_DELTA_TOTALS = (
    "embedded_emissions_t",
    "estimated_mass_t",
    "default_mass_t",
    "best_embedded_emissions_t",
    *(f"best_{t}_mass_t" for t in _BEST_TIERS),
)
_DELTA_COLUMNS = ", ".join(f"{c} double precision" for c in _DELTA_TOTALS)


def _month(value) -> dt.date:
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value.date() if isinstance(value, dt.datetime) else value


def _group_join() -> str:
    """A current shipment in its row of the temporary table of groups, ``g``."""
    return f"""
        s.is_current AND s.origin = g.origin AND s.cn_code = g.cn_code
        AND s.date >= g.year_start AND s.date < g.year_end
        AND COALESCE(s.installation_id, 0) = g.inst AND {_exporter_key_sql("s")} = g.ek
    """


def _groups_tables(cursor, table: list[tuple], linked: set[int]) -> None:
    """The temporary tables of the chosen figures by group (``gid``: its place in
    ``table``) and of the linked exporters."""
    vendor = connection.vendor
    drop = "ON COMMIT DROP" if vendor == "postgresql" else ""
    for name in (_GROUPS, _LINKED):
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(
        f"""CREATE TEMPORARY TABLE {_GROUPS} (origin varchar(2), cn_code varchar(8),
        year_start date, year_end date, inst bigint, ek bigint, cbam_id bigint,
        cbam_tier varchar(16), cbam_see double precision, best_id bigint,
        best_tier varchar(16), best_see double precision, gid integer) {drop}"""
    )
    cursor.execute(f"CREATE TEMPORARY TABLE {_LINKED} (exporter_id bigint) {drop}")
    if vendor == "postgresql":
        with cursor.copy(f"COPY {_LINKED} FROM STDIN") as copy:
            for i in sorted(linked):
                copy.write_row((i,))
        with cursor.copy(f"COPY {_GROUPS} FROM STDIN") as copy:
            for gid, row in enumerate(table):
                copy.write_row((*row, gid))
        cursor.execute(f"ANALYZE {_GROUPS}")
        cursor.execute(f"ANALYZE {_LINKED}")
    else:
        cursor.executemany(f"INSERT INTO {_LINKED} VALUES (%s)", [(i,) for i in sorted(linked)])
        cursor.executemany(
            f"INSERT INTO {_GROUPS} VALUES ({', '.join(['%s'] * 13)})",
            [(*row, gid) for gid, row in enumerate(table)],
        )


def _figures_write_pg(
    table: list[tuple], linked: set[int], where: str, params: list
) -> tuple[dict, set, int, int]:
    """PostgreSQL: in one statement, read the shipments ``where`` says (``s``), keep
    those whose figures (estimate and tier, of either) differ from their group's choice,
    rewrite them, and return those rows' counts and sums by exporter, month, figures
    before and after; from them the deltas of the monthly totals, added in a second
    statement. A new figure's embedded emissions are the mass × its SEE (what the
    rewrite writes row by row, to rounding).

    The rows are read once: the rewrite finds each by its physical address (``tableoid``
    and ``ctid``, stable under the caller's lock; one TID scan of the sorted addresses,
    then a hash join with the read rows), not by a second search of the table. The
    read rows carry their group's number (``gid``), not its figures: the materialised
    read of 250,000 rows then stays in memory (with the figures it spilled to disk).
    No index holds a figure column, so the new version of a row is written on its own
    page when it has room (a heap-only update) and no index entry is written.

    Returns the best tiers before, the months touched, the rows changed and the rows
    in no group of ``table`` (left as they were: the caller reads their groups and
    calls again)."""
    with connection.cursor() as cursor:
        _groups_tables(cursor, table, linked)
        # Hash joins only (docs/benchmarks.md): the planner prices the hash join of every
        # row with its group above a merge join that sorts them all (measured twice as
        # slow), and, misjudging the TID scan as ten rows, joined each rewritten row with
        # its group by a scan of the groups (31 s instead of 0.3 s for 250,000 rows).
        cursor.execute("SET LOCAL enable_mergejoin = off")
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(
            f"""WITH old AS MATERIALIZED (
                SELECT s.tableoid AS toid, s.ctid AS tid, g.gid, s.exporter_id,
                    date_trunc('month', s.date)::date AS month, s.net_mass_t AS m,
                    s.estimate_id, s.tier, s.embedded_emissions_t AS emb,
                    s.best_estimate_id, s.best_tier, s.best_embedded_emissions_t AS bemb
                FROM shipments_shipment s LEFT JOIN {_GROUPS} g
                    ON s.origin = g.origin AND s.cn_code = g.cn_code
                    AND s.date >= g.year_start AND s.date < g.year_end
                    AND COALESCE(s.installation_id, 0) = g.inst
                    AND {_exporter_key_sql("s")} = g.ek
                WHERE {where} AND (g.gid IS NULL
                    OR s.estimate_id IS DISTINCT FROM g.cbam_id OR s.tier <> g.cbam_tier
                    OR s.best_estimate_id IS DISTINCT FROM g.best_id
                    OR s.best_tier <> g.best_tier)
            ), written AS (
                UPDATE shipments_shipment AS s SET estimate_id = g.cbam_id,
                    tier = g.cbam_tier, embedded_emissions_t = s.net_mass_t * g.cbam_see,
                    best_estimate_id = g.best_id, best_tier = g.best_tier,
                    best_embedded_emissions_t = s.net_mass_t * g.best_see
                FROM old o JOIN {_GROUPS} g ON g.gid = o.gid
                WHERE s.ctid = ANY(ARRAY(SELECT tid FROM old WHERE gid IS NOT NULL))
                AND s.tableoid = o.toid AND s.ctid = o.tid
                RETURNING 1
            )
            SELECT (SELECT COUNT(*) FROM written), gid, exporter_id, month, estimate_id,
                tier, best_estimate_id, best_tier, COUNT(*), SUM(m), SUM(emb), SUM(bemb)
            FROM old GROUP BY 2, 3, 4, 5, 6, 7, 8""",
            params,
        )
        cells = cursor.fetchall()
        cursor.execute("RESET enable_mergejoin")
        cursor.execute("RESET enable_nestloop")
        deltas: dict[tuple, list[float]] = {}
        before: dict[str, int] = {}
        months: set[dt.date] = set()
        count = lost = 0
        written = cells[0][0] if cells else 0  # the rows the UPDATE changed
        for _, gid, exporter, month, est, tier, _, best_tier, n, m, emb, bemb in cells:
            if gid is None:
                lost += n
                continue
            g = table[gid]
            o, c = g[0], g[1]
            count += n
            month = _month(month)
            months.add(month)
            before[best_tier or "none"] = before.get(best_tier or "none", 0) + n
            d = deltas.setdefault((o, c, exporter, month), [0.0] * len(_DELTA_TOTALS))
            d[0] += (m * g[8] if g[8] is not None else 0.0) - (emb or 0.0)
            d[1] += (m if g[6] is not None else 0.0) - (m if est is not None else 0.0)
            d[2] += (m if g[7] == Tier.DEFAULT else 0.0) - (m if tier == Tier.DEFAULT else 0.0)
            d[3] += (m * g[11] if g[11] is not None else 0.0) - (bemb or 0.0)
            for k, t in enumerate(_BEST_TIERS, start=4):
                d[k] += (m if g[10] == t else 0.0) - (m if best_tier == t else 0.0)
        if written != count:
            raise RuntimeError(
                f"re-choice: the UPDATE changed {written} rows, its read counted {count}"
            )
        if deltas:
            cursor.execute(f"DROP TABLE IF EXISTS {_DELTAS}")  # an earlier pass, same transaction
            cursor.execute(
                f"""CREATE TEMPORARY TABLE {_DELTAS} (origin varchar(2), cn_code varchar(8),
                exporter_id bigint, month date, {_DELTA_COLUMNS}) ON COMMIT DROP"""
            )
            with cursor.copy(f"COPY {_DELTAS} FROM STDIN") as copy:
                for key, d in deltas.items():
                    copy.write_row((*key, *d))
            cursor.execute(
                f"""UPDATE shipments_shipmenttotal AS t SET
                {", ".join(f"{c} = t.{c} + d.{c}" for c in _DELTA_TOTALS)}
                FROM {_DELTAS} d WHERE t.origin = d.origin AND t.cn_code = d.cn_code
                AND t.exporter_id = d.exporter_id AND t.month = d.month"""
            )
    return before, months, count, lost


def _figures_write(table: list[tuple], linked: set[int]) -> tuple[dict, set, int]:
    """Other databases (SQLite): write the chosen figures of each group to its rows
    (temporary tables, then one ``UPDATE … FROM``), only where a figure differs; returns
    the best tiers before, the months touched
    (whose totals the caller rebuilds) and the row count."""
    differs = """(
        s.estimate_id IS NOT g.cbam_id OR s.tier IS NOT g.cbam_tier
        OR s.best_estimate_id IS NOT g.best_id OR s.best_tier IS NOT g.best_tier
        OR s.embedded_emissions_t IS NOT s.net_mass_t * g.cbam_see
        OR s.best_embedded_emissions_t IS NOT s.net_mass_t * g.best_see)"""
    month_sql, month_params = connection.ops.date_trunc_sql("month", "s.date", (), None)
    join = _group_join()
    with connection.cursor() as cursor:
        _groups_tables(cursor, table, linked)
        before: dict[str, int] = {}
        months: set[dt.date] = set()
        cursor.execute(
            f"""SELECT s.best_tier, {month_sql}, COUNT(*) FROM shipments_shipment s
            JOIN {_GROUPS} g ON {join} WHERE {differs} GROUP BY 1, 2""",
            month_params,
        )
        for tier, month, n in cursor.fetchall():
            before[tier or "none"] = before.get(tier or "none", 0) + n
            months.add(_month(month))
        count = 0
        if before:
            cursor.execute(
                f"""UPDATE shipments_shipment AS s SET estimate_id = g.cbam_id,
                tier = g.cbam_tier, embedded_emissions_t = s.net_mass_t * g.cbam_see,
                best_estimate_id = g.best_id, best_tier = g.best_tier,
                best_embedded_emissions_t = s.net_mass_t * g.best_see
                FROM {_GROUPS} g WHERE {join} AND {differs}"""
            )
            count = cursor.rowcount
        for name in (_GROUPS, _LINKED):
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
    return before, months, count


def shipment_estimates_apply(*, estimate: Estimate, actor=None) -> RechooseOutcome:
    """Re-choose both figures of the shipments a new estimate of an installation may
    concern (those declaring it, those of exporters reaching it): the shipments app owns
    pointing shipments at estimates; the disclosures and the modelling call this. Call
    inside the transaction that records the estimate."""
    if estimate.installation_id is None:
        return RechooseOutcome(0, [])
    return shipment_figures_rechoose(installations=[estimate.installation_id], actor=actor)


# --- exports as background jobs (apps/shipments/export_jobs.py) ------------------------


def shipment_export_request(*, user: User, query: str, fmt: str, language: str = "") -> ExportJob:
    """Record an export of ``user``'s list filtered by ``query`` and queue its task; its
    column headers are written in ``language`` (the page's; empty: the site's default)."""
    from apps.shipments.tasks import shipment_export_task

    if fmt not in FORMATS:
        raise ExportError(
            "format: "
            + translation.gettext("%(format)s is not one of %(formats)s")
            % {"format": repr(fmt), "formats": ", ".join(FORMATS)}
        )
    params = QueryDict(query, mutable=True)
    for key in ("cursor", "export", "sort"):
        params.pop(key, None)
    with transaction.atomic():
        job = ExportJob.objects.create(
            user=user, query=params.urlencode(), format=fmt, language=language
        )
        transaction.on_commit(lambda: shipment_export_task.delay(job.pk))
    return job


def shipment_export_run(*, job_id: int) -> bool:
    """Write the job's file (see the module docstring). False when another run claimed
    the job already (nothing done)."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.PENDING).update(
        status=ExportJob.Status.RUNNING, started_at=timezone.now()
    )
    if claimed != 1:
        return False
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    target = export_path(job)
    partial = target.with_suffix(f".{os.getpid()}.part")
    # The headers (and a refusal) in the requester's language: the task has no request.
    language = translation.override(job.language or settings.LANGUAGE_CODE)
    try:
        with language:
            qs = export_queryset(job)
            ExportJob.objects.filter(pk=job.pk).update(rows_total=qs.order_by().count())
            rows = rows_counted(export_rows(qs), job_id=job.pk)
            with partial.open("wb") as out:
                if job.format == "csv":
                    for text in csv_stream(EXPORT_HEADER, rows):
                        out.write(text.encode("utf-8"))
                else:
                    for chunk in xlsx_stream(EXPORT_HEADER, rows):
                        out.write(chunk)
        partial.replace(target)
    except Exception as exc:  # the job says why; the worker goes on
        partial.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        if not isinstance(exc, ExportError):
            raise
        return True
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE,
        size_bytes=target.stat().st_size,
        finished_at=timezone.now(),
    )
    return True
