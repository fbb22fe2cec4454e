# Trade statistics whose value per tonne is far outside their CN code's range are kept and
# flagged (ingest.plausibility, docs/readers.md).
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shipments", "0005_formats_declared_lines")]

    operations = [
        migrations.AddField(
            model_name="tradeaggregate",
            name="implausible",
            field=models.BooleanField(
                default=False,
                help_text="value per tonne far outside the CN code's normal range "
                "(ingest.plausibility); kept, left out of sums unless asked",
            ),
        ),
        migrations.AddField(
            model_name="tradeaggregate",
            name="implausible_reason",
            field=models.TextField(blank=True),
        ),
    ]
