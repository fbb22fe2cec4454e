"""Server-rendered SVG charts: accessible names, escaped text, numbers in the description."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from apps.web import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314  (our own markup, parsed to check it)


def test_a_chart_is_an_image_named_by_its_title_and_description():
    root = parse(charts.bar_chart([("CN", 5258.4), ("TR", 66.5)], title="By origin", unit="t"))
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}title").text == "By origin"
    assert root.find(f"{SVG}desc").get("id") == desc_id
    assert root.find(f"{SVG}desc").text == "CN: 5,258.4 t; TR: 66.5 t"
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    # The longest bar spans the plot (560 − 170 labels − 70 margin = 320 px); the others
    # in proportion, to the 0.1 px the markup is written with.
    assert widths[0] == 320.0
    assert widths[1] == pytest.approx(320 * 66.5 / 5258.4, abs=0.05)


def test_text_in_a_chart_is_escaped():
    svg = str(charts.bar_chart([("<script>x</script>", 1.0)], title="a & <b>", unit="t"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    parse(svg)  # still well-formed


def test_a_histogram_marks_the_default_value_and_weights_by_mass():
    svg = charts.histogram(
        [1.0, 1.0, 3.0],
        [10.0, 5.0, 1.0],
        title="SEE",
        unit="tCO2e/t",
        markers=[charts.Marker(2.5, "default")],
        bins=4,
    )
    root = parse(svg)
    assert "default at 2.5 tCO2e/t" in root.find(f"{SVG}desc").text
    heights = [float(r.get("height")) for r in root.iter(f"{SVG}rect")]
    assert max(heights) == heights[0]  # 15 t in the first bin
    assert sorted(h for h in heights if h > 0) == [heights[0] / 15, heights[0]]
    assert any(line.get("stroke-dasharray") for line in root.iter(f"{SVG}line"))


def test_an_empty_chart_says_no_data():
    assert "no data" in str(charts.bar_chart([], title="x", unit="t"))
    assert "no data" in str(charts.histogram([], [], title="x", unit="t"))
