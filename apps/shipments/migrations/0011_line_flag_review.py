# Lines flagged implausible at ingest become flags to review: open -> under review ->
# resolved with a note (docs/web.md, "Flags"); lines already flagged get theirs.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("shipments", "0010_shipment_implausible_flag"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LineFlag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.TextField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Open"),
                            ("review", "Under review"),
                            ("resolved", "Resolved"),
                        ],
                        default="open",
                        max_length=8,
                    ),
                ),
                (
                    "note",
                    models.TextField(
                        blank=True, help_text="the reviewer's note (required to resolve)"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "shipment",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="flag",
                        to="shipments.shipment",
                    ),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["status", "id"], name="shipments_l_status_4fb272_idx")
                ],
            },
        ),
        migrations.RunSQL(
            "INSERT INTO shipments_lineflag (shipment_id, reason, status, note, created_at, "
            "updated_at) SELECT id, implausible_reason, 'open', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
            "FROM shipments_shipment WHERE implausible AND is_current",
            migrations.RunSQL.noop,
        ),
    ]
