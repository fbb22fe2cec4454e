"""canonical_bytes: its fast path (the standard library's C encoder) writes exactly what the
``rfc8785`` package writes, on generated data and on the cases where the two notations of
numbers part ways (docs/engine.md, speed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from methodologies.errors import TraceError
from methodologies.trace import _jcs_ready, _NeedsReference, _plain, canonical_bytes


def reference(obj) -> bytes:
    return rfc8785.dumps(_plain(obj, "$"))


# Characters from every plane, control characters and the BMP's private use area included
# (U+E000–U+FFFF sort after surrogate pairs in UTF-16 but before them by code point).
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\x00", "\x1f", "\x7f", '"', "\\", "\u2028", "\ue000", "\U0001f600"]),
    ),
    max_size=8,
)
NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e-3, max_value=1e-3, allow_nan=False),
    st.floats(min_value=1e15, max_value=1e22),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
)
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(TEXT, inner, max_size=5)),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(JSON)
def test_the_fast_path_writes_the_bytes_of_rfc8785(obj):
    assert canonical_bytes(obj) == reference(obj)


@pytest.mark.parametrize(
    "value, text",
    [
        (3.0, b"3"),  # integral float: no ".0" in ECMAScript
        (-0.0, b"0"),
        (0.1, b"0.1"),
        (1e-4, b"0.0001"),  # the last float both write in plain notation
        (1e-5, b"0.00001"),  # Python writes 1e-05: handed to rfc8785
        (1e-7, b"1e-7"),
        (1e16, b"10000000000000000"),
        (1.5e16, b"15000000000000000"),
        (1e21, b"1e+21"),
        (2.0**53, b"9007199254740992"),
        (123456789.123, b"123456789.123"),
    ],
)
def test_numbers_where_python_and_ecmascript_part_ways(value, text):
    assert canonical_bytes([value]) == b"[" + text + b"]" == reference([value])


def test_which_values_take_the_fast_path():
    assert _jcs_ready({"a": [1.0, 0.5, np.float64(2.5), np.int64(7), np.bool_(True)]}, []) == {
        "a": [1, 0.5, 2.5, 7, True]
    }
    for slow in (math.nan, 2**53, {"\U0001f600": 1}, {1: 2}, object()):
        with pytest.raises(_NeedsReference):
            _jcs_ready(slow, [])


def test_member_order_is_utf16_order_beyond_the_bmp():
    # By code point U+E000 < U+1F600; by UTF-16 code unit 0xD83D < 0xE000.
    obj = {"\ue000": 1, "\U0001f600": 2}
    assert canonical_bytes(obj) == reference(obj)
    assert canonical_bytes(obj).index("\U0001f600".encode()) < canonical_bytes(obj).index(
        "\ue000".encode()
    )


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 2**60, {"x": {1, 2}}])
def test_what_rfc8785_refuses_is_still_a_trace_error(bad):
    with pytest.raises(TraceError):
        canonical_bytes({"x": bad})


def test_a_string_that_looks_like_a_placeholder_stays_a_string():
    # Floats outside 1e-4..1e16 stand in the encoder's text as "\ue000<i>\ue000" until
    # es_number writes them; data holding such a string must come out as itself.
    obj = {"a": 1e-7, "b": "\ue0000\ue000", "c": ["\ue0001\ue000", 2e-9]}
    assert canonical_bytes(obj) == reference(obj)
    assert b'"b":"\xee\x80\x800\xee\x80\x80"' in canonical_bytes(obj)
