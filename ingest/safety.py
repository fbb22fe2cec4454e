"""Guards every reader of an untrusted file goes through, whatever its source.

- **XLSX** (:func:`check_xlsx`): a ZIP bomb check before openpyxl opens it: number of
  entries, the sum of the declared uncompressed sizes, the compression ratio, and the
  actual decompressed size while streaming (declared sizes can lie); every XML part is
  parsed with expat (no tree built), refusing DTDs, entity declarations and external
  references as defusedxml does (billion laughs, XXE). Used by ``ingest.tabular`` (every
  table), ``ingest.facilities.gem`` and the disclosure checks (``ingest.disclosure.safety``).
- **Parsing** (:func:`run_limited`): a parse runs in a forked child whose address space may
  grow by :data:`PARSE_MEMORY` bytes and whose CPU time is :data:`PARSE_SECONDS`; the parent
  waits with the same wall-clock limit. A parse that needs more dies in the child, and the
  worker's own process carries on.
"""

from __future__ import annotations

import os
import pickle
import re
import signal
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.parsers import expat

from ingest.base import IngestError, TooLarge


class UnsafeFile(IngestError):
    """A file built to hurt a parser (zip bomb, XML entity expansion), or not the archive
    it claims to be; ``reason`` says which."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: rejected: {reason}")


XLSX_MAX_ENTRIES = 2000
XLSX_MAX_UNCOMPRESSED = 200 * 2**20  # all parts together, declared and actual
XLSX_MAX_RATIO = 200  # uncompressed / compressed, for the archive and for each large part
XLSX_RATIO_MIN_SIZE = 2**20  # small parts may compress better than this without harm
XLSX_REQUIRED = ("[Content_Types].xml", "xl/workbook.xml")
_CHUNK = 2**16


class _Capped:
    """A read-only stream that raises once more than ``limit`` bytes came out of it."""

    def __init__(self, stream, limit: int, path: str, name: str) -> None:
        self.stream, self.limit, self.path, self.name = stream, limit, path, name
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(_CHUNK if size is None or size < 0 else min(size, _CHUNK))
        self.count += len(data)
        if self.count > self.limit:
            raise UnsafeFile(self.path, f"{self.name} decompresses beyond {self.limit} bytes")
        return data


def check_xlsx(path: str | Path) -> None:
    """Reject a ZIP that is not a workbook or that would exhaust memory or CPU."""
    path = str(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeFile(path, f"not a readable ZIP archive ({exc})") from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > XLSX_MAX_ENTRIES:
            raise UnsafeFile(path, f"{len(entries)} ZIP entries (limit {XLSX_MAX_ENTRIES})")
        names = {entry.filename for entry in entries}
        missing = [name for name in XLSX_REQUIRED if name not in names]
        if missing:
            raise UnsafeFile(path, f"a ZIP but not an XLSX workbook (no {', '.join(missing)})")
        declared = sum(entry.file_size for entry in entries)
        compressed = sum(entry.compress_size for entry in entries) or 1
        if declared > XLSX_MAX_UNCOMPRESSED:
            raise UnsafeFile(
                path, f"declares {declared} bytes uncompressed (limit {XLSX_MAX_UNCOMPRESSED})"
            )
        if declared > XLSX_RATIO_MIN_SIZE and declared / compressed > XLSX_MAX_RATIO:
            raise UnsafeFile(path, f"compression ratio {declared / compressed:.0f} is a ZIP bomb")
        budget = XLSX_MAX_UNCOMPRESSED
        for entry in entries:
            if entry.flag_bits & 0x1:
                raise UnsafeFile(path, f"{entry.filename} is encrypted")
            if entry.file_size > XLSX_RATIO_MIN_SIZE and (
                entry.file_size / max(entry.compress_size, 1) > XLSX_MAX_RATIO
            ):
                raise UnsafeFile(path, f"{entry.filename}: compression ratio is a ZIP bomb")
            # Stream every part with a cap: the declared sizes are the attacker's to choose.
            limit = min(budget, max(entry.file_size, 0) + 1)
            try:
                with archive.open(entry) as raw:
                    stream = _Capped(raw, limit, path, entry.filename)
                    if entry.filename.endswith((".xml", ".rels", ".vml")):
                        _check_xml(stream, path, entry.filename)
                    while stream.read(_CHUNK):
                        pass
            except UnsafeFile:
                raise
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise UnsafeFile(path, f"{entry.filename} cannot be decompressed ({exc})") from exc
            budget -= stream.count
            if budget < 0:
                raise UnsafeFile(path, "the parts decompress beyond the size limit")


class _Refused(Exception):
    pass


def _refuse(what: str) -> Callable[..., None]:
    def handler(*_args) -> None:
        raise _Refused(what)

    return handler


def _check_xml(stream: _Capped, path: str, name: str) -> None:
    """Parse the part with expat and no element handler (C speed: no tree is built), and
    refuse a DTD, an entity declaration or an external reference as soon as expat meets
    one: the handlers defusedxml installs for ``forbid_dtd``, ``forbid_entities`` and
    ``forbid_external``."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse("DTD")
    parser.EntityDeclHandler = _refuse("entity declaration")
    parser.UnparsedEntityDeclHandler = _refuse("unparsed entity declaration")
    parser.ExternalEntityRefHandler = _refuse("external reference")
    try:
        while chunk := stream.read(_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Refused as exc:
        raise UnsafeFile(path, f"{name}: XML with a DTD or entities is refused ({exc})") from exc
    except UnsafeFile:
        raise
    except Exception as exc:  # ExpatError and friends: malformed XML
        raise UnsafeFile(path, f"{name}: malformed XML ({exc})") from exc


# --- Parsing in a limited child process -----------------------------------------------

#: Bytes of address space a parse may add to what the process already maps. A table at
#: the shape caps of ``ingest.tabular`` (30 million cells) parses in well under this.
PARSE_MEMORY = 2 * 2**30
#: Seconds of CPU (in the child) and of wall clock (the parent's wait) a parse may take.
PARSE_SECONDS = 600


def _mapped_bytes() -> int:
    """This process's address space now [bytes] (``VmSize``, proc(5))."""
    with open("/proc/self/status") as status:
        match = re.search(r"^VmSize:\s+(\d+) kB$", status.read(), re.MULTILINE)
    return int(match.group(1)) * 1024 if match else 0


def _child(function: Callable[..., Any], args: tuple, out, memory: int, seconds: int) -> None:
    import ctypes
    import resource

    try:  # die with the parent (a worker's pool process killed at its time limit)
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    resource.setrlimit(resource.RLIMIT_AS, (_mapped_bytes() + memory,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    try:
        result: tuple = ("ok", function(*args))
    except MemoryError:
        result = ("memory", None)
    except Exception as exc:  # the parent raises it again, with its type and fields
        result = ("error", (type(exc), exc.args, dict(vars(exc))))
    try:
        pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        out.seek(0)
        out.truncate()
        pickle.dump(("memory", None), out)
    except Exception as exc:  # an unpicklable error: its text will do
        out.seek(0)
        out.truncate()
        pickle.dump(("error", (RuntimeError, (f"{type(exc).__name__}: {exc}",), {})), out)
    out.flush()


def run_limited(
    function: Callable[..., Any],
    *args: Any,
    path: str | Path,
    memory: int = PARSE_MEMORY,
    seconds: int = PARSE_SECONDS,
) -> Any:
    """``function(*args)`` computed in a forked child limited to ``memory`` more bytes of
    address space (``RLIMIT_AS``) and ``seconds`` of CPU (``RLIMIT_CPU``), waited for at
    most ``seconds`` of wall clock. Its result (or the exception it raised) comes back
    pickled through a temporary file.

    Raises :class:`~ingest.base.TooLarge` naming ``path`` when the child runs out of
    memory or time or is killed; re-raises the child's own exception otherwise. A fork,
    not a new interpreter: nothing is imported again, and the child leaves through
    ``os._exit`` so it closes nothing of the parent's (database or broker connections).
    """
    with tempfile.TemporaryFile(prefix="cm-parse-") as out:
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 0
            try:
                _child(function, args, out, memory, seconds)
            except BaseException:
                code = 70
            finally:
                os._exit(code)
        deadline = time.monotonic() + seconds
        pause = 0.001
        try:
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                if time.monotonic() > deadline:
                    raise TooLarge(path, "parse time [s]", f"over {seconds}", seconds)
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
        except BaseException:  # the time limit, or the task's own (SoftTimeLimitExceeded)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            what = "CPU time" if number == signal.SIGXCPU else "memory or CPU"
            raise TooLarge(
                path, f"parse killed by signal {number} ({what} limit)", "", f"{memory:,} bytes"
            )
        out.seek(0)
        try:
            # Written by our own forked child into a file only it and we hold.
            kind, value = pickle.load(out)  # noqa: S301
        except Exception as exc:  # an empty file: the child failed before writing
            raise TooLarge(path, "parse failed in its child process", "", "") from exc
    if kind == "memory":
        raise TooLarge(path, "memory to parse [bytes]", f"over {memory:,}", memory)
    if kind == "error":
        cls, exc_args, fields = value
        error = cls.__new__(cls)
        error.args = exc_args
        vars(error).update(fields)
        raise error
    return value
