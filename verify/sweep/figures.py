"""Figures of a sweep: one per recorded quantity, drawn with the toolkit's own SVG writer.

Layout (the spec's ``[plot]``): ``x`` is the axis along x (default: the last grid axis with more
than one value); the other varying axes form the rows of a heatmap (one row per combination,
labelled "axis=value, ...") or the series of a line plot. ``kind`` auto is a heatmap when there
are two or more varying axes or x is not numeric, a line plot otherwise. With several seeds a
cell is the mean over the seeds that gave a finite value (the title says how many seeds).
A quantity that is positive everywhere and spans more than two decades is drawn on a log10
scale, and so is a numeric x of that kind. Quantities that are not numbers (status, verdicts)
are in the table only. A heatmap cell is flagged "R" when the verdict at one of its points is
REFUTED and "?" when one is INCONCLUSIVE (e.g. not certified stationary), so a value from an
uncertified point is never shown as if it were certified.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from theory._errors import bad_input
from verify.base.svgplot import heatmap, line_plot
from verify.sweep.spec import SweepSpec
from verify.sweep.store import Row

__all__ = ["figures"]


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


def _wide(values: list[float]) -> bool:
    """Positive and spanning more than two decades: a log scale shows it better."""
    return bool(values) and min(values) > 0 and max(values) / min(values) > 100


def _label(names: list[str], combo: tuple[Any, ...]) -> str:
    return ", ".join(f"{n}={v}" for n, v in zip(names, combo, strict=True)) or "all"


def figures(spec: SweepSpec, rows: list[Row]) -> dict[str, str]:
    """Quantity -> SVG document, for every recorded numeric quantity (empty without axes)."""
    axes = spec.axes()
    if not axes:
        return {}
    x = spec.plot.x or axes[-1]
    others = [a for a in axes if a != x]
    grid = dict(spec.grid)
    xs = list(grid[x])
    numeric_x = all(_number(v) is not None for v in xs)
    kind = spec.plot.kind
    if kind == "auto":
        kind = "heatmap" if others or not numeric_x else "line"
    if kind == "line" and not numeric_x:
        raise bad_input(
            "plot kind",
            "be heatmap when x is not numeric",
            x,
            'Set [plot] kind = "heatmap" or pick a numeric x.',
        )
    combos = list(itertools.product(*(grid[a] for a in others)))
    seeds = f" (mean over {len(spec.seeds)} seeds)" if len(spec.seeds) > 1 else ""
    flags: dict[tuple[Any, ...], set[str]] = {}
    for r in rows:
        flag = {"REFUTED": "R", "INCONCLUSIVE": "?"}.get(r.verdict or "", "")
        if flag:
            flags.setdefault((*(r.params[a] for a in others), r.params[x]), set()).add(flag)
    note = "R: REFUTED, ?: INCONCLUSIVE at one or more of the cell's points" if flags else ""
    out = {}
    for q in spec.record:
        cells: dict[tuple[Any, ...], list[float]] = {}
        for r in rows:
            v = _number(r.values.get(q)) if r.status == "done" else None
            if v is not None:
                key = (*(r.params[a] for a in others), r.params[x])
                cells.setdefault(key, []).append(v)
        if not cells:
            continue
        mean = {k: sum(v) / len(v) for k, v in cells.items()}
        title = f"{spec.name}: {q}{seeds}"
        log = _wide(list(mean.values()))
        if kind == "heatmap":
            values = [[mean.get((*c, xv)) for xv in xs] for c in combos]
            marks = [["".join(sorted(flags.get((*c, xv), ()))) for xv in xs] for c in combos]
            out[q] = heatmap(
                values,
                marks=marks,
                note=note,
                rows=[_label(others, c) for c in combos],
                columns=[str(v) for v in xs],
                title=title,
                xlabel=x,
                ylabel=", ".join(others),
                label=q,
                log=log,
            )
        else:
            series = {}
            for c in combos:
                keys = [(xv, (*c, xv)) for xv in xs]
                have = [(float(xv), mean[k]) for xv, k in keys if k in mean]
                series[_label(others, c)] = ([h[0] for h in have], [h[1] for h in have])
            logx = _wide([float(v) for v in xs])
            out[q] = line_plot(series, title=title, xlabel=x, ylabel=q, logy=log, logx=logx)
    return out
