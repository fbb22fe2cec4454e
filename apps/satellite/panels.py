"""The satellite section of an installation's page (apps/facilities/panels.py): activity
indices, checks of disclosed production, reconciliation flags."""

from __future__ import annotations

from apps.facilities.panels import installation_panel
from apps.satellite.charts import activity_chart_svg
from apps.satellite.selectors import installation_satellite_view


@installation_panel(order=10, template="satellite/_installation.html")
def satellite_panel(user, installation) -> dict:
    satellite = installation_satellite_view(installation_id=installation.pk)
    return {
        "satellite": satellite,
        "chart_svg": activity_chart_svg(
            satellite["monthly"], satellite["annual"], satellite["flags"]
        ),
    }
