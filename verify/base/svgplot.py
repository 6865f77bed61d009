"""Small, dependency-free SVG line plots for the report and ``--plot FILE.svg``.

The report embeds its figures inline, so it needs plots on every install, including the default
one without matplotlib. This module draws what the toolkit needs and nothing more: several named
series of (x, y) points, linear or log10 axes, axes with ticks, a legend. Non-finite points are
dropped (and counted in the figure's title) rather than drawn as garbage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["line_plot"]

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
        xlab = f"1e{int(t)}" if logx and float(t).is_integer() else _fmt(t)
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
