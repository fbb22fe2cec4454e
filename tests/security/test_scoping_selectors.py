"""The access-scoping selectors, called directly: who reads which organisation's rows.

The authorisation matrix (test_authorisation_matrix.py) checks the same rules through
every route, but it is slow (one world of real ingests, hundreds of requests) and it has
no exporter or importer without an organisation, no importer of another organisation, and
no installation linked by a match that is only suggested. These tests call the selectors
of ``apps/*/selectors.py``, the importers' allowlist and the token authentication on a
small world made with the ORM, so each rule is checked in milliseconds (they were written
to kill the surviving mutants of docs/mutation-testing.md, "The access-scoping
selectors"). The rules are those of docs/security.md ("Roles and scope") and
docs/official-formats.md ("Importers").

The world: exporters A and B, each with an installation, a shipment, disclosures (a
version and an extracted value), an ingest run, an estimate, a hydrogen assessment and
satellite rows; an installation of no organisation; importers One and Two named on
the shipment lines; users of every role, and an exporter and an importer with no
organisation.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

pytestmark = pytest.mark.services

_serial = itertools.count(1)


def make(model, **values):
    """A row of ``model`` with ``values``; every other required field gets a plain value
    of its type (unique text fields a fresh one), so a test names only what it is about."""
    for f in model._meta.concrete_fields:
        if f.primary_key or f.name in values or f.attname in values:
            continue
        if f.null or f.has_default() or getattr(f, "auto_now_add", False):
            continue
        if f.db_default is not models.NOT_PROVIDED or f.is_relation:
            continue
        if isinstance(f, models.BooleanField):
            values[f.name] = False
        elif isinstance(f, models.IntegerField | models.BigIntegerField):
            values[f.name] = next(_serial)
        elif isinstance(f, models.FloatField):
            values[f.name] = 1.0
        elif isinstance(f, models.DateTimeField):
            values[f.name] = timezone.now()
        elif isinstance(f, models.DateField):
            values[f.name] = dt.date(2026, 1, 1)
        elif isinstance(f, models.JSONField):
            values[f.name] = {}
        elif isinstance(f, models.BinaryField):
            values[f.name] = b""
        elif isinstance(f, models.CharField | models.TextField):
            text = f"{f.name}-{next(_serial)}"
            values[f.name] = text[: f.max_length] if f.max_length else text
    return model.objects.create(**values)


@pytest.fixture
def w(db):
    from apps.accounts.models import Organisation, User
    from apps.audit.attribution import Attribution
    from apps.audit.services import AuditEntry, audit_append_many
    from apps.disclosures.models import Disclosure, DisclosureVersion, ExtractedValue
    from apps.estimates.models import Estimate
    from apps.evidence.models import EvidenceFile, IngestRun
    from apps.facilities.models import Installation, MatchSuggestion
    from apps.grid.models import HydrogenAssessment
    from apps.satellite.models import ActivityIndex, Observation, ReconciliationFlag, Scene
    from apps.shipments.models import Shipment

    o = {}
    for name, kind in [
        ("Exporter A", "exporter"),
        ("Exporter B", "exporter"),
        ("Importer One", "importer"),
        ("Importer Two", "importer"),
    ]:
        o[name] = Organisation.objects.create(name=name, key=name.lower(), kind=kind)
    a, b = o["Exporter A"], o["Exporter B"]

    def user(username, role, org=None, **extra):
        return User.objects.create(username=username, role=role, organisation=org, **extra)

    u = {
        "official": user("official", User.Role.OFFICIAL),
        "auditor": user("auditor", User.Role.AUDITOR),
        "admin": user("admin", User.Role.ADMIN, is_staff=True, is_superuser=True),
        "exporter_a": user("exporter_a", User.Role.EXPORTER, a),
        "exporter_b": user("exporter_b", User.Role.EXPORTER, b),
        "exporter_none": user("exporter_none", User.Role.EXPORTER),
        "importer_one": user("importer_one", User.Role.IMPORTER, o["Importer One"]),
        "importer_two": user("importer_two", User.Role.IMPORTER, o["Importer Two"]),
        "importer_none": user("importer_none", User.Role.IMPORTER),
    }

    inst = {
        "a": make(Installation, identifier="INST-A", name="Works A", organisation=a),
        "b": make(Installation, identifier="INST-B", name="Works B", organisation=b),
        # A second one of A's, named to sort first (installation_choices orders by name).
        "a2": make(Installation, identifier="INST-A2", name="Annex A", organisation=a),
        "free": make(Installation, identifier="INST-FREE", name="Nobody's works"),
        # B's plant that an official linked to A (a confirmed match): A reads it too.
        "linked": make(Installation, identifier="INST-LINK", name="Linked works", organisation=b),
        # Plants whose link to A is only suggested, or rejected, or of the wrong kind.
        "suggested": make(Installation, identifier="INST-SUG", name="Suggested works"),
        "rejected": make(Installation, identifier="INST-REJ", name="Rejected works"),
    }
    for key, status, kind in [
        ("linked", "confirmed", "installation"),
        ("suggested", "suggested", "installation"),
        ("rejected", "rejected", "installation"),
    ]:
        MatchSuggestion.objects.create(
            kind=kind, organisation=a, installation=inst[key], score=0.9, status=status
        )
    # A confirmed match of another kind (two organisations) that names an installation:
    # it links organisations, not plants, so it gives A nothing.
    inst["org_kind"] = make(Installation, identifier="INST-ORG", name="Org-match works")
    MatchSuggestion.objects.create(
        kind="organisation",
        organisation=a,
        other_organisation=b,
        installation=inst["org_kind"],
        score=0.9,
        status="confirmed",
    )
    # B's confirmed link: not A's.
    inst["b_linked"] = make(Installation, identifier="INST-BL", name="B-linked works")
    MatchSuggestion.objects.create(
        kind="installation",
        organisation=b,
        installation=inst["b_linked"],
        score=0.9,
        status="confirmed",
    )

    ev = EvidenceFile.objects.create(sha256="e" * 64, size=1)
    runs = {
        "a": make(IngestRun, source="customs", evidence=ev, requested_by=u["exporter_a"]),
        "b": make(IngestRun, source="customs", evidence=ev, requested_by=u["exporter_b"]),
        "cli": make(IngestRun, source="customs", evidence=ev),
    }

    def estimate(installation=None):
        return make(Estimate, tier="default", installation=installation, trace="{}")

    est = {
        "shipment_a": estimate(),  # the CBAM figure of A's line
        "best_a": estimate(),  # the best estimate of A's line
        "inst_a": estimate(inst["a"]),  # made for A's installation
        "shipment_b": estimate(),
        "inst_b": estimate(inst["b"]),
        "unused": estimate(),
    }

    def shipment(exporter, importer, *, estimate=None, best=None, current=True, line=1):
        return make(
            Shipment,
            declaration_id=f"D-{exporter.pk}-{importer}",
            line=line,
            is_current=current,
            exporter=exporter,
            importer_name=importer,
            ingest_run=runs["cli"],
            estimate=estimate,
            best_estimate=best,
        )

    ships = {
        # Importer One's name as customs wrote it (upper case): matched case-insensitively.
        "a": shipment(a, "IMPORTER ONE", estimate=est["shipment_a"], best=est["best_a"]),
        "a_old": shipment(a, "Importer One", current=False, line=2),
        "b": shipment(b, "Importer Two", estimate=est["shipment_b"]),
        "b_old": shipment(b, "Importer Two", current=False, line=2),
    }

    disc, versions, values = {}, {}, {}
    for key, org in [("a", a), ("b", b)]:
        disc[key] = make(Disclosure, organisation=org, installation=inst[key], period_year=2026)
        versions[key] = make(DisclosureVersion, disclosure=disc[key], number=1, evidence=ev)
        values[key] = make(ExtractedValue, version=versions[key], index=0)

    h2 = {k: make(HydrogenAssessment, installation=inst[k], year=2026) for k in ("a", "b")}

    scene = make(Scene, evidence=ev, ingest_run=runs["cli"])
    sat = {}
    for k in ("a", "b"):
        index = make(ActivityIndex, installation=inst[k], period="2026-01")
        sat[k] = {
            "observation": make(Observation, installation=inst[k], scene=scene, band=1),
            "index": index,
            "flag": make(ReconciliationFlag, installation=inst[k], activity_index=index),
        }

    with transaction.atomic():
        events = audit_append_many(
            actor=None,
            entries=[
                AuditEntry("test.a", "test", 1, organisation=a),
                AuditEntry("test.b", "test", 2, organisation=b),
                AuditEntry("test.public", "test", 3, attribution=Attribution(None, public=True)),
                AuditEntry("test.restricted", "test", 4, attribution=Attribution(None)),
            ],
        )
    audit = dict(zip(["a", "b", "public", "restricted"], events, strict=True))
    return {
        "org": o,
        "user": u,
        "inst": inst,
        "run": runs,
        "est": est,
        "ship": ships,
        "disc": disc,
        "version": versions,
        "value": values,
        "h2": h2,
        "sat": sat,
        "audit": audit,
    }


def ids(qs) -> set[int]:
    # The rows themselves, not ``values_list``: that would drop the queryset's
    # ``select_related``, so a misspelt relation there would go unnoticed.
    return {row.pk for row in qs}


def pks(*rows) -> set[int]:
    return {r.pk for r in rows}


def _lists():
    """(name, selector(user) → queryset, world → {owner: rows}) of every list scoped to
    an exporter's organisation; ``None`` is what belongs to no exporter."""
    from apps.disclosures.selectors import (
        disclosure_list,
        disclosure_version_list,
        extracted_value_list,
    )
    from apps.evidence.selectors import ingest_run_list
    from apps.grid.selectors import hydrogen_assessment_list
    from apps.satellite.selectors import activity_index_list, flag_list, observation_list

    def by(key):
        return lambda w: {"a": [w[key]["a"]], "b": [w[key]["b"]]}

    def sat(kind):
        return lambda w: {"a": [w["sat"]["a"][kind]], "b": [w["sat"]["b"][kind]]}

    return [
        ("disclosures", disclosure_list, by("disc")),
        ("disclosure versions", disclosure_version_list, by("version")),
        ("extracted values", extracted_value_list, by("value")),
        ("hydrogen assessments", hydrogen_assessment_list, by("h2")),
        ("observations", observation_list, sat("observation")),
        ("activity indices", activity_index_list, sat("index")),
        ("reconciliation flags", flag_list, sat("flag")),
        (
            "ingest runs",
            ingest_run_list,
            lambda w: {"a": [w["run"]["a"]], "b": [w["run"]["b"]], None: [w["run"]["cli"]]},
        ),
    ]


LISTS = _lists()


@pytest.mark.parametrize("name, selector, rows", LISTS, ids=[x[0] for x in LISTS])
def test_each_exporter_reads_its_own_organisations_rows_and_no_other(w, name, selector, rows):
    owned = rows(w)
    for owner in ("a", "b"):
        assert ids(selector(user=w["user"][f"exporter_{owner}"])) == pks(*owned[owner]), owner


@pytest.mark.parametrize("name, selector, rows", LISTS, ids=[x[0] for x in LISTS])
def test_an_exporter_without_an_organisation_reads_nothing(w, name, selector, rows):
    # Not "the rows of organisation None": a query on organisation_id=None matches nothing
    # in SQL, but a selector that left the query unfiltered would show everything.
    assert ids(selector(user=w["user"]["exporter_none"])) == set()


@pytest.mark.parametrize("name, selector, rows", LISTS, ids=[x[0] for x in LISTS])
@pytest.mark.parametrize("role", ["official", "auditor", "admin"])
def test_officials_auditors_and_admins_read_every_organisations_rows(w, role, name, selector, rows):
    every = set().union(*(pks(*r) for r in rows(w).values()))
    assert ids(selector(user=w["user"][role])) == every


def test_installations_an_exporter_reads_are_its_own_and_its_confirmed_links(w):
    from apps.facilities.selectors import installation_get, installation_list

    inst = w["inst"]
    a_reads = pks(inst["a"], inst["a2"], inst["linked"])
    assert ids(installation_list(user=w["user"]["exporter_a"])) == a_reads
    assert ids(installation_list(user=w["user"]["exporter_b"])) == pks(
        inst["b"], inst["linked"], inst["b_linked"]
    )
    assert ids(installation_list(user=w["user"]["exporter_none"])) == set()
    for role in ("official", "auditor", "admin"):
        assert ids(installation_list(user=w["user"][role])) == pks(*inst.values())
    exporter_a = w["user"]["exporter_a"]
    assert installation_get(user=exporter_a, pk=inst["linked"].pk) == inst["linked"]
    assert installation_get(user=exporter_a, pk=inst["b"].pk) is None
    assert installation_get(user=w["user"]["official"], pk=inst["b"].pk) == inst["b"]


def test_installations_linked_to_an_organisation_are_its_own_and_its_confirmed_links(w):
    from apps.facilities.selectors import installations_linked_to

    inst, org = w["inst"], w["org"]
    assert ids(installations_linked_to(organisation_id=org["Exporter A"].pk)) == pks(
        inst["a"], inst["a2"], inst["linked"]
    )
    assert ids(installations_linked_to(organisation_id=org["Importer One"].pk)) == set()


def test_an_exporter_uploads_disclosures_for_its_own_installations_only(w):
    from apps.disclosures.selectors import installation_choices

    inst = w["inst"]
    choices = installation_choices(user=w["user"]["exporter_a"])
    # By name: "Annex A" before "Works A". Not the linked plant: it is B's to disclose.
    assert list(choices) == [inst["a2"], inst["a"]]
    for who in ("exporter_none", "official", "auditor", "admin", "importer_one"):
        assert list(installation_choices(user=w["user"][who])) == [], who


def test_an_exporter_reads_the_estimates_of_its_shipments_and_installations(w):
    from apps.estimates.selectors import estimate_list

    est = w["est"]
    assert ids(estimate_list(user=w["user"]["exporter_a"])) == pks(
        est["shipment_a"], est["best_a"], est["inst_a"]
    )
    assert ids(estimate_list(user=w["user"]["exporter_b"])) == pks(est["shipment_b"], est["inst_b"])
    assert ids(estimate_list(user=w["user"]["exporter_none"])) == set()
    for role in ("official", "auditor", "admin"):
        assert ids(estimate_list(user=w["user"][role])) == pks(*est.values())


def test_hydrogen_assessment_get_answers_none_for_another_exporters(w):
    from apps.grid.selectors import hydrogen_assessment_get

    h2 = w["h2"]
    assert hydrogen_assessment_get(user=w["user"]["exporter_a"], pk=h2["a"].pk) == h2["a"]
    assert hydrogen_assessment_get(user=w["user"]["exporter_a"], pk=h2["b"].pk) is None
    assert hydrogen_assessment_get(user=w["user"]["auditor"], pk=h2["b"].pk) == h2["b"]


def test_shipments_exporters_read_their_own_and_importers_the_lines_naming_them(w):
    from apps.shipments.selectors import shipment_list, shipment_scope

    s, u = w["ship"], w["user"]
    expected = {
        "exporter_a": (pks(s["a"]), pks(s["a"], s["a_old"])),
        "exporter_b": (pks(s["b"]), pks(s["b"], s["b_old"])),
        # "IMPORTER ONE" on the current line, "Importer One" on the superseded one.
        "importer_one": (pks(s["a"]), pks(s["a"], s["a_old"])),
        "importer_two": (pks(s["b"]), pks(s["b"], s["b_old"])),
        "exporter_none": (set(), set()),
        "importer_none": (set(), set()),
    }
    for role in ("official", "auditor", "admin"):
        expected[role] = (pks(s["a"], s["b"]), pks(*s.values()))
    for who, (current, every) in expected.items():
        assert ids(shipment_list(user=u[who])) == current, who
        assert ids(shipment_scope(user=u[who])) == every, who


def test_an_exporter_reads_its_own_public_audit_events_only(w):
    from apps.audit.selectors import audit_event_list, audit_history

    e, u = w["audit"], w["user"]
    assert ids(audit_event_list(user=u["exporter_a"])) == pks(e["a"], e["public"])
    assert ids(audit_event_list(user=u["exporter_b"])) == pks(e["b"], e["public"])
    assert ids(audit_event_list(user=u["exporter_none"])) == pks(e["public"])
    for role in ("official", "auditor", "admin"):
        assert ids(audit_event_list(user=u[role])) == pks(*e.values())
    assert list(audit_history(object_type="test", object_id=2, user=u["exporter_a"])) == []
    assert list(audit_history(object_type="test", object_id=2, user=u["official"])) == [e["b"]]


def test_who_reviews_and_who_decides_matches(w):
    from apps.facilities.selectors import match_deciders, match_reviewers

    u = w["user"]
    assert {r for r in u if match_reviewers(u[r])} == {
        "official",
        "auditor",
        "admin",
        "importer_one",
        "importer_two",
        "importer_none",
    }
    # The importers' allowlist keeps importers off the review pages (test below).
    assert {r for r in u if match_deciders(u[r])} == {"official", "admin"}
    assert not match_reviewers(AnonymousUser())
    assert not match_deciders(AnonymousUser())


def test_a_superuser_of_another_role_decides_matches(w):
    from apps.facilities.selectors import match_deciders

    auditor = w["user"]["auditor"]
    auditor.is_superuser = True
    assert match_deciders(auditor)


# --- The importers' allowlist (apps/accounts/importers.py) ----------------------------


@pytest.fixture
def rf():
    return RequestFactory()


def _request(rf, path, user):
    request = rf.get(path)
    request.user = user
    return request


def test_the_allowlist_holds_importers_to_their_shipments_api(w, rf):
    from apps.accounts.importers import ImporterAllowlist

    allow = ImporterAllowlist()
    importer = w["user"]["importer_one"]
    for path, allowed in [
        ("/api/v1/shipments/", True),
        ("/api/v1/shipments/12/", True),
        ("/api/v1/auth/token/", True),
        ("/api/v1/estimates/", False),
        ("/api/v1/disclosures/", False),
        ("/api/v1/", False),
    ]:
        assert allow.has_permission(_request(rf, path, importer), None) is allowed, path
    for who in ("official", "auditor", "exporter_a"):
        assert allow.has_permission(_request(rf, "/api/v1/estimates/", w["user"][who]), None)
    assert allow.has_permission(_request(rf, "/api/v1/estimates/", AnonymousUser()), None)


def test_the_middleware_keeps_importers_to_their_pages(w, rf):
    from apps.accounts.importers import ImporterAllowlistMiddleware

    middleware = ImporterAllowlistMiddleware(lambda request: "passed")
    importer = w["user"]["importer_one"]
    home = middleware(_request(rf, "/", importer))
    assert (home.status_code, home["Location"]) == (302, "/importer/")
    for path in ("/shipments/", "/importer/", "/logout/", "/api/v1/estimates/"):
        # (the API is the DRF permission's to refuse, above)
        assert middleware(_request(rf, path, importer)) == "passed", path
    for path in ("/estimates/", "/disclosures/", "/audit/", "/admin/", "/importers/"):
        with pytest.raises(
            PermissionDenied, match=r"^importers read their own shipments and report only$"
        ):
            middleware(_request(rf, path, importer))
    for who in ("official", "exporter_a"):
        assert middleware(_request(rf, "/", w["user"][who])) == "passed"
        assert middleware(_request(rf, "/estimates/", w["user"][who])) == "passed"
    assert middleware(_request(rf, "/estimates/", AnonymousUser())) == "passed"
    # A request no authentication middleware has seen (no ``user``): not an importer.
    for path in ("/", "/estimates/"):
        assert middleware(rf.get(path)) == "passed", path


# --- Tokens: authenticated as their user, scoped as their user -----------------------


def test_a_token_authenticates_its_user_until_revoked_or_expired(w):
    from apps.accounts.authentication import HashedTokenAuthentication
    from apps.accounts.models import ApiToken
    from apps.accounts.services import api_token_create

    auth = HashedTokenAuthentication()
    exporter_a = w["user"]["exporter_a"]
    raw, _ = api_token_create(user=exporter_a)
    user, token = auth.authenticate_credentials(raw)
    assert (user, token.user) == (exporter_a, exporter_a)
    token.refresh_from_db()
    assert token.last_used_at is not None
    # The messages are the API's answer ({"detail": …}, docs/security.md "API tokens").
    with pytest.raises(AuthenticationFailed, match=r"^Invalid token\.$"):
        auth.authenticate_credentials(raw + "x")
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=now)
    with pytest.raises(AuthenticationFailed, match=r"^Token revoked\.$"):
        auth.authenticate_credentials(raw)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=None, expires_at=now)
    with pytest.raises(AuthenticationFailed, match=r"^Token expired\.$"):
        auth.authenticate_credentials(raw)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=now + dt.timedelta(days=1))
    exporter_a.is_active = False
    exporter_a.save()
    with pytest.raises(AuthenticationFailed, match=r"^User inactive or deleted\.$"):
        auth.authenticate_credentials(raw)


def test_token_expiry_and_last_use_at_their_exact_instants(w):
    """At the instant of expiry a token is refused (expiry is exclusive); a token last used
    exactly one minute ago has its last use written again (LAST_USED_RESOLUTION)."""
    from unittest import mock

    from apps.accounts.authentication import LAST_USED_RESOLUTION, HashedTokenAuthentication
    from apps.accounts.models import ApiToken
    from apps.accounts.services import api_token_create

    auth = HashedTokenAuthentication()
    raw, _ = api_token_create(user=w["user"]["exporter_b"])
    token = ApiToken.objects.get(user=w["user"]["exporter_b"])
    instant = timezone.now() + dt.timedelta(hours=1)
    earlier = instant - LAST_USED_RESOLUTION
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    with mock.patch("apps.accounts.authentication.timezone.now", return_value=instant):
        auth.authenticate_credentials(raw)
        token.refresh_from_db()
        assert token.last_used_at == instant
        ApiToken.objects.filter(pk=token.pk).update(expires_at=instant)
        with pytest.raises(AuthenticationFailed, match=r"^Token expired\.$"):
            auth.authenticate_credentials(raw)


def test_a_token_of_exporter_a_cannot_read_exporter_bs_rows(w):
    from rest_framework.test import APIClient

    from apps.accounts.services import api_token_create

    raw, _ = api_token_create(user=w["user"]["exporter_a"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    listed = client.get("/api/v1/shipments/")
    assert listed.status_code == 200
    assert {r["id"] for r in listed.json()["results"]} == {w["ship"]["a"].pk}
    assert client.get(f"/api/v1/shipments/{w['ship']['b'].pk}/").status_code == 404
    assert client.get(f"/api/v1/shipments/{w['ship']['a'].pk}/").status_code == 200
    assert client.get(f"/api/v1/installations/{w['inst']['b'].pk}/").status_code == 404
    assert client.get(f"/api/v1/disclosures/{w['disc']['b'].pk}/").status_code == 404


def test_an_importers_token_reads_its_lines_and_nothing_else(w):
    from rest_framework.test import APIClient

    from apps.accounts.services import api_token_create

    raw, _ = api_token_create(user=w["user"]["importer_two"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    listed = client.get("/api/v1/shipments/")
    assert {r["id"] for r in listed.json()["results"]} == {w["ship"]["b"].pk}
    assert client.get(f"/api/v1/shipments/{w['ship']['a'].pk}/").status_code == 404
    assert client.get(f"/api/v1/estimates/{w['est']['shipment_b'].pk}/").status_code == 403
    assert client.get("/api/v1/installations/").status_code == 403


def test_an_importer_reads_only_its_own_lines_on_the_pages_and_exports(w):
    from django.test import Client

    s = w["ship"]
    client = Client()
    client.force_login(w["user"]["importer_two"])
    page = client.get("/shipments/").content.decode()
    assert s["b"].declaration_id in page and s["a"].declaration_id not in page
    assert client.get(f"/shipments/{s['b'].pk}/").status_code == 200
    assert client.get(f"/shipments/{s['a'].pk}/").status_code == 404
    export = b"".join(client.get("/shipments/?export=csv").streaming_content).decode()
    assert s["b"].declaration_id in export and s["a"].declaration_id not in export
    # The importer's home counts its current lines only: B's, not the superseded one.
    assert "1 line</a>" in client.get("/importer/").content.decode()
    # An importer member without an organisation: no lines, and no report.
    orphan = Client()
    orphan.force_login(w["user"]["importer_none"])
    assert s["b"].declaration_id not in orphan.get("/shipments/").content.decode()
    assert orphan.get(f"/shipments/{s['b'].pk}/").status_code == 404
