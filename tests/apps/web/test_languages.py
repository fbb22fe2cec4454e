"""The site in English, French and Spanish (docs/languages.md): the language follows the
browser until the switcher sets it; pages, numbers, dates and the exports' column headers
change with it; the API's field names never do.

The world (tests/apps/web/conftest.py): five customs lines, 1,562 t in all, the first
dated 2026-03-02."""

from __future__ import annotations

import csv
import io

import pytest

pytestmark = pytest.mark.services

NBSP = "\xa0"  # Django's thousands separator in French and Spanish


def test_an_official_reads_the_dashboard_in_each_language(world, client):
    client.force_login(world["official"])
    expected = {
        "en": ("Dashboard", "1,562 t", "Log out"),
        "fr": ("Tableau de bord", f"1{NBSP}562 t", "Se déconnecter"),
        "es": ("Panel", f"1{NBSP}562 t", "Cerrar sesión"),
    }
    for lang, (title, mass, log_out) in expected.items():
        page = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
        assert f'<html lang="{lang}">' in page
        assert f"<h1>{title}</h1>" in page
        assert f'<span class="kpi-value">{mass}</span>' in page
        assert log_out in page


def test_dates_decimals_and_export_headers_follow_the_language(world, client):
    client.force_login(world["official"])
    listing = client.get("/shipments/?cn_code=72081000", HTTP_ACCEPT_LANGUAGE="fr")
    text = listing.content.decode()
    assert "<td>02/03/2026</td>" in text  # the English list shows 2026-03-02
    assert "1000,000" in text  # net mass 1,000 t with three decimals, a comma before them
    assert "Masse nette" in text
    # A literal percent sign survives translation once, never doubled (%% in a catalog).
    assert "% des tonnes sur valeurs par défaut" in text and "%%" not in text

    def header(lang: str) -> list[str]:
        response = client.get("/shipments/?export=csv", HTTP_ACCEPT_LANGUAGE=lang)
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        return next(csv.reader(io.StringIO(body)))

    assert header("en")[:3] == ["id", "declaration_id", "line"]
    assert "net_mass_t" in header("en")
    assert header("fr")[:3] == ["id", "id_declaration", "ligne"]
    assert "masse_nette_t" in header("fr")
    assert "masa_neta_t" in header("es")
    # The API speaks one language: its field names are its contract (DESIGN §7).
    row = client.get("/api/v1/shipments/", HTTP_ACCEPT_LANGUAGE="fr").json()["results"][0]
    assert {"net_mass_t", "see_total_t_per_t", "tier", "cn_code"} <= row.keys()


def test_the_switcher_remembers_the_language_over_the_browser(world, client):
    client.force_login(world["official"])
    form = client.get("/shipments/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'action="/i18n/setlang/"' in form and 'name="language"' in form
    response = client.post(
        "/i18n/setlang/", {"language": "es", "next": "/shipments/"}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert response.status_code == 302 and response.url == "/shipments/"
    assert response.cookies["cm_language"].value == "es"
    page = client.get("/shipments/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="es">' in page and "<h1>Envíos</h1>" in page
    # Anonymous visitors get the switcher too, on the sign-in page (the test client's
    # logout forgets every cookie: the browser's language again).
    client.logout()
    login = client.get("/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<h1>Se connecter</h1>" in login and 'name="language"' in login


def test_a_background_export_is_written_in_its_requesters_language(world, client):
    """The export job's task has no request: the job keeps the page's language and the
    file's headers are written in it (the cells stay codes and numbers)."""
    from django.utils import translation

    from apps.shipments.export_jobs import export_path
    from apps.shipments.models import ExportJob
    from apps.shipments.services import shipment_export_run

    client.force_login(world["official"])
    response = client.post(
        "/shipments/exports/",
        {"query": "cn_code=72081000", "format": "csv"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    job = ExportJob.objects.get(pk=int(response.url.rstrip("/").rsplit("/", 1)[1]))
    assert job.language == "es"
    with translation.override("en"):  # a worker's language, whatever the request's was
        assert shipment_export_run(job_id=job.pk)
    header = next(csv.reader(io.StringIO(export_path(job).read_text(encoding="utf-8-sig"))))
    assert header[:3] == ["id", "id_declaracion", "linea"] and "masa_neta_t" in header
    page = client.get(response.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f"<h1>Exportation {job.pk} (CSV)</h1>" in page and "Prête" in page
