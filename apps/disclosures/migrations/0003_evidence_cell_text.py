"""A spreadsheet cell reference names its sheet, whose name has no fixed bound in the
files exporters send (issue #16, item 3: a sheet name over 55 characters overflowed the
64-character column and left the run running)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("disclosures", "0002_tables_verification_report")]

    operations = [
        migrations.AlterField(
            model_name="extractedvalue", name="cell", field=models.TextField(blank=True)
        ),
    ]
