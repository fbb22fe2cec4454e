"""Country names and codes → ISO 3166-1 alpha-2.

Evidence names countries in many ways: ISO alpha-2 or alpha-3 codes, the ISO short name
("Korea, Republic of"), the name people use ("South Korea"), the name in the CBAM default
value table (IR 2025/2621, Annex I: one sheet per country, sheet names cut to Excel's
31-character limit, e.g. "Democratic Republic of the Cong"). :func:`to_iso2` folds case,
accents, punctuation and whitespace and looks the name up in pycountry's ISO 3166-1 data
plus :data:`ALIASES`.

The default-value table's last sheet, "_Other Countries and Territorie", is not a country:
:func:`is_other_countries` recognises it, and readers give it the origin :data:`OTHER_COUNTRIES`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pycountry

OTHER_COUNTRIES = "OTHER"

# Names in use that ISO 3166-1 (as shipped by pycountry) does not spell this way.
# Keys are written as people write them; lookups fold case, accents and punctuation.
ALIASES: dict[str, str] = {
    # Names of the IR 2025/2621 default-value sheets that are not ISO short names
    "Brunei": "BN",
    "Democratic Republic of the Congo": "CD",
    "DR Congo": "CD",
    "Congo-Kinshasa": "CD",
    "Congo-Brazzaville": "CG",
    "Myanmar_Burma": "MM",
    "Burma": "MM",
    "North Korea": "KP",
    "South Korea": "KR",
    "Korea, Republic of": "KR",
    "Republic of Korea": "KR",
    "Russia": "RU",
    "Taiwan": "TW",
    "Iran": "IR",
    "Syria": "SY",
    "Laos": "LA",
    "Bolivia": "BO",
    "Venezuela": "VE",
    "Moldova": "MD",
    "Tanzania": "TZ",
    "Vietnam": "VN",
    "Viet Nam": "VN",
    # Older or informal names
    "Turkey": "TR",
    "Turkiye": "TR",
    "Türkiye": "TR",
    "Ivory Coast": "CI",
    "Cote d'Ivoire": "CI",
    "Czech Republic": "CZ",
    "Swaziland": "SZ",
    "Macedonia": "MK",
    "Cape Verde": "CV",
    "East Timor": "TL",
    "UK": "GB",
    "Great Britain": "GB",
    "Britain": "GB",
    "USA": "US",
    "U.S.A.": "US",
    "U.S.": "US",
    "United States of America": "US",
    "UAE": "AE",
    "Hong Kong SAR": "HK",
    "Macau": "MO",
    "Vatican": "VA",
    "Micronesia": "FM",
    "Palestine": "PS",
    "State of Palestine": "PS",
    # Not in ISO 3166-1; the user-assigned code the EU and the CBAM registry use
    "Kosovo": "XK",
    "XK": "XK",
    "XKX": "XK",
    # The EU's own code for Greece (Eurostat, customs extracts)
    "EL": "GR",
}

#: ISO 3166-1 alpha-2 codes of the 27 EU member states: their goods are not imports.
EU27: frozenset[str] = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
#: Reg. (EU) 2023/956 Art. 2 and Annex III point 1: the Regulation does not apply to
#: goods originating in Iceland, Liechtenstein, Norway or Switzerland.  (The territories
#: the point also names, Büsingen, Heligoland, Livigno, Ceuta and Melilla, have no
#: ISO 3166-1 code of their own.)  The engine keeps the same lists in
#: methodologies/cbam_goods.py; a test checks that they agree.
ANNEX_III_EXEMPT: frozenset[str] = frozenset({"IS", "LI", "NO", "CH"})


def not_a_cbam_import(iso2: str) -> str:
    """Why goods originating in ``iso2`` are not CBAM imports, or "" when they are."""
    if iso2 in EU27:
        return f"origin {iso2} is an EU member state: its goods are not imports into the Union"
    if iso2 in ANNEX_III_EXEMPT:
        return (
            f"origin {iso2} is listed in Reg. (EU) 2023/956 Annex III point 1: "
            "the CBAM Regulation does not apply to goods originating there (Art. 2)"
        )
    return ""


# A name cut to a sheet-name limit still identifies the country if it is this long and
# only one known name starts with it (Excel cuts at 31 characters).
MIN_PREFIX = 25

_OTHER_COUNTRIES_NAME = "other countries and territories"


def fold(value: str) -> str:
    """Lower case, accents removed, every run of non-alphanumerics a single space."""
    decomposed = unicodedata.normalize("NFKD", str(value))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    bare = bare.replace("'", "").replace("\u2019", "")  # "Côte d’Ivoire" = "Cote dIvoire"
    return re.sub(r"[\W_]+", " ", bare.casefold()).strip()


def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            name = getattr(country, attribute, None)
            if name:
                index.setdefault(fold(name), country.alpha_2)
    for name, code in ALIASES.items():
        index[fold(name)] = code
    return index


_INDEX = _index()
# Full names only (codes are too short to be cut), for prefix matches of truncated names.
_NAMES = {key: code for key, code in _INDEX.items() if len(key) > 3}


@lru_cache(maxsize=4096)
def to_iso2(value: str) -> str | None:
    """ISO 3166-1 alpha-2 code of a country code or name, or ``None`` if unknown.

    ``"Türkiye"``, ``"turkey"``, ``"TUR"``, ``"tr"`` → ``"TR"``; ``"Kosovo"`` → ``"XK"``;
    ``"Democratic Republic of the Cong"`` → ``"CD"`` (unique prefix of at least
    :data:`MIN_PREFIX` characters). "Other countries and territories" is not a country:
    ``None`` (see :func:`is_other_countries`).
    """
    key = fold(value)
    if not key:
        return None
    if key in _INDEX:
        return _INDEX[key]
    if len(key) >= MIN_PREFIX:
        codes = {code for name, code in _NAMES.items() if name.startswith(key)}
        if len(codes) == 1:
            return codes.pop()
    return None


def is_other_countries(name: str) -> bool:
    """True for the default-value table's fallback sheet, however it is cut or spelled:
    ``"_Other Countries and Territorie"``, ``"Other countries and territories"``, ``"OTHER"``."""
    key = fold(name)
    if key == fold(OTHER_COUNTRIES):
        return True
    return key == _OTHER_COUNTRIES_NAME or (
        len(key) >= MIN_PREFIX and _OTHER_COUNTRIES_NAME.startswith(key)
    )
