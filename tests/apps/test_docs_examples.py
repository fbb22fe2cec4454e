"""The auditors' shell examples of docs/auditors.md and docs/interfaces.md run exactly as
written against a live server (only the address and the token are the test's)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.apps.helpers import DEFAULTS_CSV, ROOT, ingest_json, write_customs

pytestmark = [pytest.mark.services]

DOCS_URL = "http://127.0.0.1:8000"


def shell_block(doc: str, containing: str) -> str:
    """The ```sh block of ``docs/<doc>`` that contains ``containing``."""
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        if containing in block:
            return block
    raise AssertionError(f"docs/{doc} has no sh block with {containing!r}")


def run_block(block: str, *, url: str, token: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``block`` with bash from a folder laid out as the project folder (``.venv``)
    but outside any activated virtualenv (PATH without the venv's bin)."""
    venv = Path(sys.prefix)
    (cwd / ".venv").symlink_to(venv)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd),
        "TOKEN": token,
        "PYTHONPATH": str(ROOT),  # this worktree's code, as the project folder would have
    }
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block.replace(DOCS_URL, url)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def estimates(postgres, users, tmp_path):
    from apps.accounts.services import api_token_create

    ingest_json("defaults", DEFAULTS_CSV)
    lines = [
        "D1,1,2026-03-02,72081000,US,Exporter A,Imp,1000000,,4000,",
        "D1,2,2026-03-02,72082000,US,Exporter B,Imp,20000,,4000,",
    ]
    assert ingest_json("customs", write_customs(tmp_path / "c.csv", lines))["accepted"] == 2
    token, _ = api_token_create(user=users["auditor"])
    return token


@pytest.mark.skipif(not shutil.which("unzip"), reason="needs unzip")
def test_the_zip_example_unzips_checks_and_verifies_every_trace(estimates, live_server, tmp_path):
    work = tmp_path / "project"
    work.mkdir()
    block = shell_block("auditors.md", "traces.zip")
    proc = run_block(block, url=live_server.url, token=estimates, cwd=work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # sha256sum -c, one line per trace: two default values, each with the year's mark-up
    # (the CBAM figure) and without (the best estimate), docs/design.md.
    assert proc.stdout.count(": OK") == 4
    assert proc.stdout.count("MATCH: traces/traces/estimate-") == 4
    assert "MISMATCH" not in proc.stdout


def test_the_interfaces_example_fetches_and_verifies_a_trace(estimates, live_server, tmp_path):
    from apps.estimates.models import Estimate

    work = tmp_path / "project"
    work.mkdir()
    block = shell_block("interfaces.md", "methodologies verify")
    first = Estimate.objects.order_by("id").first()
    # The example logs in as the demo's auditor and reads estimate 1: the test's own.
    block = block.replace("auditor-demo-2026", "pw-auditor").replace(
        "/estimates/1/trace", f"/estimates/{first.pk}/trace"
    )
    proc = run_block(block, url=live_server.url, token="", cwd=work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    digest = first.trace_sha256
    assert f"{digest}  trace.json" in proc.stdout  # sha256sum
    assert re.search(rf"x-trace-sha256: {digest}", proc.stdout, flags=re.I)
    assert "MATCH: trace.json" in proc.stdout
