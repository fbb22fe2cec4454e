"""Shipment filters shared by the web list and the API (django-filter)."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Organisation
from apps.estimates.models import Tier
from apps.facilities.models import Installation
from apps.shipments.models import Shipment
from apps.shipments.selectors import importer_names, shipment_id_range_of_period
from methodologies.cbam_goods import SECTOR_BY_PREFIX

#: Product groups: the CBAM sectors of Reg. 2023/956 Annex I, as the engine names them.
PRODUCT_GROUPS = {
    "cement": _("Cement"),
    "iron_and_steel": _("Iron and steel"),
    "aluminium": _("Aluminium"),
    "fertilisers": _("Fertilisers"),
    "hydrogen": _("Hydrogen"),
    "electricity": _("Electricity"),
}


#: The rungs above the default value (verified, disclosed, modelled).
RUNG_TIERS = {Tier.VERIFIED, Tier.DISCLOSED, Tier.MODELLED}


def product_group_prefixes(group: str) -> list[str]:
    return sorted(p for p, sector in SECTOR_BY_PREFIX.items() if sector == group)


ISO_DATE_ERROR = _(
    "Enter the date as YYYY-MM-DD, e.g. 2026-03-31 (day and month are never guessed)"
)


class IsoDateInput(forms.DateInput):
    """``<input type="date">``: the browser's date picker; the value travels as ISO."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def _digits(value: str) -> str:
    return re.sub(r"[\s.\u00a0]", "", value)


class ShipmentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label=_("Search"),
        help_text=_("declaration id, exporter or importer name"),
    )
    cn_code = django_filters.CharFilter(
        method="filter_cn_code",
        label=_("CN code or prefix"),
        help_text=_("e.g. 72 or 7208 or 72081000"),
        validators=[RegexValidator(r"^[0-9\s.\u00a0]*$", _("a CN code or prefix is digits only"))],
    )
    product_group = django_filters.ChoiceFilter(
        method="filter_product_group",
        choices=list(PRODUCT_GROUPS.items()),
        label=_("Product group"),
        empty_label=_("Any"),
    )
    origin = django_filters.CharFilter(
        method="filter_origin",
        label=_("Origin"),
        help_text=_("ISO 3166-1 alpha-2 (US) or a country name (United States, Türkiye)"),
    )
    exporter = django_filters.CharFilter(method="filter_exporter", label=_("Exporter"))
    importer = django_filters.CharFilter(method="filter_importer", label=_("Importer"))
    # ISO dates only (a date picker in the browser): 03/04/2026 is never guessed as 3 April
    # or 4 March.
    period_from = django_filters.DateFilter(
        field_name="date",
        lookup_expr="gte",
        label=_("From"),
        widget=IsoDateInput,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": ISO_DATE_ERROR},
    )
    period_to = django_filters.DateFilter(
        field_name="date",
        lookup_expr="lte",
        label=_("To"),
        widget=IsoDateInput,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": ISO_DATE_ERROR},
    )
    tier = django_filters.ChoiceFilter(
        method="filter_tier", choices=Tier.choices, label=_("Tier"), empty_label=_("Any")
    )
    best_tier = django_filters.ChoiceFilter(
        method="filter_best_tier",
        choices=Tier.choices,
        label=_("Best estimate tier"),
        empty_label=_("Any"),
    )
    installation = django_filters.CharFilter(
        method="filter_installation",
        label=_("Installation"),
        help_text=_("its identifier, as declared or as the platform knows it"),
    )
    flagged = django_filters.ChoiceFilter(
        method="filter_flagged",
        choices=[("yes", _("Flagged installation")), ("no", _("Not flagged"))],
        label=_("Reconciliation flag"),
        empty_label=_("Any"),
    )

    implausible = django_filters.ChoiceFilter(
        method="filter_implausible",
        choices=[
            ("include", _("Include flagged lines")),
            ("only", _("Only flagged lines")),
        ],
        label=_("Implausible lines"),
        empty_label=_("Leave out (default)"),
        help_text=_("lines flagged at ingest as far outside their CN heading's norms"),
    )

    class Meta:
        model = Shipment
        fields = [
            "q",
            "cn_code",
            "product_group",
            "origin",
            "exporter",
            "importer",
            "period_from",
            "period_to",
            "tier",
            "best_tier",
            "installation",
            "flagged",
            "implausible",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        if getattr(user, "role", None) == "exporter":
            # An exporter picks one of its own installations (owned or linked): the list
            # names no other organisation's plant; a typed identifier still filters only
            # its own lines (the queryset is scoped to them).
            from apps.facilities.selectors import installation_list

            own = installation_list(user=user).order_by("identifier")
            choices = [("", "Any")] + [(i.identifier, f"{i.identifier} · {i.name}") for i in own]
            if len(choices) > 1:
                self.filters["installation"].extra["widget"] = forms.Select(choices=choices)
                self.filters["installation"].extra["help_text"] = "one of your installations"

    def filter_cn_code(self, queryset, name, value):
        code = _digits(value)
        if len(code) == 8:  # a whole code: equality, read from its index in id order
            return queryset.filter(cn_code=code)
        return queryset.filter(cn_code__startswith=code)

    def filter_exporter(self, queryset, name, value):
        # Exporters are few: their names are matched first, then their ids are looked up
        # in the big table's (exporter, id) index (a join would be planned as a scan).
        ids = Organisation.objects.filter(name__icontains=value).values_list("id", flat=True)
        return queryset.filter(exporter_id__in=list(ids))

    def filter_importer(self, queryset, name, value):
        # A part of the name, any case: the distinct names that contain it (few), then
        # their lines from the (importer_name, id) index.
        text = value.strip().casefold()
        return queryset.filter(
            importer_name__in=[n for n in importer_names() if text in n.casefold()]
        )

    def filter_queryset(self, queryset):
        """The filters, and for a period the range of ids its lines were stored under
        (:func:`~apps.shipments.selectors.shipment_id_range_of_period`): lines are stored
        roughly in date order, so a walk of the ids from the newest reaches an older period
        at once instead of after every newer line."""
        # Lines flagged implausible at ingest are left out unless asked for
        # (apps.shipments.plausibility): the filter's method runs only for a value.
        if not self.form.cleaned_data.get("implausible"):
            queryset = queryset.filter(implausible=False)
        queryset = super().filter_queryset(queryset)
        start, end = (
            self.form.cleaned_data.get("period_from"),
            self.form.cleaned_data.get("period_to"),
        )
        return within_period_ids(queryset, start=start, end=end)

    def filter_origin(self, queryset, name, value):
        # A code or a name (ingest.countries.to_iso2: "Türkiye", "turkey", "TUR" → TR);
        # an unknown text is matched as typed, and so finds nothing.
        from ingest.countries import to_iso2

        return queryset.filter(origin=to_iso2(value) or value.strip().upper())

    # The tiers are not indexed (a re-choice rewrites them heap-only, docs/scaling.md). A
    # rung above the default can only be reached through a plant (docs/design.md, the two
    # figures): the CBAM figure through the installation the line declares, the best
    # estimate through it or through the exporter's plants. The filter says so, and the
    # planner reads those few lines from the installation and exporter indexes instead of
    # walking the table for a rare tier.

    def filter_tier(self, queryset, name, value):
        queryset = queryset.filter(tier=value)
        if value in RUNG_TIERS:
            queryset = queryset.filter(installation_id__isnull=False)
        return queryset

    def filter_best_tier(self, queryset, name, value):
        queryset = queryset.filter(best_tier=value)
        if value in RUNG_TIERS:
            from apps.facilities.selectors import exporter_installation_links

            queryset = queryset.filter(
                Q(installation_id__isnull=False)
                | Q(exporter_id__in=sorted(exporter_installation_links()))
            )
        return queryset

    def filter_implausible(self, queryset, name, value):
        return queryset.filter(implausible=True) if value == "only" else queryset

    def filter_installation(self, queryset, name, value):
        # As declared on the customs line, or the installation the line was linked to.
        identifier = value.strip()
        linked = Installation.objects.filter(identifier=identifier).values_list("id", flat=True)
        return queryset.filter(
            Q(installation_identifier=identifier) | Q(installation_id__in=list(linked[:1]))
        )

    def filter_product_group(self, queryset, name, value):
        where = Q()
        for prefix in product_group_prefixes(value):
            where |= Q(cn_code__startswith=prefix)
        return queryset.filter(where)

    def filter_search(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        # Exporters are few: match their names first, then their ids in the big table.
        exporters = Organisation.objects.filter(name__icontains=text).values("id")
        return queryset.filter(
            Q(declaration_id=text) | Q(exporter_id__in=exporters) | Q(importer_name__icontains=text)
        )

    def filter_flagged(self, queryset, name, value):
        """Shipments declared from an installation with an open reconciliation flag: by
        the installation's id, or by its identifier as the customs line declares it."""
        from apps.satellite.flags import flagged_installation_identifiers, flagged_installation_ids

        user = getattr(self.request, "user", None)
        ids = flagged_installation_ids(user) or set()
        identifiers = flagged_installation_identifiers(user)
        flagged = Q(installation_id__in=ids) | Q(installation_identifier__in=identifiers)
        if value == "yes":
            return queryset.filter(flagged) if ids else queryset.none()
        return queryset.exclude(flagged) if ids else queryset


def within_period_ids(queryset, *, start, end):
    """``queryset`` limited to the range of ids the lines of the period were stored under
    (none when no line falls in it); unchanged without a period."""
    if not (start or end):
        return queryset
    bounds = shipment_id_range_of_period(start=start, end=end)
    if bounds is None:
        return queryset.none()
    return queryset.filter(id__gte=bounds[0], id__lte=bounds[1])


def emptied_by(filterset: ShipmentFilter) -> dict | None:
    """For a filter with no result: the filter that emptied it. The filters set are applied
    one after another in the form's order; the first after which no line is left is named,
    with its value and whether lines matched before it (one row looked for, newest id
    first, as the list reads: an index range, never a count or a scan of the shipments
    table, docs/scaling.md)."""

    def exists(qs, *, by_date: bool = False) -> bool:
        # Within a period, newest date first: a range of the (date, id) index.
        order = ("-date", "-id") if by_date else ("-id",)
        return bool(qs.order_by(*order).values_list("id", flat=True)[:1])

    if not filterset.is_valid():
        return None
    data = filterset.form.cleaned_data
    qs = filterset.queryset
    if data.get("implausible") == "only":
        qs = qs.filter(implausible=True)
    elif not data.get("implausible"):
        qs = qs.filter(implausible=False)
    if not exists(qs):
        return {"name": "", "label": "", "value": "", "nothing": True}
    dated = False
    for name, value in data.items():
        if value in (None, "") or name == "implausible":
            continue
        qs = filterset.filters[name].filter(qs, value)
        if name in ("period_from", "period_to"):
            qs = within_period_ids(qs, start=data.get("period_from"), end=data.get("period_to"))
            dated = True
        if not exists(qs, by_date=dated):
            field = filterset.form.fields[name]
            shown = dict(getattr(field, "choices", ())).get(value, value)
            if hasattr(shown, "isoformat"):
                shown = shown.isoformat()
            return {"name": name, "label": field.label, "value": str(shown), "nothing": False}
    return None
