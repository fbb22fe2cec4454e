"""An estimate as a PACT v3 ``ProductFootprint``.

Field names and value formats follow the PACT Technical Specifications for PCF Data
Exchange, version 3.0.0 (WBCSD, https://github.com/wbcsd/data-exchange-protocol,
``spec/v3/openapi.yaml``): decimals are JSON strings, dates RFC 3339 UTC, identifiers URNs.

Choices of ours, where the specification leaves them to the data owner:

- **Identity.** ``id`` is a UUIDv8 (RFC 9562 §5.8): 60 bits of
  SHA-256(subject key, trace SHA-256) and the estimate's database id in the 62-bit
  ``custom_c`` field, so it is stable for the same estimate, found without a lookup table,
  and not guessable from another footprint's id (:func:`estimate_pk_of`).
- **Versions.** Estimates of one subject (``subject_key``) with different traces are
  versions of one footprint: each lists the ids of the earlier ones in ``precedingPfIds``,
  and all but the latest (and any marked ``superseded_by``) are ``Deprecated``.
- **Declared unit** 1 kilogram of the good: the SEE in tCO2e/t is numerically kgCO2e/kg.
  ``pcfExcludingBiogenicUptake`` is direct + indirect SEE (the whole known footprint to the
  gate); for a CBAM direct-only good the comment states the CBAM total as well.
- **Data quality.** ``dqi`` comes from the tier of docs/design.md §2 by :data:`DQI_BY_TIER` (ratings
  1 best … 5 worst, PACT Methodology 4.2.3); ``primaryDataShare`` is 100 for verified and
  disclosed installation data, 0 for modelled and default values.
- **Validity.** ``validityPeriodStart``/``End`` equal the reference period: an estimate for
  imports of a year is valid for that year.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin

import pycountry
from django.utils import translation

from apps.catalogue.models import CNCode
from apps.estimates.models import Estimate, Tier

SPEC_VERSION = "3.0.0"
PLATFORM_NAME = "Carbon Manifest"
PLATFORM_URN = "urn:pact:carbon-manifest:company:platform"
PRODUCT_URN = "urn:pact:carbon-manifest:product-id:cn:{cn}:origin:{origin}"
CLASSIFICATION_URN = "urn:pact:productclassification:cn:{cn}"
ORGANISATION_URN = "urn:pact:carbon-manifest:company:organisation:{pk}"

#: (technologicalDQR, geographicalDQR, temporalDQR) by tier; geography one step worse when
#: a default value fell back to "Other countries and territories".
DQI_BY_TIER = {
    Tier.VERIFIED: (1, 1, 1),
    Tier.DISCLOSED: (2, 1, 1),
    Tier.MODELLED: (3, 2, 2),
    Tier.DEFAULT: (4, 3, 3),
}
PRIMARY_DATA_SHARE = {Tier.VERIFIED: 100, Tier.DISCLOSED: 100, Tier.MODELLED: 0, Tier.DEFAULT: 0}

_C_BITS = (1 << 62) - 1


def footprint_id(estimate: Estimate) -> str:
    digest = hashlib.sha256(
        f"carbon-manifest/pact-footprint\n{estimate.subject_key}\n{estimate.trace_sha256}".encode()
    ).digest()
    bits = int.from_bytes(digest[:8], "big") >> 4  # 60 bits
    custom_a, custom_b = bits >> 12, bits & 0xFFF
    value = (custom_a << 80) | (0x8 << 76) | (custom_b << 64) | (0b10 << 62) | estimate.pk
    return str(uuid.UUID(int=value))


def estimate_pk_of(pf_id: str) -> int | None:
    """The estimate id a footprint id names, or None when it cannot be one of ours.
    (The caller still compares :func:`footprint_id` of that estimate with ``pf_id``.)"""
    try:
        value = uuid.UUID(pf_id)
    except (ValueError, AttributeError, TypeError):
        return None
    if value.version != 8 or value.variant != uuid.RFC_4122:
        return None
    return value.int & _C_BITS


def decimal_text(value: float | Decimal | int) -> str:
    """A number as the spec's decimal string (``^[+-]?\\d+(\\.\\d+)?$``), from the shortest
    round-tripping text of a float: never an exponent, never binary noise."""
    number = value if isinstance(value, Decimal) else Decimal(repr(value))
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _midnight(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code) if re.fullmatch(r"[A-Z]{2}", code) else None
    return country.name if country else code


def cn_descriptions(codes: Iterable[str]) -> dict[str, str]:
    """The catalogue's description of each code, or of its nearest heading."""
    codes = set(codes)
    candidates = {c[:n] for c in codes for n in (8, 6, 4) if len(c) >= n}
    known = dict(CNCode.objects.filter(code__in=candidates).values_list("code", "description"))
    out = {}
    for code in codes:
        for n in (8, 6, 4):
            if known.get(code[:n]):
                out[code] = known[code[:n]]
                break
    return out


def versions_of(estimates: Iterable[Estimate]) -> dict[str, list[Estimate]]:
    """Every estimate of the subjects of ``estimates``, oldest first, by subject key."""
    keys = {e.subject_key for e in estimates}
    by_key: dict[str, list[Estimate]] = {k: [] for k in keys}
    rows = Estimate.objects.filter(subject_key__in=keys).only("pk", "subject_key", "trace_sha256")
    for row in rows.order_by("pk"):
        by_key[row.subject_key].append(row)
    return by_key


def product_footprint(
    estimate: Estimate,
    *,
    versions: list[Estimate],
    description: str,
    trace_url: str,
) -> dict[str, Any]:
    """The ProductFootprint of ``estimate`` (see the module docstring for our choices)."""
    earlier = [v for v in versions if v.pk < estimate.pk]
    later = [v for v in versions if v.pk > estimate.pk]
    direct = Decimal(repr(estimate.see_direct_t_per_t))
    indirect = (
        Decimal(repr(estimate.see_indirect_t_per_t))
        if estimate.see_indirect_t_per_t is not None
        else Decimal(0)
    )
    footprint_total = direct + indirect
    reference_end = estimate.period_end + dt.timedelta(days=1)  # the spec's end is exclusive
    tier = Tier(estimate.tier)
    with translation.override("en"):  # the exchanged footprint is in English
        tier_label = str(tier.label)
    technological, geographical, temporal = DQI_BY_TIER[tier]
    if tier == Tier.DEFAULT and json.loads(estimate.trace).get("result", {}).get("fallback"):
        geographical = 5
    organisation = getattr(estimate.installation, "organisation", None)
    company_name = organisation.name if organisation else PLATFORM_NAME
    company_ids = [ORGANISATION_URN.format(pk=organisation.pk)] if organisation else [PLATFORM_URN]
    product_name = description or f"CN {estimate.cn_code}"
    country = _country_name(estimate.origin)
    cbam_note = (
        f" CBAM counts direct emissions only for this good: {decimal_text(direct)} tCO2e/t."
        if estimate.direct_only
        else ""
    )
    comment = (
        f"Specific embedded emissions under the EU CBAM (Reg. (EU) 2023/956), tier "
        f"'{tier_label}', methodology {estimate.methodology} {estimate.methodology_version}: "
        f"direct {decimal_text(direct)} + indirect {decimal_text(indirect)} kgCO2e/kg."
        f"{cbam_note} {estimate.reason}".strip()
        + f" Trace (canonical JSON, SHA-256 {estimate.trace_sha256}): {trace_url}; "
        "recompute it with POST …/verify or `python -m methodologies run`."
        " fossilCarbonContent is not assessed (reported as 0)."
    )
    pcf: dict[str, Any] = {
        "declaredUnitOfMeasurement": "kilogram",
        "declaredUnitAmount": "1",
        "productMassPerDeclaredUnit": "1",
        "referencePeriodStart": _midnight(estimate.period_start),
        "referencePeriodEnd": _midnight(reference_end),
        "boundaryProcessesDescription": (
            "Cradle to gate of the production process as attributed by IR 2025/2547 Annex III "
            "(direct emissions, electricity consumed, relevant precursors)."
        ),
        "pcfExcludingBiogenicUptake": decimal_text(footprint_total),
        "pcfIncludingBiogenicUptake": decimal_text(footprint_total),
        "fossilGhgEmissions": decimal_text(max(footprint_total, Decimal(0))),
        "fossilCarbonContent": "0",
        # EU monitoring rules (Reg. 2018/2066 Annex VI as amended) use AR5 GWP values.
        "ipccCharacterizationFactors": ["AR5"],
        # CBAM is none of the spec's listed standards; the rule itself is named below.
        "crossSectoralStandards": ["GHGP-Product"],
        "productOrSectorSpecificRules": [
            {
                "operator": "Other",
                "otherOperatorName": "European Commission",
                "ruleNames": [
                    "Regulation (EU) 2023/956 (CBAM)",
                    "Implementing Regulation (EU) 2025/2547",
                    "Implementing Regulation (EU) 2025/2621",
                ],
            }
        ],
        "exemptedEmissionsPercent": "0",
        "packagingEmissionsIncluded": False,
        "ccsTechnologicalCO2CaptureIncluded": False,
        "primaryDataShare": decimal_text(PRIMARY_DATA_SHARE[tier]),
        "dqi": {
            "technologicalDQR": decimal_text(technological),
            "geographicalDQR": decimal_text(geographical),
            "temporalDQR": decimal_text(temporal),
        },
    }
    if re.fullmatch(r"[A-Z]{2}", estimate.origin):
        pcf["geographyCountry"] = estimate.origin
    if tier == Tier.VERIFIED:
        pcf["verification"] = {"coverage": "product level"}
    document: dict[str, Any] = {
        "id": footprint_id(estimate),
        "specVersion": SPEC_VERSION,
        "created": _rfc3339(estimate.created_at),
        "status": "Deprecated" if later or estimate.superseded_by_id else "Active",
        "validityPeriodStart": _midnight(estimate.period_start),
        "validityPeriodEnd": _midnight(reference_end),
        "companyName": company_name,
        "companyIds": company_ids,
        "productDescription": (
            f"{product_name} (CN {estimate.cn_code}) produced in {country}, "
            f"{estimate.period_start.isoformat()} to {estimate.period_end.isoformat()}"
        ),
        "productIds": [PRODUCT_URN.format(cn=estimate.cn_code, origin=estimate.origin)],
        "productClassifications": [CLASSIFICATION_URN.format(cn=estimate.cn_code)],
        "productNameCompany": product_name,
        "comment": comment,
        "pcf": pcf,
    }
    if earlier:
        document["precedingPfIds"] = [footprint_id(v) for v in earlier]
    return document


def footprint_documents(estimates: list[Estimate], *, base_url: str) -> list[dict[str, Any]]:
    """The ProductFootprints of ``estimates``, their trace links under ``base_url`` (our
    address as the data recipient reaches it, e.g. ``https://cm.example.org/``)."""
    versions = versions_of(estimates)
    descriptions = cn_descriptions(e.cn_code for e in estimates)
    return [
        product_footprint(
            e,
            versions=versions[e.subject_key],
            description=descriptions.get(e.cn_code, ""),
            trace_url=urljoin(base_url, f"/api/v1/estimates/{e.pk}/trace"),
        )
        for e in estimates
    ]
