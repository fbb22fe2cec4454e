"""The contract every reader in ``ingest/`` keeps.

A reader is a pure, offline function::

    def read_<source>(path: str | Path) -> tuple[pandas.DataFrame, dict]

- It takes a path and touches nothing else: no Django, no database, no network.
- It returns the valid rows as a DataFrame with canonical column names and units, and
  ``meta``, a dict with at least::

      {"source": str,           # the source's key (apps/evidence/sources.py, ingest/README.md)
       "path": str,
       "format": str,           # "csv" or "xlsx" (or the source's own format name)
       "rows_read": int,        # data rows found in the file (header and blank lines excluded)
       "rows_accepted": int,    # len(data)
       "rows_rejected": int,    # rows_read - rows_accepted
       "errors": list[RowError]}

  plus whatever the source adds (encoding, delimiter, decimal convention, counts...).
- Every DataFrame row carries ``source_line`` (int), the line it came from, so a later stage
  can report its own errors against the file.
- Valid rows are never lost because of bad rows. A bad row is left out of the DataFrame and
  gives one :class:`RowError` per failing field, naming the field and the reason.
- :class:`IngestError` (or a subclass) is raised only when nothing can be read: the file is
  missing, binary, truncated, or lacks a required column.
- Files are the uploader's to shape, so a reader bounds what it builds: a table over
  ``ingest.tabular``'s shape caps, or an ENTSO-E period over its slot caps, raises
  :class:`TooLarge` (a row error for a single period) *before* anything that size is
  allocated, and untrusted tables are parsed in a child process with a memory and CPU
  limit (``ingest.safety.run_limited``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

Reader = Callable[[str | Path], tuple[pd.DataFrame, dict]]


@dataclass(frozen=True)
class RowError:
    """One problem with one field of one row.

    ``line`` is the 1-based physical line number in a text file (the header is line 1), or
    the row number in an XLSX sheet; ``None`` when the problem has no single line.
    ``field`` is the canonical field name (the reader's output column), ``value`` the text
    found in the file, ``reason`` a sentence a person can act on.
    """

    line: int | None
    field: str
    value: str
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


class IngestError(Exception):
    """Base of every error a reader raises; raised only when nothing can be read."""


class UnreadableFile(IngestError):
    """The file is missing, empty, binary, truncated, or not the format it claims to be."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: cannot read the file: {reason}")


class MissingColumns(IngestError):
    """A required column is absent; the message names the file, the fields and the columns found."""

    def __init__(self, path: str | Path, missing: list[str], found: list[str]) -> None:
        self.path = str(path)
        self.missing = list(missing)
        self.found = list(found)
        super().__init__(
            f"{self.path}: missing required column(s) {', '.join(self.missing)}; "
            f"columns found: {', '.join(repr(c) for c in self.found) or 'none'}"
        )


class AmbiguousColumns(IngestError):
    """Two or more columns of the file map to the same field, so the reader cannot choose."""

    def __init__(self, path: str | Path, field: str, columns: list[str]) -> None:
        self.path = str(path)
        self.field = field
        self.columns = list(columns)
        super().__init__(
            f"{self.path}: columns {', '.join(repr(c) for c in self.columns)} all mean "
            f"'{field}'; keep only one"
        )


class TooLarge(UnreadableFile):
    """The file asks for more than a limit allows (rows, columns, cells, time slots, or the
    memory or time of its parse); the message names the limit and the value found."""

    def __init__(self, path: str | Path, what: str, found: int | str, limit: int | str) -> None:
        self.what, self.found, self.limit = what, found, limit
        found_text = f" {found:,}" if isinstance(found, int) else f" {found}" if found else ""
        limit_text = f"{limit:,}" if isinstance(limit, int) else str(limit)
        limit_text = f" (limit {limit_text})" if limit_text else ""
        super().__init__(path, f"too large: {what}{found_text}{limit_text}")
