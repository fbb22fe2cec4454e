"""``{{ value|num:1 }}``: a number with thousands separators and fixed decimals.

The same text as ``floatformat:1|intcomma`` for the tables' non-negative sums, at a
fraction of the cost (the dashboard shows hundreds of them; the two filters go through
``Decimal`` and a regular expression each). ``None`` and non-numbers show as "—".
The separators are the active language's (1,234.5 in English, 1 234,5 in French,
1.234,5 in Spanish).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils import formats

register = template.Library()


@register.filter
def num(value, places: int = 0) -> str:
    if value is None or isinstance(value, bool):
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    if number != number or number in (float("inf"), float("-inf")):
        return str(number)
    # Rounded half up on the number's shortest decimal form, as floatformat does.
    exact = Decimal(repr(number)).quantize(Decimal(1).scaleb(-int(places)), ROUND_HALF_UP)
    text = f"{exact:,.{int(places)}f}"
    if text.startswith("-") and exact == 0:
        text = text[1:]
    thousands, decimal = (
        formats.get_format("THOUSAND_SEPARATOR"),
        formats.get_format("DECIMAL_SEPARATOR"),
    )
    if (thousands, decimal) != (",", "."):
        text = text.translate({ord(","): thousands, ord("."): decimal})
    return text
