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


def test_heatmap_colours_by_value_and_greys_out_missing_cells() -> None:
    """N2: the smallest and largest values get the two ends of the colour scale; None, NaN and
    (on a log scale) non-positive cells are grey "n/a" and counted in the title."""
    from verify.base.svgplot import heatmap

    svg = heatmap([[1.0, 100.0, None], [math.nan, 10.0, -1.0]], rows=["a", "b"],
                  columns=["x1", "x2", "x3"], title="t", xlabel="x", ylabel="y", log=True,
                  marks=[["R", "", ""], ["", "?", ""]], note="R: refuted")  # fmt: skip
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    cells = [r.get("fill") for r in root.iter(f"{ns}rect") if r.get("stroke") == "white"]
    assert len(cells) == 6
    assert cells[0] == "#440154" and cells[1] == "#fde725"  # min and max of log10: 0 and 2
    assert cells[2] == cells[3] == cells[5] == "#d9d9d9"
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "t (3 cells without a value)" in texts and "1 R" in texts and "10 ?" in texts
    assert texts.count("n/a") == 3 and "R: refuted" in texts


def test_line_plot_log_x_axis() -> None:
    """D7: with logx the x axis is log10, labelled by decades; x <= 0 is dropped and counted."""
    svg = line_plot({"a": ([0, 1, 10, 100], [1, 2, 3, 4])}, title="t", xlabel="x", ylabel="y",
                    logx=True)  # fmt: skip
    texts = [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert {"1e0", "1e1", "1e2"} <= set(texts) and "x (log10 scale)" in texts
    assert "(1 non-plottable points omitted)" in svg
