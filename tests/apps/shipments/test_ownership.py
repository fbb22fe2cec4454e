"""Issue #17 item 2: the shipments app owns pointing shipments at estimates; the estimates
app's models, services and selectors never import the shipments app (no import loop)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_the_estimates_app_does_not_import_shipments():
    for name in ("models.py", "services.py", "selectors.py", "traces.py"):
        modules = imported_modules(ROOT / "apps" / "estimates" / name)
        assert not {m for m in modules if m.startswith("apps.shipments")}, name


def test_the_ladder_apply_lives_in_the_shipments_app():
    import apps.estimates.services as estimates
    import apps.shipments.services as shipments

    assert not hasattr(estimates, "estimate_ladder_apply")
    assert callable(shipments.shipment_estimates_apply)
    assert callable(shipments.shipment_figures_rechoose)
