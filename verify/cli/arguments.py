"""Validation of each command's arguments, in one place, before any work starts.

Every run function of the command line calls the checker for its options first: seeds, digits,
output paths (writable now, not after an hour of work), and sizes against the memory limit
(:mod:`verify.base.validate`). Rules that belong to a computation (a modulus, an exponent) live
in the public function that performs it, which checks them before its own work, so a library
call gets the same one-line error as the command line.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from theory._errors import bad_input
from verify.base.validate import check_dps, check_memory, check_output_file, check_seed

__all__ = [
    "check_file",
    "counterexample",
    "emergence",
    "emergence_memory",
    "flow",
    "network",
    "rfm",
    "run_file_memory",
]

#: the size options of ``verify fact/nfa`` and their defaults (verify.cli.verify)
_SIZE_DEFAULTS = {"width": 8, "depth": 2, "n": 32, "d": 4, "outputs": 2}
_SIZE_OPTIONS = tuple(_SIZE_DEFAULTS)


def _positive(args: argparse.Namespace, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(args, name)
        if not isinstance(value, int) or value < 1:
            raise bad_input(f"--{name.replace('_', '-')}", "be >= 1", value,
                            "Pass a positive integer.")  # fmt: skip


def _common(args: argparse.Namespace) -> None:
    if hasattr(args, "seed"):
        check_seed(args.seed)
    if getattr(args, "dps", None) is not None:
        check_dps(args.dps)


def network(args: argparse.Namespace) -> None:
    """``verify fact`` and ``verify nfa``: sizes, seed, digits, --save, memory."""
    _positive(args, (*_SIZE_OPTIONS, "max_iter"))
    _common(args)
    if getattr(args, "save", None) is not None:
        check_output_file("--save", args.save)
    from verify.engine.memory import SizeSummary, check_training_memory, training_bytes

    def estimate(**change: int) -> int:
        v = {name: getattr(args, name) for name in _SIZE_OPTIONS} | change
        sizes = SizeSummary.uniform(v["d"], v["width"], v["depth"], v["outputs"], args.bias)
        return training_bytes(sizes, v["n"], activation=args.activation, dps=args.dps)

    # the option to name: the one whose default would shrink the estimate most
    blame = min(_SIZE_OPTIONS, key=lambda name: estimate(**{name: _SIZE_DEFAULTS[name]}))
    sizes = SizeSummary.uniform(args.d, args.width, args.depth, args.outputs, args.bias)
    check_training_memory(
        sizes, args.n, activation=args.activation, dps=args.dps, argument=f"--{blame}",
        value=getattr(args, blame), fix=f"Lower --{blame} (or the other sizes).",
    )  # fmt: skip


def check_file(args: argparse.Namespace) -> None:
    """``check FILE``: digits, --epsilon, and python-flint for --certify (the file itself is
    read defensively by ``load_run``)."""
    _common(args)
    epsilon = getattr(args, "epsilon", None)
    if epsilon is not None and not (math.isfinite(epsilon) and epsilon > 0):
        raise bad_input("--epsilon", "be a finite number > 0", epsilon, "Pass e.g. 1e-6.")
    if getattr(args, "certify", False):
        from verify.engine.arb import flint_module

        flint_module()  # a clear message naming the extra, before any work


def run_file_memory(run: Any, args: argparse.Namespace) -> None:
    """After loading: the memory of checking this network at ``--dps`` digits."""
    from verify.engine.memory import SizeSummary, check_training_memory

    net = run.problem.net
    check_training_memory(
        SizeSummary.of(net.sizes, net.bias), run.problem.n, activation=net.activation,
        dps=args.dps, argument="--dps", value=args.dps,
        fix="Check at fewer digits, or without --dps.",
    )  # fmt: skip


def flow(args: argparse.Namespace) -> None:
    """``verify deep-linear-flow``: seed, digits, --plot (sizes: verify.deep_linear)."""
    _common(args)
    if args.plot is not None:
        check_output_file("--plot", args.plot, example="flow.svg")


def counterexample(args: argparse.Namespace) -> None:
    """``counterexample``: seed and --save (a run file and the JSON certificate next to it)."""
    _common(args)
    if args.save is not None:
        path = check_output_file("--save", args.save, (".npz",), "cx.npz")
        check_output_file("--save (its certificate)", path.with_suffix(".json"), (), "cx.json")


def rfm(args: argparse.Namespace) -> Path | None:
    """``rfm``: seed(s) and --plot; sizes and memory are checked by the experiment itself."""
    _common(args)
    for seed in getattr(args, "seeds", None) or ():
        check_seed(seed, "--seeds")
    if args.plot is None:
        return None
    return check_output_file("--plot", args.plot, (".svg",), "curve.svg")


def emergence_bytes(args: argparse.Namespace) -> int:
    """Peak memory of ``factcheck emergence``, per worker process, times the workers.

    The large arrays: train and test inputs with their first-layer activations and random
    features (n x (d + width + largest feature count) float64), the NNGP/NTK kernel ridge at the
    largest kernel size (three n_k x n_k float64 matrices: kernel, factor, a temporary) and RFM
    (the same three at rfm_n). Doubled for NumPy temporaries; a fixed 150 MiB for the
    interpreter and libraries. Measured against this at the defaults: see benchmarks.
    """
    n = args.n_train + args.n_test
    per_sample = args.d + args.width + max(args.rf_sizes)
    kernel_n = max(max(args.kernel_n), 0 if args.no_rfm else args.rfm_n)
    arrays = 8 * (n * per_sample + 3 * kernel_n * kernel_n)
    return args.jobs * (2 * arrays + 150 * 2**20)


def emergence_memory(args: argparse.Namespace) -> None:
    """``emergence``: the estimated peak memory (:func:`emergence_bytes`) within the limit."""
    check_memory(
        emergence_bytes(args), argument="--n-train", value=args.n_train,
        what=f"the emergence experiment with {args.jobs} worker(s)",
        fix="Lower --n-train, --n-test, --kernel-n, --rfm-n or --jobs.",
    )  # fmt: skip


def emergence(args: argparse.Namespace) -> Path | None:
    """``emergence``: seed, seed count, workers, sizes and --plot, before any work (the memory
    check, :func:`emergence_memory`, follows the experiment's own rules on the sizes)."""
    _common(args)
    _positive(args, ("seeds", "jobs", "d", "D", "k", "n_train", "n_test", "width", "rfm_n"))
    for name in ("rf_sizes", "kernel_n"):
        if any(not isinstance(v, int) or v < 1 for v in getattr(args, name)):
            raise bad_input(f"--{name.replace('_', '-')}", "list positive integers",
                            getattr(args, name), "Pass e.g. 64 256 1024.")  # fmt: skip
    check_seed(args.seed + args.seeds - 1, "--seed + --seeds - 1")
    if args.plot is None:
        return None
    return check_output_file("--plot", args.plot, (".svg",), "emergence.svg")
