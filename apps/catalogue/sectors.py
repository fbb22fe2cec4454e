"""The CBAM sector of each aggregated goods category (CBAM communication template v2)."""

from __future__ import annotations

SECTOR_OF_CATEGORY: dict[str, str] = {
    "Cement clinker": "Cement",
    "Cement": "Cement",
    "Aluminous cement": "Cement",
    "Calcined clays": "Cement",
    "Iron or steel products": "Iron and steel",
    "Crude steel": "Iron and steel",
    "Pig iron": "Iron and steel",
    "Direct reduced iron": "Iron and steel",
    "Alloys (FeMn, FeCr, FeNi)": "Iron and steel",
    "Sintered Ore": "Iron and steel",
    "Aluminium products": "Aluminium",
    "Unwrought aluminium": "Aluminium",
    "Hydrogen": "Hydrogen",
    "Ammonia": "Fertilisers",
    "Urea": "Fertilisers",
    "Nitric acid": "Fertilisers",
    "Mixed fertilisers": "Fertilisers",
    "Electricity (export to EU)": "Electricity",
}
