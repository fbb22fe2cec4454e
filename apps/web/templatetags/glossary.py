"""``{% term "see" %}`` or ``{% term "see" "SEE total" %}``: a word linked to its entry
in the glossary (``/glossary/#see``), with its meaning as the link's title."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html

from apps.web.glossary import BY_SLUG

register = template.Library()


@register.simple_tag
def term(slug: str, label: str = ""):
    entry = BY_SLUG[slug]  # a KeyError names a slug missing from apps/web/glossary.py
    text = label or entry.term.split(" (")[0]
    return format_html(
        '<a class="term" href="{}#{}" title="{}">{}</a>',
        reverse("glossary"),
        entry.slug,
        entry.meaning,
        text,
    )
