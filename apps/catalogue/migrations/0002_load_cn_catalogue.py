"""Load the CBAM goods catalogue (CN codes of the EU communication template v2).

Reference data every installation needs; its provenance is in fixtures/cbam/README.md.
"""

import csv
from pathlib import Path

from django.db import migrations

from apps.catalogue.sectors import SECTOR_OF_CATEGORY

CATALOGUE = Path(__file__).resolve().parents[3] / "fixtures" / "cbam" / "cbam_cn_codes.csv"


def load(apps, schema_editor):
    CNCode = apps.get_model("catalogue", "CNCode")
    with open(CATALOGUE, newline="", encoding="utf-8") as f:
        rows = [
            CNCode(
                code=r["cn_code"],
                description=r["description"],
                category=r["aggregated_goods_category"],
                sector=SECTOR_OF_CATEGORY[r["aggregated_goods_category"]],
                in_cbam_scope=True,
            )
            for r in csv.DictReader(f)
        ]
    CNCode.objects.bulk_create(rows, ignore_conflicts=True)


def unload(apps, schema_editor):
    apps.get_model("catalogue", "CNCode").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
