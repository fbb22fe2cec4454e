"""The declaration ids a customs ingest checks before its load go to the server as one
string split there, or as an array where an id holds the separator
(apps.shipments.services._ids_param)."""

from __future__ import annotations

import pytest

from apps.shipments import services
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services


def test_stored_declarations_are_found_whatever_their_ids_hold(postgres, tmp_path):
    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "ids.csv",
            [
                "K1,1,2026-03-02,72085120,TR,Exporter B,Imp,1000000,,4000,",
                "K\x1f2,1,2026-03-02,72085120,TR,Exporter B,Imp,1000000,,4000,",
            ],
        ),
    )
    assert services._ids_param(["A", "B"])[0].startswith("string_to_array")
    assert services._ids_param(["A", "K\x1f2"]) == ("%s::text[]", ["A", "K\x1f2"])
    assert services._any_stored(["X9", "K1"])
    assert services._any_stored(["X9", "K\x1f2"]) and not services._any_stored(["X9", "K"])
    assert not services._any_stored(["X9", "Y9"])
