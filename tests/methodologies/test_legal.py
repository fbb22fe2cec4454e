"""One mapping from legal acts to EUR-Lex (methodologies.legal): every act the engine
names links, in its long and short forms, with the part cited."""

from __future__ import annotations

from pathlib import Path

import pytest

from methodologies.legal import ACTS, citations, eli

ENGINE = Path(__file__).parents[2] / "methodologies"


@pytest.mark.parametrize(
    ("text", "url", "part"),
    [
        # ELI addresses as printed in the acts (shared legal texts, e.g. Reg. 2025/2083).
        (
            "Commission Implementing Regulation (EU) 2025/2621, Annex I (OJ L, 31.12.2025)",
            "http://data.europa.eu/eli/reg_impl/2025/2621/oj",
            "Annex I",
        ),
        (
            "IR 2025/2547 Annex II D.4.3",
            "http://data.europa.eu/eli/reg_impl/2025/2547/oj",
            "Annex II D.4.3",
        ),
        (
            "Reg. 2023/956 Annex III pt 1",
            "http://data.europa.eu/eli/reg/2023/956/oj",
            "Annex III pt 1",
        ),
        (
            "Regulation (EU) 2023/956, Art. 7(2)",
            "http://data.europa.eu/eli/reg/2023/956/oj",
            "Art. 7",
        ),
        ("DR (EU) 2023/1184 Art. 4", "http://data.europa.eu/eli/reg_del/2023/1184/oj", "Art. 4"),
        ("Directive 2003/87", "http://data.europa.eu/eli/dir/2003/87/oj", ""),
    ],
)
def test_a_citation_names_its_act_eli_and_part(text, url, part):
    (found,) = citations(text)
    assert found.url == url
    assert found.part == part


def test_the_example_of_the_issue():
    assert eli("reg", 2023, 956) == "http://data.europa.eu/eli/reg/2023/956/oj"


def test_an_act_not_in_the_mapping_is_named_not_linked():
    (found,) = citations("Regulation (EU) 2099/1")
    assert found.act is None and found.url is None
    assert citations("FIR 2025/2547") == []  # not a word boundary


def test_every_act_the_engine_names_is_in_the_mapping():
    unknown = {}
    for path in ENGINE.rglob("*.py"):
        for c in citations(path.read_text(encoding="utf-8")):
            if c.act is None:
                unknown.setdefault(c.text, str(path.relative_to(ENGINE)))
    assert not unknown, unknown
    assert len(ACTS) >= 10
