"""``python manage.py verify_estimates [filters] [--json]``: recompute estimates in bulk.

For every estimate of the filter (the API's: ``--cn-code``, ``--origin``, ``--exporter``,
``--period-from``, ``--period-to``, ``--tier``, ``--methodology``; or ``--id N``, repeated)
three checks, each of which a rewrite of the ``estimates`` table fails:

1. **digest**: SHA-256 of the stored trace bytes equals the stored ``trace_sha256``;
2. **recompute**: running the engine on the trace's stored ``case`` gives the stored bytes,
   exactly (``estimate_verify``, as ``POST /api/v1/estimates/{id}/verify``; the first
   differing JSON paths are named);
3. **log**: the audit log's ``estimate.create`` event of the estimate recorded that same
   ``trace_sha256`` (the log itself is checked by ``verify_audit_log``);
4. **served**: the columns the API, PACT and the pages serve (SEE direct, indirect and
   total, interval, tier, ``direct_only``, methodology) equal the trace's result; then, in
   one query each, every current shipment on a checked estimate carries its tier and
   ``net mass × SEE total``, and the monthly totals are the sums of the current shipments
   (``apps.shipments.selectors.shipments_served_differences`` and ``totals_differences``).
   A rewrite of a column, a shipment's emissions or a total fails here, whatever the
   trace says.

Prints one ``[FAIL]`` line per failed check and a summary by methodology (shipments and
totals that fail are counted apart). Exit status 0
when everything matches, 1 on any mismatch, 2 on bad arguments.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError

import methodologies
from apps.audit.models import AuditEvent
from apps.estimates.api import EstimateFilter, trace_rows
from apps.estimates.models import Estimate
from apps.estimates.services import CARRIED_OVER, estimate_verify
from apps.shipments.selectors import shipments_served_differences, totals_differences
from methodologies.errors import MethodologyError


def logged_trace_digests() -> dict[str, set[str]]:
    """estimate id → the trace SHA-256 values its ``estimate.create`` events recorded."""
    logged: dict[str, set[str]] = {}
    events = AuditEvent.objects.filter(action="estimate.create", object_type="estimate")
    for object_id, data in events.values_list("object_id", "data").iterator(chunk_size=2000):
        payload = json.loads(bytes(data)).get("payload", {})
        logged.setdefault(object_id, set()).add(payload.get("trace_sha256"))
    return logged


def differing_paths(stored: Any, recomputed: Any, limit: int = 3) -> list[str]:
    a = {path: (value, kind) for path, value, kind in trace_rows(stored)}
    b = {path: (value, kind) for path, value, kind in trace_rows(recomputed)}
    paths = sorted(p for p in a.keys() | b.keys() if a.get(p) != b.get(p))
    return paths[:limit] + ([f"… {len(paths) - limit} more"] if len(paths) > limit else [])


def _where(stored: dict) -> str:
    """Where a recomputed trace departs from the stored one (for the report)."""
    recomputed = methodologies.run_case(stored["case"])["trace"]
    for key in CARRIED_OVER:  # cited, not computed: carried over (estimate_verify)
        if key in stored:
            recomputed[key] = stored[key]
    paths = differing_paths(stored, recomputed)
    if not paths:
        return ""
    engine = ""
    if any(p.startswith("$.versions") for p in paths):
        recorded = stored.get("versions", {}).get("engine")
        engine = f" (recorded engine {recorded}, this engine {methodologies.ENGINE_VERSION})"
    return f" at {', '.join(paths)}{engine}"


def estimate_check(estimate: Estimate, logged: dict[str, set[str]] | None) -> list[str]:
    """The reasons this estimate fails, empty when it verifies."""
    failures = []
    stored = estimate.trace.encode("utf-8")
    digest = hashlib.sha256(stored).hexdigest()
    if digest != estimate.trace_sha256:
        failures.append(
            f"stored trace hashes to {digest}, not trace_sha256 {estimate.trace_sha256}"
        )
    try:
        result = estimate_verify(estimate=estimate)
    except (ValueError, KeyError, TypeError, MethodologyError) as exc:
        failures.append(f"cannot recompute: {exc!r}")
    else:
        if result["recomputed_sha256"] != digest:
            failures.append(
                f"recomputed trace {result['recomputed_sha256']} differs"
                + _where(json.loads(stored))
            )
        failures += [f"served {d}" for d in result["differences"]]
    if logged is not None and estimate.trace_sha256 not in logged.get(str(estimate.pk), set()):
        failures.append(
            "the audit log has no estimate.create event recording trace_sha256 "
            f"{estimate.trace_sha256}"
        )
    return failures


class Command(BaseCommand):
    help = "Recompute estimates from their stored cases and report any mismatch."

    def add_arguments(self, parser):
        for name in EstimateFilter.Meta.fields:
            parser.add_argument("--" + name.replace("_", "-"), dest=name)
        parser.add_argument("--id", type=int, action="append", dest="ids", help="repeatable")
        parser.add_argument("--no-log", action="store_true", help="skip the audit-log check (3)")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, **options):
        data = {k: options[k] for k in EstimateFilter.Meta.fields if options.get(k)}
        filterset = EstimateFilter(data=data, queryset=Estimate.objects.all())
        if not filterset.is_valid():
            raise CommandError(f"bad filter: {filterset.errors.as_text()}", returncode=2)
        estimates = filterset.qs.order_by("pk")
        if options["ids"]:
            estimates = estimates.filter(pk__in=options["ids"])
        logged = None if options["no_log"] else logged_trace_digests()
        checked: Counter[str] = Counter()
        failed: Counter[str] = Counter()
        mismatches = []
        for estimate in estimates.iterator(chunk_size=500):
            checked[estimate.methodology] += 1
            failures = estimate_check(estimate, logged)
            if failures:
                failed[estimate.methodology] += 1
                mismatches.append({"estimate": estimate.pk, "failures": failures})
                for reason in failures:
                    self.stdout.write(
                        f"[FAIL] estimate {estimate.pk} ({estimate.subject_key}): {reason}"
                    )
        served = shipments_served_differences(estimates=estimates) + totals_differences()
        for reason in served:
            self.stdout.write(f"[FAIL] {reason}")
        total, bad = sum(checked.values()), sum(failed.values())
        for methodology in sorted(checked):
            self.stdout.write(
                f"  {methodology}: {checked[methodology]} checked, {failed[methodology]} mismatched"
            )
        self.stdout.write(f"checked {total} estimates: {total - bad} match, {bad} mismatched")
        if served:
            self.stdout.write(f"{len(served)} shipment(s) or total(s) disagree with the estimates")
        if options["as_json"]:
            summary = {
                "checked": total,
                "mismatched": bad,
                "mismatches": mismatches,
                "served": served,
            }
            self.stdout.write(json.dumps(summary))
        if bad or served:
            raise CommandError(
                f"{bad} estimate(s) and {len(served)} shipment(s) or total(s) do not verify",
                returncode=1,
            )
