"""Keyset pagination for every API list: no COUNT(*), stable under inserts."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
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
