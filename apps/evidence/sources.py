"""The evidence sources: one registry, as ``python manage.py ingest <source> PATH`` names
them (docs/contributing.md, "Where new things go"; ingest/README.md, "Adding a source").

Each entry names, as dotted paths imported when they are needed (so that the evidence app
imports no area at start-up):

- ``reader``: the pure reader under ``ingest/`` (``read_<source>(path) -> (data, meta)``);
  its ``meta["source"]`` is the entry's key, except where one ingester takes two readers'
  files (``customs`` also reads aggregate trade statistics);
- ``ingester``: the area service that executes a run (``ingester(run=run) -> IngestOutcome``);
- ``options``: the command-line options only this source takes, passed to the run as
  ``run.options``;
- ``submit`` (optional): the area service that turns a stored file and those options into
  a run, instead of :func:`apps.evidence.services.ingest_run_create`;
- ``summary`` (optional): the selector that adds the source's own keys to the command's
  ``--json`` summary.

Adding a source is adding an entry; the command and the worker read nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Option:
    """One source-specific option of the ``ingest`` command (``--name``)."""

    name: str  # the run.options key; the flag is --name with "_" as "-"
    help: str
    type: Callable[[str], Any] = str
    default: Any = ""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Source:
    reader: str
    ingester: str
    options: tuple[Option, ...] = ()
    submit: str = ""
    summary: str = ""
    #: A source whose large files are split into chunks (apps.evidence.services,
    #: ``ingest_chunks_plan``): the service that stores one chunk
    #: (``chunk(run=, chunk=, worker=)``, calling ``ingest_chunk_done`` in its transaction)
    #: and the one that sums the done chunks into the run's outcome (``finish(run=,
    #: chunks=) -> IngestOutcome``, called once, in the transaction that finishes the run).
    chunk: str = ""
    chunks_finish: str = ""


SOURCES: dict[str, Source] = {
    "defaults": Source(
        reader="ingest.cbam_defaults.read_cbam_defaults",
        ingester="apps.catalogue.services.default_values_ingest",
    ),
    "customs": Source(
        reader="ingest.customs.read_customs",  # and ingest.trade_stats.read_trade_stats
        ingester="apps.shipments.services.shipments_ingest",
        chunk="apps.shipments.services.shipments_chunk_ingest",
        chunks_finish="apps.shipments.services.shipments_chunks_finish",
    ),
    "grid": Source(
        reader="ingest.emaps_hourly.read_emaps_hourly",
        ingester="apps.grid.services.grid_ingest",
    ),
    "factors": Source(
        reader="ingest.emission_factors.read_emission_factors",
        ingester="apps.grid.services.factors_ingest",
    ),
    "raster": Source(
        reader="ingest.raster.read_raster",
        ingester="apps.satellite.services.raster_ingest",
    ),
    "facilities": Source(
        reader="ingest.facilities.read_facilities",
        ingester="apps.facilities.services.facilities_ingest",
    ),
    "disclosure": Source(
        reader="ingest.disclosure.read_disclosure",
        ingester="apps.disclosures.extraction.disclosure_ingest",
        options=(
            Option("exporter", "disclosure: the organisation"),
            Option("installation", "disclosure: installation id"),
            Option("period", "disclosure: year YYYY", type=int, default=None),
        ),
        submit="apps.disclosures.command.disclosure_command_submit",
        summary="apps.disclosures.selectors.disclosure_run_summary",
    ),
    "cbam_report": Source(
        reader="ingest.cbam_report.read_cbam_report",
        ingester="apps.shipments.declared.cbam_report_ingest",
    ),
}


def ingester(source: str) -> Callable[..., Any]:
    """The service that ingests ``source`` (KeyError for an unknown source)."""
    return import_string(SOURCES[source].ingester)


def command_options() -> dict[str, Option]:
    """Every source-specific option by flag, once (two sources may share one)."""
    out: dict[str, Option] = {}
    for source in SOURCES.values():
        for option in source.options:
            out.setdefault(option.flag, option)
    return out


def chunk_ingester(source: str) -> Callable[..., Any]:
    """The service that stores one chunk of a chunked ``source`` run."""
    return import_string(SOURCES[source].chunk)


def chunks_finisher(source: str) -> Callable[..., Any]:
    """The service that sums a chunked ``source`` run's chunks into its outcome."""
    return import_string(SOURCES[source].chunks_finish)
