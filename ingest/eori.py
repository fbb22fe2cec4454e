"""EORI numbers (Economic Operators Registration and Identification, Reg. (EU) No 952/2013
Art. 9; format: Commission Delegated Reg. (EU) 2015/2446 Art. 6 and the EORI guidance): the
two-letter code of the Member State (or country) that assigned it, then up to 15 letters or
digits. The CBAM Registry names the declarant by it (``Declarant/IdentificationNumber``)."""

from __future__ import annotations

import re

from ingest.countries import to_iso2

EORI = re.compile(r"^[A-Z]{2}[A-Z0-9]{1,15}$")
# Codes in use that are not ISO 3166-1 countries: XI, Northern Ireland (Windsor Framework).
_EXTRA_CODES = frozenset({"XI"})


def normalise_eori(text: str) -> str | None:
    """The EORI in upper case, or None if ``text`` is not one (see :func:`eori_problem`)."""
    value = text.strip().upper()
    if not EORI.match(value):
        return None
    if value[:2] not in _EXTRA_CODES and to_iso2(value[:2]) != value[:2]:
        return None
    return value


def eori_problem(text: str) -> str:
    """Why ``text`` is not an EORI number ("" if it is one)."""
    value = text.strip().upper()
    if not value:
        return "EORI is empty"
    if normalise_eori(value) is not None:
        return ""
    if not EORI.match(value):
        return (
            f"EORI '{text.strip()}' must be a two-letter country code followed by 1 to 15 "
            "letters or digits (e.g. DE123456789012345)"
        )
    return f"EORI '{text.strip()}' does not start with a known country code ({value[:2]})"
