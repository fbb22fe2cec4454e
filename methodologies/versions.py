"""Methodology versions: what a coalition adopts, named by content hash (docs/adoption.md).

A version's **manifest** is one JSON object::

    {"engine":     {"version": "0.1.0", "sha256": …},      # the engine's code
     "code":       {"methodologies/cbam_default.py": …, …}, # each module, SHA-256
     "tables":     {"methodologies/data/cbam_….csv": …, …}, # each bundled table, SHA-256
     "methodologies": {"cbam.default": "2026.1", …},        # registered ids and versions
     "parameters": {"cbam.default": {"without_markup": true}}}  # the version's parameter set

``engine.sha256`` is the SHA-256 of the canonical JSON of ``code`` (so it changes with any
module, including the published parameter constants the modules hold, such as
``cbam_default.MARKUP_BY_YEAR`` or ``modelled.PARAMETERS``). ``parameters`` is the
parameter set the coalition chooses on top of the code: case keys given to every case of
a methodology (:func:`apply_parameters`), so they land in the trace's normalised case and
the trace recomputes byte for byte. Only the keys in :data:`PARAMETRISABLE` may be set.

The **digest** of a version is the SHA-256 of the manifest's canonical JSON (RFC 8785);
it is what members sign (:mod:`verifier.adoption`). Pure: no Django.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from methodologies.errors import CaseError
from methodologies.trace import canonical_bytes, sha256_hex

ROOT = Path(__file__).resolve().parent
TABLE_SUFFIXES = (".csv", ".json")

#: The case keys a version's parameter set may fix, per methodology, with what they mean.
PARAMETRISABLE: dict[str, dict[str, str]] = {
    "cbam.default": {
        "without_markup": "true: the default value without the year's mark-up",
        "variant": "the row picked among rows sharing a CN code (e.g. 'Grey clinker')",
    },
}


def _files(suffixes: tuple[str, ...], under: Path) -> dict[str, str]:
    out = {}
    for path in sorted(under.rglob("*")):
        if path.is_file() and path.suffix in suffixes and "__pycache__" not in path.parts:
            rel = path.relative_to(ROOT.parent).as_posix()
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def check_parameters(parameters: Any) -> dict[str, dict[str, Any]]:
    """A parameter set as stored: ``{methodology id: {case key: value}}``; CaseError naming
    the methodology and key when one is not in :data:`PARAMETRISABLE`."""
    if not isinstance(parameters, Mapping):
        raise CaseError("parameters", "an object {methodology: {key: value}}", repr(parameters))
    out: dict[str, dict[str, Any]] = {}
    for method, keys in parameters.items():
        allowed = PARAMETRISABLE.get(method)
        if allowed is None:
            raise CaseError(
                f"parameters.{method}", f"one of {sorted(PARAMETRISABLE)}", "not parametrisable"
            )
        if not isinstance(keys, Mapping):
            raise CaseError(f"parameters.{method}", "an object {key: value}", repr(keys))
        for key in keys:
            if key not in allowed:
                raise CaseError(f"parameters.{method}.{key}", f"one of {sorted(allowed)}", key)
        out[method] = dict(keys)
    return out


def version_manifest(parameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The manifest of the engine installed here with ``parameters`` as its parameter set."""
    from methodologies import ENGINE_VERSION, METHODOLOGIES  # the package imports us

    code = _files((".py",), ROOT)
    return {
        "code": code,
        "engine": {"sha256": sha256_hex(canonical_bytes(code)), "version": ENGINE_VERSION},
        "methodologies": {m.id: m.version for m in METHODOLOGIES.values()},
        "parameters": check_parameters(parameters or {}),
        "tables": _files(TABLE_SUFFIXES, ROOT / "data"),
    }


def version_digest(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON: the version's name in adoption records."""
    return sha256_hex(canonical_bytes(manifest))


def runnable_here(manifest: Mapping[str, Any]) -> list[str]:
    """What differs between ``manifest`` and the engine installed here (code, tables,
    methodology versions); empty when this engine can run the version."""
    here = version_manifest()
    out = []
    for part in ("engine", "code", "tables", "methodologies"):
        if manifest.get(part) != here[part]:
            theirs, ours = manifest.get(part) or {}, here[part]
            changed = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
            out.append(f"{part}: {', '.join(changed[:5]) or 'differs'}")
    return out


def apply_parameters(case: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The case with the version's parameter set for its methodology (the version's value
    wins over the case's: the coalition adopted it)."""
    fixed = parameters.get(str(case.get("methodology"))) or {}
    return {**case, **fixed}
