"""Pure, offline readers of the evidence the platform ingests (docs/design.md, "Evidence").

Each source has a folder with ``read_<source>(path) -> (DataFrame, meta)``; the contract is
in ``ingest/base.py`` and the steps to add a source in ``ingest/README.md``; the platform
names each source's reader in its one registry, ``apps/evidence/sources.py``. Nothing here
imports Django.
"""
