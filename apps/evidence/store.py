"""Where the bytes of evidence files live: one interface, two backends (docs/operations-workers.md,
"Several hosts").

- ``postgres``: the bytes in the database, in :class:`~apps.evidence.models.EvidenceBlobChunk`
  rows of at most :data:`BLOB_CHUNK` bytes each (keyed by the file and the chunk's number),
  so a large file is never one huge value and is read back as a stream, chunk by chunk.
  Every worker that can reach the database can read every file: the default whenever the
  database is PostgreSQL.
- ``local``: files under ``settings.EVIDENCE_ROOT`` named by their SHA-256 (the embedded
  default, with SQLite): one host, or a directory every host mounts.

``settings.EVIDENCE_STORE`` (``CM_EVIDENCE_STORE``) picks one. Nothing outside this module
opens a stored file by path: :func:`evidence_open` gives a stream, :func:`evidence_local_path`
a path on this host (a private temporary copy for the ``postgres`` backend, removed on exit)
for the readers under ``ingest/`` that take paths.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import connection, transaction

from apps.evidence.models import EvidenceBlobChunk, EvidenceFile

#: Bytes per stored chunk of the ``postgres`` backend (and per read of a stream).
BLOB_CHUNK = 1 << 20
BACKENDS = ("postgres", "local")


class EvidenceMissing(FileNotFoundError):
    """The file's bytes are not in this installation's store."""

    def __init__(self, evidence: EvidenceFile, backend: str) -> None:
        self.sha256 = evidence.sha256
        super().__init__(
            f"sha256 {evidence.sha256}: the evidence file is not in the {backend} store"
        )


def backend_name() -> str:
    return settings.EVIDENCE_STORE


def _local_target(sha: str) -> Path:
    return Path(settings.EVIDENCE_ROOT) / sha[:2] / sha


# --------------------------------------------------------------------------- writing


def evidence_save(*, spooled: BinaryIO, sha: str, size: int) -> EvidenceFile:
    """Keep the bytes of ``spooled`` (already hashed: ``sha``, ``size``; positioned
    anywhere) under their hash, once, and return their :class:`EvidenceFile`."""
    if backend_name() == "local":
        target = _local_target(sha)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as tmp:
                    spooled.seek(0)
                    shutil.copyfileobj(spooled, tmp, BLOB_CHUNK)
                os.replace(tmp_name, target)
            except BaseException:
                if os.path.exists(tmp_name):
                    os.unlink(tmp_name)
                raise
        evidence, _ = EvidenceFile.objects.get_or_create(sha256=sha, defaults={"size": size})
        return evidence
    # postgres: the file row and all its chunks commit together; a concurrent upload of the
    # same bytes waits on the row lock and then finds the chunks there.
    with transaction.atomic():
        evidence, _ = EvidenceFile.objects.get_or_create(sha256=sha, defaults={"size": size})
        evidence = EvidenceFile.objects.select_for_update().get(pk=evidence.pk)
        if not EvidenceBlobChunk.objects.filter(evidence=evidence).exists():
            spooled.seek(0)
            if connection.vendor == "postgresql":
                _chunks_copy(evidence, spooled)
            else:
                seq = 0
                while data := spooled.read(BLOB_CHUNK):
                    EvidenceBlobChunk.objects.create(evidence=evidence, seq=seq, data=data)
                    seq += 1
    return evidence


_COPY_CHUNKS_IN = (
    "COPY evidence_evidenceblobchunk (evidence_id, seq, data) FROM STDIN (FORMAT binary)"
)
_COPY_CHUNKS_OUT = (
    "COPY (SELECT data FROM evidence_evidenceblobchunk WHERE evidence_id = %s ORDER BY seq) "
    "TO STDOUT (FORMAT binary)"
)


def _chunks_copy(evidence: EvidenceFile, spooled: BinaryIO) -> None:
    """The chunks of ``spooled`` in one binary ``COPY``: the bytes go as they are, where an
    insert per chunk sends each as hex text for the server to parse back (18 MB: 0.1 s
    against 0.65–0.93 s, docs/scaling.md "Measured cost and size")."""
    with connection.cursor() as cursor, cursor.cursor.copy(_COPY_CHUNKS_IN) as copy:
        copy.set_types(["bigint", "integer", "bytea"])
        seq = 0
        while data := spooled.read(BLOB_CHUNK):
            copy.write_row((evidence.pk, seq, data))
            seq += 1


def _chunks_write_to(evidence: EvidenceFile, out: BinaryIO) -> None:
    """Write the stored chunks of ``evidence`` to ``out``, in order, read by one binary
    ``COPY`` (one chunk in memory at a time)."""
    with connection.cursor() as cursor, cursor.cursor.copy(_COPY_CHUNKS_OUT, [evidence.pk]) as copy:
        copy.set_types(["bytea"])
        for (data,) in copy.rows():
            out.write(data)


def evidence_spool(*, stream: BinaryIO, name: str = "", max_bytes: int | None = None):
    """Copy ``stream`` into a private temporary file while hashing it; returns
    ``(file, sha256, size)``. Raises ValueError past ``max_bytes`` (nothing is kept)."""
    digest = hashlib.sha256()
    size = 0
    spooled = tempfile.TemporaryFile(prefix="cm-upload-")
    try:
        while chunk := stream.read(BLOB_CHUNK):
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise ValueError(f"{name or 'upload'}: larger than the {max_bytes} byte limit")
            digest.update(chunk)
            spooled.write(chunk)
    except BaseException:
        spooled.close()
        raise
    return spooled, digest.hexdigest(), size


# --------------------------------------------------------------------------- reading


def evidence_exists(evidence: EvidenceFile) -> bool:
    if backend_name() == "local":
        return _local_target(evidence.sha256).is_file()
    return EvidenceBlobChunk.objects.filter(evidence=evidence).exists()


class _BlobReader:
    """A read-only stream over a file's chunks, fetching one chunk at a time."""

    def __init__(self, evidence: EvidenceFile) -> None:
        self.evidence_id = evidence.pk
        self.seq = 0
        self.buffer = b""
        self.done = False

    def readable(self) -> bool:
        return True

    def _next(self) -> bool:
        data = (
            EvidenceBlobChunk.objects.filter(evidence_id=self.evidence_id, seq=self.seq)
            .values_list("data", flat=True)
            .first()
        )
        if data is None:
            self.done = True
            return False
        self.seq += 1
        self.buffer += bytes(data)
        return True

    def read(self, size: int = -1) -> bytes:
        while not self.done and (size < 0 or len(self.buffer) < size):
            self._next()
        if size < 0:
            out, self.buffer = self.buffer, b""
        else:
            out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out

    def __iter__(self):
        while chunk := self.read(BLOB_CHUNK):
            yield chunk

    def close(self) -> None:
        self.buffer, self.done = b"", True

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def evidence_open(evidence: EvidenceFile) -> BinaryIO:
    """A binary stream of the stored bytes (EvidenceMissing when the store lacks them)."""
    if backend_name() == "local":
        target = _local_target(evidence.sha256)
        if not target.is_file():
            raise EvidenceMissing(evidence, "local")
        return open(target, "rb")
    if not evidence_exists(evidence):
        raise EvidenceMissing(evidence, "postgres")
    return _BlobReader(evidence)


@contextlib.contextmanager
def evidence_local_path(evidence: EvidenceFile, *, name: str = "") -> Iterator[Path]:
    """A path on this host holding the stored bytes, for readers that take paths.

    ``name``: the file's name as the reader must see it (readers read the suffix or the
    stem); the path is then in a private directory of its own. With the ``postgres``
    backend the bytes are copied into a private temporary file, removed on exit; with
    ``local`` the stored file itself (or a link to it under ``name``) is given."""
    name = Path(name).name
    with tempfile.TemporaryDirectory(prefix="cm-evidence-") as folder:
        if backend_name() == "local":
            target = _local_target(evidence.sha256)
            if not target.is_file():
                raise EvidenceMissing(evidence, "local")
            if not name:
                yield target
                return
            link = Path(folder) / name
            link.symlink_to(target)
            yield link
            return
        path = Path(folder) / (name or evidence.sha256)
        if connection.vendor == "postgresql":
            if not evidence_exists(evidence):
                raise EvidenceMissing(evidence, "postgres")
            with open(path, "wb") as out:
                _chunks_write_to(evidence, out)
        else:
            with evidence_open(evidence) as stream, open(path, "wb") as out:
                shutil.copyfileobj(stream, out, BLOB_CHUNK)
        yield path


def evidence_read_range(evidence: EvidenceFile, start: int, end: int) -> bytes:
    """Bytes ``[start, end)`` of the stored file, reading only the chunks that hold them
    (every chunk but the last holds exactly :data:`BLOB_CHUNK` bytes)."""
    if end <= start:
        return b""
    if backend_name() == "local":
        with evidence_open(evidence) as stream:
            stream.seek(start)
            return stream.read(end - start)
    first, last = start // BLOB_CHUNK, (end - 1) // BLOB_CHUNK
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT data FROM evidence_evidenceblobchunk WHERE evidence_id = %s "
            "AND seq BETWEEN %s AND %s ORDER BY seq",
            [evidence.pk, first, last],
        )
        data = b"".join(bytes(row[0]) for row in cursor.fetchall())
    offset = start - first * BLOB_CHUNK
    return data[offset : offset + (end - start)]
