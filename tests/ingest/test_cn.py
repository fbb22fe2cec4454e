"""CN codes (ingest.cn)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.cn import cn_prefixes, normalise_cn, normalise_cn_series


@pytest.mark.parametrize(
    ("value", "digits"),
    [
        ("2523 10 00", "25231000"),  # as IR 2025/2621 Annex I writes it
        ("7208.10.00", "72081000"),
        ("7208", "7208"),
        ("7217 20", "721720"),
        ("7610\u00a090", "761090"),  # no-break space (shared/data/README.md §1b)
        ("7610\u202f90\u202f10", "76109010"),  # narrow no-break space
        (" 72081000 ", "72081000"),
        (72081000, "72081000"),
    ],
)
def test_it_accepts_4_6_or_8_digits_with_spaces_and_dots(value, digits):
    assert normalise_cn(value) == digits


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("72A8", "CN code '72A8' must have 4, 6 or 8 digits"),
        ("72O8", "CN code '72O8' must have 4, 6 or 8 digits"),
        ("720", "CN code '720' must have 4, 6 or 8 digits"),
        ("7208100", "CN code '7208100' must have 4, 6 or 8 digits"),
        ("7208100000", "CN code '7208100000' must have 4, 6 or 8 digits"),  # TARIC 10 digits
        ("7208-10", "CN code '7208-10' must have 4, 6 or 8 digits"),
        ("", "CN code is empty"),
    ],
)
def test_anything_else_is_a_value_error_with_the_reason(value, reason):
    with pytest.raises(ValueError) as info:
        normalise_cn(value)
    assert str(info.value) == reason


def test_prefixes_are_most_specific_first():
    assert cn_prefixes("7208 10 00") == ["72081000", "720810", "7208"]
    assert cn_prefixes("720810") == ["720810", "7208"]
    assert cn_prefixes("7601") == ["7601"]


def test_the_series_version_agrees_with_the_scalar_one():
    values = pd.Series(["2523 10 00", "72O8", "7208.10", "", "7610\u00a090"], dtype=str)
    codes, valid = normalise_cn_series(values)
    assert valid.tolist() == [True, False, True, False, True]
    assert codes[valid].tolist() == ["25231000", "720810", "761090"]


@given(
    st.sampled_from([4, 6, 8]).flatmap(
        lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)
    ),
    st.lists(st.sampled_from([" ", ".", "\u00a0", "\u202f"]), max_size=8),
    st.randoms(use_true_random=False),
)
def test_separators_anywhere_do_not_change_the_code(digits, separators, random):
    chars = list(digits)
    for separator in separators:
        chars.insert(random.randint(0, len(chars)), separator)
    assert normalise_cn("".join(chars)) == digits
