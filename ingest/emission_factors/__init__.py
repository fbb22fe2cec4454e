"""Emission factors per zone and production mode (Electricity Maps config schema)."""

from ingest.emission_factors.lookup import Factor, FactorNotFound, factor_at
from ingest.emission_factors.reader import DEFAULT_ZONE, read_emission_factors

__all__ = ["DEFAULT_ZONE", "Factor", "FactorNotFound", "factor_at", "read_emission_factors"]
