"""API fixtures: a fixed audit signing key (no key file written into var/)."""

from tests.apps.audit.helpers import signing_key_env  # noqa: F401  (autouse fixture)
