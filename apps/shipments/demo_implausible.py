"""This area's part of ``manage.py demo`` (step 2b): three keying errors of the kind
customs data really holds, in a file of their own, so that the demo shows lines flagged
implausible at ingest (apps.shipments.plausibility): copies of the first three generated
lines under new declaration ids, one with its mass keyed a thousand times too large (kg as
t), one with its value a thousand times too small, one a thousand times too large. The
demo's headline figures leave them out unless the reader asks to include them."""

from __future__ import annotations

import csv
from pathlib import Path


def _times(text: str, factor: float) -> str:
    value = float(text.replace(",", ".")) * factor
    return f"{value:.2f}".replace(".", ",")


def keying_errors_write(declarations: Path, out: Path) -> int:
    """Write the three planted lines (same format as ``declarations``); returns 3."""
    with declarations.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        header = next(reader)
        rows = []
        for row in reader:
            if len(rows) == 3:
                break
            record = dict(zip(header, row, strict=True))
            mass, value = record["net_mass_kg"], record["statistical_value_eur"]
            if not mass or not value or float(mass.replace(",", ".")) < 1000:
                continue  # keep lines of at least a tonne, with a value
            rows.append(record)
    planted = []
    for i, record in enumerate(rows, start=1):
        # An MRN-shaped id of its own (18 characters), item 1.
        record = {**record, "mrn": f"26DEKEYERR{i:08d}", "item_number": "1"}
        if i == 1:
            record["net_mass_kg"] = _times(record["net_mass_kg"], 1000)  # kg keyed as t
        elif i == 2:
            record["statistical_value_eur"] = _times(record["statistical_value_eur"], 0.001)
        else:
            record["statistical_value_eur"] = _times(record["statistical_value_eur"], 1000)
        record["note"] = "planted-keying-error"
        planted.append([record[h] for h in header])
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(planted)
    return len(planted)


def run(*, command, declarations: Path, work: Path) -> None:
    from apps.shipments.models import Shipment

    path = work / "declarations_2026_keying_errors.csv"
    keying_errors_write(declarations, path)
    command.stdout.write(
        "three planted keying errors (a mass ×1,000, a value ÷1,000, a value ×1,000):"
    )
    command._ingest("customs", path)
    flagged = Shipment.objects.filter(is_current=True, implausible=True)
    for s in flagged.order_by("declaration_id")[:10]:
        command.stdout.write(
            f"  flagged {s.declaration_id}/{s.line} CN {s.cn_code}: {s.implausible_reason}"
        )
    command.stdout.write(
        f"  {flagged.count()} line(s) flagged implausible: kept, left out of headline "
        "figures unless included (?implausible=include); list: /shipments/?implausible=only"
    )
