"""The demo's grid step loads a real year of German hourly intensity (Electricity Maps,
2023, 8,760 hours) instead of a synthetic year, and assesses the electrolyser on it."""

from __future__ import annotations

import pytest

from apps.grid import demo
from tests.apps.facilities.test_registry import DemoCommand

pytestmark = pytest.mark.services


def test_the_demo_grid_step_uses_the_real_german_year(postgres):
    from apps.grid.models import HydrogenAssessment, IntensitySeries

    command = DemoCommand()
    demo.run(command=command, number=4)
    german = command.summaries["DE_2023_hourly.csv"]
    assert (german["accepted"], german["rejected"]) == (8760, 0)
    assert IntensitySeries.objects.filter(zone__key="DE", year=2023).exists()
    assert not IntensitySeries.objects.filter(zone__key__endswith="-SYNTH").exists()
    printed = command.stdout.getvalue()
    assert "real German grid 2023, invented solar PPA" in printed
    assessment = HydrogenAssessment.objects.get()
    assert assessment.installation.grid_zone == "DE"
    # Every hour is there; the 3 the source marks estimated count as filled (fixtures/grid).
    assert assessment.gap_filled_hours == 3
