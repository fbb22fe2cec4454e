"""Django starts without the heavy libraries (docs/contributing.md, "Start-up cost").

Every ``manage.py`` command, Celery worker and test process starts Django; the modules it
imports then (models, app configs, the panels they register) import pandas, xarray, pint,
openpyxl and pdfplumber inside the functions that use them. Importing them at start-up
cost 2.6 s of CPU more per process (4.8 s against 2.2 s, measured on the 2-core machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

HEAVY = ("pandas", "xarray", "pint", "openpyxl", "pdfplumber", "rasterio", "pyarrow")


def test_django_setup_imports_none_of_the_heavy_libraries():
    script = (
        "import json, sys, django; django.setup(); "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings")
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == [], f"django.setup() imported {loaded}: import them where they are used"


def test_the_lazy_names_of_the_disclosure_package_resolve():
    """``ingest.disclosure`` names its public API lazily (PEP 562): each name resolves."""
    import ingest.disclosure as package

    for name in package.__all__:
        assert getattr(package, name) is not None, name
    assert set(package._LAZY) <= set(dir(package))
