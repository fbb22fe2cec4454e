# A reconciliation flag may be under review before it is resolved (docs/web.md, "Flags").

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("satellite", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="reconciliationflag",
            name="status",
            field=models.CharField(
                choices=[("open", "Open"), ("review", "Under review"), ("closed", "Resolved")],
                default="open",
                max_length=8,
            ),
        ),
    ]
