from django.apps import AppConfig


class ShipmentsConfig(AppConfig):
    name = "apps.shipments"
    label = "shipments"

    def ready(self) -> None:
        from apps.facilities.signals import installations_stored

        installations_stored.connect(_link_declared, dispatch_uid="shipments-link-declared")


def _link_declared(sender, **kwargs) -> None:
    """Declaration lines that carry the id of an installation just stored link to it."""
    from apps.shipments.services import shipment_installations_link

    shipment_installations_link()
