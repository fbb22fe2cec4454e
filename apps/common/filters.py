"""Filters shared by the API's filter sets, and the API's filter backend."""

from __future__ import annotations

import datetime as dt
import sys

import django_filters
from django.core.exceptions import ValidationError
from django.db import connection, models
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC. Python accepts offsets up to ±23:59 and
    PostgreSQL only up to ±15:59: a query with ``-22:48`` reached the database and failed
    there (500). In UTC it cannot; a moment that has no UTC year 1…9999 is invalid (400)."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class BoundedNumberFilterBackend(DjangoFilterBackend):
    """The API's filter backend: every number filter of every list is held to the range of
    the column it compares with, so a value the database cannot hold is a 400 naming the
    parameter, not a 500 from PostgreSQL ("bigint out of range", "integer out of range").

    - an integer column (an id, a foreign key, a year): a whole number within the column's
      range as the database states it (``connection.ops.integer_field_range``: ±2^31 for
      ``integer``, ±2^63 for ``bigint`` on PostgreSQL);
    - a floating-point column: a finite number within IEEE 754 double range;
    - a fixed-point column: fewer integer digits than ``max_digits − decimal_places``.

    Filters declared on a filter set and those generated from ``Meta.fields`` alike, so a
    number filter added later is bounded without saying so.
    """

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            for number_filter in filterset.filters.values():
                if isinstance(number_filter, django_filters.NumberFilter):
                    _bound(number_filter, queryset.model)
        return filterset


def _bound(number_filter: django_filters.NumberFilter, model) -> None:
    field = get_model_field(model, number_filter.field_name)
    if field is None:
        return
    field = getattr(field, "target_field", field)  # a foreign key compares with its target
    extra = number_filter.extra
    if isinstance(field, models.IntegerField | models.AutoField):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        if low is not None:
            extra.setdefault("min_value", low)
        if high is not None:
            extra.setdefault("max_value", high)
        extra["decimal_places"] = 0
    elif isinstance(field, models.FloatField):
        extra.setdefault("min_value", -sys.float_info.max)
        extra.setdefault("max_value", sys.float_info.max)
    elif isinstance(field, models.DecimalField) and field.max_digits is not None:
        extra.setdefault("max_digits", field.max_digits)
        extra.setdefault("decimal_places", field.decimal_places)
