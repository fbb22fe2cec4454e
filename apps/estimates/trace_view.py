"""A trace (docs/design.md §4) made readable: steps with their inputs and units, factors with
their citations, inputs with links to the evidence they came from."""

from __future__ import annotations

from typing import Any

from apps.evidence.models import EvidenceFile, IngestRun

#: Units named by a key's suffix (the case-file convention of docs/interfaces.md), longest first.
UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_usd_per_kg", "USD/kg"),
    ("_eur_per_t", "EUR/tCO2e"),
    ("_t_per_mwh", "t/MWh"),
    ("_g_per_kwh", "g/kWh"),
    ("_kg_per_kg", "kg/kg"),
    ("_g_per_mj", "g/MJ"),
    ("_t_per_tj", "t/TJ"),
    ("_t_per_t", "t/t"),
    ("_mwh", "MWh"),
    ("_eur", "EUR"),
    ("_tj", "TJ"),
    ("_kg", "kg"),
    ("_t", "t"),
)


def unit_of(key: str) -> str:
    for suffix, unit in UNIT_SUFFIXES:
        if key.endswith(suffix):
            return unit
    return ""


def _value(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def trace_view(trace: dict[str, Any]) -> dict[str, Any]:
    """The parts of a trace as the report's tables show them."""
    steps = []
    for n, step in enumerate(trace.get("steps", []), start=1):
        inputs = [
            {"name": k, "value": _value(v), "unit": unit_of(k)}
            for k, v in sorted((step.get("inputs") or {}).items())
        ]
        unit = step.get("unit", "")
        steps.append(
            {
                "n": n,
                "id": step.get("formula_id", ""),
                "formula": step.get("formula", ""),
                "inputs": inputs,
                "value": _value(step.get("value")),
                "unit": "" if unit in ("bool", "1") else unit,
            }
        )
    shas = {
        i["evidence"]["sha256"]
        for i in trace.get("inputs", [])
        if isinstance(i.get("evidence"), dict) and i["evidence"].get("sha256")
    }
    runs = {}
    if shas:
        for ev in EvidenceFile.objects.filter(sha256__in=shas).prefetch_related("runs"):
            run = max(ev.runs.all(), key=lambda r: r.pk, default=None)
            runs[ev.sha256] = (run.name, run.pk) if run else ("", None)
    inputs = []
    for item in trace.get("inputs", []):
        evidence = item.get("evidence") if isinstance(item.get("evidence"), dict) else None
        name, run_id = runs.get((evidence or {}).get("sha256", ""), ("", None))
        inputs.append(
            {
                "name": item.get("name", ""),
                "value": _value(item.get("value")),
                "unit": item.get("unit", ""),
                "evidence": evidence,
                "evidence_name": name,
                "run_id": run_id,
            }
        )
    factor_run = None
    if (trace.get("methodology") or {}).get("id") == "cbam.default":
        # The default values come from the table the `defaults` ingest loaded.
        factor_run = (
            IngestRun.objects.filter(source="defaults", status=IngestRun.Status.DONE)
            .select_related("evidence")
            .order_by("-pk")
            .first()
        )
    return {
        "factor_run": factor_run,
        "methodology": trace.get("methodology", {}),
        "steps": steps,
        "factors": trace.get("factors", []),
        "inputs": inputs,
        "versions": trace.get("versions", {}),
        "interval": (trace.get("result") or {}).get("interval"),
    }
