"""Issue #19 §4, the exporter's journey in a real browser: a template downloaded from the
upload page and the reporting year defaulted to the year of its shipments; a warning when
the disclosure's goods are not the installation's; a preview of what confirming changes
that agrees with what confirming then does; per shipment, why it stays on the default
value; its shipments filtered by installation; a PDF's values reviewed by table, confirmed
in bulk, beside real page images, each button named after its field. Another
organisation's installation and shipments stay out of every one of these. axe-core finds
no serious or critical violation on the pages."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import Page, expect

from tests.apps.disclosures.conftest import JRC_EXCERPT, template_2026, upload
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs
from tests.browser.conftest import assert_accessible
from tests.browser.test_official_journey import log_in

pytestmark = [pytest.mark.browser, pytest.mark.services]

LINES = [
    "X1,1,2026-03-02,72085120,IN,Exporter A,Imp,1000000,,4000,IN-MH-0042",
    "X1,2,2026-04-02,72071111,IN,Exporter A,Imp,500000,,4000,IN-MH-0042",
    "X2,1,2026-03-05,72085120,TR,Exporter B,Imp,2000000,,4000,TR-B-0001",
    "X3,1,2026-05-01,72085120,CN,Exporter A,Imp,300000,,4000,",
]


@pytest.fixture
def world(postgres, users, tmp_path, settings):
    """Exporter A ships steel from its installation IN-MH-0042 (a blast-furnace works) in
    2026, and one undeclared line from China; exporter B ships from its own TR-B-0001."""
    from apps.facilities.models import Installation
    from apps.shipments.models import Shipment

    settings.LLM_BASE_URL = None  # the rule-based PDF extractor
    ingest_json("defaults", DEFAULTS_CSV)
    a = Installation.objects.create(
        identifier="IN-MH-0042",
        name="Example Steel Works Unit 2",
        organisation=users["org_a"],
        country="IN",
        routes=["bf_bof"],
    )
    b = Installation.objects.create(
        identifier="TR-B-0001", name="B Works", organisation=users["org_b"], country="TR"
    )
    report = ingest_json("customs", write_customs(tmp_path / "exporter-customs.csv", LINES))
    assert report["accepted"] == len(LINES), report
    current = Shipment.objects.filter(is_current=True)
    return {
        **users,
        "a": a,
        "b": b,
        "plate": current.get(declaration_id="X1", line=1),
        "slab": current.get(declaration_id="X1", line=2),
        "b_line": current.get(declaration_id="X2", line=1),
        "undeclared": current.get(declaration_id="X3", line=1),
        "tmp": tmp_path,
    }


def test_the_upload_page_offers_templates_and_the_year_of_the_shipments(world, page: Page):
    log_in(page, "exporter_a")
    page.goto("/disclosures/upload/")
    expect(page.get_by_label("Reporting year")).to_have_value("2026")  # not last year
    with page.expect_download() as got:
        page.get_by_role("link", name="Our disclosure template (CSV)", exact=False).click()
    download = got.value
    assert download.suggested_filename == "disclosure_template_example.csv"
    assert open(download.path(), encoding="utf-8").readline().startswith("section,item,field")
    with page.expect_download() as got:
        page.get_by_role("link", name="The Commission's CBAM communication template").click()
    assert got.value.suggested_filename == "CBAM_communication_template_v2.1.1.xlsx"
    # Only the exporter's own installation is offered.
    options = page.locator("#id_installation option").all_inner_texts()
    assert any("IN-MH-0042" in o for o in options) and not any("TR-B" in o for o in options)
    assert_accessible(page)


def test_goods_that_are_not_the_installations_are_flagged_before_confirming(world, page: Page):
    # A cement good disclosed for a blast-furnace works: the page asks whether it is the
    # right installation.
    path = template_2026(world["tmp"], **{"7208 51 20": "2523 29 00"})
    version = upload(world["exporter_a"], world["a"], path, 2026)
    assert version.status == "review", version.failure
    log_in(page, "exporter_a")
    page.goto(f"/disclosures/{version.disclosure_id}/versions/{version.number}/review/")
    warnings = page.locator("#goods-warnings")
    expect(warnings).to_contain_text("CN 25232900 is a cement good")
    expect(warnings).to_contain_text("routes make iron and steel goods")
    assert_accessible(page)


def test_the_preview_shows_what_confirming_then_does(world, page: Page):
    from apps.estimates.models import Estimate
    from apps.shipments.models import Shipment

    version = upload(world["exporter_a"], world["a"], template_2026(world["tmp"]), 2026)
    review = f"/disclosures/{version.disclosure_id}/versions/{version.number}/review/"
    log_in(page, "exporter_a")
    page.goto(review)
    expect(page.locator("#goods-warnings")).to_have_count(0)  # the goods are its products
    page.get_by_role("link", name="Preview what confirming changes").click()
    best = page.locator("#preview-best")
    plate_row = best.locator("tbody tr", has_text="72085120")
    expect(plate_row).to_contain_text("Default value")
    expect(plate_row).to_contain_text("Disclosed actual")
    expect(page.locator("#preview-summary")).to_contain_text("2 of your 2 shipments")
    expect(best).not_to_contain_text("X2 / 1")  # exporter B's line is not shown
    assert_accessible(page)
    # The preview changed nothing.
    plate = Shipment.objects.get(pk=world["plate"].pk)
    assert plate.best_tier == "default"
    assert not Estimate.objects.filter(tier="disclosed").exists()
    version.refresh_from_db()
    assert version.status == "review"
    before_text = plate_row.locator("td").nth(6).inner_text()
    after_text = plate_row.locator("td").nth(7).inner_text()
    assert float(before_text.replace(",", "")) == pytest.approx(
        plate.best_embedded_emissions_t, abs=1e-3
    )

    page.get_by_role("button", name=f"Submit: confirm version {version.number}").click()
    plate.refresh_from_db()
    assert plate.best_tier == "disclosed"
    # The preview's "after" is what confirming did (one plate line in that group).
    assert float(after_text.replace(",", "")) == pytest.approx(
        plate.best_embedded_emissions_t, abs=1e-3
    )
    assert Shipment.objects.get(pk=world["b_line"].pk).best_tier == "default"


def test_a_shipment_says_why_it_is_on_the_default_and_filters_by_installation(world, page: Page):
    log_in(page, "exporter_a")
    page.goto(f"/shipments/{world['plate'].pk}/")
    why = page.locator("#why-default")
    expect(why).to_contain_text("No disclosure of IN-MH-0042 covers 2026")
    expect(why.get_by_role("link", name="Upload a disclosure")).to_be_visible()
    expect(why).to_contain_text("until a verifier accredited for the activity confirms")
    assert_accessible(page)
    page.goto(f"/shipments/{world['undeclared'].pk}/")
    expect(page.locator("#why-default")).to_contain_text(
        "declares no installation, and the exporter has no installation in CN"
    )

    page.goto("/shipments/")
    select = page.get_by_label("Installation")
    options = select.locator("option").all_inner_texts()
    assert any(o.startswith("IN-MH-0042") for o in options), options
    assert not any("TR-B-0001" in o for o in options), options
    select.select_option("IN-MH-0042")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("table.data tbody")).not_to_contain_text("X3 / 1")
    assert_accessible(page)

    # Exporter B sees none of A's installation or shipments through the same filter.
    page.context.clear_cookies()
    log_in(page, "exporter_b")
    page.goto("/shipments/?installation=IN-MH-0042")
    expect(page.locator("main")).to_contain_text("Shipments")
    expect(page.locator("main")).not_to_contain_text("X1 / ")
    assert "IN-MH-0042" not in " ".join(
        page.get_by_label("Installation").locator("option").all_inner_texts()
    )
    assert page.goto(f"/shipments/{world['plate'].pk}/").status == 404


def test_a_pdf_is_reviewed_by_table_beside_real_page_images(world, page: Page):
    from PIL import Image

    from apps.disclosures.models import ExtractedValue

    version = upload(world["exporter_a"], world["a"], JRC_EXCERPT, 2025, cn_code="72085120")
    assert version.status == "review", version.failure
    review = f"/disclosures/{version.disclosure_id}/versions/{version.number}/review/"
    log_in(page, "exporter_a")
    page.goto(review)
    group = page.locator("section.review-group", has_text="Table A3 (page 2)").first
    expect(group).to_be_visible()
    a3 = list(version.values.filter(context__table="A3").order_by("index"))
    assert len(a3) > 10
    # Each row's buttons are named after its field.
    field = a3[0].field
    expect(page.get_by_role("button", name=f"Confirm {field}", exact=True)).to_have_count(1)
    expect(page.get_by_role("button", name=f"Drop {field}", exact=True)).to_have_count(1)
    # The page preview is the rendered page, not a blank box.
    image = group.locator("img").first
    expect(image).to_have_attribute("alt", f"page 2 of the report, the place of {field} marked")
    # (rendered on request by the server: it may take a while on a loaded machine)
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=30_000
    )
    png = page.request.get(image.get_attribute("src"))
    assert png.headers["content-type"] == "image/png"
    low, high = Image.open(io.BytesIO(png.body())).convert("L").getextrema()
    assert high - low > 100, (low, high)  # ink on paper
    assert_accessible(page)

    page.get_by_role("button", name=f"Confirm the {len(a3)} unreviewed values of Table A3").click()
    expect(
        page.locator("section.review-group", has_text="Table A3 (page 2)").first
    ).to_contain_text(f"confirmed {len(a3)}")
    statuses = set(
        ExtractedValue.objects.filter(pk__in=[v.pk for v in a3]).values_list("status", flat=True)
    )
    assert statuses == {"confirmed"}
    others = version.values.exclude(pk__in=[v.pk for v in a3])
    assert set(others.values_list("status", flat=True)) == {"extracted"}

    # Exporter B cannot open A's page images.
    page.context.clear_cookies()
    log_in(page, "exporter_b")
    image_url = f"/disclosures/{version.disclosure_id}/versions/{version.number}/pages/2.png"
    assert page.goto(image_url).status == 404


def test_an_export_runs_in_the_background_with_its_progress_and_a_link(world, page: Page):
    log_in(page, "exporter_a")
    page.goto("/shipments/?cn_code=7208")
    page.get_by_role("button", name="Export CSV").click()
    expect(page.get_by_role("heading", name="(CSV)")).to_be_visible()
    expect(page.locator("#export-progress")).to_have_attribute("value", "100")
    expect(page.get_by_role("status")).to_have_text("Ready")
    expect(page.locator("#export-rows")).to_have_text("2")  # X1/1 and X3/1: A's 7208 lines
    assert_accessible(page)
    with page.expect_download() as got:
        page.get_by_role("link", name="Download shipments-").click()
    lines = open(got.value.path(), encoding="utf-8-sig").read().splitlines()
    assert len(lines) == 3 and not any('"X2"' in line for line in lines), lines
    job_url = page.url

    page.context.clear_cookies()
    log_in(page, "exporter_b")  # another user's export is not found
    assert page.goto(job_url).status == 404
    assert page.goto(job_url + "download").status == 404
