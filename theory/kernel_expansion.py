"""Kernel expansion of AGOP and FACT (K1, K2) and the KRR residual identity, at explicit sizes.

The checks are exact (symbolic M, alpha and kernel k) but at listed sizes n, d, c only, so the
verdict is EXACT_AT_SIZES, never PROVED: that would need an argument for every size.

Reference: Boix-Adsera, Mallinar, Simon, Belkin, arXiv:2507.05644, Section 5 (REFERENCE.md
section 4). Conventions, shared with the numerical code in verify/rfm/machine.py:

* inner-product kernel machine ``f_c(x) = sum_j alpha_jc k(x^T M x_j)`` with M symmetric (in the
  RFM, M = W^T W), centres x_j (the rows of X, n x d) and coefficients A = [alpha_jc] (n x c);
* kernel ridge regression with ridge r: ``A = (K + r I)^{-1} Y``, ``K_ij = k(x_i^T M x_j)``;
  equivalently (what the derivation uses, valid for every r) ``Y = (K + r I) A``;
* square loss ``l_i = (1/2) sum_c (f_c(x_i) - y_ic)^2``; FACT per F1 with weight decay lam > 0,
  ``FACT = -(1/(n lam)) sum_i grad_x l_i x_i^T`` (the machine depends on x only through W x);
* AGOP per N1 (uncentred), ``(1/n) sum_l sum_c grad f_c(x_l) grad f_c(x_l)^T``.

Claims (``o`` is the entrywise product, ``k'`` the derivative of k):

* residual identity: ``f(x_i) - y_i = -r alpha_i``;
* K1: ``AGOP = M S_tau M``, ``S_tau = X^T ((A A^T) o T) X``,
  ``T_ij = (1/n) sum_l k'(x_l^T M x_i) k'(x_l^T M x_j)``;
* K2: ``FACT = (r/(n lam)) M S_k'``, ``S_k' = X^T ((A A^T) o K') X``, ``K'_ij = k'(x_i^T M x_j)``;
  hence FACT M is symmetric.

Method: X is a concrete rational matrix, M a symmetric matrix of symbols, A a matrix of symbols,
k an undefined function. Gradients come from entry-by-entry ``sympy.diff`` (one route), the
right-hand sides from the matrix formulas (the other route); each step's difference is expanded
and must be exactly 0. The residual identity is also checked with a concrete kernel and a
rational ridge by solving ``(K + r I) A = Y`` exactly. A nonzero difference is turned into a
witness by substituting rational values and the kernel k(t) = t^3/3 + t (k'(t) = t^2 + 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from theory._checks import conclude
from theory._records import FACT_PAPER, Assumption, Claim, Derivation, Reference, Step, Verdict

__all__ = [
    "ExpansionSetup",
    "derive_agop_expansion",
    "derive_fact_expansion",
    "derive_residual_identity",
    "example_inputs",
    "expansion_setup",
    "planted_false_variants",
]

REFERENCE = Reference(FACT_PAPER.arxiv, "", "Section 5 (kernel expansion)", FACT_PAPER.authors)
ASSUMPTIONS = (
    Assumption("M=M^T", "M is symmetric (M = W^T W in the RFM)"),
    Assumption("KRR", "Y = (K + r I) A, i.e. A = (K + r I)^{-1} Y when K + r I is invertible"),
    Assumption("square loss", "l_i = |f(x_i) - y_i|^2 / 2"),
    Assumption("lam>0", "weight decay lam > 0 (only a positive scale for a kernel machine)"),
)


def example_inputs(n: int, d: int) -> sp.Matrix:
    """Deterministic rational n x d data with distinct, nonzero rows (a small LCG, no numpy)."""
    state = 12345
    rows: list[list[sp.Rational]] = []
    while len(rows) < n:
        row: list[sp.Rational] = []
        for _ in range(d):
            state = (1103515245 * state + 12345) % 2**31
            row.append(sp.Rational(state % 7 - 3, 1 + (state >> 8) % 3))
        if any(row) and row not in rows:
            rows.append(row)
    return sp.Matrix(rows)


@dataclass(frozen=True)
class ExpansionSetup:
    """The symbols of a kernel machine at explicit sizes."""

    X: sp.Matrix
    M: sp.Matrix
    A: sp.Matrix
    r: sp.Symbol
    lam: sp.Symbol
    k: sp.FunctionClass
    kp: sp.FunctionClass
    x: sp.Matrix

    @property
    def n(self) -> int:
        return int(self.X.rows)

    @property
    def d(self) -> int:
        return int(self.X.cols)

    @property
    def c(self) -> int:
        return int(self.A.cols)

    def ip(self, u: sp.Matrix, v: sp.Matrix) -> sp.Expr:
        """``u^T M v`` expanded (the canonical kernel argument)."""
        return sp.expand((u.T * self.M * v)[0, 0])

    def centre(self, j: int) -> sp.Matrix:
        return self.X.row(j).T

    def f(self, x: sp.Matrix, out: int) -> sp.Expr:
        """``f_c(x) = sum_j alpha_jc k(x^T M x_j)``."""
        return sum(
            (self.A[j, out] * self.k(self.ip(x, self.centre(j))) for j in range(self.n)),
            sp.Integer(0),
        )

    def gram(self, fn: sp.FunctionClass) -> sp.Matrix:
        return sp.Matrix(self.n, self.n, lambda i, j: fn(self.ip(self.centre(i), self.centre(j))))

    def canon(self, expr: sp.Expr) -> sp.Expr:
        """Write derivatives of k as k'(.) with expanded arguments, then expand."""
        expr = expr.replace(
            lambda e: isinstance(e, sp.Subs) and e.expr.has(self.k),
            lambda e: self.kp(sp.expand(e.point[0])),
        )
        expr = expr.replace(
            lambda e: isinstance(e, sp.Derivative) and e.expr.func == self.k,
            lambda e: self.kp(sp.expand(e.expr.args[0])),
        )
        return sp.expand(expr)


def expansion_setup(
    n: int = 3, d: int = 2, c: int = 1, X: sp.Matrix | None = None
) -> ExpansionSetup:
    """Symbols for n centres in dimension d, c outputs (X defaults to :func:`example_inputs`)."""
    X = example_inputs(n, d) if X is None else sp.Matrix(X)
    m = {
        (a, b): sp.Symbol(f"m{min(a, b) + 1}{max(a, b) + 1}", real=True)
        for a in range(d)
        for b in range(d)
    }
    M = sp.Matrix(d, d, lambda a, b: m[(a, b)])
    A = sp.Matrix(n, c, lambda j, o: sp.Symbol(f"alpha{j + 1}_{o + 1}", real=True))
    x = sp.Matrix(d, 1, lambda a, _: sp.Symbol(f"x{a + 1}", real=True))
    r, lam = sp.symbols("r lam", positive=True)
    return ExpansionSetup(X, M, A, r, lam, sp.Function("k"), sp.Function("k'"), x)


# -- checking a difference -------------------------------------------------------------------------
def _witness(S: ExpansionSetup, diff: sp.Matrix) -> dict[str, object] | None:
    """A rational point (k(t) = t^3/3 + t) where ``diff`` is nonzero, or None if it vanishes."""
    values = {
        s: sp.Rational(p, 3 + p % 2)
        for p, s in enumerate(sorted(diff.free_symbols, key=str), start=2)
    }
    concrete = diff.replace(
        lambda e: getattr(e, "func", None) == S.k, lambda e: e.args[0] ** 3 / 3 + e.args[0]
    )
    concrete = concrete.replace(
        lambda e: getattr(e, "func", None) == S.kp, lambda e: e.args[0] ** 2 + 1
    )
    value = sp.expand(concrete.subs(values))
    if value == sp.zeros(*value.shape):
        return None
    return {
        "point": {str(s): str(v) for s, v in values.items()},
        "kernel": "k(t) = t^3/3 + t",
        "difference": [[str(e) for e in value.row(i)] for i in range(value.rows)],
    }


def _step(
    S: ExpansionSetup, lhs: object, rhs: object, left: sp.Matrix, right: sp.Matrix, why: str
) -> tuple[Step, sp.Matrix]:
    diff = (left - right).applyfunc(S.canon)
    ok = diff == sp.zeros(*diff.shape)
    check = f"difference expands to 0 (n={S.n}, d={S.d}, c={S.c}, symbolic M, alpha, k)"
    return Step(lhs, rhs, why, bool(ok), check if ok else "difference does not vanish"), diff


def _finish(
    S: ExpansionSetup, claim: Claim, steps: list[Step], diffs: list[sp.Matrix]
) -> Derivation:
    if all(s.checked for s in steps):
        # symbolic in M, alpha and k, but the data X has fixed sizes: not a proof for all n, d, c
        return conclude(
            claim, steps, "every difference reduces to 0 exactly, for symbolic M, alpha and k",
            sizes=f"n={S.n}, d={S.d}, c={S.c}", witness={"n": S.n, "d": S.d, "c": S.c, "X": S.X},
        )  # fmt: skip
    for diff in diffs:
        if diff != sp.zeros(*diff.shape):
            witness = _witness(S, diff)
            if witness is not None:
                return Derivation(
                    claim,
                    tuple(steps),
                    Verdict.REFUTED,
                    "a difference is nonzero at an exact rational point",
                    witness,
                )
    return Derivation(
        claim,
        tuple(steps),
        Verdict.INCONCLUSIVE,
        "a difference did not expand to 0 but vanished at the test point; try "
        "other sizes or simplify further",
    )


def _gradient(S: ExpansionSetup, expr: sp.Expr) -> sp.Matrix:
    return sp.Matrix([sp.diff(expr, xa) for xa in S.x])


def _at(S: ExpansionSetup, expr: sp.Matrix, point: sp.Matrix) -> sp.Matrix:
    return expr.subs(dict(zip(S.x, point, strict=True)))


# -- the three claims ---------------------------------------------------------------------------
def derive_residual_identity(n: int = 3, d: int = 2, c: int = 1) -> Derivation:
    """KRR residual identity ``f(x_i) - y_i = -r alpha_i`` (used by K2), two routes."""
    S = expansion_setup(n, d, c)
    K = S.gram(S.k)
    Y = (K + S.r * sp.eye(n)) * S.A
    F = sp.Matrix(n, c, lambda i, o: S.f(S.centre(i), o))
    claim = Claim(
        "KRR residual identity f(x_i) - y_i = -r alpha_i",
        "K2",
        sp.Symbol("f(x_i) - y_i"),
        -S.r * sp.Symbol("alpha_i"),
        ASSUMPTIONS[:2],
        REFERENCE,
        {"r": "ridge", "alpha_i": "row i of (K + r I)^{-1} Y"},
    )
    step, diff = _step(
        S,
        "f(x_i) - y_i",
        "(K A)_i - ((K + r I) A)_i = -r alpha_i",
        F - Y,
        -S.r * S.A,
        "f(x_i) = (K A)_i and Y = (K + r I) A",
    )
    steps, diffs = [step], [diff]
    # second route: concrete kernel k(t) = (1 + t)^2, M = I, r = 1/3, exact rational solve
    M0, r0 = sp.eye(d), sp.Rational(1, 3)
    Kc = sp.Matrix(n, n, lambda i, j: (1 + (S.X.row(i) * M0 * S.X.row(j).T)[0, 0]) ** 2)
    Yc = sp.Matrix(n, c, lambda i, o: sp.Rational((3 * i + o) % 5 - 2, 1 + o))
    Ac = (Kc + r0 * sp.eye(n)).LUsolve(Yc)
    ok = sp.simplify(Kc * Ac - Yc + r0 * Ac) == sp.zeros(n, c)
    steps.append(
        Step(
            "K A - Y",
            "-r A",
            "exact solve of (K + r I) A = Y, k(t) = (1 + t)^2, M = I, r = 1/3",
            bool(ok),
            "exact rational arithmetic",
        )
    )
    if not ok:
        diffs.append(Kc * Ac - Yc + r0 * Ac)
    return _finish(S, claim, steps, diffs)


def _agop_rhs(S: ExpansionSetup, tau: Callable[[int, int], sp.Expr]) -> sp.Matrix:
    P = S.A * S.A.T
    inner = sp.Matrix(S.n, S.n, lambda i, j: P[i, j] * tau(i, j))
    return S.M * S.X.T * inner * S.X * S.M


def derive_agop_expansion(n: int = 3, d: int = 2, c: int = 1, *, variant: str = "") -> Derivation:
    """K1: ``AGOP = M S_tau M``. ``variant="kprime"`` plants the false ``T = K'`` (quality tier)."""
    S = expansion_setup(n, d, c)
    steps, diffs = [], []
    grads = []
    for o in range(c):
        g_diff = _gradient(S, S.f(S.x, o))
        g_form = sum(
            (S.A[j, o] * S.kp(S.ip(S.x, S.centre(j))) * S.M * S.centre(j) for j in range(n)),
            sp.zeros(d, 1),
        )
        step, diff = _step(
            S,
            f"grad f_{o + 1}(x)",
            "M sum_j alpha_j k'(x^T M x_j) x_j",
            g_diff,
            g_form,
            "chain rule, M symmetric (entrywise sympy.diff vs formula)",
        )
        steps.append(step)
        diffs.append(diff)
        grads.append(g_diff)
    agop = sp.zeros(d, d)
    for ell in range(n):
        for g in grads:
            gl = _at(S, g, S.centre(ell))
            agop += gl * gl.T
    agop /= n

    def tau(i: int, j: int) -> sp.Expr:
        if variant == "kprime":
            return S.kp(S.ip(S.centre(i), S.centre(j)))
        return (
            sum(
                (
                    S.kp(S.ip(S.centre(ell), S.centre(i))) * S.kp(S.ip(S.centre(ell), S.centre(j)))
                    for ell in range(n)
                ),
                sp.Integer(0),
            )
            / n
        )

    step, diff = _step(
        S,
        "AGOP = (1/n) sum_l sum_c grad f_c(x_l) grad f_c(x_l)^T",
        "M X^T ((A A^T) o T) X M",
        agop,
        _agop_rhs(S, tau),
        "expand the product of the two sums over centres (K1)",
    )
    steps.append(step)
    diffs.append(diff)
    name = "AGOP kernel expansion" + (" [planted: T replaced by K']" if variant else "")
    claim = Claim(
        name,
        "K1",
        sp.MatrixSymbol("AGOP", d, d),
        sp.MatrixSymbol("M", d, d) * sp.MatrixSymbol("S_tau", d, d) * sp.MatrixSymbol("M", d, d),
        ASSUMPTIONS[:1],
        REFERENCE,
        {"S_tau": "X^T ((A A^T) o T) X", "T_ij": "(1/n) sum_l k'_li k'_lj"},
    )
    return _finish(S, claim, steps, diffs)


def derive_fact_expansion(n: int = 3, d: int = 2, c: int = 1, *, variant: str = "") -> Derivation:
    """K2: ``FACT = (r/(n lam)) M S_k'``. Planted variants: "sign", "no-1/n", "transposed"."""
    S = expansion_setup(n, d, c)
    K = S.gram(S.k)
    Y = (K + S.r * sp.eye(n)) * S.A
    fact = sp.zeros(d, d)
    for i in range(n):
        loss = sum(((S.f(S.x, o) - Y[i, o]) ** 2 for o in range(c)), sp.Integer(0)) / 2
        grad_l = _at(S, _gradient(S, loss), S.centre(i))
        fact += grad_l * S.centre(i).T
    fact *= -1 / (n * S.lam)  # F1
    Kp = S.gram(S.kp)
    S_kp = S.X.T * sp.Matrix(n, n, lambda i, j: (S.A * S.A.T)[i, j] * Kp[i, j]) * S.X
    scale = {"sign": -S.r / (n * S.lam), "no-1/n": S.r / S.lam}.get(variant, S.r / (n * S.lam))
    rhs = scale * (S_kp * S.M if variant == "transposed" else S.M * S_kp)
    step, diff = _step(
        S,
        "-(1/(n lam)) sum_i grad_x l_i x_i^T",
        "(r/(n lam)) M S_k'",
        fact,
        rhs,
        "grad_x l_i = sum_c (f_c(x_i) - y_ic) grad f_c(x_i), residual -r alpha_i",
    )
    steps, diffs = [step], [diff]
    if not variant:
        FM = rhs * S.M
        sym, d2 = _step(S, "FACT M", "(FACT M)^T", FM, FM.T, "M S_k' M with S_k' symmetric")
        steps.append(sym)
        diffs.append(d2)
    name = "FACT kernel expansion" + (f" [planted: {variant}]" if variant else "")
    claim = Claim(
        name,
        "K2",
        sp.MatrixSymbol("FACT", d, d),
        S.r / (n * S.lam) * sp.MatrixSymbol("M", d, d) * sp.MatrixSymbol("S_k'", d, d),
        ASSUMPTIONS,
        REFERENCE,
        {
            "S_k'": "X^T ((A A^T) o K') X",
            "K'_ij": "k'(x_i^T M x_j)",
            "r": "ridge",
            "lam": "weight decay (F1)",
        },
    )
    return _finish(S, claim, steps, diffs)


def planted_false_variants(n: int = 3, d: int = 2) -> tuple[Derivation, ...]:
    """Deliberately false versions of K1 and K2; each must come back REFUTED."""
    return (
        derive_fact_expansion(n, d, variant="sign"),
        derive_fact_expansion(n, d, variant="no-1/n"),
        derive_fact_expansion(n, d, variant="transposed"),
        derive_agop_expansion(n, d, variant="kprime"),
    )
