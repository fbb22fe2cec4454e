"""``verify_estimates`` recomputes every estimate type byte for byte, and catches a trace,
an input or a digest rewritten in the database (by a superuser, bypassing the services)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

import methodologies
from apps.estimates.models import Estimate
from methodologies.trace import canonical_bytes, sha256_hex
from tests.apps.api.helpers import ENGINE_CASES, record_every_type

pytestmark = pytest.mark.services


def verify(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_estimates", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


UPDATES = {
    "trace": "UPDATE estimates_estimate SET trace = %s WHERE id = %s",
    "trace_sha256": "UPDATE estimates_estimate SET trace_sha256 = %s WHERE id = %s",
}


def superuser_sets(pk: int, **columns: str) -> None:
    """Rewrite an estimate row with raw SQL, as a database superuser would: past the
    trigger that refuses such an UPDATE (estimates migration 0003)."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            for column, value in columns.items():
                cursor.execute(UPDATES[column], [value, pk])
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


@pytest.fixture
def estimates(postgres):
    return record_every_type()


def test_every_estimate_type_recomputes_byte_for_byte(estimates):
    assert set(estimates) == set(ENGINE_CASES)
    status, report = verify()
    assert status == 0, report
    assert f"checked {len(ENGINE_CASES)} estimates: {len(ENGINE_CASES)} match, 0 mismatched" in (
        report
    )
    for name in ENGINE_CASES:
        assert f"  {name}: 1 checked, 0 mismatched" in report


def test_a_tampered_input_is_caught(estimates):
    target = estimates["route.steel"]
    trace = json.loads(target.trace)
    trace["case"]["production_t"] = 900  # the stored input no longer gives the result
    superuser_sets(target.pk, trace=canonical_bytes(trace).decode())
    status, report = verify("--methodology", "route.steel")
    assert status == 1
    assert f"[FAIL] estimate {target.pk}" in report
    assert "stored trace hashes to" in report  # the digest no longer matches
    assert "recomputed trace" in report and "differs at $.inputs" in report
    assert "checked 1 estimates: 0 match, 1 mismatched" in report


def test_a_tampered_result_is_caught(estimates):
    target = estimates["cbam.default"]
    trace = json.loads(target.trace)
    trace["result"]["see_total_t_per_t"] = 1.0
    superuser_sets(target.pk, trace=canonical_bytes(trace).decode())
    status, report = verify("--id", str(target.pk))
    assert status == 1 and "$.result.see_total_t_per_t" in report


def test_a_consistent_rewrite_is_caught_by_the_audit_log(estimates):
    """Inputs changed, the trace recomputed from them and its digest updated: every byte
    agrees with itself, but not with the trace_sha256 the log recorded at creation."""
    target = estimates["route.cement"]
    case = {**json.loads(target.trace)["case"], "production_t": 2000}
    forged = methodologies.run_case(case)["trace"]
    data = canonical_bytes(forged)
    superuser_sets(target.pk, trace=data.decode(), trace_sha256=sha256_hex(data))
    status, report = verify()
    assert status == 1
    lines = [line for line in report.splitlines() if line.startswith("[FAIL]")]
    assert all(f"estimate {target.pk}" in line for line in lines)
    assert any("no estimate.create event recording" in line for line in lines)
    # The served SEE columns were not rewritten with the trace: they no longer equal its
    # result, so the check of what is served catches the row even without the log.
    status, report = verify("--no-log")
    assert status == 1 and "served column see_direct_t_per_t" in report


def test_the_command_filters_and_rejects_bad_arguments(estimates):
    status, report = verify("--cn-code", "7208")
    assert status == 0 and "checked 2 estimates" in report
    status, _ = verify("--cn-code", "72x")
    assert status == 2
    assert Estimate.objects.count() == len(ENGINE_CASES)
