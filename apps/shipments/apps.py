from django.apps import AppConfig


class ShipmentsConfig(AppConfig):
    name = "apps.shipments"
    label = "shipments"

    def ready(self) -> None:
        from apps.facilities.signals import (
            installation_links_changed,
            installations_modelled,
            installations_stored,
        )

        installations_stored.connect(_link_declared, dispatch_uid="shipments-link-declared")
        installation_links_changed.connect(_rechoose, dispatch_uid="shipments-links-changed")
        installations_modelled.connect(_rechoose_modelled, dispatch_uid="shipments-modelled")
        # The installation page's figures section (apps/facilities/panels.py).
        from . import panels  # noqa: F401


def _link_declared(sender, **kwargs) -> None:
    """Declaration lines that carry the id of an installation just stored link to it; the
    ones that changed re-choose both figures (a declared installation's rung applies)."""
    from apps.shipments.models import Shipment
    from apps.shipments.services import shipment_figures_rechoose, shipment_installations_link

    unlinked = set(
        Shipment.objects.filter(installation__isnull=True)
        .exclude(installation_identifier="")
        .values_list("installation_identifier", flat=True)
        .distinct()
    )
    if unlinked and shipment_installations_link():
        from apps.facilities.models import Installation

        linked = Installation.objects.filter(identifier__in=unlinked).values_list("pk", flat=True)
        shipment_figures_rechoose(installations=list(linked))


def _rechoose(sender, *, organisation_id: int, actor=None, **kwargs) -> None:
    """An exporter's links changed: both figures of its shipments are re-chosen."""
    from apps.shipments.services import shipment_figures_rechoose

    shipment_figures_rechoose(exporters=[organisation_id], actor=actor)


def _rechoose_modelled(sender, *, installation_ids: list[int], actor=None, **kwargs) -> None:
    """A modelling run stored the modelled rung of these plants: the shipments that reach
    them re-choose their best estimate."""
    from apps.shipments.services import shipment_figures_rechoose

    shipment_figures_rechoose(installations=installation_ids, actor=actor)
