"""Names outside the Latin alphabet never merge organisations (issue #16, item 2).

The old ``organisation_key()`` kept only a-z and 0-9: every Chinese or Cyrillic exporter
got the empty key, so Severstal's shipment was filed under Ansteel, and "Çelik" became
"elik". Keys now follow Unicode: NFKC normalisation and default case folding (The Unicode
Standard, ch. 3.13 and UAX #15), keeping letters, marks and digits of every script.
"""

from __future__ import annotations

import pytest

from apps.accounts.models import Organisation
from apps.accounts.services import organisation_key, organisations_ensure
from apps.shipments.models import Shipment
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services

SEVERSTAL = "ПАО «Северсталь»"
ANSTEEL = "鞍钢集团有限公司"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        (SEVERSTAL, "пао северсталь"),  # « » are punctuation; Cyrillic folded to lower case
        (ANSTEEL, "鞍钢集团有限公司"),  # Han has no case: kept as written
        ("Çelik A.Ş.", "çelik a ş"),  # not "elik a"
        ("ACME STEEL LTD.", "acme steel ltd"),
        ("Ｔａｔａ　Ｓｔｅｅｌ", "tata steel"),  # full-width forms: NFKC compatibility
        ("Hüttenwerke Krupp Mannesmann GmbH", "hüttenwerke krupp mannesmann gmbh"),
        ("टाटा स्टील", "टाटा स्टील"),  # Devanagari vowel signs are marks: kept
        ("★", "★"),  # no letter at all: the folded name itself, never ""
    ],
)
def test_keys_keep_every_script_and_are_never_empty(name, key):
    assert organisation_key(name) == key


def test_distinct_names_get_distinct_keys_and_spellings_one():
    names = [SEVERSTAL, ANSTEEL, "Северсталь", "Çelik", "Celik", "elik", "★", "☆"]
    keys = [organisation_key(n) for n in names]
    assert len(set(keys)) == len(names), keys
    assert organisation_key("Acme Steel Ltd") == organisation_key("ACME STEEL LTD.")
    # Canonically equivalent spellings (precomposed ç or c + combining cedilla) are one name.
    assert organisation_key("Çelik") == organisation_key("C\u0327elik")
    with pytest.raises(ValueError, match="needs a name"):
        organisation_key("  ")


def test_a_customs_file_keeps_severstal_and_ansteel_apart(postgres_tx, tmp_path):
    """Old code: both exporters got the key "" (the second was filed under the first)."""
    ingest_json("defaults", DEFAULTS_CSV)
    path = write_customs(
        tmp_path / "declarations.csv",
        [
            f"D1,1,2026-01-10,72081000,RU,{SEVERSTAL},Importer GmbH,1000,500,4000,",
            f"D2,1,2026-01-11,72081000,CN,{ANSTEEL},Importer GmbH,2000,900,4000,",
            "D3,1,2026-01-12,72081000,TR,Çelik A.Ş.,Importer GmbH,3000,900,4000,",
        ],
    )
    summary = ingest_json("customs", path)
    assert summary["accepted"] == 3, summary
    exporters = dict(
        Shipment.objects.values_list("declaration_id", "exporter__name").order_by("declaration_id")
    )
    assert exporters == {"D1": SEVERSTAL, "D2": ANSTEEL, "D3": "Çelik A.Ş."}
    assert not Organisation.objects.filter(key="").exists()


def test_two_spellings_in_one_batch_resolve_to_one_organisation(postgres_tx):
    """Old code returned an id for one spelling only (the customs ingest then crashed)."""
    ids = organisations_ensure(
        names=["Acme Steel Ltd", "ACME STEEL LTD.", ANSTEEL], kind="exporter"
    )
    assert set(ids) == {"Acme Steel Ltd", "ACME STEEL LTD.", ANSTEEL}
    assert ids["Acme Steel Ltd"] == ids["ACME STEEL LTD."] != ids[ANSTEEL]
    assert Organisation.objects.get(pk=ids["ACME STEEL LTD."]).name == "Acme Steel Ltd"


def _migrate(target):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    executor.loader.build_graph()
    return executor


def _back_to_old_keys():
    executor = _migrate([("accounts", "0001_initial")])
    return executor.loader.project_state([("accounts", "0001_initial")]).apps


def _forward():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_key_migration_keeps_organisations_reachable(postgres_tx):
    """Rows keyed by the old rule get their name's new key, with their ids unchanged; the
    old empty key (Ansteel's) is gone, so Severstal gets its own organisation."""
    old = _back_to_old_keys()
    try:
        Org = old.get_model("accounts", "Organisation")
        ansteel = Org.objects.create(name=ANSTEEL, key="", kind="exporter")
        celik = Org.objects.create(name="Çelik", key="elik", kind="exporter")
        acme = Org.objects.create(name="ACME Steel Ltd", key="acme steel ltd", kind="exporter")
    finally:
        _forward()
    keys = dict(Organisation.objects.values_list("pk", "key"))
    assert keys[ansteel.pk] == ANSTEEL and keys[celik.pk] == "çelik"
    assert keys[acme.pk] == "acme steel ltd"
    ids = organisations_ensure(names=[SEVERSTAL, "Çelik", "Acme Steel Ltd."], kind="exporter")
    assert ids["Çelik"] == celik.pk and ids["Acme Steel Ltd."] == acme.pk
    assert ids[SEVERSTAL] not in (ansteel.pk, celik.pk, acme.pk)


def test_the_key_migration_refuses_to_merge_organisations_silently(postgres_tx):
    """Two rows whose names share one new key (here one by a full-width spelling that the
    old rule keyed "") stop the migration, which names both and changes nothing."""
    old = _back_to_old_keys()
    Org = old.get_model("accounts", "Organisation")
    Org.objects.create(name="Tata Steel", key="tata steel", kind="exporter")
    Org.objects.create(name="Ｔａｔａ Ｓｔｅｅｌ", key="", kind="exporter")
    try:
        with pytest.raises(Exception, match="would share one key") as refused:
            _forward()
        assert "Tata Steel" in str(refused.value) and "Ｔａｔａ" in str(refused.value)
        assert sorted(Org.objects.values_list("key", flat=True)) == ["", "tata steel"]
    finally:
        Org.objects.filter(key="").delete()
        _forward()
