"""Links to many objects of one kind, for tables built without the template engine."""

from __future__ import annotations

from django.urls import reverse


def id_url(name: str) -> str:
    """The URL of the named ``<int:pk>/`` route as a format string, ``{}`` for the id: one
    ``reverse()`` for a whole table of links instead of one per row."""
    return reverse(name, args=[0])[:-2] + "{}/"
