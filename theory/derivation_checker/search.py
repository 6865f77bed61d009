"""The explicit route for one step: exact agreement at the listed sizes, or the smallest witness.

A step ``a = b`` citing hypotheses is evaluated on exact instances in which exactly those
hypotheses hold (theory/derivation_checker/instances.py):

1. at the *listed sizes*, two assignments from ``theory.matrix_calculus.size_assignments``
   (values 2..4, neighbouring dimensions different, so a misplaced transpose changes a shape);
2. if the sides differ anywhere, the search restarts from the smallest sizes (every dimension
   1, 2, 3, ..., ordered by total size) with small integer entries first, and reports the first
   instance at which they differ: the smallest counterexample the search can find, as matrices.

A counterexample is confirmed before it is reported: undefined functions get concrete values
(sigma(2) = 1, sigma'(2) = -1, ...), then both sides and every cited hypothesis are evaluated
again from the recorded matrices alone, in exact rational arithmetic.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from theory.derivation_checker.instances import (
    Instance,
    build_instance,
    equal,
    evaluate,
    mentioned,
    size_order,
)
from theory.derivation_checker.spec import Context, Hypothesis
from theory.matrix_calculus import size_assignments

__all__ = ["Explicit", "explicit_check"]

#: instance builds the smallest-witness search may spend (each is a small exact computation)
MAX_BUILDS = 160
SEEDS_PER_SIZE = 3


@dataclass(frozen=True)
class Explicit:
    """``status`` is "agree", "differ" or "unavailable"; ``text`` says where and how."""

    status: str
    text: str
    witness: dict[str, Any] | None = None


def _instance(
    ctx: Context, sizes: dict[sp.Symbol, int], hyps: Sequence[Hypothesis], seeds: Sequence[int],
    integers: bool = False,
) -> Instance | None:  # fmt: skip
    for seed in seeds:
        try:
            inst = build_instance(ctx, sizes, hyps, seed, integers)
        except Exception:  # a singular draw, or SymPy cannot evaluate: try the next seed
            inst = None
        if inst is not None:
            return inst
    return None


def _sides(ctx: Context, a: Any, b: Any, inst: Instance) -> tuple[Any, Any] | None:
    try:
        return evaluate(ctx, a, inst), evaluate(ctx, b, inst)
    except Exception:  # e.g. inv() of a singular draw: this instance decides nothing
        return None


def _hyp_text(hyps: Sequence[Hypothesis]) -> str:
    if not hyps:
        return "no hypotheses"
    return "hypotheses " + ", ".join(f"({h.label})" for h in hyps) + " hold exactly there"


def explicit_check(
    ctx: Context, k: int, a: Any, b: Any, hyps: Sequence[Hypothesis], seed: int = 0
) -> Explicit:
    """Compare ``a`` and ``b`` (step ``k``) on exact instances (see module docstring)."""
    dims = ctx.dim_symbols
    if getattr(a, "is_Matrix", False) and a.shape != b.shape:  # a witness wherever they differ
        return _smallest(ctx, k, a, b, hyps, 3, None)
    listed = size_assignments(dims, count=2)
    checked = []
    for j, sizes in enumerate(listed):
        seeds = [1000 * seed + 100 * k + 10 * j + t for t in range(SEEDS_PER_SIZE)]
        inst = _instance(ctx, sizes, hyps, seeds)
        sides = _sides(ctx, a, b, inst) if inst is not None else None
        if inst is None or sides is None:
            continue
        if not equal(*sides):
            top = max([3, *sizes.values()])
            return _smallest(ctx, k, a, b, hyps, top, (inst, *sides))
        checked.append(inst.size_text())
    if checked:
        return Explicit(
            "agree",
            f"exact at sizes [{'; '.join(checked)}] (rational arithmetic; {_hyp_text(hyps)})",
        )
    labels = ", ".join(f"({h.label})" for h in hyps)
    return Explicit(
        "unavailable",
        f"no exact instance with {labels} true could be built at the listed sizes (the "
        "hypotheses are neither Gram relations X^T X = Y Y^T nor solvable linearly for one "
        "symbol); state them in such a form, or prove the step symbolically",
    )


def _smallest(
    ctx: Context, k: int, a: Any, b: Any, hyps: Sequence[Hypothesis], top: int,
    fallback: tuple[Instance, Any, Any] | None,
) -> Explicit:  # fmt: skip
    builds = 0
    for sizes in size_order(ctx.dim_symbols, top):
        for integers, seeds in ((True, range(2)), (False, range(2, 3))):
            if builds >= MAX_BUILDS:
                break
            builds += 1
            inst = _instance(ctx, sizes, hyps, [7919 * s + 1 for s in seeds], integers)
            sides = _sides(ctx, a, b, inst) if inst is not None else None
            if inst is not None and sides is not None and not equal(*sides):
                found = _witness(ctx, k, a, b, hyps, inst, *sides)
                if found is not None:
                    return found
    found = _witness(ctx, k, a, b, hyps, *fallback) if fallback is not None else None
    if found is not None:
        return found
    return Explicit(
        "unavailable",
        "no exact instance separating the sides was found and confirmed (with the cited "
        "hypotheses true and values for the undefined functions); check the step by hand",
    )


def _function_atoms(*exprs: Any) -> list[Any]:
    atoms: set[Any] = set()
    for e in exprs:
        for x in e if isinstance(e, sp.MatrixBase) else [e]:
            atoms |= sp.sympify(x).atoms(AppliedUndef)
    return sorted(atoms, key=sp.default_sort_key)


def _witness(
    ctx: Context, k: int, a: Any, b: Any, hyps: Sequence[Hypothesis], inst: Instance,
    A: Any, B: Any,
) -> Explicit | None:  # fmt: skip
    """Fix undefined-function values, re-evaluate everything from the record, and confirm."""
    atoms = _function_atoms(A, B)
    rng = random.Random(k)
    values: dict[Any, Any] = {}
    for attempt in range(20):
        values = {f: sp.Integer(rng.randint(-3, 3)) if attempt else sp.Integer(j % 3 + 1)
                  for j, f in enumerate(atoms)}  # fmt: skip
        if not equal(_fix(A, values), _fix(B, values)):
            break
    else:
        return None
    # confirmation: a fresh evaluation from the instance, then the same function values
    A2, B2 = (_fix(evaluate(ctx, e, inst), values) for e in (a, b))
    hyps_ok = all(
        equal(_fix(evaluate(ctx, h.lhs, inst), values), _fix(evaluate(ctx, h.rhs, inst), values))
        for h in hyps
    )
    if equal(A2, B2) or not hyps_ok:
        return None
    syms = mentioned(ctx, [a, b] + [s for h in hyps for s in (h.lhs, h.rhs)])
    witness: dict[str, Any] = {
        "step": k,
        "sizes": {str(d): v for d, v in sorted(inst.sizes.items(), key=str)},
        "values": {s.name: inst.values[s] for s in syms},
        "lhs": A2,
        "rhs": B2,
    }
    same = not isinstance(A2, sp.MatrixBase) or A2.shape == B2.shape
    if same:
        witness["lhs - rhs"] = (
            sp.ImmutableMatrix(A2 - B2) if isinstance(A2, sp.MatrixBase) else A2 - B2
        )
    if values:
        witness["functions"] = {sp.sstr(f): v for f, v in values.items()}
    witness["hypotheses"] = [h.label for h in hyps]
    shape_note = "" if same else f" (the sides have different shapes {A2.shape} and {B2.shape})"
    text = (
        f"the sides differ at {inst.size_text()}{shape_note}; exact rational arithmetic, "
        f"{_hyp_text(hyps)}; re-evaluated from the recorded matrices"
    )
    return Explicit("differ", text, witness)


def _fix(e: Any, values: dict[Any, Any]) -> Any:
    if not values:
        return e
    if isinstance(e, sp.MatrixBase):
        return sp.ImmutableMatrix(e.xreplace(values))
    return sp.sympify(e).xreplace(values)
