"""The readers by source name, as ``python manage.py ingest <source> PATH`` names them."""

from __future__ import annotations

from ingest.base import Reader
from ingest.cbam_defaults import read_cbam_defaults
from ingest.customs import read_customs

SOURCES: dict[str, Reader] = {
    "defaults": read_cbam_defaults,
    "customs": read_customs,
}
