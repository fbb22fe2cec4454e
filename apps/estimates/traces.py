"""The trace of an estimate as a given user may read it (issue #16 item 10).

A disclosed estimate's trace holds the engine's part (case, inputs, factors, steps,
result, versions) and a ``provenance`` object: the disclosure version, its file's name and
SHA-256, each value with its quote, correction and reason, the organisation's name. The
provenance is the producer's confidential data. It is served whole to officials,
auditors and admins and to the organisation whose installation the estimate is of; any
other organisation (a trader whose shipment declares the producer's installation) is
served the engine's part only: the engine's own canonical trace, which recomputes byte for
byte (``python -m methodologies verify``) and whose SHA-256 is the engine's digest.
Reg. (EU) 2023/956 Art. 13 (professional secrecy: information provided on a confidential
basis is not disclosed without the express permission of whoever provided it) and
IR 2025/2547 Annex IV point 1.2 (the operator's *summary* emissions report, which others
in the chain receive, identifies the installation and gives each good's specific embedded
emissions, not the installation's monitoring data).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from apps.accounts.models import User
from apps.estimates.models import Estimate
from methodologies.trace import canonical_bytes, sha256_hex

#: The trace's confidential part, withheld from other organisations.
CONFIDENTIAL_KEY = "provenance"


@dataclass(frozen=True)
class ServedTrace:
    """What is served: the trace (parsed), its bytes and their SHA-256, and its scope
    (``full``: the stored trace, equal to ``trace_sha256``; ``engine``: without the
    confidential provenance)."""

    trace: dict[str, Any]
    data: bytes
    sha256: str
    scope: str


def provenance_readable(*, estimate: Estimate, user: User) -> bool:
    """Whether ``user`` may read the estimate's provenance: every role but exporters, and
    an exporter of the organisation the estimate's installation belongs to."""
    if user.role != User.Role.EXPORTER:
        return True
    installation = estimate.installation
    return bool(
        installation is not None
        and user.organisation_id
        and installation.organisation_id == user.organisation_id
    )


def engine_part(trace: dict[str, Any]) -> dict[str, Any]:
    """The trace without its confidential provenance: the engine's own trace."""
    return {k: v for k, v in trace.items() if k != CONFIDENTIAL_KEY}


def served_trace(*, estimate: Estimate, user: User) -> ServedTrace:
    """The estimate's trace as ``user`` may read it (see the module docstring)."""
    trace = json.loads(estimate.trace)
    if CONFIDENTIAL_KEY not in trace or provenance_readable(estimate=estimate, user=user):
        data = estimate.trace.encode("utf-8")
        return ServedTrace(trace, data, estimate.trace_sha256, "full")
    engine = engine_part(trace)
    data = canonical_bytes(engine)
    return ServedTrace(engine, data, sha256_hex(data), "engine")
