"""Plots for the notebooks that never vanish: matplotlib when it is installed, else the toolkit's
own SVG plotter (:func:`verify.base.svgplot.line_plot`), shown inline in Jupyter or written to a
file whose name is printed.

matplotlib is an optional extra (``pip install '.[plot]'``); a notebook run without it still
draws every figure, and says how. Where matplotlib draws on a non-interactive backend (a script,
``MPLBACKEND=Agg``), the figure is saved to a PNG file and its name printed, rather than
``plt.show()`` discarding it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from verify.base.files import write_text_atomic
from verify.base.svgplot import line_plot

__all__ = ["show_lines"]

Series = Mapping[str, tuple[Sequence[float], Sequence[float]]]


def _in_jupyter() -> bool:
    shell = sys.modules.get("IPython")
    ip = getattr(shell, "get_ipython", lambda: None)() if shell else None
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _stem(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "figure"


def show_lines(
    series: Series,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    logy: bool = False,
    path: str | Path | None = None,
) -> str:
    """Draw named (x, y) series as lines; return how the figure was shown (also printed when it
    went to a file): "matplotlib", "matplotlib file NAME.png", "svg inline" or "svg file NAME.svg".
    """
    try:
        import matplotlib
        import matplotlib.pyplot as plt

        have_matplotlib = True
    except ImportError:
        have_matplotlib = False
    if have_matplotlib:
        fig, ax = plt.subplots()
        for name, (xs, ys) in series.items():
            ax.plot(list(xs), list(ys), "o-", markersize=3, label=name)
        ax.set_xscale("log" if logx else "linear")
        ax.set_yscale("log" if logy else "linear")
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        ax.legend()
        if matplotlib.get_backend().lower() != "agg":
            plt.show()
            return "matplotlib"
        target = Path(path or f"{_stem(title)}.png").with_suffix(".png")
        fig.savefig(target)
        plt.close(fig)
        print(f"figure saved to {target} (matplotlib, non-interactive backend)")
        return f"matplotlib file {target}"
    svg = line_plot(series, title=title, xlabel=xlabel, ylabel=ylabel, logx=logx, logy=logy)
    if _in_jupyter():
        from IPython.display import SVG, display

        display(SVG(svg))
        return "svg inline"
    target = Path(path or f"{_stem(title)}.svg").with_suffix(".svg")
    write_text_atomic(target, svg)
    print(f"matplotlib is not installed: figure written to {target} (the toolkit's SVG plotter)")
    return f"svg file {target}"
