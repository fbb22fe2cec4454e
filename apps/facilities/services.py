"""Writes of installations: the ``facilities`` ingest (GeoJSON, GeoPackage, CSV/XLSX with
latitude and longitude, the WRI Global Power Plant Database files).

An installation is keyed by its identifier (``gppd_idnr``, ``facility_id`` …): a re-ingest of
the same content is a no-op (its rows come back as duplicates); a row whose identifier exists
with different content updates the installation (counted as a correction). The footprint is
the file's polygon, else the documented 500 m geodesic disc around the point
(``ingest.facilities.BUFFER_M``). Owners become exporter organisations, matched by name
(``apps.accounts.services.organisations_ensure``); a row without an owner belongs to none.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict

import shapely
from django.db import models, transaction
from django.utils import timezone

from apps.accounts.models import Organisation
from apps.accounts.services import organisation_key, organisations_ensure
from apps.evidence.models import IngestRun
from apps.evidence.services import IngestOutcome, ingest_run_finish
from apps.evidence.store import evidence_local_path
from apps.facilities.models import Installation
from apps.facilities.signals import installation_links_changed, installations_stored
from ingest.facilities import read_facilities
from ingest.facilities.gem import gem_tracker, read_gem, stakes

# Fields a re-ingest compares and may update.
_FIELDS = (
    "name",
    "organisation_id",
    "owner_name",
    "country",
    "latitude",
    "longitude",
    "footprint_geojson",
    "footprint_source",
    "capacity_mw",
    "primary_fuel",
    "reference_production_t",
    "routes",
    "grid_zone",
    "parent_name",
    "parents",
    "status",
    "start_year",
    "capacities",
)
_ROUTES = set(Installation.Route.values)


def _float(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _routes(text: str) -> tuple[list[str], list[str]]:
    """(known routes, unknown words) of a "bf_bof; cement" cell."""
    words = [w.strip().lower() for w in re.split(r"[;,]", text or "") if w.strip()]
    return [w for w in words if w in _ROUTES], [w for w in words if w not in _ROUTES]


def facilities_ingest(*, run: IngestRun) -> IngestOutcome:
    """Load installations from ``run.evidence`` (see the module docstring); a Global Energy
    Monitor tracker workbook goes to :func:`registry_ingest`."""
    with evidence_local_path(run.evidence) as path:
        if gem_tracker(path):
            return registry_ingest(run=run, path=path)
        data, meta = read_facilities(path)
    errors = [asdict(e) for e in meta["errors"]]
    owners = sorted({o for o in data["owner"] if o})
    geojson = [json.loads(g) for g in shapely.to_geojson(data.geometry.to_numpy())]

    rows: dict[str, dict] = {}
    lines: dict[str, int] = {}
    ignored = 0
    for i, r in enumerate(data.itertuples(index=False)):
        ident = str(r.facility_id)[:64]
        line = int(r.source_line)
        if ident in rows:
            errors.append(
                {
                    "line": line,
                    "field": "facility_id",
                    "value": ident,
                    "reason": f"duplicate identifier (first on line {lines[ident]}); row ignored",
                }
            )
            ignored += 1
            continue
        routes, unknown = _routes(r.routes)
        for word in unknown:
            errors.append(
                {
                    "line": line,
                    "field": "routes",
                    "value": word,
                    "reason": "unknown route (kept the installation without it); known: "
                    + ", ".join(sorted(_ROUTES)),
                }
            )
        lines[ident] = line
        rows[ident] = {
            "name": (r.name or ident)[:255],
            "owner_name": (r.owner or "")[:255],
            "country": r.country or "",
            "latitude": _float(r.latitude),
            "longitude": _float(r.longitude),
            "footprint_geojson": geojson[i],
            "footprint_source": r.footprint_source,
            "capacity_mw": _float(r.capacity_mw),
            "primary_fuel": (r.primary_fuel or "")[:64],
            "reference_production_t": _float(r.reference_production_t),
            "routes": routes,
            "grid_zone": (r.grid_zone or "")[:32],
            "parent_name": (r.parent or "")[:1024],
            "parents": stakes(r.parent or ""),
            "status": (r.status or "")[:32],
            "start_year": None if _float(r.start_year) is None else int(r.start_year),
            "capacities": []
            if _float(r.capacity_t) is None
            else [
                {
                    "unit": "product",
                    "status": r.status or "",
                    "start_year": None if _float(r.start_year) is None else int(r.start_year),
                    "capacity_t": float(r.capacity_t),
                }
            ],
        }

    with transaction.atomic():
        org_ids = organisations_ensure(names=owners, kind=Organisation.Kind.EXPORTER)
        # Names that fold to the same key ("NTPC", "Ntpc") are one organisation.
        by_key = {organisation_key(name): pk for name, pk in org_ids.items()}
        for row in rows.values():
            key = organisation_key(row["owner_name"]) if row["owner_name"] else None
            row["organisation_id"] = by_key.get(key)
        existing = {i.identifier: i for i in Installation.objects.filter(identifier__in=list(rows))}
        created, changed = [], []
        for ident, row in rows.items():
            current = existing.get(ident)
            if current is None:
                created.append(
                    Installation(identifier=ident, ingest_run=run, source_line=lines[ident], **row)
                )
            elif any(getattr(current, f) != row[f] for f in _FIELDS):
                for f in _FIELDS:
                    setattr(current, f, row[f])
                current.ingest_run, current.source_line = run, lines[ident]
                changed.append(current)
        Installation.objects.bulk_create(created, batch_size=1000, ignore_conflicts=True)
        Installation.objects.bulk_update(
            changed, [*_FIELDS, "ingest_run", "source_line"], batch_size=1000
        )
        run.corrections = len(changed)
        errors.sort(key=lambda e: (e["line"] or 0, e["field"]))
        outcome = IngestOutcome(
            rows_read=meta["rows_read"],
            accepted=len(created) + len(changed),
            rejected=meta["rows_rejected"] + ignored,
            duplicates=len(rows) - len(created) - len(changed),
            errors=errors,
            extra={
                "created": len(created),
                "updated": len(changed),
                "owners": len(org_ids),
                "footprints": meta["footprints"],
            },
        )
        ingest_run_finish(run=run, outcome=outcome)
    _announce_stored(facilities_ingest)
    return outcome


# Registry fields a GEM release sets; a newer release that changes any of them keeps the
# previous values in an InstallationVersion.
REGISTRY_FIELDS = (
    "name",
    "name_local",
    "other_names",
    "owner_name",
    "owner_local",
    "owners",
    "parent_name",
    "parents",
    "country",
    "subnational",
    "municipality",
    "latitude",
    "longitude",
    "coordinate_accuracy",
    "status",
    "start_year",
    "equipment",
    "routes",
    "capacities",
    "production",
    "plant_type",
    "production_type",
    "sfi_id",
    "wiki_url",
    "source",
    "source_release",
)


def _registry_row(plant: dict, release: str) -> dict:
    row = {
        "name": plant["name"][:255],
        "name_local": plant["name_local"][:255],
        "other_names": plant["other_names"],
        "owner_name": plant["owner"][:255],
        "owner_local": plant["owner_local"][:255],
        "owners": plant["owners"],
        "parent_name": plant["parent"][:1024],
        "parents": plant["parents"],
        "country": plant["country"],
        "subnational": plant["subnational"][:255],
        "municipality": plant["municipality"][:255],
        "latitude": plant["latitude"],
        "longitude": plant["longitude"],
        "coordinate_accuracy": plant["coordinate_accuracy"][:32],
        "status": plant["status"][:32],
        "start_year": plant["start_year"],
        "equipment": plant["equipment"],
        "routes": plant["routes"],
        "capacities": plant["capacities"],
        "production": plant["production"],
        "plant_type": plant["plant_type"][:32],
        "production_type": plant["production_type"][:32],
        "sfi_id": plant["sfi_id"][:64],
        "wiki_url": plant["wiki_url"][:512],
        "source": plant["tracker"],
        "source_release": release[:128],
    }
    return row


def registry_ingest(*, run: IngestRun, path=None) -> IngestOutcome:
    """Load a Global Energy Monitor tracker (steel or cement) into the registry.

    Identity is GEM's ``Plant ID``. A plant not yet stored is created; one whose fields are
    unchanged is a duplicate (a second ingest of the same release is a no-op); one whose
    fields changed (a newer release) is updated in place and its previous values are kept in
    :class:`InstallationVersion` (audited as one ``registry_update`` event of the run), so an
    installation is never duplicated and its history is kept. Plants with coordinates get
    the 500 m geodesic footprint of the generic reader. Owners and parents are kept as names
    with their stakes; exporters reach plants through matching (apps.facilities.matching),
    not through these names. All writes are bulk (seconds for the 4,724 plants of both
    trackers)."""
    from apps.audit.services import audit_append
    from ingest.facilities import buffer_footprints

    from .models import InstallationVersion

    if path is None:
        with evidence_local_path(run.evidence) as path:
            plants, meta = read_gem(path)
    else:
        plants, meta = read_gem(path)
    release = meta["release"]
    errors = [asdict(e) for e in meta["errors"]]
    rows = {p["identifier"][:64]: _registry_row(p, release) for p in plants}
    lines = {p["identifier"][:64]: p["source_line"] for p in plants}
    placed = [i for i, r in rows.items() if r["latitude"] is not None]
    if placed:
        discs = buffer_footprints(
            np_array([rows[i]["longitude"] for i in placed]),
            np_array([rows[i]["latitude"] for i in placed]),
        )
        for ident, geo in zip(placed, shapely.to_geojson(discs), strict=True):
            rows[ident]["footprint_geojson"] = json.loads(geo)
            rows[ident]["footprint_source"] = "buffer_500m"

    with transaction.atomic():
        existing = {
            i.identifier: i
            for i in Installation.objects.filter(identifier__in=list(rows)).only(
                "id", "identifier", "footprint_source", *REGISTRY_FIELDS
            )
        }
        created, changed, versions = [], [], []
        for ident, row in rows.items():
            current = existing.get(ident)
            if current is None:
                created.append(
                    Installation(identifier=ident, ingest_run=run, source_line=lines[ident], **row)
                )
                continue
            before = {
                f: getattr(current, f) for f in REGISTRY_FIELDS if getattr(current, f) != row[f]
            }
            if not before:
                continue
            versions.append(
                InstallationVersion(
                    installation=current,
                    source_release=current.source_release,
                    ingest_run_id=current.ingest_run_id,
                    fields=before,
                    replaced_by_run=run,
                )
            )
            for f, value in row.items():
                setattr(current, f, value)
            current.ingest_run, current.source_line = run, lines[ident]
            changed.append(current)
        Installation.objects.bulk_create(created, batch_size=1000, ignore_conflicts=True)
        Installation.objects.bulk_update(
            changed,
            [
                *REGISTRY_FIELDS,
                "footprint_geojson",
                "footprint_source",
                "ingest_run",
                "source_line",
            ],
            batch_size=500,
        )
        InstallationVersion.objects.bulk_create(versions, batch_size=1000)
        if changed:
            audit_append(
                actor=None,
                action="registry_update",
                object_type="ingest_run",
                object_id=run.pk,
                payload={
                    "release": release,
                    "updated": sorted(i.identifier for i in changed)[:10000],
                },
                evidence_sha256=run.evidence.sha256,
            )
        run.corrections = len(changed)
        outcome = IngestOutcome(
            rows_read=meta["rows_read"],
            accepted=len(created) + len(changed),
            rejected=meta["rows_rejected"],
            duplicates=len(rows) - len(created) - len(changed),
            errors=errors,
            extra={
                "tracker": meta["tracker"],
                "release": release,
                "licence": meta["licence"],
                "plants": len(rows),
                "created": len(created),
                "updated": len(changed),
            },
        )
        ingest_run_finish(run=run, outcome=outcome)
    # The areas above link declaration lines to the plants, and model the tracker's
    # operating plants for the years it covers (docs/modelled.md).
    _announce_stored(registry_ingest, source=meta["tracker"])
    return outcome


def _announce_stored(sender, source: str = "") -> None:
    """Tell the areas above that installations were stored: declaration lines that carry
    the id of an installation just stored link to it (apps/shipments/apps.py), and a
    tracker's plants are modelled (apps/estimates/apps.py)."""
    installations_stored.send(sender=sender, source=source)


def np_array(values: list[float]):
    import numpy as np

    return np.asarray(values, dtype=float)


# --- Entity resolution and the review queue -------------------------------------------


class MatchDecisionError(ValueError):
    """A decision the suggestion's state does not allow (the message says why)."""


def matches_suggest(*, exporter_ids: list[int] | None = None) -> dict[str, int]:
    """Run entity resolution (apps.facilities.matching) over exporter organisations and the
    registry's installations, and store new suggestions.

    Fetch, then compute: exporters with the countries their shipments came from (the totals
    table), installations with their owner, parent and local-script owner names, then one
    call of each matcher. A pair already suggested keeps its row and its decision (a rejected
    suggestion is not suggested again). Returns the counts of new suggestions per kind."""
    from apps.accounts.models import Organisation
    from apps.shipments.models import ShipmentTotal

    from .matching import Party, Plant, installation_candidates, organisation_pairs
    from .models import MatchSuggestion

    exporters = Organisation.objects.filter(kind=Organisation.Kind.EXPORTER)
    if exporter_ids is not None:
        exporters = exporters.filter(pk__in=exporter_ids)
    countries: dict[int, set[str]] = {}
    for exporter_id, origin in (
        ShipmentTotal.objects.values_list("exporter_id", "origin").distinct().iterator()
    ):
        countries.setdefault(exporter_id, set()).add(origin)
    parties = [
        Party(pk, name, frozenset(countries.get(pk, set()) | ({country} if country else set())))
        for pk, name, country in exporters.values_list("id", "name", "country")
    ]
    # Installations an exporter organisation already owns are not suggested to it again.
    plants = []
    for row in Installation.objects.values(
        "id",
        "identifier",
        "country",
        "municipality",
        "subnational",
        "owner_name",
        "owner_local",
        "owners",
        "parents",
    ).iterator():
        names = [("owner", o["name"]) for o in row["owners"] or []] or (
            [("owner", row["owner_name"])] if row["owner_name"] else []
        )
        names += [("parent", p["name"]) for p in row["parents"] or []]
        if row["owner_local"]:
            names.append(("owner_local", re.sub(r"\[[0-9.]+%\]", "", row["owner_local"])))
        place = ", ".join(v for v in (row["municipality"], row["subnational"]) if v)
        plants.append(Plant(row["id"], row["identifier"], row["country"], place, tuple(names)))

    suggestions = [
        MatchSuggestion(
            kind=MatchSuggestion.Kind.ORGANISATION,
            organisation_id=a,
            other_organisation_id=b,
            score=score,
            evidence=evidence,
        )
        for a, b, score, evidence in organisation_pairs(parties)
    ] + [
        MatchSuggestion(
            kind=MatchSuggestion.Kind.INSTALLATION,
            organisation_id=party,
            installation_id=plant,
            score=score,
            evidence=evidence,
        )
        for party, plant, score, evidence in installation_candidates(parties, plants)
    ]
    before = dict(
        MatchSuggestion.objects.values_list("kind").annotate(n=models.Count("id")).order_by()
    )
    with transaction.atomic():
        MatchSuggestion.objects.bulk_create(suggestions, batch_size=1000, ignore_conflicts=True)
    after = dict(
        MatchSuggestion.objects.values_list("kind").annotate(n=models.Count("id")).order_by()
    )
    return {kind: after.get(kind, 0) - before.get(kind, 0) for kind in MatchSuggestion.Kind.values}


def match_decide(*, suggestion_id: int, decision: str, actor, note: str = ""):
    """Confirm, reject or reopen (``"confirmed"``, ``"rejected"``, ``"suggested"``) one
    suggestion, audited in the same transaction (``match_confirmed`` / ``match_rejected`` /
    ``match_reopened`` with the previous status, the score and the evidence): a decision is
    reversible by another decision, and the log keeps every one. A confirmed installation
    suggestion links the exporter to the plant (its users then see the installation; see
    :func:`apps.facilities.selectors.installation_list`)."""
    from apps.audit.services import audit_append

    from .models import MatchSuggestion

    actions = {
        MatchSuggestion.Status.CONFIRMED: "match_confirmed",
        MatchSuggestion.Status.REJECTED: "match_rejected",
        MatchSuggestion.Status.SUGGESTED: "match_reopened",
    }
    if decision not in actions:
        raise MatchDecisionError(
            f"decision '{decision}' is not one of {', '.join(sorted(actions))}"
        )
    with transaction.atomic():
        suggestion = MatchSuggestion.objects.select_for_update().get(pk=suggestion_id)
        previous = suggestion.status
        if previous == decision:
            raise MatchDecisionError(f"suggestion {suggestion_id} is already {decision}")
        suggestion.status = decision
        decided = decision != MatchSuggestion.Status.SUGGESTED
        suggestion.decided_by = actor if decided else None
        suggestion.decided_at = timezone.now() if decided else None
        suggestion.save(update_fields=["status", "decided_by", "decided_at"])
        audit_append(
            actor=actor,
            action=actions[decision],
            object_type="match_suggestion",
            object_id=suggestion.pk,
            payload={
                "kind": suggestion.kind,
                "organisation": suggestion.organisation_id,
                "other_organisation": suggestion.other_organisation_id,
                "installation": suggestion.installation_id,
                "score": suggestion.score,
                "previous_status": previous,
                "status": decision,
                "note": note[:500],
            },
        )
        if (
            suggestion.kind == MatchSuggestion.Kind.INSTALLATION
            and MatchSuggestion.Status.CONFIRMED
            in (
                previous,
                decision,
            )
        ):
            # A link made or undone changes the plants the exporter's shipments reach:
            # both figures are re-chosen (docs/design.md, the two figures).
            installation_links_changed.send(
                sender=match_decide, organisation_id=suggestion.organisation_id, actor=actor
            )
    return suggestion


def reported_emissions_load(*, installations_csv, compliance_csv) -> dict:
    """Store the EU ETS verified emissions of the registry's plants, by plant and year:
    the EUTL installations (``installations_csv``, euets.info ``installation.csv``
    layout) are matched to the plants' sites (``eutl_site_matches``: name, town and
    coordinates, within the country), and the verified emissions of those a plant gets
    (``compliance_csv``) summed per year. Idempotent: a (plant, year) is updated in place;
    a re-load of the same files changes nothing (docs/modelled.md, "Reported
    emissions")."""
    import hashlib
    from pathlib import Path

    import pandas as pd

    from apps.facilities.matching import eutl_site_matches
    from apps.facilities.models import ReportedEmission
    from ingest.eu_ets.reader import read_eutl_compliance, read_eutl_installations

    paths = [Path(installations_csv), Path(compliance_csv)]
    inst, _ = read_eutl_installations(paths[0])
    comp, meta = read_eutl_compliance(paths[1])
    source = "EU ETS (EUTL): " + ", ".join(
        f"{p.name} sha256 {hashlib.sha256(p.read_bytes()).hexdigest()[:12]}" for p in paths
    )
    countries = set(inst["country"])
    plants = [
        {
            "identifier": p.identifier,
            "names": [p.name, *(p.other_names or []), p.owner_name],
            "owners": [p.owner_name, *(x.get("name", "") for x in p.parents or [])],
            "country": p.country,
            "municipality": p.municipality,
            "latitude": p.latitude,
            "longitude": p.longitude,
        }
        for p in Installation.objects.filter(country__in=countries)
    ]
    rows = [
        {
            "id": r.id,
            "name": r.name,
            "city": r.city,
            "country": r.country,
            "latitude": None if pd.isna(r.latitude) else float(r.latitude),
            "longitude": None if pd.isna(r.longitude) else float(r.longitude),
        }
        for r in inst.itertuples(index=False)
    ]
    site: dict[str, list[str]] = {}
    for m in eutl_site_matches(plants, rows):
        site.setdefault(m.plant, []).append(m.eutl_id)
    by_id = {i: p for p, ids in site.items() for i in ids}
    sums: dict[tuple[str, int], float] = {}
    for r in comp.itertuples(index=False):
        plant = by_id.get(r.installation_id)
        if plant is not None:
            sums[(plant, int(r.year))] = sums.get((plant, int(r.year)), 0.0) + r.emission_t
    ids = dict(
        Installation.objects.filter(identifier__in=list(site)).values_list("identifier", "pk")
    )
    current = {
        (e.installation_id, e.year): e
        for e in ReportedEmission.objects.filter(installation_id__in=list(ids.values()))
    }
    created = updated = 0
    with transaction.atomic():
        for (plant, year), total in sorted(sums.items()):
            pk, eutl = ids[plant], sorted(site[plant])
            row = current.get((pk, year))
            if row is None:
                ReportedEmission.objects.create(
                    installation_id=pk, year=year, emissions_t=total, eutl_ids=eutl, source=source
                )
                created += 1
            elif (row.emissions_t, row.eutl_ids, row.source) != (total, eutl, source):
                row.emissions_t, row.eutl_ids, row.source = total, eutl, source
                row.save(update_fields=["emissions_t", "eutl_ids", "source", "updated_at"])
                updated += 1
    return {
        "plants": len(site),
        "eutl_installations": len(by_id),
        "created": created,
        "updated": updated,
        "rows_rejected": meta["rows_rejected"],
        "errors": [
            f"{paths[1].name}:{e.line}: {e.field}={e.value!r}: {e.reason}" for e in meta["errors"]
        ],
    }
