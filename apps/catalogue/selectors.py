"""Reads of the CN catalogue and of the default-value table."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from apps.catalogue.models import CNCode, DefaultValue


class CNIndex:
    """Hierarchical CN matching against the catalogue (codes of 4, 6 or 8 digits).

    A declared code matches when it is in the catalogue, when a catalogue heading covers it
    (catalogue ``7208`` covers ``72081000``), or when it is a heading that covers at least
    one catalogue code (declared ``7601``, as aggregate statistics give, covers ``76011010``).
    """

    def __init__(self, codes: Iterable[str]) -> None:
        self.codes = frozenset(codes)
        self.prefixes = frozenset(c[:n] for c in self.codes for n in (4, 6) if len(c) > n)

    def __contains__(self, code: str) -> bool:
        return (
            code in self.prefixes
            or code in self.codes
            or code[:4] in self.codes
            or code[:6] in self.codes
        )


def cn_index() -> CNIndex:
    return CNIndex(CNCode.objects.filter(in_cbam_scope=True).values_list("code", flat=True))


def default_value_candidates(*, origin: str, cn_code: str) -> list[dict]:
    """The table rows that can match (origin, cn_code): the origin's and OTHER's rows
    whose CN code equals the declared code, is one of its headings, or lies under it
    (methodologies.cbam_default.candidate_rows)."""
    prefixes = {cn_code[:n] for n in (4, 6, 8) if n <= len(cn_code)}
    rows = DefaultValue.objects.filter(
        Q(cn_code__in=prefixes) | Q(cn_code__startswith=cn_code), origin__in=[origin, "OTHER"]
    )
    return [default_value_as_row(r) for r in rows.order_by("origin", "cn_code", "source_line")]


def default_value_as_row(r: DefaultValue) -> dict:
    """The engine's candidate-row form (methodologies.cbam_default)."""
    return {
        "origin": r.origin,
        "country": r.country,
        "sector": r.sector,
        "cn_code": r.cn_code,
        "cn_code_as_published": r.cn_code_as_published,
        "description": r.description,
        "direct_t_per_t": r.direct_t_per_t,
        "indirect_t_per_t": r.indirect_t_per_t,
        "total_t_per_t": r.total_t_per_t,
        "route_flag": r.route_flag,
        "dv_2026_t_per_t": r.dv_2026,
        "dv_2027_t_per_t": r.dv_2027,
        "dv_2028_onwards_t_per_t": r.dv_2028,
    }
