"""Estimates of every type the engine makes, recorded as the platform records them."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from rest_framework.test import APIClient

import methodologies
from apps.estimates.models import Estimate, Tier
from apps.estimates.services import estimate_record

# One case per methodology that yields an SEE (the cases of tests/methodologies).
ENGINE_CASES: dict[str, tuple[dict, str, str]] = {
    "cbam.default": (
        {"methodology": "cbam.default", "cn_code": "72081000", "origin": "CN", "year": 2026},
        "72081000",
        Tier.DEFAULT,
    ),
    "cbam.installation": (
        {
            "methodology": "cbam.installation",
            "installation_id": "IN-001",
            "good": {"cn_code": "7208", "activity_level_t": 1000},
            "direct": {"attributed_emissions_t": 1500},
            "electricity": {"consumed_mwh": 400, "ef_t_per_mwh": 0.5},
            "precursors": [
                {
                    "cn_code": "7203",
                    "mass_t": 1100,
                    "origin": "IN",
                    "see_direct_t_per_t": 0.9,
                    "see_indirect_t_per_t": 0.1,
                }
            ],
            "uncertainty": {"method": "monte_carlo", "seed": 0, "samples": 2000},
        },
        "7208",
        Tier.DISCLOSED,
    ),
    "route.steel": (
        {
            "methodology": "route.steel",
            "route": "bf_bof",
            "cn_code": "7207",
            "production_t": 1000,
            "electricity_mwh": 150,
            "electricity_ef_t_per_mwh": 0.6,
        },
        "7207",
        Tier.MODELLED,
    ),
    "route.cement": (
        {
            "methodology": "route.cement",
            "cn_code": "2523 29 00",
            "production_t": 1000,
            "clinker_to_cement_t_per_t": 0.75,
            "cao_t_per_t": 0.65,
            "mgo_t_per_t": 0.02,
            "other_bituminous_coal_tj": 2.5,
            "electricity_mwh": 100,
            "electricity_ef_t_per_mwh": 0.5,
        },
        "25232900",
        Tier.MODELLED,
    ),
    "route.aluminium": (
        {
            "methodology": "route.aluminium",
            "route": "primary",
            "cn_code": "7601 10 00",
            "production_t": 1000,
            "cell_technology": "cwpb",
            "anode_effect_minutes_per_cell_day": 0.25,
            "electricity_mwh": 14000,
            "electricity_ef_t_per_mwh": 0.8,
        },
        "76011000",
        Tier.MODELLED,
    ),
    "route.minerals": (
        {
            "methodology": "route.minerals",
            "product": "lithium_hydroxide",
            "production_t": 100,
            "natural_gas_tj": 3.0,
            "limestone_t": 50,
            "electricity_mwh": 900,
            "electricity_ef_t_per_mwh": 0.7,
        },
        "28252000",
        Tier.MODELLED,
    ),
    "hydrogen.smr": (
        {"methodology": "hydrogen.smr", "natural_gas_gj_per_t": 165},
        "28041000",
        Tier.MODELLED,
    ),
}


def record(
    case: dict,
    *,
    cn_code: str,
    tier: str,
    origin: str = "IN",
    subject_key: str | None = None,
    year: int = 2026,
    installation=None,
) -> Estimate:
    result = methodologies.run_case(case)
    extra = {"installation": installation} if installation is not None else {}
    with transaction.atomic():
        return estimate_record(
            result=result,
            subject_key=subject_key or f"{case['methodology']}|{origin}|{cn_code}|{year}",
            tier=tier,
            cn_code=cn_code,
            origin=origin,
            period_start=dt.date(year, 1, 1),
            period_end=dt.date(year, 12, 31),
            **extra,
        )


def record_every_type() -> dict[str, Estimate]:
    return {
        name: record(case, cn_code=cn, tier=tier, origin=case.get("origin", "IN"))
        for name, (case, cn, tier) in ENGINE_CASES.items()
    }


def client_for(username: str) -> APIClient:
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": username, "password": "pw-" + username}, format="json"
    )
    assert response.status_code == 201, response.content
    client.credentials(HTTP_AUTHORIZATION="Token " + response.json()["token"])
    return client
