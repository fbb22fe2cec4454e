"""Keyset pagination for every API list: no COUNT(*), stable under inserts; and the admin's
estimated counts of big tables."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class KeysetPagination(CursorPagination):
    ordering = "-id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    invalid_cursor_message = "Invalid cursor: use the `next` or `previous` link as given."

    def paginate_queryset(self, queryset, request, view=None):
        """A cursor that does not decode, or whose position is not a value of the ordering
        field (tampered), answers 400 naming the ``cursor`` parameter, not 404 or 500."""
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            raise ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}
            ) from None
        except (ValueError, TypeError, OverflowError, DjangoValidationError):
            if not request.query_params.get(self.cursor_query_param):
                raise
            raise ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}
            ) from None


class EstimatedCountPaginator(Paginator):
    """The admin's pages of a table of millions of rows (the shipments): the number of rows
    the PostgreSQL planner expects (``EXPLAIN``, from the table's statistics) instead of
    ``COUNT(*)``, which reads every row of what it counts (docs/scaling.md, "The admin").
    An estimate under ``exact_below`` rows is counted exactly (it is an index range or a
    small table). Elsewhere (SQLite, the embedded default) Django's own count."""

    exact_below = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or connections[queryset.db].vendor != "postgresql":
            return Paginator.count.func(self)
        sql, params = queryset.order_by().query.sql_with_params()
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            raw = cursor.fetchone()[0]
        plan = json.loads(raw) if isinstance(raw, str) else raw
        estimate = int(plan[0]["Plan"]["Plan Rows"])
        if estimate < self.exact_below:
            return Paginator.count.func(self)
        return estimate
