from django.apps import AppConfig


class EstimatesConfig(AppConfig):
    name = "apps.estimates"
    label = "estimates"

    def ready(self) -> None:
        from apps.facilities.signals import installations_stored

        installations_stored.connect(_model_tracker, dispatch_uid="estimates-model-tracker")


def _model_tracker(sender, *, source: str = "", **kwargs) -> None:
    """A tracker release was stored: model its operating plants for the years it covers
    (docs/modelled.md; CM_MODEL_ON_REGISTRY_INGEST=0 turns it off). Idempotent, so a
    re-ingest of the same release adds nothing."""
    from django.conf import settings

    if not source or not settings.CM_MODEL_ON_REGISTRY_INGEST:
        return
    from apps.estimates.modelling import installations_model, registry_years

    years = registry_years(source=source)
    if years:
        installations_model(years=years, source=source)
