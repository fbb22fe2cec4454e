"""CBAM goods: CN-code normalisation, sectors, Annex II (direct-only) goods, EU-27 origins.

Shared by every CBAM methodology.  Sources:

- Regulation (EU) 2023/956, Annex I (goods in scope and their sectors) and Annex II
  (goods for which only direct emissions count), as summarised in DESIGN.md §4:
  direct-only are iron and steel of chapter 72 except 7202 and 7204, headings
  7301–7311, 7318 and 7326; aluminium 7601–7616; hydrogen 2804 10 00; electricity
  2716.  Cement, fertilisers and sintered ore 2601 12 00 count direct + indirect.
- EU-27 membership: https://european-union.europa.eu/principles-countries-history/eu-countries_en
"""

from __future__ import annotations

import re

from methodologies.errors import CaseError

#: Sector of each CBAM CN prefix (Reg. 2023/956 Annex I); the longest prefix wins.
SECTOR_BY_PREFIX: dict[str, str] = {
    "25070080": "cement",
    "2523": "cement",
    "26011200": "iron_and_steel",
    "72": "iron_and_steel",
    "73": "iron_and_steel",
    "76": "aluminium",
    "28080000": "fertilisers",
    "2814": "fertilisers",
    "28342100": "fertilisers",
    "3102": "fertilisers",
    "3105": "fertilisers",
    "28041000": "hydrogen",
    "2716": "electricity",
}

#: CN prefixes of the goods of Reg. 2023/956 Annex II (direct emissions only).
DIRECT_ONLY_PREFIXES: tuple[str, ...] = (
    "72",
    *(f"73{h:02d}" for h in range(1, 12)),  # 7301–7311
    "7318",
    "7326",
    *(f"76{h:02d}" for h in range(1, 17)),  # 7601–7616
    "28041000",
    "2716",
)

#: Exceptions to DIRECT_ONLY_PREFIXES: ferro-alloys 7202 and 7204 count indirect too.
DIRECT_ONLY_EXCEPTIONS: tuple[str, ...] = ("7202", "7204")

#: ISO 3166-1 alpha-2 codes of the 27 EU member states.  "EL" (the EU's own code for
#: Greece) is accepted beside ISO "GR" so that a customs extract using it is not
#: mistaken for a third country.
EU27: frozenset[str] = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR EL HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)

_CN_SEPARATORS = re.compile(r"[\s.\u00a0\u202f]")
_ISO2 = re.compile(r"[A-Z]{2}")


def normalise_cn_code(value: object, key: str = "cn_code") -> str:
    """CN code as 4, 6 or 8 digits, spaces and dots removed ("7208 10 00" → "72081000").

    Reference: Council Regulation (EEC) No 2658/87 (Combined Nomenclature), Annex I.
    """
    if not isinstance(value, str):
        raise CaseError(key, "CN code as a string of 4, 6 or 8 digits", f"got {value!r}")
    digits = _CN_SEPARATORS.sub("", value)
    if not digits.isdigit() or len(digits) not in (4, 6, 8):
        raise CaseError(key, "CN code as a string of 4, 6 or 8 digits", f"got {value!r}")
    return digits


def normalise_origin(value: object, key: str = "origin") -> str:
    """Upper-case ISO 3166-1 alpha-2 country code ("cn" → "CN")."""
    if not isinstance(value, str) or not _ISO2.fullmatch(value.strip().upper()):
        raise CaseError(key, "ISO 3166-1 alpha-2 country code", f"got {value!r}")
    return value.strip().upper()


def goods_sector(cn_code: str) -> str:
    """CBAM sector of a CN code: cement, iron_and_steel, aluminium, fertilisers, hydrogen
    or electricity (Reg. 2023/956 Annex I).  Raises :class:`CaseError` outside scope."""
    for length in range(len(cn_code), 1, -1):
        sector = SECTOR_BY_PREFIX.get(cn_code[:length])
        if sector is not None:
            return sector
    raise CaseError(
        "cn_code",
        "a CN code of a CBAM good (Reg. 2023/956 Annex I)",
        f"CN {cn_code} is not a CBAM good",
    )


def is_direct_only(cn_code: str) -> bool:
    """True for goods whose embedded emissions count direct emissions only
    (Reg. 2023/956 Annex II; DESIGN.md §4)."""
    if cn_code.startswith(DIRECT_ONLY_EXCEPTIONS):
        return False
    return cn_code.startswith(DIRECT_ONLY_PREFIXES)


def is_eu_origin(origin: str) -> bool:
    """True when ``origin`` is an EU-27 member state (its precursors count zero)."""
    return origin in EU27
