"""The local time of a grid zone, for the RFNBO matching periods.

DR (EU) 2023/1184 Art. 6 matches renewable electricity within the same calendar month
(until 2029) or hour (from 2030) — months and hours of the bidding zone's local time, not
of UTC.  A zone key is a country code, optionally with a suffix (``DE``, ``DE-LU``,
``IT-NORD``, ``NO-1``, ``SE_3``); its country gives the IANA time zone.  Only countries
whose bidding zones keep one legal time are listed: where a country spans several time
zones (the United States, Russia, Australia …) the zone must be listed explicitly in
:data:`ZONE_TIMEZONES`, and an unknown zone is an error, never silently UTC.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

#: Country (ISO 3166 alpha-2) → IANA time zone of its mainland bidding zones.
COUNTRY_TIMEZONES: dict[str, str] = {
    "AL": "Europe/Tirane",
    "AT": "Europe/Vienna",
    "BA": "Europe/Sarajevo",
    "BE": "Europe/Brussels",
    "BG": "Europe/Sofia",
    "CH": "Europe/Zurich",
    "CY": "Asia/Nicosia",
    "CZ": "Europe/Prague",
    "DE": "Europe/Berlin",
    "DK": "Europe/Copenhagen",
    "EE": "Europe/Tallinn",
    "ES": "Europe/Madrid",
    "FI": "Europe/Helsinki",
    "FR": "Europe/Paris",
    "GB": "Europe/London",
    "GR": "Europe/Athens",
    "HR": "Europe/Zagreb",
    "HU": "Europe/Budapest",
    "IE": "Europe/Dublin",
    "IS": "Atlantic/Reykjavik",
    "IT": "Europe/Rome",
    "LT": "Europe/Vilnius",
    "LU": "Europe/Luxembourg",
    "LV": "Europe/Riga",
    "MD": "Europe/Chisinau",
    "ME": "Europe/Podgorica",
    "MK": "Europe/Skopje",
    "MT": "Europe/Malta",
    "NL": "Europe/Amsterdam",
    "NO": "Europe/Oslo",
    "PL": "Europe/Warsaw",
    "PT": "Europe/Lisbon",
    "RO": "Europe/Bucharest",
    "RS": "Europe/Belgrade",
    "SE": "Europe/Stockholm",
    "SI": "Europe/Ljubljana",
    "SK": "Europe/Bratislava",
    "TR": "Europe/Istanbul",
    "UA": "Europe/Kyiv",
    "XK": "Europe/Belgrade",
    # Outside Europe, countries with one legal time.
    "CL": "America/Santiago",
    "CN": "Asia/Shanghai",
    "EG": "Africa/Cairo",
    "IN": "Asia/Kolkata",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "MA": "Africa/Casablanca",
    "OM": "Asia/Muscat",
    "SA": "Asia/Riyadh",
    "AE": "Asia/Dubai",
    "ZA": "Africa/Johannesburg",
}

#: Zone key → IANA time zone, for zones whose country has several legal times (and for
#: test zones named in the fixtures).
ZONE_TIMEZONES: dict[str, str] = {
    "US-CAL-CISO": "America/Los_Angeles",
    "US-TEX-ERCO": "America/Chicago",
    "US-NY-NYIS": "America/New_York",
    "US-MIDA-PJM": "America/New_York",
    "US-NW-BPAT": "America/Los_Angeles",
}


def zone_timezone(zone: str, country: str = "") -> ZoneInfo:
    """The IANA time zone of grid zone ``zone`` (its country ``country`` when the key does
    not start with one).  Raises ValueError naming the zone when none is known."""
    key = (zone or "").strip().upper()
    if key in ZONE_TIMEZONES:
        return ZoneInfo(ZONE_TIMEZONES[key])
    for candidate in (key[:2], (country or "").strip().upper()):
        if candidate in COUNTRY_TIMEZONES and (candidate == key[:2] or key[2:3] in "-_"):
            return ZoneInfo(COUNTRY_TIMEZONES[candidate])
    code = (country or "").strip().upper()
    if code in COUNTRY_TIMEZONES:
        return ZoneInfo(COUNTRY_TIMEZONES[code])
    raise ValueError(
        f"grid zone {zone!r} (country {country!r}): no local time zone is known, so its "
        "calendar months and hours (DR 2023/1184 Art. 6) cannot be formed; add it to "
        "apps/grid/timezones.py"
    )
