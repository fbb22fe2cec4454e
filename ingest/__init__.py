"""Pure, offline readers of the evidence the platform ingests (docs/design.md, "Evidence").

Each source has a folder with ``read_<source>(path) -> (DataFrame, meta)``; the contract is
in ``ingest/base.py``, the registry of sources in ``ingest/registry.py``, and the steps to
add a source in ``ingest/README.md``. Nothing here imports Django.
"""
