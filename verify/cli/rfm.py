"""``factcheck rfm {parity,modular,tabular}``: Recursive Feature Machine experiments (section 5).

Progress goes to stderr (one line per step; redrawn in place on a terminal); the summary goes to
stdout as text or, with ``--json``, as the experiment's JSON summary. ``--plot FILE.svg`` draws
the accuracy curves with ``verify.base.svgplot.line_plot``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from theory._errors import bad_input
from verify.base.files import write_text_atomic

__all__ = ["register"]

_CLI_METHODS = ("nfa", "fact", "fact-geometric", "kernel")


class _Progress:
    """Simple progress display on stderr: in place on a terminal, one line per step otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = enabled and sys.stderr.isatty()
        self.width = 0

    def __call__(self, message: str) -> None:
        if not self.enabled:
            return
        if self.tty:
            pad = max(self.width - len(message), 0)
            sys.stderr.write("\r" + message + " " * pad)
            self.width = len(message)
        else:
            sys.stderr.write(f"[rfm] {message}\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty and self.width:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _plot_path(args: argparse.Namespace) -> Path | None:
    """Seed(s) and --plot, checked before any work (verify.cli.arguments)."""
    from verify.cli import arguments

    return arguments.rfm(args)


def _write_plot(
    path: Path,
    series: dict[str, tuple[list[float], list[float]]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
) -> None:
    try:
        from verify.base.svgplot import line_plot
    except ModuleNotFoundError as exc:
        raise bad_input(
            "--plot",
            "have the SVG plotting module verify.base.svgplot installed",
            "it is missing",
            "Update factcheck, or omit --plot.",
        ) from exc
    write_text_atomic(path, line_plot(series, title=title, xlabel=xlabel, ylabel=ylabel))


def _finish(args: argparse.Namespace, summary: dict[str, Any], text: str) -> int:
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(text)
    return 0


def _run_parity(args: argparse.Namespace) -> int:
    from verify.rfm.experiments import run_parity

    plot = _plot_path(args)
    methods = [args.method] if args.method else ["nfa", "fact"]
    progress = _Progress(not args.quiet)
    try:
        res = run_parity(
            d=args.d,
            k=args.k,
            n_values=args.n,
            methods=methods,
            iters=5 if args.iters is None else args.iters,
            bandwidth=args.bandwidth,
            ridge=args.ridge,
            n_test=args.n_test,
            seed=args.seed,
            progress=progress,
        )
    finally:
        progress.close()
    summary = res.to_dict()
    lines = [f"sparse parity d={res.d} k={res.k} hidden={res.hidden} ({res.seconds:.1f} s)"]
    for m in res.test_acc:
        accs = " ".join(f"{n}:{a:.3f}" for n, a in zip(res.n_values, res.test_acc[m], strict=True))
        lines.append(
            f"  {m:15s} test acc by n: {accs}; transition (acc >= 0.95) at n = "
            f"{res.transition(m)}; top-{res.k} eigvec mass on hidden: "
            f"{res.top_eigvec_hidden_mass[m][-1]:.3f}"
        )
    if plot:
        _write_plot(
            plot,
            {m: ([float(n) for n in res.n_values], res.test_acc[m]) for m in res.test_acc},
            title=f"Sparse parity d={res.d}, k={res.k}",
            xlabel="training samples n",
            ylabel="test accuracy",
        )
    return _finish(args, summary, "\n".join(lines))


def _run_modular(args: argparse.Namespace) -> int:
    from verify.rfm.experiments import run_modular

    plot = _plot_path(args)
    progress = _Progress(not args.quiet)
    try:
        res = run_modular(
            p=args.p,
            train_fraction=args.train_fraction,
            method=args.method or "fact",
            iters=75 if args.iters is None else args.iters,
            bandwidth=args.bandwidth,
            ridge=args.ridge,
            s=args.s,
            centered=not args.uncentered,
            seed=args.seed,
            progress=progress,
        )
    finally:
        progress.close()
    summary = res.to_dict()
    text = (
        f"modular addition mod {res.p}, {res.method}, train fraction {res.train_fraction} "
        f"({res.seconds:.1f} s)\n"
        f"  train acc 1.0 from iteration {summary['first_iter_train_acc_1']}; test acc >= 0.9 "
        f"from {summary['first_iter_test_acc_ge_0.9']}; 1.0 from "
        f"{summary['first_iter_test_acc_1']}; final test acc {res.test_acc[-1]:.3f}\n"
        f"  block-circulant share of M: {res.structure['blocks']['overall']:.3f} "
        f"(relabelled baseline {res.structure['baseline']['overall']:.3f})"
    )
    if plot:
        its = [float(t) for t in range(len(res.train_acc))]
        _write_plot(
            plot,
            {"train": (its, res.train_acc), "test": (its, res.test_acc)},
            title=f"Modular addition mod {res.p} ({res.method})",
            xlabel="RFM iteration",
            ylabel="accuracy",
        )
    return _finish(args, summary, text)


def _run_tabular(args: argparse.Namespace) -> int:
    from verify.rfm.experiments import run_tabular

    plot = _plot_path(args)
    methods = [args.method] if args.method else ["kernel", "nfa", "fact"]
    progress = _Progress(not args.quiet)
    try:
        seeds = args.seeds if args.seeds else [args.seed + i for i in range(5)]
        res = run_tabular(
            datasets=args.datasets,
            methods=methods,
            seeds=seeds,
            iters=5 if args.iters is None else args.iters,
            bandwidth=args.bandwidth,
            ridge=args.ridge,
            progress=progress,
        )
    finally:
        progress.close()
    if plot:
        series = {}
        for m in methods:
            rows = [r for r in res.rows if r["method"] == m]
            series[m] = ([float(i + 1) for i in range(len(rows))], [r["mean_acc"] for r in rows])
        _write_plot(
            plot,
            series,
            title="Tabular test accuracy (%)",
            xlabel="dataset ("
            + ", ".join(f"{i + 1}={n}" for i, n in enumerate(args.datasets))
            + ")",
            ylabel="test accuracy %",
        )
    return _finish(args, res.to_dict(), res.table())


def _common(p: argparse.ArgumentParser, func: Callable[[argparse.Namespace], int]) -> None:
    p.add_argument(
        "--method",
        choices=_CLI_METHODS,
        default=None,
        help="feature update (default: the experiment's comparison set)",
    )
    p.add_argument("--iters", type=int, default=None, help="RFM iterations (feature updates)")
    p.add_argument("--seed", type=int, default=0, help="random seed (data and split)")
    p.add_argument("--json", action="store_true", help="print the JSON summary")
    p.add_argument("--plot", metavar="FILE", default=None, help="write an SVG plot to FILE")
    p.add_argument("--quiet", action="store_true", help="no progress display on stderr")
    p.set_defaults(func=func)


def register(subparsers: Any) -> None:
    """Add ``rfm`` with its three experiments to the ``factcheck`` parser."""
    rfm = subparsers.add_parser(
        "rfm",
        help="Recursive Feature Machines: NFA-RFM vs FACT-RFM experiments",
        description="Run an RFM experiment (REFERENCE section 5).",
    )
    from verify.cli.main import _Parser  # one-line usage errors, exit status 2

    sub = rfm.add_subparsers(dest="experiment", metavar="EXPERIMENT", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("parity", help="sparse parity: accuracy against sample size")
    p.add_argument("--d", type=int, default=50, help="input dimension")
    p.add_argument("--k", type=int, default=3, help="number of hidden coordinates")
    p.add_argument(
        "--n", type=int, nargs="+", default=[500, 1000, 2000, 4000, 8000], help="training-set sizes"
    )
    p.add_argument("--n-test", type=int, default=2000, help="test-set size")
    p.add_argument("--bandwidth", type=float, default=10.0, help="Laplace kernel bandwidth")
    p.add_argument("--ridge", type=float, default=1e-3, help="KRR ridge")
    _common(p, _run_parity)

    p = sub.add_parser("modular", help="modular addition: grokking over RFM iterations")
    p.add_argument("--p", type=int, default=61, help="modulus")
    p.add_argument("--train-fraction", type=float, default=0.5, help="share of pairs to train on")
    p.add_argument("--bandwidth", type=float, default=2.5, help="Gaussian kernel bandwidth")
    p.add_argument("--ridge", type=float, default=0.0, help="KRR ridge")
    p.add_argument("--s", type=float, default=0.5, help="AGOP exponent for nfa")
    p.add_argument("--uncentered", action="store_true", help="uncentred AGOP for nfa")
    _common(p, _run_modular)

    from verify.rfm import TABULAR_DATASETS  # a constant: loads nothing numerical

    p = sub.add_parser("tabular", help="small bundled scikit-learn datasets")
    p.add_argument(
        "--datasets",
        nargs="+",
        choices=TABULAR_DATASETS,
        default=list(TABULAR_DATASETS),
        help="datasets to run",
    )
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help="split seeds (default: --seed and the next four)",
    )
    p.add_argument("--bandwidth", type=float, default=10.0, help="Laplace kernel bandwidth")
    p.add_argument("--ridge", type=float, default=1e-3, help="KRR ridge")
    _common(p, _run_tabular)
