"""The installation page's panels (apps/facilities/panels.py): the areas above register
theirs at start-up, the page shows them in order, a registration is idempotent."""

from __future__ import annotations

from apps.facilities import panels


def test_the_areas_panels_are_registered_in_order():
    templates = [p.template for p in sorted(panels._PANELS.values(), key=lambda p: p.order)]
    assert templates[:3] == [
        "satellite/_installation.html",
        "shipments/_installation_figures.html",
        "disclosures/_installation.html",
    ]


def test_panels_merge_their_context_in_order_and_register_once(monkeypatch):
    monkeypatch.setattr(panels, "_PANELS", {})
    panels.installation_panel(order=20, template="b.html")(lambda user, i: {"x": 2, "b": i})
    panels.installation_panel(order=10, template="a.html")(lambda user, i: {"x": 1, "a": user})
    again = panels.installation_panel(order=20, template="b.html")
    again(lambda user, i: {"x": 3, "b": i})  # replaces the first b.html
    templates, context = panels.installation_panels("u", "i")
    assert templates == ["a.html", "b.html"]
    assert context == {"x": 3, "a": "u", "b": "i"}  # later panels win on a shared key
