"""Methodology versions by content hash (methodologies/versions.py): what the manifest
covers, what changes the digest, which parameter sets are accepted."""

from __future__ import annotations

import hashlib

import pytest

from methodologies.errors import CaseError
from methodologies.versions import (
    ROOT,
    apply_parameters,
    runnable_here,
    version_digest,
    version_manifest,
)


def test_the_manifest_names_every_module_and_bundled_table_by_its_sha256():
    manifest = version_manifest()
    table = "methodologies/data/cbam_default_values_IR2025-2621.csv"
    data = (ROOT / "data" / "cbam_default_values_IR2025-2621.csv").read_bytes()
    assert manifest["tables"][table] == hashlib.sha256(data).hexdigest()
    source = (ROOT / "cbam_default.py").read_bytes()
    assert manifest["code"]["methodologies/cbam_default.py"] == hashlib.sha256(source).hexdigest()
    assert manifest["methodologies"]["cbam.default"]
    assert runnable_here(manifest) == []


def test_the_digest_follows_the_content_and_only_the_content():
    plain = version_digest(version_manifest())
    assert plain == version_digest(version_manifest({}))
    unmarked = version_digest(version_manifest({"cbam.default": {"without_markup": True}}))
    assert unmarked != plain
    changed = version_manifest()
    changed["tables"]["methodologies/data/cbam_benchmarks_IR2025-2620.csv"] = "0" * 64
    assert version_digest(changed) != plain
    assert runnable_here(changed) == ["tables: methodologies/data/cbam_benchmarks_IR2025-2620.csv"]


def test_only_declared_case_keys_make_a_parameter_set():
    with pytest.raises(CaseError, match="not parametrisable"):
        version_manifest({"cbam.installation": {"good": {}}})
    with pytest.raises(CaseError, match=r"parameters\.cbam\.default\.year"):
        version_manifest({"cbam.default": {"year": 2030}})
    case = {"methodology": "cbam.default", "cn_code": "7208", "without_markup": False}
    fixed = apply_parameters(case, {"cbam.default": {"without_markup": True}})
    assert fixed["without_markup"] is True and case["without_markup"] is False
    assert apply_parameters({"methodology": "hydrogen.us45v"}, {"cbam.default": {"x": 1}}) == {
        "methodology": "hydrogen.us45v"
    }
