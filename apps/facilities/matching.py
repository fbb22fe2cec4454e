"""Entity resolution: which exporter names are one organisation, and which plants of the
registry an exporter stands for (its owner's or parent's plants).

Pure functions over plain data (no Django): the service gathers names, countries and places,
calls :func:`organisation_pairs` and :func:`installation_candidates` once, and stores the
results as suggestions for officials to confirm or reject (apps.facilities.services).

Method:

1. **Transliterate**, then fold (:func:`normalise`): ``anyascii`` turns every script into
   ASCII (``"Новолипецкий металлургический комбинат"`` → ``"Novolipetskiy
   metallurgicheskiy kombinat"``, ``"宝山钢铁"`` → ``"BaoShanGangTie"``), so that a
   Cyrillic, Chinese or Arabic owner name in a GEM tracker can meet the Latin name a customs
   file writes. Case is folded, punctuation becomes space, and legal-form words
   (:data:`LEGAL_FORMS`: ``corp``, ``corporation``, ``ltd``, ``pjsc``, ``ooo`` …) are
   dropped, since "NUCOR CORP" and "Nucor Corporation" differ only by them.
2. **Compare** every pair at once with rapidfuzz's ``process.cdist`` (0–100), with a
   cutoff so that only plausible pairs are kept: exporter against exporter with
   ``fuzz.token_sort_ratio`` (word order ignored, every word counts), exporter against
   owner or parent with ``fuzz.token_set_ratio`` (a plant owner's longer name, "Nucor Steel
   Gallatin LLC", still meets the exporter "Nucor").
3. **Weigh the evidence**: the score is the name similarity (0–1) times
   :data:`COUNTRY_FACTOR` when the countries are known and differ (a trader may export from
   another country than its plants', so a mismatch lowers the score but does not exclude);
   each suggestion carries its evidence: both names as written and as compared, which field
   matched (owner, parent, their local-script names), the countries on each side and the
   plant's place.

A suggestion is only a suggestion: the link takes effect when an official confirms it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from anyascii import anyascii
from rapidfuzz import fuzz, process

#: Legal-form and filler words ignored when comparing names.
LEGAL_FORMS = frozenset(
    """
    ab ag as asa bhd bv co company corp corporation cv gmbh inc incorporated jsc kg kk lda
    limited llc llp ltd nv oao ooo oy pao pjsc plc pt pte pty sa sab sae sas spa srl tbk the
    zao
    """.split()
)
#: Chinese legal forms, removed before transliteration (their pinyin syllables, "gu fen you
#: xian gong si", are too common as words to drop afterwards).
CJK_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "股份公司", "集团公司", "公司")
#: Minimum name similarity (0–100) for a suggestion.
# (above 90: "Exporter A" and "Exporter B" score 90 and are two organisations)
ORGANISATION_CUTOFF = 92.0
INSTALLATION_CUTOFF = 88.0
#: Factor applied to the score when both countries are known and differ.
COUNTRY_FACTOR = 0.8


def normalise(name: str) -> str:
    """Name as compared: transliterated to ASCII (anyascii), case-folded, punctuation as
    space, legal forms dropped; ``"NUCOR CORP."`` → ``"nucor"``."""
    # anyascii writes Chinese syllables capitalised and unspaced ("BaoShanGangTie"):
    # a space before each capital that follows a lowercase letter keeps them as words.
    name = name or ""
    for form in CJK_LEGAL_FORMS:
        name = name.replace(form, " ")
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", anyascii(name)).casefold()
    # "JSW Steel Ltd." and "J.S.W." : dots between single letters join them
    text = re.sub(r"\b([a-z])\.(?=[a-z]\b)", r"\1", text)
    words = re.split(r"[^0-9a-z]+", text)
    kept = [w for w in words if w and w not in LEGAL_FORMS]
    return " ".join(kept)


@dataclass(frozen=True)
class Party:
    """An exporter organisation as the matcher sees it."""

    id: int
    name: str
    countries: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Plant:
    """An installation: the owner and parent names it can be reached through."""

    id: int
    identifier: str
    country: str
    place: str
    # (field, name) pairs: ("owner", …), ("parent", …), ("owner_local", …)
    names: tuple[tuple[str, str], ...] = field(default_factory=tuple)


#: Rows of the similarity matrix computed at once (bounds memory: 256 × names floats).
BLOCK = 256


def _similar_pairs(
    left: list[str], right: list[str], scorer, cutoff: float
) -> list[tuple[int, int, float]]:
    """``(i, j, similarity 0–100)`` for every pair at or above ``cutoff``: the better of
    ``scorer`` on the words and of the plain ratio with spaces removed, so that pinyin
    written as one word ("Baoshan Gangtie") meets its syllables ("bao shan gang tie").
    Computed in blocks of :data:`BLOCK` rows, so memory stays bounded for any list."""
    import numpy as np

    squashed_right = [k.replace(" ", "") for k in right]
    out = []
    for start in range(0, len(left), BLOCK):
        block = left[start : start + BLOCK]
        words = process.cdist(block, right, scorer=scorer, workers=1)
        squashed = process.cdist(
            [k.replace(" ", "") for k in block], squashed_right, scorer=fuzz.ratio, workers=1
        )
        best = np.maximum(words, squashed)
        rows, cols = np.nonzero(best >= cutoff)
        out.extend(
            (start + int(i), int(j), float(best[i, j])) for i, j in zip(rows, cols, strict=True)
        )
    return out


def _score(
    similarity: float, left: Iterable[str], right: Iterable[str]
) -> tuple[float, bool | None]:
    """Score 0–1 and whether the countries agree (None when one side has none)."""
    left, right = set(left) - {""}, set(right) - {""}
    agree = None if not left or not right else bool(left & right)
    factor = COUNTRY_FACTOR if agree is False else 1.0
    return round(similarity / 100.0 * factor, 4), agree


def organisation_pairs(
    parties: list[Party], *, cutoff: float = ORGANISATION_CUTOFF
) -> list[tuple[int, int, float, dict]]:
    """Pairs of exporters that are probably one organisation: ``(id_a, id_b, score,
    evidence)`` with ``id_a < id_b``, best first."""
    keys = [normalise(p.name) for p in parties]
    if len(parties) < 2:
        return []
    out = []
    for i, j, similarity in _similar_pairs(keys, keys, fuzz.token_sort_ratio, cutoff):
        if i >= j or not keys[i] or not keys[j]:
            continue
        a, b = parties[i], parties[j]
        score, agree = _score(similarity, a.countries, b.countries)
        lo, hi = (a, b) if a.id < b.id else (b, a)
        out.append(
            (
                lo.id,
                hi.id,
                score,
                {
                    "names": [lo.name, hi.name],
                    "compared": [normalise(lo.name), normalise(hi.name)],
                    "name_similarity": round(similarity / 100.0, 4),
                    "countries": [sorted(lo.countries), sorted(hi.countries)],
                    "countries_agree": agree,
                    "method": "anyascii + rapidfuzz token_sort_ratio",
                },
            )
        )
    out.sort(key=lambda t: (-t[2], t[0], t[1]))
    return out


def installation_candidates(
    parties: list[Party], plants: list[Plant], *, cutoff: float = INSTALLATION_CUTOFF
) -> list[tuple[int, int, float, dict]]:
    """Exporters probably linked to plants through a matching owner or parent name:
    ``(party id, plant id, score, evidence)``, best first; each (exporter, plant) once, with
    its best-matching name."""
    names, owners = [], []
    for k, plant in enumerate(plants):
        for field_name, name in plant.names:
            key = normalise(name)
            if key and key != "unknown":
                names.append(key)
                owners.append((k, field_name, name))
    keys = [normalise(p.name) for p in parties]
    if not names or not keys:
        return []
    best: dict[tuple[int, int], tuple[float, dict]] = {}
    for i, j, similarity in _similar_pairs(keys, names, fuzz.token_set_ratio, cutoff):
        if not keys[i]:
            continue
        party = parties[i]
        k, field_name, name = owners[j]
        plant = plants[k]
        score, agree = _score(similarity, party.countries, [plant.country])
        pair = (party.id, plant.id)
        if pair in best and best[pair][0] >= score:
            continue
        best[pair] = (
            score,
            {
                "exporter_name": party.name,
                "matched_name": name,
                "matched_field": field_name,
                "compared": [keys[i], names[j]],
                "name_similarity": round(similarity / 100.0, 4),
                "exporter_countries": sorted(party.countries),
                "plant_country": plant.country,
                "countries_agree": agree,
                "plant": plant.identifier,
                "place": plant.place,
                "method": "anyascii + rapidfuzz token_set_ratio",
            },
        )
    out = [(p, q, s, e) for (p, q), (s, e) in best.items()]
    out.sort(key=lambda t: (-t[2], t[0], t[1]))
    return out


# --- Plants ↔ EU ETS installations (docs/modelled.md) -----------------------------------

#: Words that name the kind of site, not the site: dropped before comparing site names.
SITE_WORDS = frozenset(
    """
    steel plant plants works steelworks cement zementwerk cementerie cementeria cimenterie
    usine werk werke site sito stabilimento planta fabrica fabryka huta zaklad cementownia
    mill mills integrated iron and of de du des la le di del und
    """.split()
)
#: A pair is a match when the names agree at least this much (0–100) and the places are
#: within :data:`NEAR_KM`, or the names agree at :data:`SURE_NAME` and the town agrees.
SITE_NAME_CUTOFF = 70.0
SURE_NAME = 85.0
NEAR_KM = 5.0
#: Any EUTL installation this close with some name agreement belongs to the site (the
#: coke ovens, sinter plant and power plant of an integrated works).
SAME_SITE_KM = 1.5
SAME_SITE_NAME = 50.0


#: Installations that make energy or lime: part of a plant's site only when their name
#: also carries the plant's owner or parent (a works' own power plant), never by place.
ENERGY_WORDS = frozenset(
    """
    kraftwerk heizwerk heizkraftwerk stadtwerke fernwarme fjernvarme chp elektrocieplownia
    cieplownia voimalaitos lampokeskus centrale power energy energia energie edp komunala
    lng hospital krankenhaus universitat fw fhkw kw hkw bhkw gud
    """.split()
)
LIME_WORDS = frozenset("kalk kalkwerk cal wapna wapno meszuzem lime chaux asvestopoiia".split())


@dataclass(frozen=True)
class SiteMatch:
    """One EU ETS installation assigned to one registry plant, with why."""

    plant: str
    eutl_id: str
    score: float
    distance_km: float | None
    town_agrees: bool
    names: tuple[str, str]


def _site_key(name: str) -> str:
    return " ".join(w for w in normalise(name).split() if w not in SITE_WORDS)


def _km(lat1, lon1, lat2, lon2):
    import numpy as np

    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(a))


def eutl_site_matches(plants: list[dict], installations: list[dict]) -> list[SiteMatch]:
    """Which EU ETS installations make up each plant's site.

    ``plants``: ``{"identifier", "names": [...] (name, other names, owner), "owners":
    [...] (owner and parents), "country", "municipality", "latitude", "longitude"}``;
    ``installations``: ``{"id",
    "name", "city", "country", "latitude", "longitude"}`` (NaN or None coordinates when
    unknown).  Compared within one country: the best rapidfuzz ``token_set_ratio`` of the
    plant's names against the installation's name (site words removed), the geodesic
    distance between their points and whether the towns agree.  Each installation goes to
    at most one plant, the one it matches best.  Lime works are never part of a site; an
    energy installation (:data:`ENERGY_WORDS`) only when its name carries the plant's owner
    or parent (the works' own power plant burning its gases, which plants report)."""
    import math

    import numpy as np

    best: dict[str, SiteMatch] = {}
    countries = {p["country"] for p in plants}
    for country in sorted(countries):
        ps = [p for p in plants if p["country"] == country]
        es = [e for e in installations if e["country"] == country and e.get("name")]
        if not ps or not es:
            continue
        es = [e for e in es if not set(normalise(e["name"]).split()) & LIME_WORDS]
        if not es:
            continue
        labels, owner_of, owners, owner_of_o = [], [], [], []
        for i, p in enumerate(ps):
            for n in p["names"]:
                key = _site_key(n)
                if key:
                    labels.append(key)
                    owner_of.append(i)
            for n in p.get("owners", []):
                key = _site_key(n)
                if key:
                    owners.append(key)
                    owner_of_o.append(i)
        e_keys = [_site_key(e["name"]) for e in es]
        scores = process.cdist(labels, e_keys, scorer=fuzz.token_set_ratio, workers=1)
        name = np.zeros((len(ps), len(es)))
        np.maximum.at(name, np.asarray(owner_of), scores)
        owner = np.zeros((len(ps), len(es)))
        if owners:
            o_scores = process.cdist(owners, e_keys, scorer=fuzz.token_set_ratio, workers=1)
            np.maximum.at(owner, np.asarray(owner_of_o), o_scores)
        energy = np.array([bool(set(normalise(e["name"]).split()) & ENERGY_WORDS) for e in es])
        name = np.where(energy[None, :] & (owner < SITE_NAME_CUTOFF), 0.0, name)
        plat = np.array([np.nan if p["latitude"] is None else p["latitude"] for p in ps])
        plon = np.array([np.nan if p["longitude"] is None else p["longitude"] for p in ps])
        elat = np.array([np.nan if e["latitude"] is None else e["latitude"] for e in es])
        elon = np.array([np.nan if e["longitude"] is None else e["longitude"] for e in es])
        dist = _km(plat[:, None], plon[:, None], elat[None, :], elon[None, :])
        towns_p = [normalise(p.get("municipality") or "") for p in ps]
        towns_e = [normalise(e.get("city") or "") for e in es]
        for i, j in zip(*np.nonzero(name >= SAME_SITE_NAME), strict=True):
            d = float(dist[i, j])
            known = not math.isnan(d)
            town = bool(towns_p[i]) and fuzz.ratio(towns_p[i], towns_e[j]) >= 85
            s = float(name[i, j])
            ok = (
                (known and d <= SAME_SITE_KM)
                or (known and d <= NEAR_KM and s >= SITE_NAME_CUTOFF)
                or (not known and town and s >= SURE_NAME)
            )
            if not ok:
                continue
            match = SiteMatch(
                plant=ps[i]["identifier"],
                eutl_id=es[j]["id"],
                score=round(s / 100.0, 4),
                distance_km=round(d, 3) if known else None,
                town_agrees=town,
                names=(ps[i]["names"][0], es[j]["name"]),
            )
            current = best.get(es[j]["id"])
            rank = (match.score, -(match.distance_km or 99.0))
            if current is None or rank > (current.score, -(current.distance_km or 99.0)):
                best[es[j]["id"]] = match
    return sorted(best.values(), key=lambda m: (m.plant, m.eutl_id))
