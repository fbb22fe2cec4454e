"""The layers of ``apps/`` stay in order (docs/contributing.md, "Layers").

Every import in every file under ``apps/`` (at the top of a module or inside a function,
absolute or relative) is read with ``ast``; nothing is imported or run. Two rules:

1. An app imports only apps of its own rank or below in ``LAYERS`` (the site on top,
   then the areas, then the core). The few imports that still run back up are listed in
   ``BACK_UP`` with their reason; a new one fails here, and so does a listed one that is
   gone (so the list shrinks as they are mended).
2. No loop of imports between files, except a service and its task module calling each
   other (``services.py`` queues ``tasks.py``, which calls the service) and the loops
   listed in ``LOOPS``.

The engine and the readers (``methodologies/``, ``ingest/``, ``verifier/``) import no app.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: From the bottom up. An app may import an app of lower or equal rank.
LAYERS: tuple[str, ...] = (
    # core: the kit, the audit log, who is who, evidence files and runs, the catalogue
    "common",
    "audit",
    "adoption",
    "accounts",
    "evidence",
    "catalogue",
    # areas: installations, grid and satellite evidence, estimates, shipments, exchange
    "facilities",
    "grid",
    "satellite",
    "estimates",
    "shipments",
    "pact",
    "disclosures",
    # the site: dashboard, pages that join areas, the demo
    "web",
)
RANK = {app: rank for rank, app in enumerate(LAYERS)}

#: (from app, to app): why the import still runs back up. At most 4.
BACK_UP: dict[tuple[str, str], str] = {
    ("estimates", "shipments"): (
        "the estimate API's verify and verify_estimates check the shipments served from it"
    ),
    ("facilities", "shipments"): "entity resolution reads exporters' countries from totals",
}

#: Loops between files other than service <-> task pairs, each with why it is tolerated.
LOOPS: dict[frozenset[str], str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(folder: str) -> dict[str, Path]:
    return {
        _module_name(p): p
        for p in sorted((ROOT / folder).rglob("*.py"))
        if "migrations" not in p.parts
    }


APPS = _modules("apps")


def _imported(module: str, path: Path) -> set[str]:
    """The modules ``module`` imports (a name imported from a package, when it is a module
    of the tree, counts as that module)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def _app_imports() -> dict[str, set[str]]:
    """Module -> the modules of ``apps/`` it imports (itself excluded)."""
    graph = {}
    for module, path in APPS.items():
        graph[module] = {m for m in _imported(module, path) if m in APPS and m != module}
    return graph


def _app(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def _loops(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected parts of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                part.add(w)
                if w == v:
                    break
            if len(part) > 1:
                found.append(frozenset(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _service_and_task(loop: frozenset[str]) -> bool:
    names = sorted(m.rpartition(".")[2] for m in loop)
    return names == ["services", "tasks"] and len({_app(m) for m in loop}) == 1


def test_every_app_has_a_layer():
    apps = {_app(m) for m in APPS if _app(m)}
    assert apps == set(LAYERS), f"apps without a layer: {sorted(apps - set(LAYERS))}"


def test_imports_run_downward():
    graph = _app_imports()
    upward: dict[tuple[str, str], list[str]] = {}
    for module, targets in graph.items():
        for target in targets:
            pair = (_app(module), _app(target))
            if pair[0] and pair[1] and RANK[pair[0]] < RANK[pair[1]]:
                upward.setdefault(pair, []).append(f"{module} -> {target}")
    unexpected = {pair: sorted(v) for pair, v in upward.items() if pair not in BACK_UP}
    assert not unexpected, f"imports that run back up (docs/contributing.md): {unexpected}"
    mended = set(BACK_UP) - set(upward)
    assert not mended, f"no longer back up, remove from BACK_UP: {sorted(mended)}"
    assert len(BACK_UP) <= 4


def test_no_loops_but_a_service_and_its_tasks():
    loops = [
        loop for loop in _loops(_app_imports()) if not _service_and_task(loop) and loop not in LOOPS
    ]
    assert not loops, f"import loops: {[sorted(loop) for loop in loops]}"


def test_the_engine_and_the_readers_import_no_app():
    for folder in ("methodologies", "ingest", "verifier"):
        for module, path in _modules(folder).items():
            bad = {m for m in _imported(module, path) if m.split(".")[0] in ("apps", "config")}
            assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_reading_finds_known_imports():
    """The reading is not vacuous: known imports, one of them relative, are found."""
    graph = _app_imports()
    assert "apps.audit.services" in graph["apps.accounts.services"]
    assert "apps.disclosures.panels" in graph["apps.disclosures.apps"]  # from . import panels
    assert _loops({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [frozenset({"a", "b"})]


def test_the_load_mark_lives_only_under_tests_load():
    """The load pass collects ``tests/load`` alone (tests/conftest.py,
    ``pytest_ignore_collect``): a ``load`` mark anywhere else would never run."""
    tests = Path(__file__).resolve().parent
    marked = []
    for path in tests.rglob("*.py"):
        if tests / "load" in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "load"
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "mark"
            ):
                marked.append(f"{path.relative_to(tests)}:{node.lineno}")
    assert not marked, marked
