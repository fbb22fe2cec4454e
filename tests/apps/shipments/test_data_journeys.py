"""Issue #19 journeys over the data (docs/web.md): customs lines far outside their CN
heading's norms are kept and flagged at ingest, and left out of headline sums (dashboard,
list summary, risk view, exporter page, API) unless asked (apps.shipments.plausibility);
rankings by CN code, origin and exporter with a summary row; the compare view.

The norms come from the bundled Comext extract: heading 7208, median EUR 2,723.56/t;
heading 2523, largest month 211.016 t, so a line over 20 × 211.016 = 4,220.32 t is flagged.

- P1/1: 1,000 t of 7208 at EUR 2,700,000 (2,700/t): ordinary;
- P1/2: 10 t of 7208 at EUR 100 (10/t, 0.00367 × the median): flagged by value;
- P2/1: 30 t of 2523, no value: ordinary;
- P2/2: 5,000 t of 2523, no value: flagged by mass.

Headline sums: 2 lines, 1,030 t; with the flagged lines, 4 lines, 6,040 t.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.shipments.models import Shipment
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, make_users, write_customs
from tests.worlds import module_world

pytestmark = pytest.mark.services

LINES = [
    "P1,1,2026-03-02,72081000,CN,Exporter A,Imp,1000000,2700000,4000,",
    "P1,2,2026-03-02,72081000,CN,Exporter A,Imp,10000,100,4000,",
    "P2,1,2026-04-10,25232900,TR,Exporter B,Imp,30000,,4000,",
    "P2,2,2026-04-10,25232900,TR,Exporter B,Imp,5000000,,4000,",
]


@module_world
def journeys_world(tmp_path):
    users = make_users()
    ingest_json("defaults", DEFAULTS_CSV)
    report = ingest_json("customs", write_customs(tmp_path / "p.csv", LINES))
    return {"users": users, "report": report}


@pytest.fixture
def world(journeys_world, db, settings):
    return journeys_world.use(settings)


def _client(username: str) -> Client:
    from apps.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_flagged_lines_are_kept_with_the_reason(world):
    assert world["report"]["accepted"] == 4
    flagged = {
        (s.declaration_id, s.line): s.implausible_reason
        for s in Shipment.objects.filter(implausible=True)
    }
    assert set(flagged) == {("P1", 2), ("P2", 2)}
    assert flagged[("P1", 2)].startswith("value per tonne EUR 10 is 0.00367× the median of CN 7208")
    assert "net mass 5,000.0 t is over 20× the largest month of CN 2523" in flagged[("P2", 2)]
    assert "(211.0 t)" in flagged[("P2", 2)]


def test_dashboard_leaves_them_out_unless_asked(world):
    from apps.accounts.models import User
    from apps.web.dashboard import dashboard_totals

    official = User.objects.get(username="official")
    out = dashboard_totals(user=official)
    assert out.overall["shipments"] == 2 and out.overall["net_mass_t"] == pytest.approx(1_030)
    assert out.flagged["shipments"] == 2 and out.flagged["net_mass_t"] == pytest.approx(5_010)
    both = dashboard_totals(user=official, include_flagged=True)
    assert both.overall["shipments"] == 4 and both.overall["net_mass_t"] == pytest.approx(6_040)
    ordinary = Shipment.objects.filter(implausible=False)
    assert out.overall["embedded_emissions_t"] == pytest.approx(
        sum(s.embedded_emissions_t for s in ordinary)
    )
    by_origin = {r["origin"]: r["net_mass_t"] for r in out.by_origin}
    assert by_origin == pytest.approx({"CN": 1_000, "TR": 30})
    # The SEE distribution and the shipment report's other exporters leave them out too.
    from apps.shipments.selectors import exporter_comparison
    from apps.web.dashboard import intensity_distribution

    groups = intensity_distribution(user=official, cn_code="72081000")
    assert [(g["origin"], g["net_mass_t"]) for g in groups] == [("CN", pytest.approx(1_000))]
    others = exporter_comparison(cn_code="25232900", user=official)
    assert [(r["exporter"], r["net_mass_t"]) for r in others] == [("Exporter B", pytest.approx(30))]

    page = _client("official").get("/dashboard/").content.decode()
    assert "Lines flagged implausible at ingest" in page and "Left out of the figures" in page
    page = _client("official").get("/dashboard/?implausible=include").content.decode()
    assert "Included in the figures on this page" in page


def test_the_list_marks_them_and_its_summary_leaves_them_out(world):
    client = _client("official")
    page = client.get("/shipments/").content.decode()
    assert "2 lines flagged implausible at ingest are left out" in page
    assert "All 2 lines of this list" in page and "1,030.000 t" in page
    assert "flagged implausible</span>" not in page
    page = client.get("/shipments/?implausible=include").content.decode()
    assert "All 4 lines of this list" in page and "6,040.000 t" in page
    assert page.count("flagged implausible</span>") == 2
    page = client.get("/shipments/?implausible=only").content.decode()
    assert "All 2 lines of this list" in page and "5,010.000 t" in page


def test_the_api_says_so(world):
    from apps.accounts.models import User

    api = APIClient()
    api.force_login(User.objects.get(username="official"))
    rows = api.get("/api/v1/shipments/").json()["results"]
    assert {(r["declaration_id"], r["line"]) for r in rows} == {("P1", 1), ("P2", 1)}
    rows = api.get("/api/v1/shipments/?implausible=only").json()["results"]
    assert all(r["implausible"] and r["implausible_reason"] for r in rows) and len(rows) == 2
    totals = api.get("/api/v1/totals/?group_by=origin").json()
    assert totals["implausible_included"] is False
    assert {r["origin"]: r["net_mass_t"] for r in totals["results"]} == pytest.approx(
        {"CN": 1_000, "TR": 30}
    )
    totals = api.get("/api/v1/totals/?group_by=origin&implausible=include").json()
    assert {r["origin"]: r["net_mass_t"] for r in totals["results"]} == pytest.approx(
        {"CN": 1_010, "TR": 5_030}
    )
    risk = api.get("/api/v1/risk/").json()
    assert risk["implausible_left_out"] == 2
    assert sum(r["net_mass_t"] for r in risk["exporters"]) == pytest.approx(1_030)
    risk = api.get("/api/v1/risk/?implausible=include&origin=Türkiye").json()
    assert [r["net_mass_t"] for r in risk["exporters"]] == pytest.approx([5_030])


def _official():
    from apps.accounts.models import User

    return User.objects.get(username="official")


def _line(decl: str, line: int) -> Shipment:
    return Shipment.objects.get(declaration_id=decl, line=line)


def test_rankings_by_code_origin_and_exporter_with_a_summary(world):
    from apps.shipments.rankings import ranking

    steel, cement = _line("P1", 1), _line("P2", 1)
    out = ranking(user=_official(), by="cn_code", sort="tonnes")
    assert [(r["key"], r["lines"], r["tonnes"]) for r in out.rows] == [
        ("72081000", 1, pytest.approx(1_000)),
        ("25232900", 1, pytest.approx(30)),
    ]
    assert out.rows[0]["see"] == pytest.approx(steel.estimate.see_total_t_per_t)
    assert out.rows[0]["exporters"] == 1 and out.rows[0]["default_share"] == pytest.approx(100)
    assert out.summary["lines"] == 2 and out.summary["tonnes"] == pytest.approx(1_030)
    assert out.summary["exporters"] == 2
    assert out.summary["tco2e"] == pytest.approx(
        steel.embedded_emissions_t + cement.embedded_emissions_t
    )
    # With the flagged lines: 1,010 t of steel, 5,030 t of cement; ascending order.
    out = ranking(
        user=_official(), by="cn_code", sort="tonnes", descending=False, include_implausible=True
    )
    assert [(r["key"], r["lines"]) for r in out.rows] == [("72081000", 2), ("25232900", 2)]
    assert out.summary["tonnes"] == pytest.approx(6_040)
    by_origin = ranking(user=_official(), by="origin", sort="key", descending=False)
    assert [r["key"] for r in by_origin.rows] == ["CN", "TR"]
    by_exporter = ranking(user=_official(), by="exporter", sort="tco2e")
    assert {r["label"]: r["tonnes"] for r in by_exporter.rows} == pytest.approx(
        {"Exporter A": 1_000, "Exporter B": 30}
    )
    only_tr = ranking(user=_official(), by="exporter", origin="TR")
    assert [r["label"] for r in only_tr.rows] == ["Exporter B"]


def test_the_rankings_page_sorts_and_sums(world):
    client = _client("official")
    page = client.get("/rankings/?by=origin&sort=tonnes&dir=asc").content.decode()
    assert page.index(">TR</a>") < page.index(">CN</a>")  # 30 t before 1,000 t
    assert 'aria-sort="ascending"' in page and "Net mass (t)" in page
    assert "1,030.0" in page and "2 lines flagged implausible" in page
    page = client.get("/rankings/?by=origin&origin=China").content.decode()
    assert ">CN</a>" in page and ">TR</a>" not in page


def test_compare_exporters_of_one_product(world):
    from apps.shipments.rankings import compare_exporters

    steel = _line("P1", 1)
    rows = compare_exporters(user=_official(), cn_code="72081000", origin="CN")
    assert [(r["exporter"], r["origin"], r["lines"]) for r in rows] == [("Exporter A", "CN", 1)]
    assert rows[0]["see"] == pytest.approx(steel.estimate.see_total_t_per_t)
    assert rows[0]["tonnes"] == pytest.approx(1_000)
    both = compare_exporters(user=_official(), cn_code="72081000", include_implausible=True)
    assert both[0]["tonnes"] == pytest.approx(1_010)
    page = _client("official").get("/compare/?cn_code=72081000").content.decode()
    assert "Across origins" in page and "Exporter A" in page
    page = _client("official").get("/compare/?cn_code=72081000&origin=CN").content.decode()
    assert "Same origin" in page
    page = _client("official").get("/compare/?cn_code=7208").content.decode()
    assert "takes one 8-digit CN code" in page
    detail = _client("official").get(f"/shipments/{steel.pk}/").content.decode()
    assert "/compare/?cn_code=72081000&amp;origin=CN" in detail


def test_the_list_summary_from_the_totals_equals_the_sum_of_the_lines(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _client("official")
    for query, lines, tonnes in (
        ("origin=China", 1, "1,000.000 t"),
        ("cn_code=2523&period_from=2026-04-01&period_to=2026-04-30", 1, "30.000 t"),
        ("exporter=Exporter+B&implausible=include", 2, "5,030.000 t"),
        ("period_from=2026-04-10&period_to=2026-04-10", 1, "30.000 t"),  # from the lines
        ("importer=Imp&implausible=only", 2, "5,010.000 t"),  # from the lines
    ):
        with CaptureQueriesContext(connection) as queries:
            page = client.get(f"/shipments/?{query}").content.decode()
        assert f"All {lines} line{'s' if lines > 1 else ''} of this filter" in page, query
        assert tonnes in page, query
        if "period_from=2026-04-10" not in query and "importer" not in query:
            flagged_only = (
                '("shipments_shipment"."implausible" AND "shipments_shipment"."is_current"'
            )
            counted = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
            assert all(flagged_only in sql for sql in counted), (query, counted)


def test_flags_are_a_workflow_open_review_resolved_audited(world):
    from apps.audit.models import AuditEvent
    from apps.shipments.models import LineFlag
    from apps.shipments.plausibility import FlagTransitionError, line_flag_transition

    flags = {(f.shipment.declaration_id, f.shipment.line): f for f in LineFlag.objects.all()}
    assert set(flags) == {("P1", 2), ("P2", 2)}
    assert all(f.status == "open" and f.reason for f in flags.values())
    flag = flags[("P1", 2)]
    with pytest.raises(FlagTransitionError, match="cannot become resolved"):
        line_flag_transition(flag=flag, status="resolved", note="x", actor=_official())

    client = _client("official")
    page = client.get("/dashboard/").content.decode()
    assert 'Flags to review</span><span class="kpi-value">2 <small>(2 open, 0 under' in page
    listing = client.get("/flags/").content.decode()
    assert "Unresolved (2)" in listing
    assert f'href="/shipments/{flag.shipment_id}/"' in listing
    url = f"/flags/line/{flag.pk}/transition/"
    client.post(url, {"status": "review"})
    flag.refresh_from_db()
    assert flag.status == "review"
    page = client.post(url, {"status": "resolved", "note": " "}, follow=True).content.decode()
    assert "resolving a flag needs a note" in page
    flag.refresh_from_db()
    assert flag.status == "review"
    client.post(url, {"status": "resolved", "note": "EUR 100 was EUR 100,000: importer's typo"})
    flag.refresh_from_db()
    assert (flag.status, flag.note) == ("resolved", "EUR 100 was EUR 100,000: importer's typo")
    events = list(
        AuditEvent.objects.filter(object_type="line_flag", object_id=str(flag.pk)).order_by("index")
    )
    assert [e.action for e in events] == ["shipments.flag.review", "shipments.flag.resolved"]
    assert "Resolved (1)" in client.get("/flags/?show=all").content.decode()

    exporter = _client("exporter_a")
    assert (
        exporter.post(
            f"/flags/line/{flags[('P2', 2)].pk}/transition/", {"status": "review"}
        ).status_code
        == 403
    )


def test_filters_forgive_names_take_iso_dates_and_say_which_filter_emptied_the_list(world):
    client = _client("official")
    for origin in ("China", "CN", "cn", "CHN"):
        page = client.get(f"/shipments/?origin={origin}").content.decode()
        assert "P1 / 1" in page and "P2 / 1" not in page, origin
    # Day first or month first is never guessed: only ISO dates are read.
    page = client.get("/shipments/?period_from=02/03/2026").content.decode()
    assert "Enter the date as YYYY-MM-DD" in page and "P1 / 1" not in page
    assert 'type="date"' in page
    page = client.get("/shipments/?period_from=2026-03-02&period_to=2026-03-02").content.decode()
    assert "P1 / 1" in page and "P2 / 1" not in page
    # CN 2523 exists, and from TR; from China it does not: the origin emptied the list.
    page = client.get("/shipments/?cn_code=2523&origin=China").content.decode()
    assert "the filter <strong>Origin = “China”</strong> left none" in page
    assert 'href="?cn_code=2523">Remove that filter' in page
    page = client.get("/rankings/?cn_code=2523&origin=China").content.decode()
    assert "the filter Origin = “China” left none" in page
    api = APIClient()
    api.force_login(_official())
    rows = api.get("/api/v1/totals/?group_by=origin&origin=China").json()["results"]
    assert [r["origin"] for r in rows] == ["CN"]
    answer = api.get("/api/v1/totals/?origin=Atlantis")
    assert answer.status_code == 400 and "neither an ISO 3166-1" in str(answer.json())
