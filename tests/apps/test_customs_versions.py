"""Corrections, totals and progress of the customs ingest on PostgreSQL."""

from __future__ import annotations

import pytest
from numpy.testing import assert_allclose

from apps.shipments.models import Shipment, ShipmentTotal
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services


@pytest.fixture
def defaults_loaded(postgres):
    return ingest_json("defaults", DEFAULTS_CSV)


def test_a_corrected_line_becomes_a_new_version_and_the_old_one_is_kept(defaults_loaded, tmp_path):
    first = write_customs(
        tmp_path / "v1.csv",
        [
            "C1,1,2026-03-02,72081000,CN,Corr Steel,Imp,1000000,,4000,",
            "C1,2,2026-03-02,72081000,CN,Corr Steel,Imp,5000,,4000,",
        ],
    )
    ingest_json("customs", first)
    # The broker re-submits line 1 with the right mass; line 2 is unchanged.
    second = write_customs(
        tmp_path / "v2.csv",
        [
            "C1,1,2026-03-02,72081000,CN,Corr Steel,Imp,900000,,4000,",
            "C1,2,2026-03-02,72081000,CN,Corr Steel,Imp,5000,,4000,",
        ],
    )
    summary = ingest_json("customs", second)
    assert (summary["accepted"], summary["duplicates"]) == (1, 1)

    versions = Shipment.objects.filter(declaration_id="C1", line=1).order_by("version")
    assert [(s.version, s.is_current, s.net_mass_t) for s in versions] == [
        (1, False, 1000.0),
        (2, True, 900.0),
    ]
    assert versions[0].ingest_run_id != versions[1].ingest_run_id
    # The new version is estimated; the totals count only current versions.
    assert_allclose(versions[1].embedded_emissions_t, 900 * 3.5056)
    total = ShipmentTotal.objects.get(origin="CN", cn_code="72081000")
    assert total.shipments == 2
    assert_allclose(total.net_mass_t, 905.0)
    assert_allclose(total.embedded_emissions_t, 905 * 3.5056)
    assert_allclose(total.default_mass_t, 905.0)

    # The same correction submitted again is a no-op.
    again = ingest_json("customs", second)
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    assert Shipment.objects.filter(declaration_id="C1").count() == 3


def test_totals_follow_each_month_and_exporter(defaults_loaded, tmp_path):
    path = write_customs(
        tmp_path / "t.csv",
        [
            "T1,1,2026-01-10,72081000,CN,Steel A,Imp,1000,,4000,",
            "T1,2,2026-01-20,72081000,CN,Steel A,Imp,3000,,4000,",
            "T2,1,2026-02-01,72081000,CN,Steel A,Imp,2000,,4000,",
            "T3,1,2026-01-05,72081000,CN,Steel B,Imp,7000,,4000,",
        ],
    )
    ingest_json("customs", path)
    rows = {
        (t.exporter.name, t.month.month): (t.shipments, t.net_mass_t)
        for t in ShipmentTotal.objects.select_related("exporter")
    }
    assert rows == {("Steel A", 1): (2, 4.0), ("Steel A", 2): (1, 2.0), ("Steel B", 1): (1, 7.0)}


def test_incremental_totals_equal_a_rebuild_and_no_reference_dangles(defaults_loaded, tmp_path):
    from django.db import connection

    from apps.shipments.services import shipment_totals_rebuild

    first = write_customs(
        tmp_path / "a.csv",
        [
            f"I{i},1,2026-0{1 + i % 3}-10,72081000,CN,Steel {i % 2},Imp,{1000 + i},,4000,"
            for i in range(30)
        ],
    )
    second = write_customs(  # corrects ten lines, moving some to another month
        tmp_path / "b.csv",
        [
            f"I{i},1,2026-04-1{i % 2},72081000,CN,Steel {i % 2},Imp,{2000 + i},,4000,"
            for i in range(10)
        ],
    )
    ingest_json("customs", first)
    ingest_json("customs", second)

    def snapshot():
        return sorted(
            (
                t.origin,
                t.cn_code,
                t.exporter_id,
                t.month,
                t.shipments,
                round(t.net_mass_t, 9),
                round(t.embedded_emissions_t, 6),
            )
            for t in ShipmentTotal.objects.all()
        )

    incremental = snapshot()
    shipment_totals_rebuild()
    assert snapshot() == incremental
    assert sum(t[4] for t in incremental) == 30  # current versions only

    # The shipments table has no database-level foreign keys (bulk loads): check by hand.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COUNT(*) FROM shipments_shipment s
            LEFT JOIN accounts_organisation o ON o.id = s.exporter_id
            LEFT JOIN evidence_ingestrun r ON r.id = s.ingest_run_id
            LEFT JOIN estimates_estimate e ON e.id = s.estimate_id
            WHERE o.id IS NULL OR r.id IS NULL OR (s.estimate_id IS NOT NULL AND e.id IS NULL)
            """
        )
        assert cursor.fetchone()[0] == 0


def test_aggregate_statistics_are_stored_apart_from_declarations(defaults_loaded):
    from apps.shipments.models import TradeAggregate
    from tests.apps.helpers import ROOT

    extract = ROOT / "fixtures/trade/eurostat_comext_ds045409_us_eu27_monthly.csv"
    summary = ingest_json("customs", extract)
    assert (summary["accepted"], summary["rejected"]) == (4236, 0)
    assert not Shipment.objects.exists()
    # Eurostat Comext, EU27 imports from the US, CN 2507 00 80, January 2022: 504.451 t
    # (fixtures/trade/eurostat_comext_ds045409_us_eu27_monthly.csv, line 2).
    row = TradeAggregate.objects.get(cn_code="25070080", month="2022-01-01")
    assert (row.origin, row.reporter, row.tonnes) == ("US", "EU27_2020", 504.451)
    again = ingest_json("customs", extract)
    assert (again["accepted"], again["duplicates"]) == (0, 4236)

    # Implausible unit values are kept and flagged (ingest.plausibility): 2025-08 US
    # hydrogen, 3,498,112 EUR / 57,134.001 t = EUR 61/t against a median of EUR 9,303/t.
    flagged = TradeAggregate.objects.filter(implausible=True)
    assert flagged.count() == 15
    hydrogen = TradeAggregate.objects.get(cn_code="28041000", month="2025-08-01")
    assert hydrogen.implausible and hydrogen.tonnes == 57134.001
    assert "EUR 61 is" in hydrogen.implausible_reason
    assert not row.implausible and row.implausible_reason == ""
    # The API leaves them out of what it sums unless asked.
    from rest_framework.test import APIClient

    from apps.accounts.models import User

    api = APIClient()
    api.force_authenticate(User.objects.create(username="off", role=User.Role.OFFICIAL))
    base = "/api/v1/trade-aggregates/?cn_code=28041000&period_from=2025-08-01&period_to=2025-08-31"
    assert api.get(base).json()["results"] == []
    shown = api.get(base + "&include_implausible=true").json()["results"]
    assert [(r["tonnes"], r["implausible"]) for r in shown] == [(57134.001, True)]
    assert shown[0]["implausible_reason"] == hydrogen.implausible_reason


def test_a_batch_copied_as_fresh_that_meets_stored_lines_is_merged_instead(
    defaults_loaded, tmp_path, monkeypatch
):
    """Two runs loading the same new file at once: the second one's direct COPY breaks the
    unique key; its batch is then merged and its lines count as duplicates."""
    from apps.shipments import services

    path = write_customs(
        tmp_path / "race.csv",
        [f"R{i},1,2026-02-0{1 + i % 5},72081000,CN,Race Steel,Imp,1000,,4000," for i in range(20)],
    )
    first = ingest_json("customs", path)
    monkeypatch.setattr(services, "_any_stored", lambda ids: False)  # as if checked first
    second = ingest_json("customs", path)
    assert (first["accepted"], second["accepted"], second["duplicates"]) == (20, 0, 20)
    assert Shipment.objects.count() == 20
    assert ShipmentTotal.objects.get(origin="CN").shipments == 20


def test_batches_written_by_two_writers_give_exact_counts_and_totals(
    defaults_loaded, tmp_path, settings
):
    """Batches are stored by two threads, each on its own connection and transaction; the
    counts, the stored lines and the incremental totals come out as with one writer."""
    from apps.shipments.services import shipment_totals_rebuild

    settings.CUSTOMS_BATCH_ROWS = 7
    settings.CUSTOMS_WRITERS = 2
    lines = [
        f"W{i},{1 + i % 3},2026-0{1 + i % 4}-1{i % 9},72081000,{'CN' if i % 2 else 'IN'},"
        f"Steel {i % 5},Imp,{1000 + i},,4000,"
        for i in range(95)
    ]
    first = ingest_json("customs", write_customs(tmp_path / "a.csv", lines))
    assert (first["accepted"], first["duplicates"]) == (95, 0)
    assert Shipment.objects.filter(declaration_id__startswith="W").count() == 95
    # A replay through the merge path (every line stored): nothing added.
    again = ingest_json("customs", write_customs(tmp_path / "b.csv", [*lines, ""]))
    assert (again["accepted"], again["duplicates"]) == (0, 95)

    def snapshot():
        return sorted(
            (t.origin, t.cn_code, t.exporter_id, t.month, t.shipments, round(t.net_mass_t, 9))
            for t in ShipmentTotal.objects.all()
        )

    incremental = snapshot()
    shipment_totals_rebuild()
    assert snapshot() == incremental
    assert sum(t[4] for t in incremental) == 95
