"""Fixtures of the web app's tests: the site's URLs with the web pages mounted, and a
small world of shipments loaded through the public ``ingest`` command.

``world``: built once per module and read by tests that run in their own rolled-back
transaction (tests/worlds.py). ``world_tx``: the same world built for one test on
committed transactions, for tests that ingest more themselves (the ``ingest`` command waits
for its on-commit task, which needs real commits)."""

from __future__ import annotations

import pytest

from tests.apps.helpers import ingest_json, make_users, write_customs
from tests.apps.web.world import defaults_extract
from tests.worlds import module_world

WEB_URLCONF = "tests.apps.web.urls"

CUSTOMS_LINES = [
    "W1,1,2026-03-02,72081000,CN,Exporter A,Importer North,1000000,,4000,",
    'W1,2,2026-03-02,76011010,IN,Exporter A,=HYPERLINK("http://x"),20000,,4000,',
    "W2,1,2026-04-10,72081000,CN,Exporter B,Importer South,500000,,4000,",
    "W2,2,2026-04-10,25232900,TR,Exporter B,Importer South,30000,,4000,",
    "W3,1,2026-05-04,25232900,TR,Exporter A,Importer North,12000,,4000,",
]


@pytest.fixture(autouse=True)
def _web_urls(settings):
    settings.ROOT_URLCONF = WEB_URLCONF


def build_world(users: dict, tmp_path) -> dict:
    """Defaults + five declaration lines (CN, IN, TR; two exporters)."""
    from apps.shipments.models import Shipment

    ingest_json("defaults", defaults_extract(tmp_path / "defaults.csv"))
    report = ingest_json("customs", write_customs(tmp_path / "web.csv", CUSTOMS_LINES))
    assert (report["accepted"], report["rejected"]) == (5, 0), report

    def shipment(declaration_id: str, line: int) -> Shipment:
        return Shipment.objects.get(declaration_id=declaration_id, line=line, is_current=True)

    return {
        **users,
        "steel_cn_a": shipment("W1", 1),
        "alu_in_a": shipment("W1", 2),
        "steel_cn_b": shipment("W2", 1),
        "cement_tr_b": shipment("W2", 2),
    }


@module_world
def web_world(tmp):
    return build_world(make_users(), tmp)


@pytest.fixture
def world(web_world, db, settings):
    """The module's world, read inside this test's own transaction."""
    return web_world.use(settings)


@pytest.fixture
def world_tx(postgres, users, tmp_path):
    """The world on committed transactions, for this test alone."""
    return build_world(users, tmp_path)
