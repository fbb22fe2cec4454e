"""The stored files' chunks compressed with LZ4 rather than PostgreSQL's default pglz:
storing an upload took about a second per 18 MB of CSV with pglz (the largest cost of an
ingest after the COPY itself; docs/scaling.md, "Measured cost and size"), several times
less with LZ4, for files about as small. Chunks already stored keep their compression;
each chunk says its own, and both read back the same bytes. A server built without LZ4
keeps pglz."""

from django.db import DatabaseError, migrations, transaction


def _set(compression: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return  # SQLite stores the bytes as they are
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                schema_editor.execute(
                    "ALTER TABLE evidence_evidenceblobchunk ALTER COLUMN data "
                    f"SET COMPRESSION {compression}"
                )
        except DatabaseError:
            pass  # a server built without LZ4 keeps pglz: slower to store, the same bytes

    return run


class Migration(migrations.Migration):
    dependencies = [("evidence", "0006_evidence_blobs_and_ingest_chunks")]

    operations = [migrations.RunPython(_set("lz4"), _set("pglz"))]
