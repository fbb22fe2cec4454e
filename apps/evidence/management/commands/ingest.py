"""``python manage.py ingest <source> PATH... [--json]`` (docs/interfaces.md).

Each file is stored content-addressed, then read by a task on the queue (in-process when
no broker is configured); the command waits, printing progress, then prints counts and
the row-level error report. A source's own options, how its run is created and what it
adds to ``--json`` come from its entry in :data:`apps.evidence.sources.SOURCES`. Exit
status 0 when every file was taken (even with rejected rows), 1 when a file could not be
read at all.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string

from apps.evidence.models import IngestRun
from apps.evidence.selectors import IngestTimeout, ingest_run_report, ingest_run_wait
from apps.evidence.services import evidence_store_path, ingest_run_create
from apps.evidence.sources import SOURCES, command_options

MAX_ERRORS_PRINTED = 50


class Command(BaseCommand):
    help = "Ingest evidence files of one source: " + ", ".join(SOURCES)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", choices=sorted(SOURCES))
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument("--json", action="store_true", help="print one JSON summary last")
        parser.add_argument(
            "--timeout", type=float, default=None, help="seconds to wait for the worker"
        )
        # The sources' own options (e.g. disclosure's --exporter, --installation, --period).
        for flag, option in command_options().items():
            parser.add_argument(
                flag, dest=option.name, type=option.type, default=option.default, help=option.help
            )

    def handle(self, *args, source: str, paths: list[Path], **options) -> None:
        as_json: bool = options["json"]
        failed = False
        entry = SOURCES[source]
        run_options = {option.name: options[option.name] for option in entry.options}
        create = import_string(entry.submit) if entry.submit else ingest_run_create
        summarise = import_string(entry.summary) if entry.summary else None
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            evidence = evidence_store_path(path=path)
            run = create(
                source=source, evidence=evidence, original_name=path.name, options=run_options
            )
            if run.enqueue_failure:
                # Kept pending: the reconciler sends it when the queue is back (issue #16).
                raise CommandError(
                    f"{path}: stored (sha256 {evidence.sha256}) as run {run.pk}, but "
                    f"{run.enqueue_failure}; the run stays pending and is sent again when "
                    "the queue is back"
                )
            run = self._wait(run, options["timeout"], quiet=as_json)
            summary = run.summary()
            summary["file"] = str(path)
            if run.status == IngestRun.Status.FAILED:
                failed = True
                summary["failure"] = run.failure
            if summarise is not None:  # e.g. disclosure's "extractor" and "values"
                summary.update(summarise(run=run))
            if as_json:  # one JSON object per file, each on one line; the last line is JSON
                self.stdout.write(json.dumps(summary))
            else:
                self._print_report(run)
        if failed:
            sys.exit(1)

    def _wait(self, run: IngestRun, timeout: float | None, *, quiet: bool) -> IngestRun:
        def show(r: IngestRun) -> None:
            self.stderr.write(
                f"run {r.pk}: {r.status}, read {r.rows_read}, accepted {r.accepted}, "
                f"rejected {r.rejected}…"
            )

        try:
            return ingest_run_wait(run=run, timeout=timeout, on_change=None if quiet else show)
        except IngestTimeout as exc:
            raise CommandError(str(exc)) from None

    def _print_report(self, run: IngestRun) -> None:
        lines = ingest_run_report(run, max_errors=MAX_ERRORS_PRINTED)
        if run.status == IngestRun.Status.FAILED:
            self.stderr.write(self.style.ERROR(lines[0]))
        else:
            self.stdout.write("\n".join(lines))
