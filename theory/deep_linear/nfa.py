"""The Neural Feature Ansatz for balanced deep linear networks, with exponent 1/L.

Reference: Tansley, Massart, Cartis, arXiv:2510.15563 (tags D5, D6 of REFERENCE.md). If the
weights are balanced (W_{i+1}^T W_{i+1} = W_i W_i^T for every i), the Gram matrix of the top of
the network telescopes:

(D6) (W_L ... W_j)^T (W_L ... W_j) = (W_j^T W_j)^{L-j+1}
(D5) j = 1: A^T A = (W_1^T W_1)^L, and AGOP = A^T A for f(x) = A x (uncentered), so
     W_1^T W_1 = AGOP^{1/L}: the NFA with alpha = 1/L and constant exactly 1.

Each rewrite is justified by balancedness or by the lemma W^T (W W^T)^m W = (W^T W)^{m+1}. A
lemma step is checked as an identity of the free (noncommutative) algebra, valid at every size;
a balancedness step by showing the difference equals P^T (sum_r X^r D_i Y^{m-1-r}) P with
D_i = X - Y, X = W_{i+1}^T W_{i+1}, Y = W_i W_i^T, i.e. it lies in the ideal of D_i and vanishes
when D_i = 0. Independently every step is checked exactly on two explicitly balanced rational
networks W_k = V_k S V_{k-1}^T (V_k: rational orthonormal columns from the Cayley transform of a
rational skew matrix; S a common diagonal of distinct singular values).

The last two steps: AGOP = (W_L...W_j)^T (W_L...W_j), because the Jacobian of h -> B h is B
(theory/chain_rule.py, symbolic sizes); and W_j^T W_j = AGOP^{1/k}, k = L - j + 1. That one needs
the uniqueness of PSD roots, a theorem cited as such (Horn and Johnson, Matrix Analysis, 2nd ed.,
Theorem 7.2.6: a PSD matrix has exactly one PSD k-th root), applied to S = W_j^T W_j, which is
PSD (x^T S x = (W_j x)^T (W_j x), a sum of squares: checked symbolically for all sizes), and
AGOP^{1/k} is by definition that unique root. Under the spectral decomposition the root acts on
each eigenvalue by t -> t^(1/k), which inverts t -> t^k on t >= 0 (checked by SymPy for a symbolic
k). On the balanced instances the eigen-decomposition is known exactly and the root is checked
exactly.

:func:`derive_nfa_balanced` starts from balancedness; theory/deep_linear/optimality.py starts
from stationarity (D4 then D5); theory/deep_linear/induction.py proves the telescoping for a
symbolic L. :func:`check_deep_linear_variant` refutes the planted false exponent alpha = 1/2 at
L = 3 and the planted false decay rate of theory/deep_linear/balance.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from typing import Any

import sympy as sp

from theory._checks import _step, conclude
from theory._errors import bad_input
from theory._options import MAX_DEPTH
from theory._records import DEEP_LINEAR_PAPER, Assumption, Claim, Derivation, Step, Verdict
from theory.chain_rule import jacobian_lemma
from theory.deep_linear.flow import check_flow_variant
from theory.free_algebra import _sym, free_algebra_zero
from theory.matrix_calculus import matrices_equal
from theory.psd_root import ROOT_THEOREM, gram_is_psd, root_inverts_power

__all__ = [
    "MAX_DEPTH",
    "VARIANTS",
    "balanced_instance",
    "cayley_orthonormal",
    "chain_steps",
    "check_deep_linear_variant",
    "derive_nfa_balanced",
    "nfa_steps",
    "validate_depth_layer",
]

VARIANTS = ("alpha=1/2,L=3", "dD/dt=-lam*D")


def validate_depth_layer(depth: Any, layer: Any = 1) -> tuple[int, int]:
    """The one place depth and layer are validated (used by the CLI too)."""
    if isinstance(depth, bool) or not isinstance(depth, int) or not 2 <= depth <= MAX_DEPTH:
        raise bad_input(
            "depth", f"be an integer from 2 to {MAX_DEPTH} (the chain is written out per L)",
            depth, "Pass e.g. --depth 4; theory.deep_linear.induction covers general L.",
        )  # fmt: skip
    if isinstance(layer, bool) or not isinstance(layer, int) or not 1 <= layer <= depth:
        raise bad_input(
            "layer", f"be an integer from 1 to depth = {depth}", layer, "Pass e.g. --layer 1."
        )
    return depth, layer


# -- exactly balanced rational networks ---------------------------------------------------------
def cayley_orthonormal(rows: int, cols: int, rng: random.Random) -> sp.ImmutableMatrix:
    """``rows x cols`` rational matrix with orthonormal columns: the first columns of the Cayley
    transform (I - K)(I + K)^{-1} of a random rational skew matrix K (I + K is invertible)."""
    K = sp.zeros(rows, rows)
    for i in range(rows):
        for j in range(i + 1, rows):
            v = sp.Rational(rng.randint(-3, 3), rng.randint(1, 3))
            K[i, j], K[j, i] = v, -v
    eye = sp.eye(rows)
    Qm = (eye - K) * (eye + K).inv()
    return sp.ImmutableMatrix(Qm[:, :cols])


@dataclass(frozen=True)
class BalancedInstance:
    """W_k = V_k S V_{k-1}^T, k = 1..L (W[0] is W_1), exactly balanced by construction."""

    widths: tuple[int, ...]
    s: tuple[sp.Rational, ...]
    V: tuple[sp.ImmutableMatrix, ...]
    W: tuple[sp.ImmutableMatrix, ...]


@cache
def balanced_instance(depth: int, k: int = 0) -> BalancedInstance:
    """Instance ``k`` (0 or 1) of an exactly balanced rational network of the given depth."""
    widths: tuple[int, ...]
    s: tuple[Any, ...]
    if k == 0:
        widths = (3, *[4 if i % 2 else 3 for i in range(1, depth)], 2)
        s = (sp.Integer(2), sp.Rational(1, 2))
    else:
        widths = (4, *[5 if i % 2 else 3 for i in range(1, depth)], 3)
        s = (sp.Rational(3, 2), sp.Integer(1), sp.Rational(1, 3))
    rng = random.Random(1000 * depth + k)
    V = tuple(cayley_orthonormal(m, len(s), rng) for m in widths)
    S = sp.diag(*s)
    W = tuple(sp.ImmutableMatrix(V[i + 1] * S * V[i].T) for i in range(depth))
    return BalancedInstance(widths, s, V, W)


def _instances(depth: int) -> list[tuple[BalancedInstance, dict[sp.MatrixSymbol, Any]]]:
    syms = _weights(depth)
    out = []
    for k in range(2):
        inst = balanced_instance(depth, k)
        out.append((inst, dict(zip(syms, inst.W, strict=True))))
    return out


def _explicit(expr: Any, mapping: dict[sp.MatrixSymbol, Any]) -> sp.ImmutableMatrix:
    e = expr.xreplace(mapping).doit()
    return sp.ImmutableMatrix(e.as_explicit() if isinstance(e, sp.MatrixExpr) else e)


def _on_instances(depth: int, lhs: Any, rhs: Any) -> tuple[bool, str]:
    ok, widths = True, []
    for inst, mapping in _instances(depth):
        widths.append(str(inst.widths))
        ok = ok and matrices_equal(_explicit(lhs, mapping), _explicit(rhs, mapping))
    text = f"exact on balanced rational networks, widths [{'; '.join(widths)}]"
    return ok, text if ok else "FAILS " + text


# -- symbols ------------------------------------------------------------------------------------
@cache
def _weights(depth: int) -> tuple[sp.MatrixSymbol, ...]:
    m = sp.symbols(f"m_0:{depth + 1}", integer=True, positive=True)
    return tuple(sp.MatrixSymbol(f"W_{k}", m[k], m[k - 1]) for k in range(1, depth + 1))


def _prod(ws: list[sp.MatrixSymbol]) -> Any:
    """W_i ... W_j for ws = [W_i, ..., W_j] (None if empty)."""
    return sp.MatMul(*ws) if len(ws) > 1 else (ws[0] if ws else None)


def _sandwich(Pm: Any, core: Any) -> Any:
    return core if Pm is None else Pm.T * core * Pm


def _ideal_witness(X: Any, Y: Any, m: int) -> Any:
    """sum_r X^r (X - Y) Y^{m-1-r}, which equals X^m - Y^m (telescoping sum)."""
    terms = []
    for r in range(m):
        parts = [X] * r + [X - Y] + [Y] * (m - 1 - r)
        terms.append(sp.MatMul(*parts))
    return sp.MatAdd(*terms)


# -- D5 / D6 ------------------------------------------------------------------------------------
def derive_nfa_balanced(depth: int, layer: int = 1) -> Derivation:
    """D5 (layer 1) / D6 from balancedness: the telescoping chain for a concrete depth 2..8,
    then the AGOP and the PSD root, every step checked."""
    L, j = validate_depth_layer(depth, layer)
    return _derive(L, j)


def nfa_claim(L: int, j: int, assumptions: tuple[Assumption, ...], prefix: str) -> Claim:
    """W_j^T W_j = AGOP_j^{1/(L-j+1)} with the given assumptions (balanced, or stationary)."""
    W = _weights(L)
    k = L - j + 1
    name_agop = "AGOP" if j == 1 else f"AGOP_{j}"
    dim = W[j - 1].shape[1]
    return Claim(
        f"NFA for layer {j} of {prefix} deep linear network (L = {L}), alpha = 1/{k}",
        "D5" if j == 1 else "D6",
        W[j - 1].T * W[j - 1],
        sp.MatPow(sp.MatrixSymbol(name_agop, dim, dim), sp.Rational(1, k)),
        assumptions,
        DEEP_LINEAR_PAPER,
        {name_agop: (
            "uncentered AGOP (1/n) sum_i J_i^T J_i, J_i = df/dh at the input h of layer "
            f"{j} = (W_L...W_{j})^T (W_L...W_{j})"),
         "alpha": f"1/(L - j + 1) = 1/{k}",
         f"{name_agop}^(1/{k})": f"the unique PSD root of order {k} of {name_agop}"},
    )  # fmt: skip


_LINEAR = Assumption("linear", "f(x) = W_L ... W_1 x (no activations, no biases)")


@cache
def _derive(L: int, j: int) -> Derivation:
    steps, gram, final = chain_steps(L, j)
    steps += nfa_steps(L, j, gram, final)
    claim = nfa_claim(
        L, j,
        (Assumption("balanced", "D_i = W_{i+1}^T W_{i+1} - W_i W_i^T = 0 for i = j..L-1"),
         _LINEAR),
        "a balanced",
    )  # fmt: skip
    return conclude(claim, steps, _PROVED)


_PROVED = (
    "every rewrite is an identity of the free algebra (all sizes) or lies in the ideal of the "
    "imbalances; AGOP by the Jacobian lemma (symbolic sizes); the root by uniqueness of PSD roots "
    "(cited theorem); every step also exact on balanced rational networks"
)


def chain_steps(L: int, j: int) -> tuple[list[Step], Any, Any]:
    """The telescoping (W_L..W_j)^T (W_L..W_j) -> (W_j^T W_j)^(L-j+1), one rewrite per step.

    Returns ``(steps, gram, final)``: the steps, the Gram matrix they start from and the power
    they end at."""
    W = _weights(L)  # W[k - 1] is W_k
    k = L - j + 1
    top = list(reversed(W[j - 1 :]))  # [W_L, ..., W_j]
    B = _prod(top)
    gram = B.T * B
    steps: list[Step] = []

    def P(i: int) -> Any:  # W_i ... W_j
        return _prod(list(reversed(W[j - 1 : i])))

    current = _sandwich(P(L - 1), sp.MatPow(W[L - 1].T * W[L - 1], 1))
    if L > j:
        steps.append(
            _step(gram, current, "regroup the product (associativity)",
                  [_sym(gram - current), _on_instances(L, gram, current)])
        )  # fmt: skip
    for i in range(L - 1, j - 1, -1):
        m = L - i
        Wi, Wn = W[i - 1], W[i]
        X, Y = Wn.T * Wn, Wi * Wi.T
        balanced = _sandwich(P(i), sp.MatPow(Y, m))
        diff_ok = free_algebra_zero(
            current - balanced - _sandwich(P(i), _ideal_witness(X, Y, m))
        )  # fmt: skip
        steps.append(
            _step(
                current, balanced,
                f"balancedness D_{i} = 0: W_{i + 1}^T W_{i + 1} = W_{i} W_{i}^T",
                [(diff_ok, f"difference = P^T (sum_r X^r D_{i} Y^(m-1-r)) P in the free algebra, "
                  f"so it vanishes when D_{i} = 0"),
                 _on_instances(L, current, balanced)],
            )
        )  # fmt: skip
        after = _sandwich(P(i - 1) if i > j else None, sp.MatPow(Wi.T * Wi, m + 1))
        steps.append(
            _step(
                balanced, after, f"lemma W^T (W W^T)^{m} W = (W^T W)^{m + 1} with W = W_{i}",
                [_sym(balanced - after), _on_instances(L, balanced, after)],
            )
        )  # fmt: skip
        current = after
    final = sp.MatPow(W[j - 1].T * W[j - 1], k)
    if L == j:
        steps.append(_step(gram, final, "a single factor", [_sym(gram - final)]))
    return steps, gram, final


def nfa_steps(L: int, j: int, gram: Any, final: Any) -> list[Step]:
    """AGOP_j = (W_L..W_j)^T (W_L..W_j), then W_j^T W_j = AGOP_j^{1/k} (module docstring)."""
    W = _weights(L)
    k = L - j + 1
    dim = W[j - 1].shape[1]
    agop = sp.MatrixSymbol("AGOP" if j == 1 else f"AGOP_{j}", dim, dim)
    ok_agop, sizes = True, []
    for inst, _ in _instances(L):
        # f as a function of the input h of layer j: f = B h, Jacobian by scalar differentiation
        Bx = sp.ImmutableMatrix(sp.eye(inst.widths[j - 1]))
        for Wk in inst.W[j - 1 :]:
            Bx = Wk * Bx
        h = sp.Matrix(sp.symbols(f"h_0:{inst.widths[j - 1]}"))
        J = (Bx * h).jacobian(h)
        pts = [{s: sp.Rational(p + q, 3) for q, s in enumerate(h)} for p in range(3)]
        ag = sp.zeros(J.shape[1], J.shape[1])
        for pt in pts:
            ag += J.subs(pt).T * J.subs(pt)
        ag /= len(pts)
        ok_agop = ok_agop and matrices_equal(sp.ImmutableMatrix(ag), Bx.T * Bx)
        sizes.append(str(inst.widths))
    n = sp.Symbol("n", integer=True, positive=True)
    i = sp.Symbol("i", integer=True)
    mean_ok = bool(sp.simplify(sp.Sum(1, (i, 1, n)).doit() / n - 1) == 0)
    steps = [
        _step(agop, gram,
              "the Jacobian of f = (W_L...W_j) h is the constant W_L...W_j (linear map), so the "
              "mean over the n samples of J^T J is J^T J",
              [jacobian_lemma(),
               (mean_ok, "(1/n) sum_{i=1}^n of a term that does not depend on i is the term"),
               (ok_agop, "exact: Jacobian by scalar differentiation, AGOP over 3 inputs, widths "
                f"[{'; '.join(sizes)}]")]),
    ]  # fmt: skip
    # PSD root: W_j^T W_j is PSD with (W_j^T W_j)^k = AGOP; on the instances the spectral
    # decomposition AGOP = V diag(s^(2k)) V^T is known exactly, so the root is V diag(s^2) V^T.
    ok_root = True
    for inst, mapping in _instances(L):
        Vj = inst.V[j - 1]
        ag = _explicit(gram, mapping)
        spec = Vj * sp.diag(*[x ** (2 * k) for x in inst.s]) * Vj.T
        root = Vj * sp.diag(*[(x ** (2 * k)) ** sp.Rational(1, k) for x in inst.s]) * Vj.T
        ok_root = ok_root and (
            matrices_equal(Vj.T * Vj, sp.eye(len(inst.s)))
            and matrices_equal(ag, spec)
            and matrices_equal(root, _explicit(W[j - 1].T * W[j - 1], mapping))
        )
    steps.append(
        _step(
            W[j - 1].T * W[j - 1], sp.MatPow(agop, sp.Rational(1, k)),
            f"W_{j}^T W_{j} is PSD and (W_{j}^T W_{j})^{k} = AGOP (above); AGOP^(1/{k}) is the "
            f"PSD root of order {k} of AGOP and {ROOT_THEOREM}, so it is W_{j}^T W_{j}",
            [gram_is_psd(), root_inverts_power(),
             (ok_root, "exact on the balanced instances: AGOP = V diag(s^(2k)) V^T with "
              "V^T V = I, and its root V diag(s^2) V^T equals W_j^T W_j")],
        )
    )  # fmt: skip
    return steps


# -- planted false variants -------------------------------------------------------------------
def check_deep_linear_variant(name: str) -> Derivation:
    """Run a planted false variant (``VARIANTS``); the healthy outcome is REFUTED."""
    if name == "dD/dt=-lam*D":
        return check_flow_variant()
    if name != "alpha=1/2,L=3":
        raise bad_input("name", f"be one of {list(VARIANTS)}", name, "Pick a listed variant.")
    inst = balanced_instance(3, 0)
    W1, W2, W3 = inst.W
    A = W3 * W2 * W1
    lhs, wrong, right = A.T * A, (W1.T * W1) ** 2, (W1.T * W1) ** 3
    balanced = all(
        matrices_equal(inst.W[i + 1].T * inst.W[i + 1], inst.W[i] * inst.W[i].T) for i in range(2)
    )
    Ws = _weights(3)
    claim = Claim(
        "PLANTED FALSE VARIANT: NFA exponent 1/2 for a balanced deep linear network with L = 3",
        "D5",
        (Ws[2] * Ws[1] * Ws[0]).T * (Ws[2] * Ws[1] * Ws[0]),
        sp.MatPow(Ws[0].T * Ws[0], 2),
        (Assumption("balanced", "D_1 = D_2 = 0"),),
        DEEP_LINEAR_PAPER,
    )
    step = _step(lhs, right, "evaluate A^T A on an exactly balanced rational network",
                 [(balanced, "D_1 = D_2 = 0 exactly"),
                  (matrices_equal(lhs, right), "A^T A = (W_1^T W_1)^3 exactly (the true D5)"),
                  (not matrices_equal(lhs, wrong), "A^T A != (W_1^T W_1)^2 exactly")])  # fmt: skip
    witness = {"W1": W1, "W2": W2, "W3": W3, "A^T A": lhs, "(W1^T W1)^2": wrong,
               "(W1^T W1)^3": right, "singular_values": inst.s}  # fmt: skip
    if step.checked:  # the witness is balanced and separates the exponents
        return Derivation(
            claim, (step,), Verdict.REFUTED,
            "exact counterexample: at a balanced point A^T A = (W_1^T W_1)^3 != (W_1^T W_1)^2 "
            "(singular values 2, 1/2 give eigenvalues 64, 1/64 vs 16, 1/16)", witness,
        )  # fmt: skip
    return Derivation(claim, (step,), Verdict.INCONCLUSIVE, "the witness did not separate")
