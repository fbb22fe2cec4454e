from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("disclosures", "0004_integrity_hold")]

    operations = [
        migrations.AddField(
            model_name="extractiontrace",
            name="recompute",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
