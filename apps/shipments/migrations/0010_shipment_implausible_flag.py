# Customs lines far outside their CN heading's norms are kept and flagged at ingest
# (ingest.plausibility.customs_line_flags, docs/readers.md).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("shipments", "0009_shipment_fillfactor"),
    ]

    operations = [
        migrations.AddField(
            model_name="shipment",
            name="implausible",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddField(
            model_name="shipment",
            name="implausible_reason",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddIndex(
            model_name="shipment",
            index=models.Index(
                condition=models.Q(("implausible", True), ("is_current", True)),
                fields=["id"],
                name="shipment_implausible",
            ),
        ),
    ]
