"""Exact explicit instances of a derivation: concrete sizes, rational matrices, hypotheses true.

An *instance* gives every dimension an integer, every matrix a rational matrix of that size and
every scalar a rational that respects its assumptions (lam > 0 gets a positive value). Undefined
functions (sigma) stay symbolic, so a comparison is an identity in their unknown values; only a
counterexample fixes them (any values at finitely many points are taken by some smooth function).
``grad(f, W)`` is evaluated entry by entry, by scalar differentiation of the explicit f: an
independent route from the symbolic matrix calculus.

The hypotheses a step cites must hold exactly at its instances, so they are built to:

* a *Gram relation* ``X^T X = Y Y^T`` (``X^T X = Y^T Y``, ``X X^T = Y Y^T``), e.g. balancedness
  D_j = W_{j+1}^T W_{j+1} - W_j W_j^T = 0, holds for X = V_a S V_b^T, Y = V_b S V_c^T with rational
  orthonormal columns V (Cayley transform, as for the balanced networks of D5) and one diagonal S;
* any other hypothesis is solved exactly, as a linear system, for the entries of one of its
  symbols (stationarity grad_W L = 0 for W, the chain rule G_h = W^T Delta for G_h), in an order
  in which later solutions never change a symbol an earlier hypothesis involves.

Every hypothesis is then re-checked exactly; an instance that fails is discarded.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from theory.deep_linear.nfa import cayley_orthonormal
from theory.derivation_checker.rewriting import to_poly
from theory.derivation_checker.spec import Context, Hypothesis
from theory.matrix_calculus import _to_explicit, matrices_equal

__all__ = ["Instance", "build_instance", "evaluate", "mentioned", "size_order"]


@dataclass(frozen=True)
class Instance:
    sizes: dict[sp.Symbol, int]
    values: dict[Any, Any]

    def size_text(self) -> str:
        return ", ".join(f"{k} = {v}" for k, v in sorted(self.sizes.items(), key=str)) or "-"


def size_order(dims: Sequence[sp.Symbol], top: int, cap: int = 400) -> list[dict[sp.Symbol, int]]:
    """Size assignments with every dimension in 1..top, smallest first (sum, then max)."""
    tuples = sorted(
        itertools.product(range(1, top + 1), repeat=len(dims)),
        key=lambda t: (sum(t), max(t, default=0), t),
    )
    return [dict(zip(dims, t, strict=True)) for t in tuples[:cap]]


# -- evaluation ------------------------------------------------------------------------------------
def _dim(x: Any, sizes: dict[sp.Symbol, int]) -> int:
    return int(sp.sympify(x).xreplace(sizes))


def _canon_derivatives(e: Any) -> Any:
    """``Subs(Derivative(sigma(x), x), x, 3/2)`` becomes ``sigma'(3/2)`` (one name per value)."""

    def named(s: sp.Subs) -> Any:
        d = s.expr
        if isinstance(d, sp.Derivative) and isinstance(d.expr, AppliedUndef):
            F = d.expr
            point = dict(zip(s.variables, s.point, strict=True))
            if all(a in point or not a.free_symbols for a in F.args):
                idx = [F.args.index(v) + 1 for v, c in d.variable_count for _ in range(c)]
                mark = "'" * len(idx) if len(F.args) == 1 else "_" + "".join(map(str, idx))
                return sp.Function(F.func.__name__ + mark)(*[a.xreplace(point) for a in F.args])
        return s

    return e.replace(lambda x: isinstance(x, sp.Subs), named)


def _explicit_grad(ctx: Context, ph: sp.MatrixSymbol, inst: Instance) -> sp.ImmutableMatrix:
    f, W = ctx.grads[ph]
    rows, cols = _dim(W.rows, inst.sizes), _dim(W.cols, inst.sizes)
    free = sp.ImmutableMatrix(rows, cols, lambda i, j: sp.Dummy(f"w{i}{j}"))
    fx = evaluate(ctx, f, Instance(inst.sizes, inst.values | {W: free}))
    if isinstance(fx, sp.MatrixBase):
        fx = fx[0, 0]
    fx = sp.expand(fx)  # a polynomial in the free entries (and sigma values): fast to differentiate
    at = dict(zip(free, inst.values[W], strict=True))

    def partial(w: sp.Dummy) -> Any:
        d = sp.diff(fx, w)
        if d.has(sp.Derivative):  # sigma'(...) at a point: needs subs, which makes a Subs
            return _canon_derivatives(d.subs(at, simultaneous=True))
        return d.xreplace(at)

    return sp.ImmutableMatrix(free.applyfunc(partial))


def evaluate(ctx: Context, expr: Any, inst: Instance) -> Any:
    """The explicit value of ``expr`` (a rational matrix or scalar, sigma kept symbolic)."""
    e = ctx.expand(expr)
    phs = [p for p in e.atoms(sp.MatrixSymbol) if p in ctx.grads]
    e = e.xreplace({p: _explicit_grad(ctx, p, inst) for p in phs})
    return _to_explicit(e.xreplace(inst.values).xreplace(inst.sizes))


def equal(a: Any, b: Any) -> bool:
    if isinstance(a, sp.MatrixBase) and isinstance(b, sp.MatrixBase) and a.shape != b.shape:
        return False
    return matrices_equal(a, b)


def mentioned(ctx: Context, exprs: Sequence[Any]) -> list[Any]:
    """Declared matrices and scalars an expression depends on (inside gradients too)."""
    seen: set[Any] = set()
    todo = [ctx.expand(e) for e in exprs]
    while todo:
        e = todo.pop()
        for a in e.atoms(sp.MatrixSymbol) | e.free_symbols:
            if a in ctx.grads and a not in seen:
                f, W = ctx.grads[a]
                todo.append(f)
                seen.add(W)
            seen.add(a)
    declared = list(ctx.matrices.values()) + list(ctx.scalars.values())
    return [s for s in declared if s in seen]


# -- random values ---------------------------------------------------------------------------------
def _scalar_value(s: sp.Symbol, rng: random.Random, integers: bool) -> sp.Rational:
    den = 1 if integers else rng.randint(1, 3)
    if s.is_positive:
        return sp.Rational(rng.randint(1, 4), den)
    if s.is_negative:
        return -sp.Rational(rng.randint(1, 4), den)
    if s.is_nonnegative:
        return sp.Rational(rng.randint(0, 4), den)
    lo = 1 if s.is_nonzero else 0
    v = sp.Rational(rng.randint(lo, 4), 1 if s.is_integer else den)
    return v if rng.random() < 0.5 else -v


def _admissible(s: sp.Symbol, v: Any) -> bool:
    checks = {
        "positive": v > 0, "negative": v < 0, "nonnegative": v >= 0, "nonzero": v != 0,
        "integer": v.is_Integer,
    }  # fmt: skip
    return v.is_Rational and all(ok for k, ok in checks.items() if getattr(s, f"is_{k}"))


def _matrix(rows: int, cols: int, rng: random.Random, integers: bool) -> sp.ImmutableMatrix:
    if integers:
        return sp.ImmutableMatrix(rows, cols, lambda i, j: rng.randint(-3, 3))
    return sp.ImmutableMatrix(
        rows, cols, lambda i, j: sp.Rational(rng.randint(-6, 6), rng.randint(1, 3))
    )


# -- hypotheses ------------------------------------------------------------------------------------
def _gram_ports(ctx: Context, hyp: Hypothesis) -> tuple[tuple[str, Any], tuple[str, Any]] | None:
    """``(port, port)`` if the hypothesis says X^T X = Y Y^T (or a variant), else None."""
    try:
        poly = to_poly(ctx.symbolic(hyp.lhs) - ctx.symbolic(hyp.rhs))
    except Exception:  # a gradient without a trusted symbolic route: not a Gram relation
        return None
    if len(poly) != 2:
        return None
    (w1, c1), (w2, c2) = poly.items()
    if sp.expand(c1 + c2) != 0:
        return None
    ports = []
    for w in (w1, w2):
        names = [s.name for s in w]
        if len(w) != 2 or names[0].removesuffix("^T") != names[1].removesuffix("^T"):
            return None
        M = ctx.matrices.get(names[0].removesuffix("^T"))
        if M is None or names[0] == names[1]:
            return None
        ports.append(("in" if names[0].endswith("^T") else "out", M))
    return ports[0], ports[1]


def _balanced(
    ctx: Context, pairs: list[tuple[Any, Any]], inst: Instance, rng: random.Random
) -> set[Any]:
    """X = V_out S V_in^T for every matrix in a Gram relation; related ports share V."""
    parent: dict[Any, Any] = {}

    def find(p: Any) -> Any:
        while parent.setdefault(p, p) != p:
            p = parent[p]
        return p

    mats = {M for pair in pairs for _, M in pair}
    for a, b in pairs:
        parent[find(a)] = find(b)
    port_dim = {}
    for M in mats:
        port_dim[("in", M)] = _dim(M.cols, inst.sizes)
        port_dim[("out", M)] = _dim(M.rows, inst.sizes)
    r = min(3, *port_dim.values())
    S = sp.diag(*[sp.Integer(2), sp.Rational(1, 2), sp.Integer(3)][:r])  # distinct singular values
    V = {}
    for p in sorted(port_dim, key=lambda p: (p[0], p[1].name)):
        root = find(p)
        if root not in V:
            V[root] = cayley_orthonormal(port_dim[p], r, rng)
    for M in mats:
        inst.values[M] = sp.ImmutableMatrix(V[find(("out", M))] * S * V[find(("in", M))].T)
    return mats


def _candidates(ctx: Context, hyp: Hypothesis) -> list[Any]:
    sides = [
        s for s in (hyp.lhs, hyp.rhs) if s in ctx.matrices.values() or s in ctx.scalars.values()
    ]
    phs = hyp.lhs.atoms(sp.MatrixSymbol) | hyp.rhs.atoms(sp.MatrixSymbol)
    wrt = sorted({ctx.grads[p][1] for p in phs if p in ctx.grads}, key=lambda W: W.name)
    rest = mentioned(ctx, [hyp.lhs, hyp.rhs])
    return list(dict.fromkeys(sides + wrt + rest))


def _solve(ctx: Context, hyp: Hypothesis, X: Any, inst: Instance, rng: random.Random) -> bool:
    if X.is_Matrix:
        unknown = sp.ImmutableMatrix(
            _dim(X.rows, inst.sizes), _dim(X.cols, inst.sizes), lambda i, j: sp.Dummy()
        )
        names = list(unknown)
    else:
        unknown = sp.Dummy()
        names = [unknown]
    trial = Instance(inst.sizes, inst.values | {X: unknown})
    diff = evaluate(ctx, hyp.lhs, trial) - evaluate(ctx, hyp.rhs, trial)
    eqs = list(diff) if isinstance(diff, sp.MatrixBase) else [diff]
    try:
        sols = sp.linsolve([sp.expand(e) for e in eqs], names)
    except Exception:  # nonlinear in X: another symbol may do
        return False
    if not sols:
        return False
    sol = next(iter(sols))
    free = [s for s in names if any(s in v.free_symbols for v in sol)]  # underdetermined
    pick = {s: sp.Rational(rng.randint(-3, 3)) for s in free}
    sol = [v.xreplace(pick) for v in sol]
    if not all(v.is_Rational for v in sol):
        return False
    if X.is_Matrix:
        inst.values[X] = sp.ImmutableMatrix(unknown.rows, unknown.cols, sol)
        return True
    if not _admissible(X, sol[0]):
        return False
    inst.values[X] = sol[0]
    return True


def _order(ctx: Context, hyps: list[Hypothesis], fixed: set[Any]) -> list[Hypothesis] | None:
    """An order in which each hypothesis has a target no earlier hypothesis mentions."""
    todo, tail = list(hyps), []
    syms = {h.label: set(mentioned(ctx, [h.lhs, h.rhs])) for h in hyps}
    while todo:
        for h in todo:
            others = set().union(*[syms[o.label] for o in todo if o is not h])
            if any(X not in others and X not in fixed for X in _candidates(ctx, h)):
                tail.append(h)
                todo.remove(h)
                break
        else:
            return None
    return tail[::-1]


def build_instance(
    ctx: Context, sizes: dict[sp.Symbol, int], hyps: Sequence[Hypothesis], seed: int,
    integers: bool = False,
) -> Instance | None:  # fmt: skip
    """An exact instance at ``sizes`` where every hypothesis in ``hyps`` holds, or None."""
    rng = random.Random(seed)
    inst = Instance(dict(sizes), {})
    for M in ctx.matrices.values():
        inst.values[M] = _matrix(_dim(M.rows, sizes), _dim(M.cols, sizes), rng, integers)
    for s in ctx.scalars.values():
        inst.values[s] = _scalar_value(s, rng, integers)
    gram: list[tuple[Any, Any]] = []
    rest: list[Hypothesis] = []
    for h in hyps:
        ports = _gram_ports(ctx, h)
        if ports:
            gram.append(ports)
        else:
            rest.append(h)
    fixed = _balanced(ctx, gram, inst, rng) if gram else set()
    order = _order(ctx, rest, fixed)
    if order is None:
        return None
    for k, h in enumerate(order):
        earlier = set().union(*[set(mentioned(ctx, [o.lhs, o.rhs])) for o in order[:k]])
        targets = [X for X in _candidates(ctx, h) if X not in earlier and X not in fixed]
        if not any(_solve(ctx, h, X, inst, rng) for X in targets):
            return None
    try:
        ok = all(equal(evaluate(ctx, h.lhs, inst), evaluate(ctx, h.rhs, inst)) for h in hyps)
    except (ValueError, ZeroDivisionError):  # e.g. inv() of a singular draw
        return None
    return inst if ok else None
