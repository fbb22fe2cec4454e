"""Sections that areas above this one add to a shipment's page (as
apps/facilities/panels.py does for an installation's page): a template the page includes,
in order, and a function ``(user, shipment) -> context``. The disclosures area explains
there why a shipment stays on the default value and what would move it, without this app
importing it (docs/contributing.md, "Layers")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Context = Callable[[Any, Any], dict[str, Any]]  # (user, shipment) -> context


@dataclass(frozen=True)
class Panel:
    order: int
    template: str
    context: Context


_PANELS: dict[str, Panel] = {}


def shipment_panel(*, order: int, template: str) -> Callable[[Context], Context]:
    """Register the decorated function as the context of ``template`` on every shipment
    page (the same template again replaces it)."""

    def register(context: Context) -> Context:
        _PANELS[template] = Panel(order=order, template=template, context=context)
        return context

    return register


def shipment_panels(user, shipment) -> tuple[list[str], dict[str, Any]]:
    """The registered panels' templates, in order, and their merged context."""
    panels = sorted(_PANELS.values(), key=lambda p: (p.order, p.template))
    context: dict[str, Any] = {}
    for panel in panels:
        context.update(panel.context(user, shipment))
    return [p.template for p in panels], context
