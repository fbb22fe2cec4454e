"""Entity resolution's pure functions (apps.facilities.matching): names folded across
scripts, pairs and candidates with their scores and evidence. Expected scores are worked by
hand from the documented rule: similarity / 100 × (0.8 when both countries are known and
differ, else 1)."""

from __future__ import annotations

from apps.facilities.matching import (
    BLOCK,
    Party,
    Plant,
    installation_candidates,
    normalise,
    organisation_pairs,
)


def test_names_are_transliterated_folded_and_stripped_of_legal_forms():
    assert normalise("NUCOR CORP.") == "nucor" == normalise("Nucor Corporation")
    assert normalise("Новолипецкий металлургический комбинат") == (
        "novolipetskiy metallurgicheskiy kombinat"
    )
    assert normalise("宝山钢铁股份有限公司") == "bao shan gang tie"
    assert normalise("ПАО «НЛМК»") == "nlmk"  # ПАО → pao, a legal form


def test_two_spellings_of_one_exporter_are_one_suggestion_and_near_names_are_not():
    parties = [
        Party(1, "NUCOR CORP", frozenset({"US"})),
        Party(2, "Nucor Corporation", frozenset({"US"})),
        Party(3, "Exporter A"),
        Party(4, "Exporter B"),  # "exporter a" / "exporter b": 90 < 92, two organisations
    ]
    pairs = organisation_pairs(parties)
    assert [(a, b, score) for a, b, score, _ in pairs] == [(1, 2, 1.0)]
    assert pairs[0][3]["countries_agree"] is True


def test_a_country_mismatch_lowers_the_score_by_the_documented_factor():
    parties = [Party(1, "Nucor Corp", frozenset({"MX"}))]
    plants = [Plant(10, "P2", "US", "Huger", (("owner", "Nucor Corp"),))]
    [(party, plant, score, evidence)] = installation_candidates(parties, plants)
    # similarity 100 (same folded name), countries MX vs US: 100 / 100 × 0.8
    assert (party, plant, score) == (1, 10, 0.8)
    assert evidence["countries_agree"] is False and evidence["place"] == "Huger"


def test_latin_exporters_meet_cyrillic_and_chinese_owner_names():
    parties = [
        Party(1, "Novolipetskiy Metallurgicheskiy Kombinat PAO", frozenset({"RU"})),
        Party(2, "Baoshan Gangtie Co Ltd", frozenset({"CN"})),
    ]
    plants = [
        Plant(
            10, "P1", "RU", "Lipetsk", (("owner_local", "Новолипецкий металлургический комбинат"),)
        ),
        Plant(11, "P2", "CN", "Shanghai", (("owner_local", "宝山钢铁股份有限公司"),)),
    ]
    found = {
        (p, q): (s, e["matched_field"]) for p, q, s, e in installation_candidates(parties, plants)
    }
    assert found == {(1, 10): (1.0, "owner_local"), (2, 11): (1.0, "owner_local")}


def test_lists_longer_than_a_block_find_the_same_pairs():
    filler = [
        Party(100 + i, f"Filler Trading {i:04d} Xq{i * 7919 % 10007}") for i in range(BLOCK + 5)
    ]
    parties = [*filler, Party(1, "NUCOR CORP"), Party(2, "Nucor Corporation")]
    pairs = [(a, b) for a, b, _, _ in organisation_pairs(parties) if a < 100]
    assert pairs == [(1, 2)]
