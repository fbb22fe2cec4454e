"""Sections that other areas add to an installation's page.

The installation page belongs to this app (apps/facilities/views.py), but what it shows
beside the registry's own data (satellite activity and flags, disclosures and estimates,
their audit history) comes from areas above this one. Those areas register a *panel*
here when Django starts (their ``AppConfig.ready``): a template the page includes, in
order, and a function that gives the template's context. So the page needs no import of
the areas above it (docs/contributing.md, "Layers").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Context = Callable[[Any, Any], dict[str, Any]]  # (user, installation) -> context


@dataclass(frozen=True)
class Panel:
    order: int  # the page shows panels by ascending order
    template: str
    context: Context


_PANELS: dict[str, Panel] = {}


def installation_panel(*, order: int, template: str) -> Callable[[Context], Context]:
    """Register the decorated function as the context of ``template`` on every
    installation page. Registering the same template again replaces it (idempotent)."""

    def register(context: Context) -> Context:
        _PANELS[template] = Panel(order=order, template=template, context=context)
        return context

    return register


def installation_panels(user, installation) -> tuple[list[str], dict[str, Any]]:
    """The templates of the registered panels, in order, and their merged context."""
    panels = sorted(_PANELS.values(), key=lambda p: (p.order, p.template))
    context: dict[str, Any] = {}
    for panel in panels:
        context.update(panel.context(user, installation))
    return [p.template for p in panels], context
