"""The modelled rung for every operating installation and year (docs/modelled.md).

Fetch, then compute: :func:`installation_cases` gathers, for each operating plant of the
registry and each year, its capacities, the production the registry reports, its
satellite activity index and its country's grid factor into plain case dicts (a few
queries, no lookups in a loop); :func:`methodologies.modelled.model_cases` computes them
all in one vectorised pass; :func:`installations_model` stores one
:class:`~apps.facilities.models.InstallationEmission` row per plant and year (upserted on
its natural key) and one modelled ``Estimate`` per good (through
``apps.estimates.services.estimate_record``, which stores a trace once per subject).
Running it twice creates nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.facilities.models import Installation, InstallationEmission
from apps.facilities.signals import installations_modelled
from methodologies import modelled

#: Registry statuses modelled as operating.
OPERATING = modelled.OPERATING
CHUNK = 1024
ROW_FIELDS = [
    "production_t",
    "production_source",
    "direct_emissions_t",
    "direct_emissions_p05_t",
    "direct_emissions_p95_t",
    "indirect_emissions_t",
    "indirect_emissions_zone_t",
    "estimate_ids",
    "methodology_version",
]
EMBER_FIXTURE = settings.BASE_DIR / "fixtures" / "grid" / "co2js" / "average-intensities.json"


@dataclass
class ModelSummary:
    """What a run did: plant-years modelled, rows and estimates written."""

    years: list[int]
    plant_years: int = 0
    rows_created: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    estimates_created: int = 0
    estimates_existing: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    seconds_model: float = 0.0
    seconds_total: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def grid_factors() -> dict[str, tuple[float, str]]:
    """Country (ISO2, and ``World``) → (grid factor [tCO2e/MWh], source): the Ember annual
    averages stored by the grid area, else read from the fixture copy of the same file."""
    from apps.grid.models import GridAverage

    rows = list(
        GridAverage.objects.filter(basis=GridAverage.Basis.EMBER).values_list(
            "iso2", "code", "year", "value_g_per_kwh"
        )
    )
    source = "Ember annual average (CC BY 4.0, via co2.js), stored grid averages"
    if not rows:
        from ingest.grid_averages.reader import read_ember

        frame, _ = read_ember(EMBER_FIXTURE)
        rows = list(frame[["iso2", "code", "year", "intensity_g_per_kwh"]].itertuples(index=False))
        source = "Ember annual average (CC BY 4.0, via co2.js), fixtures/grid/co2js"
    out: dict[str, tuple[int, float]] = {}
    for iso2, code, year, value in rows:
        key = iso2 or code
        if key and (key not in out or year > out[key][0]):
            out[key] = (int(year), float(value))
    return {
        key: (value / 1000.0, f"{source}: {key} {year}, {value:g} gCO2e/kWh")
        for key, (year, value) in out.items()
    }


def _activity(years: list[int]) -> dict[tuple[int, int], tuple[float, float]]:
    from apps.satellite.models import ActivityIndex

    out = {}
    for inst, period, index, sigma in ActivityIndex.objects.filter(
        period__in=[str(y) for y in years]
    ).values_list("installation_id", "period", "activity_index", "activity_index_sigma"):
        out[(inst, int(period))] = (index, sigma)
    return out


def installation_cases(
    *, years: Iterable[int], installation_ids: list[int] | None = None, source: str = ""
) -> tuple[list[dict[str, Any]], list[int]]:
    """Cases of every operating steel and cement installation for each year (started by
    then), and the installation pk of each case."""
    years = sorted(set(years))
    qs = Installation.objects.filter(status__in=OPERATING, source__in=["gem_steel", "gem_cement"])
    if installation_ids is not None:
        qs = qs.filter(pk__in=installation_ids)
    if source:
        qs = qs.filter(source=source)
    grid = grid_factors()
    activity = _activity(years)
    cases, pks = [], []
    for inst in qs.order_by("pk").values(
        "pk",
        "identifier",
        "country",
        "source",
        "start_year",
        "capacities",
        "production",
        "plant_type",
        "production_type",
        "routes",
    ):
        ef, ef_source = grid.get(inst["country"]) or grid.get("World") or (None, "")
        if ef is None:
            continue
        pk = inst.pop("pk")
        for year in years:
            case = modelled.registry_case(
                **inst,
                year=year,
                electricity_ef_t_per_mwh=ef,
                electricity_ef_source=ef_source,
                activity=activity.get((pk, year)),
            )
            if case is not None:
                cases.append(case)
                pks.append(pk)
    return cases, pks


def registry_years(*, source: str) -> list[int]:
    """The years a tracker covers: those of its production figures, else the year before
    its release (the last full year)."""
    years = set()
    release = ""
    for production, rel in Installation.objects.filter(source=source).values_list(
        "production", "source_release"
    ):
        years.update(int(r["year"]) for r in production or [] if r.get("year"))
        release = release or rel
    if years:
        return sorted(years)
    digits = [int(t) for t in release.replace(",", " ").split() if t.isdigit() and len(t) == 4]
    return [max(digits) - 1] if digits else []


def installations_model(
    *,
    years: Iterable[int],
    installation_ids: list[int] | None = None,
    source: str = "",
    actor: Any = None,
) -> ModelSummary:
    """Model every operating installation for ``years`` and store the results
    (see the module docstring); idempotent."""
    import time

    from apps.estimates.models import Tier
    from apps.estimates.services import EstimateItem, estimates_record_bulk

    started = time.perf_counter()
    years = sorted(set(years))
    summary = ModelSummary(years=years)
    cases, pks = installation_cases(years=years, installation_ids=installation_ids, source=source)
    summary.plant_years = len(cases)
    installations = Installation.objects.in_bulk(set(pks))
    existing_rows = {
        (r.installation_id, r.year): r
        for r in InstallationEmission.objects.filter(
            installation_id__in=set(pks), year__in=years, tier=Tier.MODELLED
        )
    }
    for start in range(0, len(cases), CHUNK):
        chunk, chunk_pks = cases[start : start + CHUNK], pks[start : start + CHUNK]
        t0 = time.perf_counter()
        plants = modelled.model_cases(chunk)
        sealed = []
        for plant in plants:
            goods = [cn for cn, g in plant["goods"].items() if g.get("production_t", 0) > 0]
            sealed.append([(cn, modelled.seal_good(plant, cn)) for cn in goods])
        summary.seconds_model += time.perf_counter() - t0
        with transaction.atomic():
            # One insert of the new estimates and one of their audit events per chunk
            # (estimates_record_bulk): the same stored rows and events as recording each.
            items = [
                EstimateItem(
                    result=result,
                    subject_key=f"installation|{case['installation']}|{cn}|{case['year']}",
                    tier=Tier.MODELLED,
                    cn_code=cn,
                    origin=case["country"],
                    period_start=dt.date(case["year"], 1, 1),
                    period_end=dt.date(case["year"], 12, 31),
                    installation_id=pk,
                    organisation_id=installations[pk].organisation_id,
                )
                for case, pk, goods in zip(chunk, chunk_pks, sealed, strict=True)
                for cn, result in goods
            ]
            recorded = estimates_record_bulk(items=items, actor=actor)
            item_ids = iter(recorded.ids)
            summary.estimates_created += recorded.created
            summary.estimates_existing += len(items) - recorded.created
            new_rows, changed = [], []
            for case, pk, plant, goods in zip(chunk, chunk_pks, plants, sealed, strict=True):
                year = case["year"]
                ids = [next(item_ids) for _ in goods]
                values = {
                    "production_t": plant["production_t"],
                    "production_source": plant["production_source"],
                    "direct_emissions_t": plant["direct_emissions_t"],
                    "direct_emissions_p05_t": plant["direct_emissions_p05_t"],
                    "direct_emissions_p95_t": plant["direct_emissions_p95_t"],
                    "indirect_emissions_t": plant["indirect_emissions_t"],
                    "indirect_emissions_zone_t": plant["indirect_emissions_zone_t"],
                    "estimate_ids": sorted(ids),
                    "methodology_version": modelled.VERSION,
                }
                source_key = plant["production_source"]
                summary.by_source[source_key] = summary.by_source.get(source_key, 0) + 1
                row = existing_rows.get((pk, year))
                if row is None:
                    new_rows.append(
                        InstallationEmission(
                            installation_id=pk, year=year, tier=Tier.MODELLED, **values
                        )
                    )
                elif any(getattr(row, k) != v for k, v in values.items()):
                    for k, v in values.items():
                        setattr(row, k, v)
                    changed.append(row)
                else:
                    summary.rows_unchanged += 1
            # ignore_conflicts: a concurrent run stores the same deterministic row
            InstallationEmission.objects.bulk_create(
                new_rows, batch_size=1000, ignore_conflicts=True
            )
            InstallationEmission.objects.bulk_update(changed, ROW_FIELDS, batch_size=1000)
            summary.rows_created += len(new_rows)
            summary.rows_updated += len(changed)
    if summary.estimates_created or summary.rows_updated:
        # The shipments that reach these plants re-choose their best estimate (the
        # shipments area listens: docs/design.md, the two figures of a shipment).
        installations_modelled.send(
            sender=installations_model, installation_ids=sorted(set(pks)), actor=actor
        )
    summary.seconds_total = time.perf_counter() - started
    return summary
