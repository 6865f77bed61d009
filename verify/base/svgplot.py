"""Small, dependency-free SVG plots for the report, ``--plot FILE.svg`` and sweeps.

The report embeds its figures inline, so it needs plots on every install, including the default
one without matplotlib. This module draws what the toolkit needs and nothing more: line plots
(several named series of (x, y) points, linear or log10 axes, ticks, a legend) and heatmaps (a
grid of values, one coloured cell each, with a colour bar). Non-finite points are dropped (and
counted in the figure's title) rather than drawn as garbage; a heatmap cell without a value is
grey and says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["heatmap", "line_plot"]

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
_PLOT_W, _H = 470, 380
_LEFT, _TOP, _BOTTOM = 70, 36, 50
_CHAR_W = 7.0  # average glyph width of 12 px sans-serif, for sizing the legend


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = min((s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw), default=10 * mag)
    start = math.ceil(lo / step) * step
    out = []
    v = start
    while v <= hi + 1e-12 * abs(step):
        out.append(round(v, 12))
        v += step
    return out


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.0e}"
    return f"{v:g}"


def line_plot(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logy: bool = False,
    logx: bool = False,
) -> str:
    """Return an SVG document plotting each named series as a line with markers.

    With ``logy`` (``logx``) the y (x) axis is log10 and non-positive values are dropped (and
    counted).
    """
    pts: dict[str, list[tuple[float, float]]] = {}
    dropped = 0
    for name, (xs, ys) in series.items():
        keep = []
        for x, y in zip(xs, ys, strict=True):
            x, y = float(x), float(y)
            if (
                not (math.isfinite(x) and math.isfinite(y))
                or (logy and y <= 0)
                or (logx and x <= 0)
            ):
                dropped += 1
                continue
            keep.append((math.log10(x) if logx else x, math.log10(y) if logy else y))
        pts[name] = keep
    allp = [p for v in pts.values() for p in v]
    if not allp:
        allp = [(0.0, 0.0), (1.0, 1.0)]
    x0, x1 = min(p[0] for p in allp), max(p[0] for p in allp)
    y0, y1 = min(p[1] for p in allp), max(p[1] for p in allp)
    if x1 == x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    pad = 0.05 * (y1 - y0)
    y0, y1 = y0 - pad, y1 + pad
    # the legend column is as wide as the longest label, so no label is clipped
    right = 50 + int(_CHAR_W * max((len(name) for name in series), default=0))
    width = _LEFT + _PLOT_W + right
    pw, ph = _PLOT_W, _H - _TOP - _BOTTOM

    def sx(x: float) -> float:
        return _LEFT + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return _TOP + (1 - (y - y0) / (y1 - y0)) * ph

    full_title = title + (f" ({dropped} non-plottable points omitted)" if dropped else "")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{_H}" '
        f'viewBox="0 0 {width} {_H}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{_H}" fill="white"/>',
        f'<text x="{width / 2 - right / 2}" y="20" text-anchor="middle" font-size="14">'
        f"{escape(full_title)}</text>",
        f'<rect x="{_LEFT}" y="{_TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>',
    ]
    xt = _ticks(x0, x1)
    if logx:
        xt = [float(k) for k in range(math.ceil(x0), math.floor(x1) + 1)] or xt
        xt = xt[:: max(1, len(xt) // 6)]
    for t in xt:
        xlab = f"1e{int(t)}" if logx and float(t).is_integer() else _fmt(10**t if logx else t)
        out.append(
            f'<line x1="{sx(t):.1f}" y1="{_TOP + ph}" x2="{sx(t):.1f}" '
            f'y2="{_TOP + ph + 5}" stroke="#333"/>'
        )
        out.append(f'<text x="{sx(t):.1f}" y="{_TOP + ph + 18}" text-anchor="middle">{xlab}</text>')
    yt = _ticks(y0, y1)
    if logy:
        yt = [float(k) for k in range(math.ceil(y0), math.floor(y1) + 1)] or yt
        step = max(1, len(yt) // 6)
        yt = yt[::step]
    for t in yt:
        label = f"1e{int(t)}" if logy and float(t).is_integer() else _fmt(t)
        out.append(
            f'<line x1="{_LEFT - 5}" y1="{sy(t):.1f}" x2="{_LEFT + pw}" y2="{sy(t):.1f}" '
            'stroke="#ddd"/>'
        )
        out.append(f'<text x="{_LEFT - 8}" y="{sy(t) + 4:.1f}" text-anchor="end">{label}</text>')
    out.append(
        f'<text x="{_LEFT + pw / 2}" y="{_H - 10}" text-anchor="middle">'
        f"{escape(xlabel + (' (log10 scale)' if logx else ''))}</text>"
    )
    out.append(
        f'<text x="16" y="{_TOP + ph / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {_TOP + ph / 2})">'
        f"{escape(ylabel + (' (log10 scale)' if logy else ''))}</text>"
    )
    for k, (name, p) in enumerate(pts.items()):
        colour = _COLOURS[k % len(_COLOURS)]
        if p:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in p)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.8"/>'
            )
            if len(p) <= 60:
                out += [
                    f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{colour}"/>'
                    for x, y in p
                ]
        ly = _TOP + 14 + 18 * k
        out.append(
            f'<line x1="{width - right + 12}" y1="{ly}" x2="{width - right + 32}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="3"/>'
        )
        out.append(f'<text x="{width - right + 38}" y="{ly + 4}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


# -- heatmaps ----------------------------------------------------------------------------------
#: a perceptually ordered dark-to-light scale (anchor colours of the viridis map)
_SCALE = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
_MISSING = "#d9d9d9"


def _colour(t: float) -> tuple[str, bool]:
    """Colour for t in [0, 1] and whether it is dark (so the cell's text is white)."""
    t = min(max(t, 0.0), 1.0) * (len(_SCALE) - 1)
    k = min(int(t), len(_SCALE) - 2)
    a, b, f = _SCALE[k], _SCALE[k + 1], t - k
    r, g, bl = (round(a[i] + (b[i] - a[i]) * f) for i in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}", 0.299 * r + 0.587 * g + 0.114 * bl < 128


def heatmap(
    values: Sequence[Sequence[float | None]],
    *,
    rows: Sequence[str],
    columns: Sequence[str],
    title: str,
    xlabel: str,
    ylabel: str,
    label: str = "",
    log: bool = False,
    marks: Sequence[Sequence[str]] | None = None,
    note: str = "",
) -> str:
    """Return an SVG document drawing ``values[i][j]`` (row i, column j) as coloured cells.

    The colour runs from the smallest to the largest finite value (of log10 of the value with
    ``log``); a cell without one (None, NaN, inf, or <= 0 on a log scale) is grey, marked "n/a"
    and counted in the title. Values are written in the cells when they fit, followed by the
    cell's entry of ``marks`` (a short flag); ``note`` is a line under the figure (say what the
    flags mean there).
    """
    if len(values) != len(rows) or any(len(r) != len(columns) for r in values):
        raise ValueError("heatmap: values must have len(rows) rows of len(columns) entries")
    grid: list[list[float | None]] = []
    for r in values:
        grid.append([])
        for v in r:
            f = float(v) if v is not None else math.nan
            ok = math.isfinite(f) and not (log and f <= 0)
            grid[-1].append((math.log10(f) if log else f) if ok else None)
    finite = [v for r in grid for v in r if v is not None]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    missing = sum(v is None for r in grid for v in r)
    nr, nc = max(len(rows), 1), max(len(columns), 1)
    cw = min(max(560 / nc, 24.0), 80.0)
    ch = min(max(360 / nr, 16.0), 40.0)
    left = 36 + int(_CHAR_W * min(max((len(s) for s in rows), default=1), 40))
    rotate = any(_CHAR_W * len(s) > cw - 4 for s in columns)
    below = 20 + (int(_CHAR_W * 0.75 * max((len(s) for s in columns), default=1)) if rotate else 14)
    top = 40
    pw, ph = cw * nc, ch * nr
    bar_label = label + (" (log)" if log and label else "")
    width = int(left + pw + max(110, 40 + _CHAR_W * len(bar_label)))
    height = int(top + ph + below + 24 + (18 if note else 0))
    full_title = title + (f" ({missing} cells without a value)" if missing else "")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">'
        f"{escape(full_title)}</text>",
    ]
    text_fits = cw >= 36 and ch >= 14
    for i, r in enumerate(grid):
        y = top + i * ch
        out.append(
            f'<text x="{left - 6}" y="{y + ch / 2 + 4:.1f}" text-anchor="end">'
            f"{escape(rows[i][:40])}</text>"
        )
        for j, v in enumerate(r):
            x = left + j * cw
            fill, dark = _colour((v - lo) / (hi - lo) if v is not None and hi > lo else 0.5)
            fill = fill if v is not None else _MISSING
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cw:.1f}" height="{ch:.1f}" '
                f'fill="{fill}" stroke="white" stroke-width="0.5"/>'
            )
            if text_fits:
                raw = values[i][j]
                txt = f"{float(raw):.3g}" if v is not None and raw is not None else "n/a"
                txt += f" {marks[i][j]}" if marks is not None and marks[i][j] else ""
                colour = "white" if dark and v is not None else "#222"
                out.append(
                    f'<text x="{x + cw / 2:.1f}" y="{y + ch / 2 + 4:.1f}" font-size="10" '
                    f'text-anchor="middle" fill="{colour}">{txt}</text>'
                )
    for j, name in enumerate(columns):
        x, y = left + (j + 0.5) * cw, top + ph + 14
        turn = f' transform="rotate(-40 {x:.1f} {y:.1f})"' if rotate else ""
        anchor = "end" if rotate else "middle"
        out.append(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{turn}>{escape(name)}</text>'
        )
    out.append(
        f'<text x="{left + pw / 2:.1f}" y="{top + ph + below + 16}" text-anchor="middle">'
        f"{escape(xlabel)}</text>"
    )
    if note:
        out.append(f'<text x="10" y="{height - 8}" font-size="11">{escape(note)}</text>')
    out.append(
        f'<text x="14" y="{top + ph / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + ph / 2:.1f})">{escape(ylabel)}</text>'
    )
    # colour bar: 24 steps from lo (bottom) to hi (top), labelled at both ends and the middle
    bx, steps = left + pw + 18, 24
    for k in range(steps):
        fill, _ = _colour((k + 0.5) / steps)
        out.append(
            f'<rect x="{bx}" y="{top + ph * (1 - (k + 1) / steps):.1f}" width="14" '
            f'height="{ph / steps + 0.5:.1f}" fill="{fill}"/>'
        )
    for frac in (0.0, 0.5, 1.0):
        val = lo + frac * (hi - lo)
        text = (f"{10**val:.3g}" if log else f"{val:.3g}") if finite else "n/a"
        out.append(f'<text x="{bx + 18}" y="{top + ph * (1 - frac) + 4:.1f}">{text}</text>')
    if label:
        out.append(f'<text x="{bx}" y="{top - 14}">{escape(bar_label)}</text>')
    out.append("</svg>")
    return "\n".join(out)
