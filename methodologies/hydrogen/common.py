"""What the three hydrogen methodologies share: their version and the readers of list and
fraction keys (docs/method-hydrogen.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from methodologies import casefields as cf
from methodologies.errors import CaseError
from methodologies.spec import seal_outputs

VERSION = "2023.1185.1"


def _seal_result(
    methodology_id: str,
    inputs: list[dict[str, Any]],
    factors: list[dict[str, Any]],
    steps: list[dict[str, Any]],
    outputs: dict[str, Any],
    norm: dict[str, Any],
) -> dict[str, Any]:
    return seal_outputs(
        methodology_id=methodology_id,
        version=VERSION,
        inputs=inputs,
        factors=factors,
        steps=steps,
        outputs=outputs,
        case=norm,
    )


def _series(case: Mapping[str, Any], key: str, unit: str, n: int | None) -> list[float]:
    values = case.get(key)
    if not isinstance(values, list) or not values:
        raise CaseError(key, f"a non-empty list of numbers in {unit}", f"got {values!r}")
    if n is not None and len(values) != n:
        raise CaseError(
            key, f"{n} numbers in {unit} (one per period)", f"got {len(values)} numbers"
        )
    return [cf.to_float(v, f"{key}[{i}]", unit, minimum=0.0) for i, v in enumerate(values)]


def _fraction(case: Mapping[str, Any], key: str, default: float | None = None) -> float:
    kwargs = {} if default is None else {"default": default}
    value = cf.number(case, key, "", "1 (fraction in [0, 1])", minimum=0.0, **kwargs)
    if value > 1.0:
        raise CaseError(key, "a number in [0, 1] (fraction)", f"got {value!r}")
    return value
