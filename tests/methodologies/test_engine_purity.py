"""The engine never imports Django (docs/contributing.md: methodologies/ is pure)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]

PROGRAM = """
import importlib, pkgutil, sys
import methodologies
names = [m.name for m in pkgutil.walk_packages(methodologies.__path__, "methodologies.")
         if m.name != "methodologies.__main__"]
for name in names:
    importlib.import_module(name)
import methodologies.__main__  # noqa: guarded by __name__, safe to import
assert len(names) >= 6, names
print("django" in sys.modules, any(m.startswith("django") for m in sys.modules))
"""


def test_importing_every_engine_module_does_not_import_django():
    proc = subprocess.run(
        [sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]
