"""A methodology version goes from preview to adopted with 2 of 3 member signatures, in a
real browser (docs/adoption.md): an official pastes the lines the members made offline;
the figures computed as previews become official; a newer version is compared with the
adopted one. axe-core on the new pages."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Page, expect

from tests.apps.helpers import ingest_json, write_customs
from tests.apps.web.world import defaults_extract
from tests.browser.conftest import assert_accessible
from tests.browser.test_official_journey import log_in
from verifier.adoption import sign_adoption
from verifier.note import ed25519_key, raw_public_key

pytestmark = [pytest.mark.browser, pytest.mark.services]

NAMES = ("member-a.example", "member-b.example", "member-c.example")
LINES = [
    "V1,1,2026-03-02,72081000,CN,Exporter A,Imp,1000000,,4000,",
    "V2,1,2026-04-10,25232900,TR,Exporter B,Imp,30000,,4000,",
]


@pytest.fixture
def world(postgres, users, tmp_path, settings):
    from apps.adoption.services import methodology_version_propose
    from apps.shipments.models import Shipment

    keys = {name: Ed25519PrivateKey.generate() for name in NAMES}
    settings.COALITION_KEYS = " ".join(
        ed25519_key(n, raw_public_key(k)).vkey for n, k in keys.items()
    )
    settings.ADOPTION_THRESHOLD = 2
    version = methodology_version_propose(label="2026.1", description="Annex I as published")
    ingest_json("defaults", defaults_extract(tmp_path / "defaults.csv"))
    report = ingest_json("customs", write_customs(tmp_path / "customs.csv", LINES))
    assert report["accepted"] == 2, report
    return {
        **users,
        "keys": keys,
        "version": version,
        "steel": Shipment.objects.get(declaration_id="V1", is_current=True),
    }


def paste(page: Page, label: str, line: str) -> None:
    page.get_by_label(f"A member's signature line for {label}").fill(line)
    page.get_by_role("button", name=f"Add signature to {label}").click()


def test_a_version_goes_from_preview_to_adopted_with_two_of_three_signatures(world, page: Page):
    from apps.adoption.services import methodology_version_propose

    version, keys = world["version"], world["keys"]
    log_in(page, "official")
    page.goto(f"/shipments/{world['steel'].pk}/")
    expect(page.locator("#cbam-figure .figure-status")).to_contain_text("not an official figure")

    page.goto("/methodology-versions/")
    expect(page.get_by_role("heading", name="Methodology versions", level=1)).to_be_visible()
    status = page.locator(f"#version-{version.pk} [data-status]")
    expect(status).to_have_text("Preview")
    assert_accessible(page)

    paste(page, "2026.1", sign_adoption(keys[NAMES[0]], NAMES[0], version.statement))
    expect(page.get_by_role("status")).to_contain_text("1 of 2 required signatures: preview")
    expect(status).to_have_text("Preview")
    # A forged line (member-b's name, another key) is refused and counts for nothing.
    forged = sign_adoption(Ed25519PrivateKey.generate(), NAMES[1], version.statement)
    paste(page, "2026.1", forged)
    expect(page.get_by_role("status")).to_contain_text("Signature refused")
    expect(status).to_have_text("Preview")

    paste(page, "2026.1", sign_adoption(keys[NAMES[2]], NAMES[2], version.statement))
    expect(page.get_by_role("status")).to_contain_text("2 of 2 required signatures: adopted")
    expect(status).to_have_text("Adopted")
    table = page.locator(f"#version-{version.pk} table.data tbody")
    expect(table).to_contain_text(NAMES[0])
    expect(table).to_contain_text(NAMES[2])
    assert_accessible(page)

    page.goto(f"/shipments/{world['steel'].pk}/")
    expect(page.locator("#cbam-figure .figure-status")).to_contain_text(
        "Official computed under version 2026.1"
    )

    # A newer version runs beside it as a preview; what it changes, on a sample.
    methodology_version_propose(
        label="2026.2", parameters={"cbam.default": {"without_markup": True}}
    )
    page.goto("/methodology-versions/")
    page.get_by_label("From").select_option("2026.1")
    page.get_by_label("to", exact=True).select_option("2026.2")
    page.get_by_role("button", name="Compare the figures of a sample of shipments").click()
    expect(page.get_by_role("heading", name="From version 2026.1 to 2026.2")).to_be_visible()
    expect(page.locator("dl")).to_contain_text("2 of 2 figures")
    assert_accessible(page)
