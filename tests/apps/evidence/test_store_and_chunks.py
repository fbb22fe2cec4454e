"""The evidence store's two backends (apps/evidence/store.py) and the chunked customs
ingest (apps.shipments.services.shipments_chunk_ingest): docs/operations-workers.md,
"Several hosts"."""

from __future__ import annotations

import io

import pytest
from django.db import connection

from apps.evidence import store
from apps.evidence.models import EvidenceBlobChunk, IngestChunk, IngestRun
from apps.evidence.services import evidence_store, ingest_chunk_execute
from apps.shipments.models import Shipment, ShipmentTotal
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services

BYTES = b"".join(b"line %03d of the evidence\n" % k for k in range(41))  # 25 bytes a line


@pytest.mark.parametrize("backend", ["postgres", "local"])
def test_store_round_trip(backend, postgres_tx, settings, monkeypatch, tmp_path):
    settings.EVIDENCE_STORE = backend
    monkeypatch.setattr(store, "BLOB_CHUNK", 100)  # 1,025 bytes → chunks of 100: 11
    first = evidence_store(stream=io.BytesIO(BYTES), name="a.csv")
    again = evidence_store(stream=io.BytesIO(BYTES), name="b.csv")
    assert again.pk == first.pk and first.size == 1025
    rows = EvidenceBlobChunk.objects.filter(evidence=first).count()
    assert rows == (11 if backend == "postgres" else 0)
    on_disk = (settings.EVIDENCE_ROOT / first.sha256[:2] / first.sha256).exists()
    assert on_disk == (backend == "local")
    with store.evidence_open(first) as stream:
        assert stream.read(7) == b"line 00"
        assert stream.read() == BYTES[7:]
    # A range across three chunks (bytes 95..250), and the last partial chunk.
    assert store.evidence_read_range(first, 95, 251) == BYTES[95:251]
    assert store.evidence_read_range(first, 990, 1025) == BYTES[990:]
    with store.evidence_local_path(first, name="DE.yaml") as path:
        assert path.name == "DE.yaml" and path.read_bytes() == BYTES
    with pytest.raises(ValueError, match=r"big\.csv: larger than the 1000 byte limit"):
        evidence_store(stream=io.BytesIO(BYTES + b"x"), name="big.csv", max_bytes=1000)


def test_missing_bytes_are_named(postgres_tx, settings):
    settings.EVIDENCE_STORE = "postgres"
    evidence = evidence_store(stream=io.BytesIO(b"abc"))
    EvidenceBlobChunk.objects.filter(evidence=evidence).delete()
    with pytest.raises(store.EvidenceMissing, match=f"sha256 {evidence.sha256}: .* postgres"):
        store.evidence_open(evidence)


# Nine data lines (file lines 2–10); chunks of 3 records. Line 5's importer holds a line
# break inside quotes (one record on file lines 5–6), so chunks are lines 2–4, 5–8, 9–11.
LINES = [
    "C1,1,2026-03-02,72081000,TR,Ankara Steel,Imp,1000000,,4000,",  # 2: 1,000 t
    "C1,2,2026-03-02,01012100,TR,Ankara Steel,Imp,5000,,4000,",  # 3: not a CBAM good
    "C2,1,2026-03-03,72081000,TR,Ankara Steel,Imp,2000000,,4000,",  # 4: 2,000 t
    'C3,1,2026-04-01,72081000,TR,Ankara Steel,"Imp\nLtd",500000,,4000,',  # 5-6: 500 t
    "C3,2,2026-04-01,72081000,TR,Ankara Steel,Imp,-5,,4000,",  # 7: negative mass
    "C4,1,2026-04-02,72081000,TR,Ankara Steel,Imp,250000,,4000,",  # 8: 250 t
    "C1,1,2026-03-02,72081000,TR,Ankara Steel,Imp,1000000,,4000,",  # 9: repeats line 2
    "C5,1,2026-05-01,72081000,TR,Ankara Steel,Imp,3000000,,4000,",  # 10: 3,000 t
    "C5,2,2026-05-01,72081000,TR,Ankara Steel,Imp,1250000,,4000,",  # 11: 1,250 t
]


@pytest.mark.parametrize("chunk_lines", [0, 3])
def test_chunked_customs_ingest_matches_whole(chunk_lines, postgres_tx, settings, tmp_path):
    """The same file, whole and in chunks of 3 records: the same summary, the same rows."""
    settings.CUSTOMS_CHUNK_LINES = chunk_lines
    ingest_json("defaults", DEFAULTS_CSV)
    summary = ingest_json("customs", write_customs(tmp_path / "c.csv", LINES))
    assert (summary["accepted"], summary["rejected"], summary["duplicates"]) == (6, 3, 0)
    assert [(e["line"], e["field"]) for e in summary["errors"]] == [
        (3, "cn_code"),
        (7, "net_mass_kg"),
        (9, "line"),
    ]
    assert summary["errors"][2]["reason"] == "duplicate: declaration 'C1' line 1 already on line 2"
    run = IngestRun.objects.get(source="customs")
    chunks = list(IngestChunk.objects.filter(run=run).order_by("index"))
    if chunk_lines:
        assert [(c.first_line, c.status) for c in chunks] == [
            (2, "done"),
            (5, "done"),
            (9, "done"),
        ]
        assert [c.accepted for c in chunks] == [2, 2, 2]
        assert [c.rejected for c in chunks] == [1, 1, 1]
    else:
        assert chunks == []
    assert run.status == "done" and run.rows_read == 9
    stored = sorted(
        Shipment.objects.filter(ingest_run=run).values_list("source_line", "net_mass_t", "tier")
    )
    assert [(line, mass) for line, mass, _ in stored] == [
        (2, 1000.0),
        (4, 2000.0),
        (5, 500.0),
        (8, 250.0),
        (10, 3000.0),
        (11, 1250.0),
    ]
    assert {tier for _, _, tier in stored} == {"default"}  # every line estimated
    total = sum(t.net_mass_t for t in ShipmentTotal.objects.all())
    assert total == pytest.approx(8000.0)
    if chunk_lines:
        # A chunk delivered again after it is done stores nothing more.
        ingest_chunk_execute(chunk_id=chunks[1].pk)
        assert Shipment.objects.filter(ingest_run=run).count() == 6
        assert connection.vendor == "postgresql"


def test_stored_chunks_are_compressed_with_lz4_and_come_back_whole(postgres, settings):
    """Migration evidence/0007: chunks go in by one binary COPY, compressed with LZ4 (a
    compressible chunk: PostgreSQL compresses values over ~2 kB); read back whole."""
    settings.EVIDENCE_STORE = "postgres"
    text = BYTES * 400  # 410,000 bytes of text, one chunk
    stored = evidence_store(stream=io.BytesIO(text), name="big.csv")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_compression(data), octet_length(data) "
            "FROM evidence_evidenceblobchunk WHERE evidence_id = %s",
            [stored.pk],
        )
        assert cursor.fetchall() == [("lz4", len(text))]
    with store.evidence_local_path(stored) as path:
        assert path.read_bytes() == text
