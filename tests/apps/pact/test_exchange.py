"""The PACT v3 exchange: the mandatory conformance behaviours (WBCSD pact-conformance-service,
``docs/v3-test-cases-expected-results.md``, cases 1–8) and every answer validated against
the v3 schema shapes (``fixtures/pact/pact_v3_schema_subset.json``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import uuid
from decimal import Decimal
from io import StringIO
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.core.management import call_command
from django.test import Client

from apps.audit.models import AuditEvent
from apps.pact.mapping import footprint_id
from apps.pact.models import PactAccessToken
from apps.pact.services import pact_client_create
from tests.apps.api.helpers import ENGINE_CASES, record, record_every_type
from tests.apps.pact.helpers import basic, check, token

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def pact(postgres, users):
    """A registered client, a bearer client for it, and estimates of every type."""
    out = StringIO()
    call_command("pact_client_create", "Partner ministry", "--json", stdout=out)
    credentials = json.loads(out.getvalue())
    http = Client()
    bearer = token(http, credentials["client_id"], credentials["secret"])
    estimates = record_every_type()
    return {"credentials": credentials, "bearer": bearer, "estimates": estimates}


def get(url: str, bearer: str | None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer}"} if bearer else {}
    return Client().get(url, **headers, **extra)


def test_valid_credentials_get_a_bearer_token(pact):  # conformance case 1
    credentials = pact["credentials"]
    response = Client().post(
        "/pact/auth/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(credentials["client_id"], credentials["secret"]),
    )
    assert response.status_code == 200
    body = response.json()
    check(body, "TokenResponse")
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert response["Cache-Control"] == "no-store"
    # Only digests are stored, and the issuance is in the audit log.
    assert not PactAccessToken.objects.filter(key_sha256=body["access_token"]).exists()
    assert AuditEvent.objects.filter(action="pact.token.create").count() == 2
    assert AuditEvent.objects.filter(action="pact.client.create").count() == 1


def test_invalid_credentials_get_no_token(pact):  # conformance case 2
    client_id = pact["credentials"]["client_id"]
    form = "grant_type=client_credentials"
    for authorization in (
        basic(client_id, "wrong-secret"),
        basic("cm-unknown", pact["credentials"]["secret"]),
        "Basic not-base64!",
        None,
    ):
        headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        response = Client().post(
            "/pact/auth/token", form, content_type="application/x-www-form-urlencoded", **headers
        )
        assert response.status_code in (400, 401), authorization
        check(response.json(), "OAuthError")
        assert response.json()["error"] == "invalid_client"
        assert "access_token" not in response.json()
    good = basic(client_id, pact["credentials"]["secret"])
    for form, error in (("", "invalid_request"), ("grant_type=password", "unsupported_grant_type")):
        response = Client().post(
            "/pact/auth/token",
            form,
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=good,
        )
        assert response.status_code == 400 and response.json()["error"] == error


def test_get_footprint_returns_a_valid_product_footprint(pact):  # conformance case 3
    estimate = pact["estimates"]["cbam.default"]
    response = get(f"/pact/3/footprints/{footprint_id(estimate)}", pact["bearer"])
    assert response.status_code == 200
    check(response.json(), "GetFootprintResponse")
    footprint = response.json()["data"]
    pcf = footprint["pcf"]
    # IR 2025/2621 Annex I, China, CN 7208: direct 3.1869 t/t, no indirect value published.
    assert pcf["pcfExcludingBiogenicUptake"] == "3.1869"
    assert pcf["declaredUnitOfMeasurement"] == "kilogram" and pcf["declaredUnitAmount"] == "1"
    assert pcf["geographyCountry"] == "CN"
    assert pcf["referencePeriodStart"] == "2026-01-01T00:00:00Z"
    assert pcf["referencePeriodEnd"] == "2027-01-01T00:00:00Z"
    assert pcf["dqi"] == {"technologicalDQR": "4", "geographicalDQR": "3", "temporalDQR": "3"}
    assert pcf["primaryDataShare"] == "0"
    assert footprint["productClassifications"] == ["urn:pact:productclassification:cn:72081000"]
    assert footprint["status"] == "Active" and "precedingPfIds" not in footprint
    assert f"/api/v1/estimates/{estimate.pk}/trace" in footprint["comment"]
    assert estimate.trace_sha256 in footprint["comment"]


def test_decimal_values_are_exact_strings(pact):
    # route.cement, worked by hand in tests/methodologies/test_route_cement.py (IPCC 2006
    # Vol. 3 Eq. 2.4 with Table 1.4): direct 643.54885 t / 1000 t = 0.64354885 plus indirect
    # 100 MWh x 0.5 t/MWh / 1000 t = 0.05, so 0.69354885 kgCO2e/kg.  The string is compared as a
    # decimal with the hand-worked value, not with whatever float noise the sum carries.
    cement = pact["estimates"]["route.cement"]
    data = get(f"/pact/3/footprints/{footprint_id(cement)}", pact["bearer"]).json()["data"]
    total = data["pcf"]["pcfExcludingBiogenicUptake"]
    assert re.fullmatch(r"[+-]?\d+(\.\d+)?", total)
    assert abs(Decimal(total) - Decimal("0.69354885")) <= Decimal("1e-12")
    for value in (data["pcf"]["fossilGhgEmissions"], data["pcf"]["exemptedEmissionsPercent"]):
        assert re.fullmatch(r"[+-]?\d+(\.\d+)?", value)
    installation = pact["estimates"]["cbam.installation"]
    data = get(f"/pact/3/footprints/{footprint_id(installation)}", pact["bearer"]).json()["data"]
    # cbam.installation example of docs/interfaces.md: direct 2.49 + indirect 0.2 = 2.69 kgCO2e/kg
    assert data["pcf"]["pcfExcludingBiogenicUptake"] == "2.69"
    assert data["pcf"]["primaryDataShare"] == "100"
    assert "CBAM counts direct emissions only" in data["comment"]


def test_list_footprints_returns_every_footprint_valid(pact):  # conformance case 4
    response = get("/pact/3/footprints", pact["bearer"])
    assert response.status_code == 200
    check(response.json(), "ListFootprintsResponse")
    ids = [f["id"] for f in response.json()["data"]]
    assert sorted(ids) == sorted(footprint_id(e) for e in pact["estimates"].values())
    assert "Link" not in response


def test_pagination_follows_absolute_link_headers(pact, settings):  # conformance case 5
    settings.ALLOWED_HOSTS = ["partner.example.org", "testserver"]
    seen, url, pages = [], "/pact/3/footprints?limit=3&geography=IN&geography=cn", 0
    host = "partner.example.org"
    while url:
        response = get(url, pact["bearer"], HTTP_HOST=host)
        assert response.status_code == 200
        check(response.json(), "ListFootprintsResponse")
        data = response.json()["data"]
        assert len(data) <= 3
        seen += [f["id"] for f in data]
        pages += 1
        link = response.get("Link")
        if link is None:
            break
        match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
        assert match, link
        parsed = urlparse(match[1])
        assert parsed.scheme == "http" and parsed.netloc == host  # absolute, same host
        url = parsed.path + "?" + parsed.query
        assert "geography=IN" in parsed.query and "limit=3" in parsed.query
        # A pagination link may be called more than once.
        assert (
            get(url, pact["bearer"], HTTP_HOST=host).json()["data"]
            == get(url, pact["bearer"], HTTP_HOST=host).json()["data"]
        )
    assert len(seen) == len(set(seen)) == len(pact["estimates"]) == 7 and pages == 3
    assert get("/pact/3/footprints?limit=0", pact["bearer"]).json() == {"data": []}


@pytest.mark.parametrize("url", ["/pact/3/footprints", "/pact/3/footprints/{id}"])
def test_an_invalid_token_is_refused_in_the_spec_error_format(pact, url):  # cases 6 and 7
    url = url.format(id=footprint_id(pact["estimates"]["cbam.default"]))
    for bearer in ("invalid-access-token", None):
        response = get(url, bearer)
        assert response.status_code == 400
        check(response.json(), "Error")
        assert response.json()["code"] == "BadRequest"
        assert "data" not in response.json()
    PactAccessToken.objects.update(expires_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    response = get(url, pact["bearer"])
    assert response.status_code == 401 and response.json()["code"] == "TokenExpired"
    check(response.json(), "Error")


def test_an_unknown_id_is_a_404_in_the_spec_error_format(pact):  # conformance case 8
    real = footprint_id(pact["estimates"]["cbam.default"])
    forged = uuid.UUID(real).int ^ (1 << 100)  # same estimate id, wrong digest bits
    for pf_id in ("non-existent-id", str(uuid.uuid4()), str(uuid.UUID(int=forged))):
        response = get(f"/pact/3/footprints/{pf_id}", pact["bearer"])
        assert response.status_code == 404, pf_id
        check(response.json(), "Error")
        assert response.json()["code"] == "NotFound"
        assert pf_id in response.json()["message"]


def test_restated_estimates_are_versions_with_preceding_ids(pact):
    case, cn_code, tier = ENGINE_CASES["cbam.installation"]
    subject = "disclosed|IN-001|7208|2026"
    first = record(case, cn_code=cn_code, tier=tier, subject_key=subject)
    restated = {**case, "good": {"cn_code": "7208", "activity_level_t": 1200}}
    second = record(restated, cn_code=cn_code, tier=tier, subject_key=subject)
    old = get(f"/pact/3/footprints/{footprint_id(first)}", pact["bearer"]).json()["data"]
    new = get(f"/pact/3/footprints/{footprint_id(second)}", pact["bearer"]).json()["data"]
    assert old["status"] == "Deprecated" and "precedingPfIds" not in old
    assert new["status"] == "Active" and new["precedingPfIds"] == [old["id"]]
    check(new, "ProductFootprint")
    active = get("/pact/3/footprints?status=Active", pact["bearer"]).json()["data"]
    deprecated = get("/pact/3/footprints?status=deprecated", pact["bearer"]).json()["data"]
    assert [f["id"] for f in deprecated] == [old["id"]]
    assert new["id"] in {f["id"] for f in active} and old["id"] not in {f["id"] for f in active}


def test_the_spec_filters_select_footprints(pact):
    estimates, bearer = pact["estimates"], pact["bearer"]

    def ids(query: str) -> set[str]:
        response = get("/pact/3/footprints?" + query, bearer)
        assert response.status_code == 200, response.content
        return {f["id"] for f in response.json()["data"]}

    default = footprint_id(estimates["cbam.default"])
    assert ids("geography=cn") == {default}
    assert ids("geography=Europe") == set()  # no region-level footprints
    assert ids("classification=URN:PACT:productclassification:cn:7208") == {
        default,
        footprint_id(estimates["cbam.installation"]),
    }
    assert ids("productId=urn:pact:carbon-manifest:product-id:cn:72081000:origin:CN") == {default}
    assert ids("productId=urn:other:thing") == set()
    assert ids("companyId=urn:pact:carbon-manifest:company:platform") == {
        footprint_id(e) for e in estimates.values()
    }
    assert len(ids("validOn=2026-06-01T00:00:00Z")) == 7
    assert ids("validOn=2027-01-01T00:00:01Z") == set()
    assert len(ids("validOn=2027-01-01T00:00:00Z")) == 7  # the end instant is inclusive
    assert ids("validAfter=2026-01-01T00:00:00Z") == set()
    assert len(ids("validAfter=2025-12-31T23:59:59Z")) == 7
    assert ids("validBefore=2027-01-01T00:00:00Z") == set()
    assert len(ids("validBefore=2027-01-01T00:00:01Z")) == 7
    out_of_range = "validOn=0001-01-01T00:00:00%2B05:00"  # before year 1 once in UTC
    for bad in (
        "validOn=yesterday",
        "validOn=2026-06-01T00:00:00",
        out_of_range,
        "limit=-1",
    ):
        response = get("/pact/3/footprints?" + bad, bearer)
        assert response.status_code == 400, bad
        check(response.json(), "Error")
    # Conformance case 37: a status that is neither Active nor Deprecated names no
    # footprint: 200 {"data": []}, not 400.
    for status in ("BogusStatusx7Kq2mPz", "Gone", ""):
        response = get("/pact/3/footprints?status=" + status, bearer)
        assert response.status_code == 200, (status, response.content)
        assert response.json() == {"data": []}
    assert len(ids("status=ACTIVE")) == 7


def test_https_can_be_required(pact, settings):  # conformance cases 9–11
    settings.PACT_REQUIRE_HTTPS = True
    response = get("/pact/3/footprints", pact["bearer"])
    assert response.status_code == 403 and "data" not in response.json()
    assert get("/pact/3/footprints", pact["bearer"], secure=True).status_code == 200
    credentials = pact["credentials"]
    refused = Client().post(
        "/pact/auth/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(credentials["client_id"], credentials["secret"]),
    )
    assert refused.status_code == 400 and "access_token" not in refused.json()


def test_a_revoked_client_gets_no_token_and_its_tokens_stop_working(pact):
    from apps.pact.models import PactClient

    client, secret = pact_client_create(name="Short-lived")
    bearer = token(Client(), client.client_id, secret)
    assert get("/pact/3/footprints", bearer).status_code == 200
    PactClient.objects.filter(pk=client.pk).update(revoked_at=dt.datetime.now(dt.UTC))
    assert get("/pact/3/footprints", bearer).status_code == 401
    refused = Client().post(
        "/pact/auth/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
    )
    assert refused.status_code == 401


def test_production_refuses_plain_http_to_pact_instead_of_redirecting(pact, settings, tmp_path):
    """Conformance cases 9–11 (and 17): with CM_PRODUCTION=1 a plain-HTTP PACT request is
    refused. A redirect to HTTPS would be followed by the client and succeed, after its
    credentials had crossed the network in clear; the rest of the site still redirects."""
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "CM_PACT_REQUIRE_HTTPS")}
    env.update(CM_PRODUCTION="1", SECRET_KEY="x" * 64, CM_VAR_DIR=str(tmp_path))
    names = ("PACT_REQUIRE_HTTPS", "SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT")
    code = (
        "from django.conf import settings as s; import json; "
        f"print(json.dumps([getattr(s, n) for n in {names!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    production = dict(zip(names, json.loads(done.stdout.strip().splitlines()[-1]), strict=True))
    assert production["PACT_REQUIRE_HTTPS"] is True and production["SECURE_SSL_REDIRECT"] is True
    for name, value in production.items():
        setattr(settings, name, value)
    credentials = pact["credentials"]
    auth = Client().post(
        "/pact/auth/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(credentials["client_id"], credentials["secret"]),
    )
    assert auth.status_code == 400 and "access_token" not in auth.json()  # case 9
    for path in ("/pact/3/footprints", f"/pact/3/footprints/{uuid.uuid4()}"):  # 10, 11
        refused = get(path, pact["bearer"])
        assert refused.status_code == 403 and refused.json()["code"] == "AccessDenied", path
    assert get("/pact/3/footprints", pact["bearer"], secure=True).status_code == 200
    assert Client().get("/api/v1/shipments/").status_code == 301
