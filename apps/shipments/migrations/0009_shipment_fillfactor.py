"""Leave a fifth of each page of shipments free (PostgreSQL ``fillfactor`` 80), so that a
re-choice of the figures can write a row's new version on its own page: a heap-only
(HOT) update, which writes no index entry (docs/benchmarks.md, re-choosing both
figures). Applies to pages written from now on; ``VACUUM FULL shipments_shipment``
re-packs an existing table (docs/operations.md)."""

from django.db import migrations


def fillfactor(value: int | None):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        setting = f"SET (fillfactor = {value})" if value else "RESET (fillfactor)"
        schema_editor.execute(f"ALTER TABLE shipments_shipment {setting}")

    return run


class Migration(migrations.Migration):
    dependencies = [("shipments", "0008_importer_eori_organisation")]

    operations = [migrations.RunPython(fillfactor(80), fillfactor(None))]
