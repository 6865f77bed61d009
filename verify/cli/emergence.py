"""``factcheck emergence``: feature emergence from input structure (Shi, Wei, Liang; S1-S6).

Progress goes to stderr (one line per seed); the table and the verdicts go to stdout, or with
``--json`` the whole result. ``--plot FILE.svg`` draws the share of W^T W in span(M_A) and the
test error along training (mean over seeds). Exit status 0 when every claim is
NUMERICALLY_CONSISTENT, 3 when one is INCONCLUSIVE, 2 for bad input (nothing run or written).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``emergence`` to the ``factcheck`` parser."""
    p = subparsers.add_parser(
        "emergence",
        help="feature emergence from input structure: network vs fixed features vs control",
        description="Shi, Wei, Liang (ICLR 2022): patterns M_j in R^d, labels from k relevant "
        "ones, background patterns on with probability p_o. Trains the paper's two-layer "
        "network (two feature-learning steps, then GD with weight decay), fixed-feature "
        "baselines, the network on the structure-removed control, NFA-RFM and FACT-RFM, and a "
        "network at a certified stationary point (FACT, AGOP); verdicts over seeds.",
    )
    g = p.add_argument_group("data model (S1, S2)")
    g.add_argument("--d", type=int, default=64, help="input dimension d (default 64)")
    g.add_argument("--D", type=int, default=32, help="number of patterns D <= d (default 32)")
    g.add_argument("--k", type=int, default=5, help="relevant patterns k, odd (default 5)")
    g.add_argument("--p-o", type=float, default=0.5, help="background rate p_o <= 1/2 (0.5)")
    g.add_argument("--p-aligned", type=float, default=0.5,
                   help="probability that the relevant patterns are all on or all off, else "
                   "uniform (default 0.5; gamma = p_aligned/2 for parity)")  # fmt: skip
    g.add_argument("--labels", default="parity", help="parity or majority (default parity)")
    g.add_argument("--noise", type=float, default=0.0, help="input noise std (default 0)")
    g.add_argument("--n-train", type=int, default=4000, help="training samples (4000)")
    g.add_argument("--n-test", type=int, default=2000, help="test samples (2000)")
    g = p.add_argument_group("network and schedule (S3, S4)")
    g.add_argument("--activation", default="truncated-relu",
                   help="truncated-relu (the paper's), relu or tanh")  # fmt: skip
    g.add_argument("--width", type=int, default=128, help="neurons 2m, even (default 128)")
    g.add_argument("--steps", type=int, default=200, help="GD steps after the feature steps")
    g.add_argument("--lr", type=float, default=1.0, help="GD step size (default 1)")
    g.add_argument("--lam", type=float, default=1e-4, help="weight decay (default 1e-4)")
    g.add_argument("--row-norm", type=float, default=3.0,
                   help="mean row norm of W after each feature step (default 3)")  # fmt: skip
    g = p.add_argument_group("baselines, RFM, certified point")
    g.add_argument("--rf-sizes", type=int, nargs="+", default=[64, 256, 1024],
                   help="random-feature counts (default 64 256 1024)")  # fmt: skip
    g.add_argument(
        "--kernel-n",
        type=int,
        nargs="+",
        default=[500, 1000, 2000],
        help="training sizes for the NNGP/NTK kernels (default 500 1000 2000)",
    )
    g.add_argument("--rfm-n", type=int, default=1000, help="RFM training samples (1000)")
    g.add_argument("--rfm-iters", type=int, default=10, help="RFM iterations (default 10)")
    g.add_argument("--rfm-s", type=float, default=0.5, help="NFA-RFM exponent s (default 0.5)")
    g.add_argument("--no-rfm", action="store_true", help="skip RFM")
    g.add_argument("--cert-activation", default="tanh", help="tanh or relu (default tanh)")
    g.add_argument("--cert-n", type=int, default=1000, help="samples for the certified run")
    g.add_argument("--cert-width", type=int, default=8, help="width of the certified network")
    g.add_argument("--cert-lam", type=float, default=3e-4, help="its weight decay (3e-4)")
    g.add_argument("--no-certified", action="store_true", help="skip the certified run")
    g = p.add_argument_group("run")
    g.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    g.add_argument("--seeds", type=int, default=5, help="number of seeds (default 5)")
    g.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    g.add_argument("--json", action="store_true", help="print the result as JSON")
    g.add_argument("--plot", metavar="FILE", default=None, help="write an SVG figure to FILE")
    g.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=_run)


def _config(args: argparse.Namespace) -> Any:
    from verify.emergence import EmergenceConfig, EmergenceModel, Schedule

    model = EmergenceModel(
        d=args.d, D=args.D, k=args.k, p_o=args.p_o, p_aligned=args.p_aligned,
        labels=args.labels, noise=args.noise,
    )  # fmt: skip
    sched = Schedule(
        activation=args.activation, width=args.width, row_norm=args.row_norm, steps=args.steps,
        lr=args.lr, lam=args.lam,
    )  # fmt: skip
    return EmergenceConfig(
        model=model, schedule=sched, n_train=args.n_train, n_test=args.n_test, seed=args.seed,
        seeds=args.seeds, rf_sizes=tuple(args.rf_sizes), kernel_n=tuple(args.kernel_n),
        rfm=not args.no_rfm, rfm_n=args.rfm_n, rfm_iters=args.rfm_iters, rfm_s=args.rfm_s,
        certified=not args.no_certified, cert_activation=args.cert_activation,
        cert_n=args.cert_n, cert_width=args.cert_width, cert_lam=args.cert_lam,
    )  # fmt: skip


def _run(args: argparse.Namespace) -> int:
    from verify.cli.arguments import emergence as check_arguments
    from verify.cli.arguments import emergence_memory

    plot = check_arguments(args)  # seeds, sizes and --plot, before any work
    config = _config(args)  # the data model and schedule validate their own rules
    emergence_memory(args)

    from verify.base.files import write_text_atomic
    from verify.emergence import run_experiment
    from verify.emergence.render import figure, to_text

    def progress(message: str) -> None:
        print(f"[emergence] {message}", file=sys.stderr, flush=True)

    res = run_experiment(config, jobs=args.jobs, progress=None if args.quiet else progress)
    if plot is not None:
        write_text_atomic(plot, figure(res))
    if args.json:
        print(json.dumps(res.to_dict(), indent=2, allow_nan=False))
    else:
        print(to_text(res))
    return 0 if all(c.verdict.supports for c in res.claims()) else 3
