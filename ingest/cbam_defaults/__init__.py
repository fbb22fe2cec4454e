"""CBAM default values (IR 2025/2621, Annex I)."""

from ingest.cbam_defaults.reader import read_cbam_defaults

__all__ = ["read_cbam_defaults"]
