"""``python -m methodologies`` (docs/interfaces.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from methodologies import run_case

ROOT = Path(__file__).parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "methodologies", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_run_prints_the_result_with_its_trace(tmp_path):
    case = {"methodology": "cbam.default", "cn_code": "7208", "origin": "CN", "year": 2026}
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))
    proc = cli("run", str(path))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["see_total_t_per_t"] == 3.5056  # data README §1a worked example
    assert result["trace_sha256"] == run_case(case)["trace_sha256"]


def test_list_names_methodologies_and_versions():
    proc = cli("list")
    assert proc.returncode == 0
    assert "cbam.default\t2025.2621.2\t" in proc.stdout
    assert "cbam.installation\t" in proc.stdout
    verbose = cli("list", "--verbose")
    assert "activity_level_t" in verbose.stdout and "Case (JSON)" in verbose.stdout


def test_a_malformed_case_exits_2_naming_key_and_unit(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "methodology": "cbam.installation",
                "good": {"cn_code": "7208", "activity_level_t": "lots"},
                "direct": {"attributed_emissions_t": 1},
            }
        )
    )
    proc = cli("run", str(path))
    assert proc.returncode == 2
    assert "good.activity_level_t" in proc.stderr and "in t" in proc.stderr
    assert proc.stdout == ""


def test_a_file_that_is_not_json_exits_2(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    assert cli("run", str(path)).returncode == 2
    assert cli("run", str(tmp_path / "missing.json")).returncode == 2


def test_a_case_without_an_answer_exits_1(tmp_path):
    # Electricity 2716 00 00 is a CBAM good, but IR 2025/2621 Annex I has no default value
    # for it (Reg. 2023/956 Annex IV pt 4.1: "goods listed in Annex I other than
    # electricity").  (Ferrous scrap 7204, used here before, is no CBAM good: exit 2.)
    path = tmp_path / "electricity.json"
    path.write_text(
        json.dumps(
            {"methodology": "cbam.default", "cn_code": "27160000", "origin": "CN", "year": 2026}
        )
    )
    proc = cli("run", str(path))
    assert proc.returncode == 1
    assert "27160000" in proc.stderr


def test_a_good_outside_annex_i_exits_2(tmp_path):
    path = tmp_path / "scrap.json"
    path.write_text(
        json.dumps(
            {"methodology": "cbam.default", "cn_code": "72041000", "origin": "CN", "year": 2026}
        )
    )
    proc = cli("run", str(path))
    assert proc.returncode == 2
    assert "72041000" in proc.stderr and "Annex I" in proc.stderr


def test_run_works_for_installation_and_certificates(tmp_path):
    cases = [
        {
            "methodology": "cbam.installation",
            "good": {"cn_code": "7208", "activity_level_t": 10},
            "direct": {"source_streams": [{"type": "process", "ad_t": 10, "ef_t_per_t": 2}]},
        },
        {
            "methodology": "cbam.certificates",
            "year": 2027,
            "see_total_t_per_t": 2.0,
            "see_tier": "default",
            "mass_t": 10,
            "benchmark_t_per_t": 1.0,
            "benchmark_column": "B",
            "benchmark_source": "hypothetical",
            "cscf": 1.0,
            "cscf_source": "hypothetical",
        },
    ]
    for i, case in enumerate(cases):
        path = tmp_path / f"case{i}.json"
        path.write_text(json.dumps(case))
        proc = cli("run", str(path))
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["trace_sha256"] == run_case(case)["trace_sha256"]


def test_every_methodology_names_a_missing_key_and_exits_2(tmp_path):
    from methodologies import METHODOLOGIES

    for name in METHODOLOGIES:
        path = tmp_path / "empty.json"
        path.write_text(json.dumps({"methodology": name}))
        proc = cli("run", str(path))
        assert proc.returncode == 2, (name, proc.stderr)
        assert "malformed case" in proc.stderr and "expected" in proc.stderr, name


def test_list_verbose_prints_every_methodologys_inputs():
    from methodologies import METHODOLOGIES

    out = cli("list", "--verbose").stdout
    for m in METHODOLOGIES.values():
        assert f"{m.id}\t{m.version}\t" in out
    assert "benchmark_t_per_t" in out and "source_streams" in out


def test_an_exempt_origin_exits_2_naming_the_rule(tmp_path):
    # Reg. 2023/956 Annex III pt 1: goods from Norway are not CBAM imports.
    path = tmp_path / "case.json"
    path.write_text(
        json.dumps({"methodology": "cbam.default", "cn_code": "7208", "origin": "NO", "year": 2026})
    )
    proc = cli("run", str(path))
    assert proc.returncode == 2
    assert "origin" in proc.stderr and "Annex III point 1" in proc.stderr


# --- verify (docs/auditors.md) --------------------------------------------------------------

DEFAULT_CASE = {"methodology": "cbam.default", "cn_code": "7208", "origin": "CN", "year": 2026}


def _trace_file(tmp_path, trace, name="trace.json") -> Path:
    """Write ``trace`` as the API serves it: its canonical RFC 8785 bytes."""
    from methodologies.trace import canonical_bytes

    path = tmp_path / name
    path.write_bytes(canonical_bytes(trace))
    return path


def test_verify_a_trace_as_downloaded_matches_byte_for_byte(tmp_path):
    trace = run_case(DEFAULT_CASE)["trace"]
    proc = cli("verify", str(_trace_file(tmp_path, trace)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("MATCH: ")
    assert "bytes identical: yes" in proc.stdout
    digest = run_case(DEFAULT_CASE)["trace_sha256"]
    assert proc.stdout.count(digest) == 2  # stored and recomputed


def test_verify_matches_a_trace_whose_floats_are_whole_numbers(tmp_path):
    """The default value without mark-up (the best estimate's) records a mark-up of 0.0:
    its canonical bytes say ``0``, which parses back as an int. The parts compare as the
    trace holds them (their canonical bytes), so this is a match, not a difference found
    at ``$.result.markup`` while the bytes are identical (as the first version said)."""
    trace = run_case({**DEFAULT_CASE, "without_markup": True})["trace"]
    assert trace["result"]["markup"] == 0.0 and isinstance(trace["result"]["markup"], float)
    proc = cli("verify", str(_trace_file(tmp_path, trace)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("MATCH: ") and "differs" not in proc.stdout


def test_verify_names_the_first_part_that_differs(tmp_path):
    trace = run_case(DEFAULT_CASE)["trace"]
    trace["result"]["see_total_t_per_t"] = 1.5  # the data README §1a value is 3.5056
    proc = cli("verify", str(_trace_file(tmp_path, trace)))
    assert proc.returncode == 1
    assert proc.stdout.startswith("MISMATCH: ")
    assert "first difference: $.result.see_total_t_per_t: stored 1.5, recomputed 3.5056" in (
        proc.stdout
    )


def test_verify_carries_provenance_over_and_says_so(tmp_path):
    trace = run_case(DEFAULT_CASE)["trace"]
    trace["provenance"] = {"inputs": [{"ref": "customs.csv#L2"}]}
    proc = cli("verify", "--json", str(_trace_file(tmp_path, trace)))
    assert proc.returncode == 0, proc.stdout
    answer = json.loads(proc.stdout)
    assert answer["match"] is True and answer["bytes_identical"] is True
    assert answer["carried_over"] == ["$.provenance"]
    assert any("not recomputed" in note for note in answer["notes"])


def test_verify_other_python_version_is_a_note_another_engine_a_mismatch(tmp_path):
    trace = run_case(DEFAULT_CASE)["trace"]
    trace["versions"]["python"] = "3.0.0"
    proc = cli("verify", str(_trace_file(tmp_path, trace)))
    assert proc.returncode == 0, proc.stdout
    assert "bytes identical: no" in proc.stdout and "$.versions.python" in proc.stdout
    trace["versions"]["engine"] = "0.0.1"
    proc = cli("verify", str(_trace_file(tmp_path, trace)))
    assert proc.returncode == 1
    assert "recorded engine '0.0.1'" in proc.stdout


def test_verify_a_file_that_is_not_a_trace_exits_2(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(DEFAULT_CASE))
    proc = cli("verify", str(path))
    assert proc.returncode == 2 and "$.case" in proc.stderr
    proc = cli("verify", str(tmp_path / "missing.json"))
    assert proc.returncode == 2 and "cannot read" in proc.stderr
