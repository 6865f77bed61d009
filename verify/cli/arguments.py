"""Validation of each command's arguments, in one place, before any work starts.

Every run function of the command line calls the checker for its options first: seeds, digits,
output paths (writable now, not after an hour of work), and sizes against the memory limit
(:mod:`verify.base.validate`). Rules that belong to a computation (a modulus, an exponent) live
in the public function that performs it, which checks them before its own work, so a library
call gets the same one-line error as the command line.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from theory._errors import bad_input
from verify.base.validate import check_dps, check_output_file, check_seed

__all__ = ["check_file", "counterexample", "flow", "network", "rfm", "run_file_memory"]

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
    """``check FILE``: digits (the file itself is read defensively by ``load_run``)."""
    _common(args)


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
