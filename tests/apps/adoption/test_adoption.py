"""Methodology versions adopted together (docs/adoption.md), through the public interfaces:
the ``methodology_version`` command, the API, the shipments API and CSV export, the traces.

The world: a coalition of three member keys (2 required), version 2026.1 proposed, and a
few declaration lines ingested while it was a preview. Each test runs in its own
rolled-back transaction (tests/worlds.py)."""

from __future__ import annotations

import io
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from tests.apps.helpers import ingest_json, make_users, write_customs
from tests.apps.web.world import defaults_extract
from tests.worlds import module_world
from verifier.adoption import check_trace_adoption, sign_adoption
from verifier.note import ed25519_key, raw_public_key

pytestmark = pytest.mark.services

NAMES = ("member-a.example", "member-b.example", "member-c.example")
KEYS = {name: Ed25519PrivateKey.generate() for name in NAMES}
VKEYS = [ed25519_key(n, raw_public_key(k)) for n, k in KEYS.items()]
COALITION = {"COALITION_KEYS": ",".join(v.vkey for v in VKEYS), "ADOPTION_THRESHOLD": 2}
LINES = [
    "A1,1,2026-03-02,72081000,CN,Exporter A,Importer North,1000000,,4000,",
    "A2,1,2026-04-10,25232900,TR,Exporter B,Importer South,30000,,4000,",
]


@module_world
def adoption_world(tmp):
    from apps.adoption.services import methodology_version_propose

    with override_settings(**COALITION):
        users = make_users()
        version = methodology_version_propose(label="2026.1", description="the first")
        ingest_json("defaults", defaults_extract(tmp / "defaults.csv"))
        report = ingest_json("customs", write_customs(tmp / "customs.csv", LINES))
        assert report["accepted"] == 2, report
    return {**users, "version": version}


@pytest.fixture
def world(adoption_world, db, settings):
    return adoption_world.use(settings, **COALITION)


def command(*args: str) -> str:
    out = io.StringIO()
    call_command("methodology_version", *args, stdout=out)
    return out.getvalue()


def signed(name: str, version) -> str:
    return sign_adoption(KEYS[name], name, version.statement)


def api(client, user):
    client.force_login(user)
    return client


def test_figures_made_under_a_preview_are_marked_on_the_api_the_trace_and_the_export(world, client):
    c = api(client, world["official"])
    rows = c.get("/api/v1/shipments/").json()["results"]
    assert len(rows) == 2 and all(r["preview"] is True for r in rows)
    detail = c.get(f"/api/v1/shipments/{rows[0]['id']}/").json()
    assert detail["preview"] is True
    estimate = c.get(f"/api/v1/estimates/{rows[0]['estimate']}/").json()
    assert (estimate["preview"], estimate["adoption_version"]) == (True, "2026.1")
    trace = json.loads(c.get(f"/api/v1/estimates/{rows[0]['estimate']}/trace").content)
    assert trace["adoption"]["status"] == "preview"
    assert trace["adoption"]["version"] == "2026.1"
    # The trace still recomputes byte for byte (the adoption object is carried over).
    assert c.post(f"/api/v1/estimates/{rows[0]['estimate']}/verify").json()["match"] is True
    export = c.get("/shipments/?export=csv")
    body = b"".join(export.streaming_content) if export.streaming else export.content
    header, *lines = body.decode("utf-8-sig").strip().splitlines()
    assert header.split(",")[-1].strip('"') == "figure_status"
    assert [line.split(",")[-1].strip('"') for line in lines] == ["preview", "preview"]


def test_two_of_three_signatures_adopt_and_the_events_are_in_the_audit_log(world):
    from apps.adoption.selectors import version_current
    from apps.audit.models import AuditEvent

    version = world["version"]
    out = command("add-signature", "2026.1", signed("member-a.example", version))
    assert "1 of 2 required (member-a.example); preview" in out
    assert version_current().preview
    # The same member again: counted once.
    command("add-signature", "2026.1", signed("member-a.example", version))
    assert "preview" in command("list")
    out = command("add-signature", "2026.1", signed("member-c.example", version))
    assert "2 of 2 required (member-a.example, member-c.example); adopted" in out
    stamp = version_current()
    assert not stamp.preview and stamp.block["status"] == "adopted"
    actions = list(
        AuditEvent.objects.filter(object_type="methodology_version").values_list(
            "action", flat=True
        )
    )
    assert actions == [
        "methodology.preview",
        "methodology.sign",
        "methodology.sign",
        "methodology.adopt",
    ]
    # The record the trace of a figure computed now carries verifies with our own keys.
    assert check_trace_adoption(stamp.block, VKEYS, 2).official


def test_a_line_by_an_outsider_or_over_another_version_is_refused(world):
    version = world["version"]
    outsider = sign_adoption(Ed25519PrivateKey.generate(), "member-b.example", version.statement)
    with pytest.raises(CommandError, match=r"not a valid signature of version 2026\.1"):
        command("add-signature", "2026.1", outsider)
    other = version.statement.replace(version.digest, "0" * 64)
    with pytest.raises(CommandError, match="not a valid signature"):
        command("add-signature", "2026.1", sign_adoption(KEYS[NAMES[1]], NAMES[1], other))
    with pytest.raises(CommandError, match="not a signature line"):
        command("add-signature", "2026.1", "hello")


def test_after_adoption_the_figures_are_chosen_again_as_official(world, client):
    from apps.shipments.services import shipment_figures_rechoose

    for name in NAMES[:2]:
        command("add-signature", "2026.1", signed(name, world["version"]))
    shipment_figures_rechoose()
    rows = api(client, world["auditor"]).get("/api/v1/shipments/").json()["results"]
    assert [r["preview"] for r in rows] == [False, False]
    trace = json.loads(client.get(f"/api/v1/estimates/{rows[0]['estimate']}/trace").content)
    assert trace["adoption"]["status"] == "adopted"
    assert check_trace_adoption(trace["adoption"], VKEYS, 2).official
    assert client.post(f"/api/v1/estimates/{rows[0]['estimate']}/verify").json()["match"]


def test_a_signature_is_made_offline_from_a_key_file_and_uploaded_through_the_api(
    world, client, tmp_path
):
    vkey = command("keygen", "--name", "member-d.example", "--out", str(tmp_path / "d.key"))
    statement = tmp_path / "statement.txt"
    statement.write_text(command("record", "2026.1", "--text"))
    with override_settings(
        **{**COALITION, "COALITION_KEYS": COALITION["COALITION_KEYS"] + "," + vkey.strip()}
    ):
        line = command(
            "sign", "--statement-file", str(statement), "--key-file", str(tmp_path / "d.key"),
            "--name", "member-d.example",
        ).strip()  # fmt: skip
        c = api(client, world["official"])
        answer = c.post(
            "/api/v1/methodology-versions/2026.1/signatures", {"line": line}, "application/json"
        )
        assert answer.status_code == 201, answer.content
        assert answer.json()["signers"] == ["member-d.example"]
        assert answer.json()["members"] == 4
    # An exporter may read the versions but not upload a line.
    e = api(client, world["exporter_a"])
    assert e.get("/api/v1/methodology-versions").status_code == 200
    refused = e.post("/api/v1/methodology-versions/2026.1/signatures", {"line": line})
    assert refused.status_code == 403


def test_a_newer_version_is_a_preview_beside_the_adopted_one_and_the_comparison_shows_it(
    world, client
):
    from apps.adoption.selectors import version_current

    for name in NAMES[:2]:
        command("add-signature", "2026.1", signed(name, world["version"]))
    out = command("propose", "2026.2", "--parameters", '{"cbam.default": {"without_markup": true}}')
    assert "proposed 2026.2" in out
    listing = json.loads(command("list", "--json"))
    assert [(r["label"], r["status"], r["current"]) for r in listing] == [
        ("2026.2", "preview", False),
        ("2026.1", "adopted", True),
    ]
    assert version_current().version.label == "2026.1"
    with pytest.raises(CommandError, match="not parametrisable"):
        command("propose", "2026.3", "--parameters", '{"cbam.installation": {"x": 1}}')
    c = api(client, world["official"])
    page = c.get("/methodology-versions/compare/?a=2026.1&b=2026.2")
    assert page.status_code == 200
    rows = page.context["rows"]
    assert len(rows) == 2 and page.context["changed"] == 2
    for r in rows:  # the mark-up of 2026 (+10 %) is what 2026.2 leaves out
        assert r["b_see_total_t_per_t"] < r["a_see_total_t_per_t"]
        assert r["a_see_total_t_per_t"] == pytest.approx(r["b_see_total_t_per_t"] * 1.1, abs=1e-4)
    assert api(client, world["exporter_a"]).get("/methodology-versions/").status_code == 403


def test_a_retired_version_computes_nothing_new(world):
    from apps.adoption.selectors import version_current

    for name in NAMES[:2]:
        command("add-signature", "2026.1", signed(name, world["version"]))
    command("retire", "2026.1", "--reason", "superseded")
    stamp = version_current()
    assert stamp.version is None and stamp.preview
    with pytest.raises(CommandError, match="retired"):
        command("add-signature", "2026.1", signed(NAMES[2], world["version"]))


def test_an_official_signs_and_reads_the_figures_status_in_french_and_spanish(world, client):
    """The pages, the signature messages, the status labels and the export's column in the
    user's language (docs/languages.md); the status codes and the cells stay the API's."""
    c = api(client, world["official"])
    version = world["version"]
    fr, es = {"HTTP_ACCEPT_LANGUAGE": "fr"}, {"HTTP_ACCEPT_LANGUAGE": "es"}
    page = c.get("/methodology-versions/", **fr).content.decode()
    assert "<h1>Versions des méthodologies</h1>" in page
    assert 'data-status="preview">Aperçu</span>' in page

    forged = sign_adoption(Ed25519PrivateKey.generate(), NAMES[1], version.statement)
    page = c.post("/methodology-versions/", {"label": "2026.1", "line": forged}, follow=True, **es)
    assert "Firma rechazada: la línea no es una firma válida de la versión 2026.1" in (
        page.content.decode()
    )
    form = {"label": "2026.1", "line": signed(NAMES[0], version)}
    page = c.post("/methodology-versions/", form, follow=True, **fr).content.decode()
    assert "La version 2026.1 a 1 des 2 signatures requises : aperçu." in page

    shipment = c.get("/api/v1/shipments/").json()["results"][0]
    page = c.get(f"/shipments/{shipment['id']}/", **es).content.decode()
    assert "no es una cifra oficial: calculada con la versión 2026.1" in page
    assert '<span class="tier tier-preview">Vista previa</span>' in page
    assert (
        '<span class="tier tier-preview">Aperçu</span>'
        in c.get("/shipments/", **fr).content.decode()
    )
    export = c.get("/shipments/?export=csv", **fr)
    header, *lines = b"".join(export.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert header.split(",")[-1].strip('"') == "statut_chiffre"
    assert [line.split(",")[-1].strip('"') for line in lines] == ["preview", "preview"]
