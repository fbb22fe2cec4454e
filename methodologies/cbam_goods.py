"""CBAM goods: CN-code normalisation, scope (Annex I), direct-only goods (Annex II),
and the origins that are not CBAM imports (EU-27 and Annex III point 1).

Shared by every CBAM methodology.  Every list below is transcribed from the legal text
in ``data/cbam/official/legal/`` (``Reg_2023-956_base_CBAM_regulation.txt``), not from
memory:

- :data:`ANNEX_I` / :data:`ANNEX_I_EXCEPTIONS`: Regulation (EU) 2023/956, Annex I
  point 1 (goods in scope, by sector), with the exceptions the table itself lists
  (ferro-alloys 7202 2, 7202 30 00, 7202 50 00, 7202 70 00, 7202 80 00, 7202 91 00,
  7202 92 00, 7202 93 00, 7202 99; ferrous scrap 7204; fertilisers 3105 60 00).
  Headings the table does not list are outside scope: for example 7312–7317,
  7319–7325, aluminium scrap 7602 and household articles 7615.  Reg. (EU) 2025/2083
  Art. 1(28) narrows 2507 00 80 to calcined kaolinic clays ("ex 2507 00 80"); a CN code
  cannot tell calcined from raw clay, so the code stays in scope here.
- :data:`ANNEX_II` / :data:`ANNEX_II_EXCEPTIONS`: Reg. 2023/956 Annex II (goods for
  which only direct emissions count, Art. 7(1)): chapter 72 except the same
  ferro-alloys and 7204, headings 7301–7311, 7318 and 7326, aluminium 7601, 7603–7614
  and 7616, hydrogen 2804 10 00; electricity 2716 00 00 added by Reg. (EU) 2025/2083
  Art. 1(29).  Because Annex II excepts exactly the ferro-alloys that Annex I leaves
  out of scope, every in-scope good of chapter 72 — ferro-manganese 7202 11/19,
  ferro-chromium 7202 41/49 and ferro-nickel 7202 60 00 included — is direct-only.
  Cement, fertilisers and agglomerated iron ore 2601 12 00 are in Annex I but not in
  Annex II: they count direct and indirect emissions.
- :data:`EU27`: the member states (their goods are not imports at all), and
  :data:`ANNEX_III_EXEMPT`: Reg. 2023/956 Art. 2(4) and Annex III point 1 — Iceland,
  Liechtenstein, Norway, Switzerland — whose goods the Regulation does not apply to.
  (Annex III point 1 also names the territories Büsingen, Heligoland, Livigno, Ceuta and
  Melilla, which have no ISO 3166-1 code of their own; they cannot be recognised from an
  alpha-2 origin.)  Reg. (EU) 2025/2083 Annex I (new Annex IV point 3 of Reg. 2023/956):
  only precursors listed in Annex I and originating outside the EU and the Annex III
  point 1 countries count in a complex good.
- Origins are checked against ISO 3166-1 (pycountry's data) plus Kosovo ``XK``
  (user-assigned code used by the EU) and ``EL`` (the EU's code for Greece): an
  unassigned code such as ``ZZ`` is an error, never "Other countries and territories".
"""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry

from methodologies.errors import CaseError

#: Citation of the scope lists.
ANNEX_I_SOURCE = "Reg. (EU) 2023/956 Annex I point 1"
ANNEX_II_SOURCE = (
    "Reg. (EU) 2023/956 Annex II (electricity added by Reg. (EU) 2025/2083 Art. 1(29))"
)
ANNEX_III_SOURCE = "Reg. (EU) 2023/956 Art. 2 and Annex III point 1"

#: CN prefixes of Reg. 2023/956 Annex I point 1 (digits, as printed) → sector.
ANNEX_I: dict[str, str] = {
    # Cement
    "25070080": "cement",
    # 2523 10 00, 21 00, 29 00, 30 00, 90 00: every subheading of heading 2523
    "2523": "cement",
    # Electricity
    "2716": "electricity",  # 2716 00 00, the heading's only code
    # Fertilisers
    "2808": "fertilisers",  # 2808 00 00, the heading's only code
    "2814": "fertilisers",
    "28342100": "fertilisers",
    "3102": "fertilisers",
    "3105": "fertilisers",
    # Iron and steel
    "72": "iron_and_steel",
    "26011200": "iron_and_steel",
    **{
        f"73{h}": "iron_and_steel"
        for h in ("01", "02", "04", "05", "06", "07", "08", "10", "18", "26")
    },
    # 7303 00, 7309 00, 7311 00: each the whole of its heading
    "7303": "iron_and_steel",
    "7309": "iron_and_steel",
    "7311": "iron_and_steel",
    # Aluminium
    **{
        f"76{h}": "aluminium"
        for h in ("01", "03", "04", "05", "06", "07", "08", "10", "12", "14", "16")
    },
    # 7609 00 00, 7611 00 00, 7613 00 00: each the whole of its heading
    "7609": "aluminium",
    "7611": "aluminium",
    "7613": "aluminium",
    # Chemicals
    "28041000": "hydrogen",
}

#: The "Except:" entries of the chapter 72 and 3105 rows of Annex I (digit prefixes).
ANNEX_I_EXCEPTIONS: tuple[str, ...] = (
    "72022",  # 7202 2 ferro-silicon
    "72023000",  # ferro-silico-manganese
    "72025000",  # ferro-silico-chromium
    "72027000",  # ferro-molybdenum
    "72028000",  # ferro-tungsten and ferro-silico-tungsten
    "72029100",  # ferro-titanium and ferro-silico-titanium
    "72029200",  # ferro-vanadium
    "72029300",  # ferro-niobium
    "720299",  # other (ferro-phosphorus, ferro-silico-magnesium, other)
    "7204",  # ferrous waste and scrap
    "31056000",  # fertilisers with the two elements phosphorus and potassium
)

#: CN prefixes of Reg. 2023/956 Annex II (direct emissions only) and Reg. 2025/2083.
ANNEX_II: tuple[str, ...] = (
    "72",
    *(f"73{h}" for h in ("01", "02", "04", "05", "06", "07", "08", "10", "18", "26")),
    "7303",
    "7309",
    "7311",
    *(f"76{h}" for h in ("01", "03", "04", "05", "06", "07", "08", "10", "12", "14", "16")),
    "7609",
    "7611",
    "7613",
    "28041000",
    "2716",
)

#: The "Except:" entries of Annex II's chapter 72 row (the same as Annex I's).
ANNEX_II_EXCEPTIONS: tuple[str, ...] = tuple(e for e in ANNEX_I_EXCEPTIONS if e.startswith("72"))

#: Kept for callers of the earlier names.
SECTOR_BY_PREFIX = ANNEX_I
DIRECT_ONLY_PREFIXES = ANNEX_II
DIRECT_ONLY_EXCEPTIONS = ANNEX_II_EXCEPTIONS

#: ISO 3166-1 alpha-2 codes of the 27 EU member states.  "EL" (the EU's own code for
#: Greece) is accepted beside ISO "GR" so that a customs extract using it is not
#: mistaken for a third country.
EU27: frozenset[str] = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR EL HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)

#: Reg. 2023/956 Annex III point 1: Iceland, Liechtenstein, Norway, Switzerland.
ANNEX_III_EXEMPT: frozenset[str] = frozenset({"IS", "LI", "NO", "CH"})

#: Codes accepted beside ISO 3166-1's assigned ones (see the module docstring).
EXTRA_ORIGINS: frozenset[str] = frozenset({"XK", "EL"})

_CN_SEPARATORS = re.compile(r"[\s.\u00a0\u202f]")
_ISO2 = re.compile(r"[A-Z]{2}")


@lru_cache(maxsize=1)
def iso_alpha2() -> frozenset[str]:
    """Every assigned ISO 3166-1 alpha-2 code (pycountry's data) plus :data:`EXTRA_ORIGINS`."""
    return frozenset(c.alpha_2 for c in pycountry.countries) | EXTRA_ORIGINS


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
    """Upper-case ISO 3166-1 alpha-2 country code ("cn" → "CN").  A code ISO 3166-1
    does not assign (``ZZ``, ``XX``) is refused: it is not a country, and never
    "Other countries and territories" (docs/method-cbam.md)."""
    if not isinstance(value, str) or not _ISO2.fullmatch(value.strip().upper()):
        raise CaseError(key, "ISO 3166-1 alpha-2 country code", f"got {value!r}")
    code = value.strip().upper()
    if code not in iso_alpha2():
        raise CaseError(
            key,
            "ISO 3166-1 alpha-2 country code",
            f"{code!r} is not an assigned ISO 3166-1 code (not a country)",
        )
    return code


def _matches(cn_code: str, prefix: str) -> bool:
    return cn_code.startswith(prefix)


def _partly(cn_code: str, prefixes: tuple[str, ...]) -> list[str]:
    """Prefixes strictly more specific than ``cn_code`` that start with it."""
    return [p for p in prefixes if p.startswith(cn_code) and p != cn_code and len(p) > len(cn_code)]


def in_scope(cn_code: str) -> bool:
    """True when every good under ``cn_code`` is a CBAM good (Reg. 2023/956 Annex I)."""
    try:
        goods_sector(cn_code)
    except CaseError:
        return False
    return True


def goods_sector(cn_code: str, key: str = "cn_code") -> str:
    """CBAM sector of a CN code: cement, iron_and_steel, aluminium, fertilisers, hydrogen
    or electricity (Reg. 2023/956 Annex I point 1; the longest listed prefix wins).

    Raises :class:`CaseError` naming the code for a good outside Annex I (7204 scrap,
    ferro-silicon 7202 21, 7312–7317, 7602, 7615, 3105 60 00 …) and for a heading that
    is only partly in scope (``7202``, ``3105``: give the 6- or 8-digit code)."""
    expected = f"a CN code of a CBAM good ({ANNEX_I_SOURCE})"
    excepted = [e for e in ANNEX_I_EXCEPTIONS if cn_code.startswith(e)]
    if excepted:
        raise CaseError(
            key,
            expected,
            f"CN {cn_code} is excepted from Annex I (under {excepted[0]}): not a CBAM good",
        )
    sector = None
    for length in range(len(cn_code), 1, -1):
        sector = ANNEX_I.get(cn_code[:length])
        if sector is not None:
            break
    if sector is None:
        under = _partly(cn_code, tuple(ANNEX_I))
        if under:
            raise CaseError(
                key,
                expected + ", at a level wholly in scope",
                f"CN {cn_code} is only partly in scope "
                f"(in scope under it: {', '.join(sorted(under))})",
            )
        raise CaseError(key, expected, f"CN {cn_code} is not a CBAM good (not in Annex I)")
    partial = _partly(cn_code, ANNEX_I_EXCEPTIONS)
    if partial:
        raise CaseError(
            key,
            expected + ", at a level wholly in scope (6 or 8 digits)",
            f"CN {cn_code} is only partly in scope (excepted under it: {', '.join(partial)})",
        )
    return sector


def is_direct_only(cn_code: str) -> bool:
    """True for goods whose embedded emissions count direct emissions only
    (Reg. 2023/956 Art. 7(1) and Annex II; electricity by Reg. 2025/2083 Art. 1(29)).

    Every in-scope iron and steel good of chapter 72 is direct-only, in-scope
    ferro-alloys (7202 11, 19, 41, 49, 60 00) included: Annex II excepts only 7204 and
    the ferro-alloys that Annex I leaves out of scope."""
    if cn_code.startswith(ANNEX_II_EXCEPTIONS):
        return False
    return cn_code.startswith(ANNEX_II)


def is_eu_origin(origin: str) -> bool:
    """True when ``origin`` is an EU-27 member state."""
    return origin in EU27


def is_exempt_origin(origin: str) -> bool:
    """True when goods of ``origin`` are not CBAM imports: an EU-27 member state, or a
    country of Reg. 2023/956 Annex III point 1 (IS, LI, NO, CH).  A precursor of such an
    origin counts zero (Reg. 2023/956 Annex IV point 3 as replaced by Reg. 2025/2083)."""
    return origin in EU27 or origin in ANNEX_III_EXEMPT


def exempt_origin_rule(origin: str) -> str:
    """The rule that takes ``origin`` out of CBAM (for messages), or "" when none."""
    if origin in EU27:
        return f"origin {origin} is an EU member state: its goods are not imports into the Union"
    if origin in ANNEX_III_EXEMPT:
        return (
            f"origin {origin} is listed in {ANNEX_III_SOURCE}: "
            "the Regulation does not apply to goods originating there"
        )
    return ""
