"""``{{ text|legal }}``: a citation with every act it names linked to EUR-Lex.

Each act recognised by :func:`methodologies.legal.citations` becomes a link to its ELI
address (``http://data.europa.eu/eli/reg/2023/956/oj``), titled with the act's name and
the part cited (article, annex, table row, equation); the rest of the text is escaped.
One mapping serves traces, methodology pages and exports (docs/engine.md).
"""

from __future__ import annotations

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

from methodologies.legal import citations

register = template.Library()


@register.filter
def legal(text) -> SafeString:
    out, pos = SafeString(""), 0  # SafeString + SafeString stays safe
    if text is None:
        return out
    text = str(text)
    for c in citations(text):
        out += escape(text[pos : c.start])
        if c.url:
            title = c.act.title + (f", {c.part}" if c.part else "")
            out += format_html(
                '<a href="{}" class="eli" rel="external" title="{}">{}</a>', c.url, title, c.text
            )
        else:
            out += escape(c.text)
        pos = c.end
    return out + escape(text[pos:])
