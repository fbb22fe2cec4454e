"""This area's part of ``manage.py demo``."""

from __future__ import annotations


def run(*, command, number: int) -> None:
    """Add this area's sample data through the queue and print what it shows."""
    command._heading(f"{number}. satellite")
    command.stdout.write("  (not built yet)")
