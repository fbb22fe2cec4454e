"""Regenerate ``golden_traces.json`` (the golden-trace fixture of test_golden_traces.py).

Run only from a commit whose traces are known good (the fixture was made from the engine
before the declarative-spec refactor)::

    python -m tests.methodologies.golden.make_golden CASES.json

CASES.json is a list of normalised cases (every ``trace["case"]`` the methodology tests
produced, collected once by wrapping ``build_trace``); it is thinned to at most
``PER_METHODOLOGY`` cases per methodology, evenly spread, plus the hand-written edge cases
of :data:`EXTRA` below.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.methodologies.golden.common import outcome

HERE = Path(__file__).parent
PER_METHODOLOGY = {"cbam.default": 200}
DEFAULT_PER_METHODOLOGY = 120

#: Edge cases the test suite does not produce as normalised cases.
EXTRA = [
    {"methodology": "cbam.certificates", "year": 2034, "see_total_t_per_t": 2.0,
     "see_tier": "verified", "mass_t": 10, "benchmark_t_per_t": 1.5,
     "benchmark_source": "test", "cscf": 1.0, "cscf_source": "test"},
    {"methodology": "cbam.certificates", "year": 2028, "see_total_t_per_t": 2.2,
     "see_tier": "verified", "mass_t": 250, "benchmark_t_per_t": 1.2,
     "benchmark_source": "test", "cscf": 0.9, "cscf_source": "test",
     "precursors": [{"cn_code": "72071114", "mass_t_per_t": 1.05,
                     "benchmark_t_per_t": 1.364, "benchmark_source": "test"},
                    {"cn_code": "72031000", "mass_t_per_t": 0.2, "benchmark_column": "A",
                     "benchmark_t_per_t": 0.3, "benchmark_source": "test"}],
     "carbon_price_paid_eur_per_t": 4.0, "carbon_price_source": "test",
     "price_eur_per_t": 80.0},
    {"methodology": "cbam.certificates", "year": 2026, "see_total_t_per_t": 0.5,
     "see_tier": "default", "mass_t": 3, "benchmark_t_per_t": 1.5,
     "benchmark_source": "test", "cscf": 1.0, "cscf_source": "test",
     "price_eur_per_t": 70.0},
    {"methodology": "satellite.activity", "facility_id": "F1", "period": "2025-03",
     "signal_unit": "K", "baseline_observations": [1.5, 2.0, 2.5, 4.0, 3.0, 2.2],
     "period_observations": [3.3], "reference_production_t": 2000,
     "reference_production_sigma_t": 150},
    {"methodology": "satellite.activity", "baseline_observations": [10, 12, 9, 15, 11],
     "period_observations": [20, 22], "reference_production_t": 500,
     "disclosed_production_t": 400, "k": 3},
]  # fmt: skip


def main(path: str) -> None:
    cases = json.loads(Path(path).read_text())
    by_id: dict[str, list] = {}
    for case in cases:
        by_id.setdefault(case.get("methodology"), []).append(case)
    chosen = []
    for mid in sorted(by_id):
        group = by_id[mid]
        n = PER_METHODOLOGY.get(mid, DEFAULT_PER_METHODOLOGY)
        step = max(1, len(group) / n)
        chosen += [group[int(i * step)] for i in range(min(n, len(group)))]
    chosen += EXTRA
    records = [{"case": case, **outcome(case)} for case in chosen]
    out = HERE / "golden_traces.json"
    out.write_text(json.dumps(records, indent=0, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"{len(records)} cases written to {out}")


if __name__ == "__main__":
    main(sys.argv[1])
