"""The dependency-free SVG plots embedded in the report."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from verify.base.svgplot import line_plot


def test_well_formed_and_drops_unplottable_points() -> None:
    """D7: NaN, inf and (on a log axis) non-positive points are dropped and counted in the title."""
    svg = line_plot(
        {"a": ([0, 1, 2, 3], [1.0, math.nan, 0.0, 1e-3]), "b": ([0, 1], [math.inf, 2.0])},
        title="t",
        xlabel="x",
        ylabel="y",
        logy=True,
    )
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "(3 non-plottable points omitted)" in svg
    assert svg.count("<polyline") == 2


def test_legend_is_wide_enough_for_its_labels() -> None:
    """D7: the figure widens with the longest legend label instead of clipping it."""
    short = ET.fromstring(line_plot({"a": ([0, 1], [0, 1])}, title="t", xlabel="x", ylabel="y"))
    long_label = "gaussian lam=0.05: NFA defect (alpha = 1/L)"
    wide = ET.fromstring(
        line_plot({long_label: ([0, 1], [0, 1])}, title="t", xlabel="x", ylabel="y")
    )
    assert float(wide.get("width")) - float(short.get("width")) >= 6 * (len(long_label) - 1)
