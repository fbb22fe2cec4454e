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


def _cited_for(name: str, cited: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The disclosed values (``provenance.values``) that gave the trace input ``name``:
    the same case key, or the key's stem (``good.activity_level_t`` ← ``good``)."""
    out = []
    for c in cited:
        used = str(c.get("input", ""))
        if used and (
            used == name
            or name.startswith(used + ".")
            or name.startswith(used + "_")
            or used.endswith("." + name)
            or used.startswith(name + ".")
        ):
            out.append(c)
    return out


def _disclosure_view(trace: dict[str, Any], user: Any) -> dict[str, Any] | None:
    """The disclosure a disclosed estimate came from (``provenance.disclosure``) with the
    ingest run of its file that ``user`` may open (docs/web.md)."""
    provenance = trace.get("provenance") if isinstance(trace.get("provenance"), dict) else {}
    disclosure = provenance.get("disclosure") if isinstance(provenance, dict) else None
    if not isinstance(disclosure, dict):
        return None
    sha = ((disclosure.get("evidence") or {}).get("sha256")) or ""
    runs = IngestRun.objects.filter(evidence__sha256=sha) if sha else IngestRun.objects.none()
    if user is not None:
        from apps.evidence.selectors import ingest_run_list

        runs = runs & ingest_run_list(user=user)
    run = runs.order_by("-pk").first()
    return {**disclosure, "run_id": run.pk if run else None, "sha256": sha}


def trace_view(trace: dict[str, Any], user: Any = None) -> dict[str, Any]:
    """The parts of a trace as the report's tables show them. With ``user``, the links to
    evidence files are only those the user may open (apps.evidence.selectors)."""
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
    provenance = trace.get("provenance") if isinstance(trace.get("provenance"), dict) else {}
    cited = [c for c in (provenance.get("values") or []) if isinstance(c, dict)]
    disclosure = _disclosure_view(trace, user)
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
                "disclosed": _cited_for(str(item.get("name", "")), cited),
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
        "disclosure": disclosure,
        "factor_run": factor_run,
        "methodology": trace.get("methodology", {}),
        "steps": steps,
        "factors": trace.get("factors", []),
        "inputs": inputs,
        "versions": trace.get("versions", {}),
        "interval": (trace.get("result") or {}).get("interval"),
    }
