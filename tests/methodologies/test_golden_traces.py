"""Golden traces: every registered methodology must keep producing byte-identical traces.

``golden/golden_traces.json`` holds 845 normalised cases (spread over every case the
methodology tests produce, plus edge cases: precursors, waste gases, uncertain inputs,
hourly RFNBO, 45V with ``production_year``, route models, carbon price paid) and the
SHA-256 of each trace, computed by the engine *before* the declarative-spec refactor
(``golden/make_golden.py``).  A refactor of the engine's plumbing must not change a byte:
the digest of the trace without its ``versions`` is compared everywhere; the full
``trace_sha256`` too when Python and numpy are the versions that made the fixture.  What
``run_case`` does (same digest, or the plausibility error it raises, word for word) is
compared as well.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from methodologies import METHODOLOGIES
from tests.methodologies.golden.common import outcome

RECORDS = json.loads((Path(__file__).parent / "golden" / "golden_traces.json").read_text())


def test_fixture_covers_every_methodology():
    assert {r["case"]["methodology"] for r in RECORDS} == set(METHODOLOGIES)


@pytest.mark.parametrize("methodology_id", sorted(METHODOLOGIES))
def test_traces_are_byte_identical(methodology_id):
    records = [r for r in RECORDS if r["case"]["methodology"] == methodology_id]
    assert records
    for i, record in enumerate(records):
        got = outcome(record["case"])
        where = f"{methodology_id} golden case {i}"
        key = "trace_sha256_without_versions"
        assert got[key] == record[key], where
        same_versions = got["versions"] == record["versions"]
        if same_versions:
            assert got["trace_sha256"] == record["trace_sha256"], where
        if len(record["run_case"]) == 64:  # a digest: run_case ran the case
            assert len(got["run_case"]) == 64, (where, got["run_case"])
            if same_versions:
                assert got["run_case"] == record["run_case"], where
        else:
            assert got["run_case"] == record["run_case"], where
