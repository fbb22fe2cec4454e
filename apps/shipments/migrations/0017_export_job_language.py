# The export job records its requester's page language (docs/languages.md).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("shipments", "0016_export_job"),
    ]

    operations = [
        migrations.AddField(
            model_name="exportjob",
            name="language",
            field=models.CharField(blank=True, max_length=16),
        ),
    ]
