"""Drop the indexes ``(tier, id)`` and ``(best_tier, id)`` (from 0012): a re-choice of the
figures changes those columns, and a change of an indexed column cannot be written
heap-only (HOT), so every changed row wrote a new entry in each of the table's indexes —
four times the cost of the row itself (docs/benchmarks.md, re-choosing both figures).
The two tier filters read the lines that can carry a rung instead: those that declare an
installation (its partial index) and those of exporters that reach plants (the
``(exporter, id)`` index), ``apps/shipments/filters.py``. Dropped CONCURRENTLY on
PostgreSQL, plainly on the embedded default (SQLite)."""

from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations


class RemoveIndexConcurrentlyOnPostgres(RemoveIndexConcurrently):
    """``DROP INDEX CONCURRENTLY`` on PostgreSQL; a plain ``DROP INDEX`` elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.RemoveIndex.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.RemoveIndex.database_backwards(
            self, app_label, schema_editor, from_state, to_state
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("shipments", "0012_list_filter_indexes")]

    operations = [
        RemoveIndexConcurrentlyOnPostgres(model_name="shipment", name="shipment_tier_id"),
        RemoveIndexConcurrentlyOnPostgres(model_name="shipment", name="shipment_best_tier_id"),
    ]
