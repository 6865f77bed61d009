"""The identities checked numerically at a point, by code generated from their statements.

:func:`check_identity` evaluates the SymPy statement of a tag (verify.claims.statements,
lambdified by verify.claims.generated) at the engine's quantities of every layer (or layer pair)
and compares both sides against a tolerance that comes from the F2 bound (or its deep-linear
analogue) and the precision, never from a bare number. With ``u`` the unit roundoff of the
backend and ``k = n + depth * max width`` the longest chain of sums (the engine's rule, as in
verify.claims), ``R = (depth + 1) k u`` is the relative rounding of any computed quantity
(Higham's gamma_k per summation chain, accumulated over the backprop layers), applied to the
size ``T`` of the terms that cancel.

- F2 (any parameters): ||lhs - rhs|| <= R T, T = |W|^2 + (|W| sum|delta_i||h_i| +
  sum|g_i||h_i|)/(n lam) + |W||grad_W|/lam (g_i = grad_h l_i).
- F1 (certified point): ||W^T W - FACT|| <= |W||grad_W L_lam|/lam + R T: the F2 bound, exact
  by F2 and Cauchy-Schwarz.
- F4: the identity at any parameters (R T4), and at a certified point ||W W^T - bFACT|| <=
  |grad_W||W|/lam + R T4 (T4 with |W h_i| in place of |h_i|).
- F5 (certified point): with eps the F1 tolerance, FACT = S + E, S = W^T W PSD, ||E|| <= eps, so
  ||FACT FACT^T - S^2||_2 <= eta = 2||S|| eps + eps^2, and the square root is Hoelder-1/2 on PSD
  matrices (||A^(1/2) - B^(1/2)||_2 <= ||A - B||_2^(1/2), operator monotonicity); the PSD power
  zeroes eigenvalues below phi = 100 max(d, k) u ||FACT FACT^T|| (verify.engine.linalg):
  tolerance eps + sqrt(d) (eta^(1/2) + phi^(1/2)) + R |S|.
- D1 (deep linear, any parameters): ||W_{j+1}^T S_{j+1} - S_j W_j^T|| <= R T1, S_k the data
  gradients, T1 = |W_{j+1}| sum|delta||h|/n (layer j+1) + the same for layer j.
- D4 (certified point, lam > 0): ||D_j|| <= (|W_{j+1}||G_{j+1}| + |G_j||W_j|)/lam + R (|W_j|^2 +
  |W_{j+1}|^2 + T1/lam), from the exact lam D_j = W_{j+1}^T G_{j+1} - G_j W_j^T (the D4
  derivation's first step; G the gradients of L_lam).
- D5/D6 (layer j, kappa = L - j + 1): with delta_i = ||D_i|| (measured, plus R (|W_i|^2 +
  |W_{i+1}|^2)) and s = max ||W_i||_2, the derivation's telescoping (each step's difference is
  P^T (sum_r X^r D_i Y^(m-1-r)) P) gives ||AGOP_j - (W_j^T W_j)^kappa|| <= eps_A =
  sum_i (L - i) s^(2(L-j)) delta_i + R s^(2 kappa); the kappa-th root is Hoelder-1/kappa, so the
  tolerance is sqrt(d) (eps_A + phi)^(1/kappa) + R s^2 (phi the PSD floor above).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.claims.features import fro, layer_features
from verify.claims.generated import numeric
from verify.claims.statements import Statement, statement
from verify.engine.linalg import PSD_FLOOR_FACTOR
from verify.engine.network import FLOAT64, Array, Backend, Problem, backprop

__all__ = ["IdentityCheck", "check_identity"]

#: statement (or, for D5/D6, a function (L, j) -> statement) replacing the derived one
StatementArg = Statement | Callable[[int, int], Statement] | None


@dataclass(frozen=True)
class IdentityCheck:
    """One identity at one layer: defect ||lhs - rhs||_F against its tolerance."""

    tag: str
    where: str
    defect: float
    tolerance: float
    scale: float

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.defect) and self.defect <= self.tolerance)

    def __str__(self) -> str:
        return (f"[{self.tag}] {self.where}: defect {self.defect:.3g} vs tolerance "
                f"{self.tolerance:.3g} (scale {self.scale:.3g})")  # fmt: skip


def _f(x: Any) -> float:
    return float(x)


def _sizes(a: Array, b: Array, be: Backend) -> float:
    """sum_i |a_i| |b_i| over the rows (samples) of a and b."""
    with be.working():
        return _f(np.sum(be.sqrt(np.sum(a * a, axis=1)) * be.sqrt(np.sum(b * b, axis=1))))


def _op_norm(a: Array) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=float), 2))


def _layer_values(problem: Problem, bp: Any, idx: int) -> dict[str, Any]:
    (W, _), (gW, _) = bp.params[idx], bp.grads[idx]
    return {"W": W, "grad_W L_lambda": gW, "H": bp.hs[idx].T, "G_h": bp.grad_h[idx].T,
            "Delta": bp.deltas[idx].T, "n": problem.n}  # fmt: skip


def _fact_checks(tag: str, problem: Problem, theta: Array, be: Backend, stmt: Statement | None,
                 converged: bool) -> list[IdentityCheck]:  # fmt: skip
    if not problem.lam > 0:
        raise bad_input("lam", f"be > 0 for {tag} (FACT divides by the weight decay)",
                        problem.lam, "Draw the network with weight decay.")  # fmt: skip
    st = stmt or statement(tag)
    bp = backprop(problem, theta, be)
    net, n = problem.net, problem.n
    _, _, lam = problem.data(be)
    u = float(be.unit_roundoff)
    R = (net.depth + 1) * (n + net.depth * max(net.sizes)) * u
    diff = numeric(st.symbols, st.lhs - st.rhs, be)
    out = []
    for idx in range(net.depth):
        values = _layer_values(problem, bp, idx) | {"lambda": lam}
        W, gW = values["W"], values["grad_W L_lambda"]
        nW, ngW, lamf = _f(fro(W, be)), _f(fro(gW, be)), float(problem.lam)
        dh = _sizes(bp.deltas[idx], bp.hs[idx], be)
        bound = nW * ngW / lamf  # F2: ||W^T grad_W L_lam|| / lam
        where = f"layer {idx + 1}"
        if tag in ("F1", "F2"):
            T = nW**2 + (nW * dh + _sizes(bp.grad_h[idx], bp.hs[idx], be)) / (n * lamf) + bound
            tol = R * T + (bound if tag == "F1" else 0.0)
            out.append(IdentityCheck(tag, where, _f(fro(diff(values), be)), tol, nW**2))
        elif tag == "F4":
            with be.working():
                dwh = _sizes(bp.deltas[idx], bp.hs[idx] @ W.T, be)
            T4 = nW**2 + (dwh + nW * dh) / (n * lamf) + bound
            out.append(IdentityCheck(tag, where + " (identity)", _f(fro(diff(values), be)),
                                     R * T4, nW**2))  # fmt: skip
            if converged:
                lhs = numeric(st.symbols, st.lhs, be)(values)
                out.append(IdentityCheck(tag, where + " (W W^T = bFACT)", _f(fro(lhs, be)),
                                         bound + R * T4, nW**2))  # fmt: skip
        else:
            raise bad_input("tag", "be F1, F2 or F4 here", tag, "Use check_identity.")
    return out


def _f5_checks(problem: Problem, theta: Array, be: Backend,
               stmt: Statement | None) -> list[IdentityCheck]:  # fmt: skip
    if not problem.lam > 0:
        raise bad_input("lam", "be > 0 for F5 (FACT divides by the weight decay)",
                        problem.lam, "Draw the network with weight decay.")  # fmt: skip
    st = stmt or statement("F5")
    f1 = statement("F1")
    bp = backprop(problem, theta, be)
    net, n = problem.net, problem.n
    _, _, lam = problem.data(be)
    u = float(be.unit_roundoff)
    k = n + net.depth * max(net.sizes)
    R = (net.depth + 1) * k * u
    fact_of = numeric(f1.symbols, f1.rhs, be)
    diff = numeric(st.symbols, st.lhs - st.rhs, be, terms=k)
    out = []
    for idx in range(net.depth):
        values = _layer_values(problem, bp, idx) | {"lambda": lam}
        W = values["W"]
        fact = fact_of(values)
        nW, ngW, lamf = _f(fro(W, be)), _f(fro(values["grad_W L_lambda"], be)), float(problem.lam)
        dh = _sizes(bp.deltas[idx], bp.hs[idx], be)
        T = nW**2 + (nW * dh + _sizes(bp.grad_h[idx], bp.hs[idx], be)) / (n * lamf)
        eps = nW * ngW / lamf + R * (T + nW * ngW / lamf)  # the F1 tolerance
        S = _op_norm(be.to_float(W)) ** 2  # ||W^T W||_2
        eta = 2 * S * eps + eps**2
        d = W.shape[1]
        phi = PSD_FLOOR_FACTOR * max(d, k) * u * (S + eps) ** 2
        tol = eps + np.sqrt(d) * (np.sqrt(eta) + np.sqrt(phi)) + R * nW**2
        out.append(IdentityCheck("F5", f"layer {idx + 1}", _f(fro(diff({"FACT": fact}), be)),
                                 float(tol), nW**2))  # fmt: skip
    return out


def _linear(problem: Problem) -> None:
    net = problem.net
    if net.activation != "identity" or net.bias or net.depth < 2:
        raise bad_input("problem", "be a deep linear network (identity, no biases, depth >= 2) "
                        "for D1, D4, D5, D6", f"{net.activation} {net.sizes} bias={net.bias}",
                        "Draw it with verify.strategies.deep_linear_networks().")  # fmt: skip


def _deep_linear_checks(tag: str, problem: Problem, theta: Array, be: Backend,
                        stmt: StatementArg) -> list[IdentityCheck]:  # fmt: skip
    _linear(problem)
    bp = backprop(problem, theta, be)
    net, n, L = problem.net, problem.n, problem.net.depth
    u = float(be.unit_roundoff)
    k = n + L * max(net.sizes)
    R = (L + 1) * k * u
    lamf = float(problem.lam)
    W = [p[0] for p in bp.params]
    G = [g[0] for g in bp.grads]
    with be.working():
        data = [G[i] - problem.data(be)[2] * W[i] for i in range(L)]  # data-loss gradients
    nW = [_f(fro(w, be)) for w in W]
    T1 = [nW[i] * _sizes(bp.deltas[i], bp.hs[i], be) / n for i in range(L)]
    out = []
    if tag in ("D1", "D4"):
        st = stmt if isinstance(stmt, Statement) else statement(tag)
        diff = numeric(st.symbols, st.lhs - st.rhs, be)
        for j in range(L - 1):
            values = {"W_j": W[j], "W_{j+1}": W[j + 1], "grad_{W_j} l": data[j],
                      "grad_{W_{j+1}} l": data[j + 1]}  # fmt: skip
            defect = _f(fro(diff(values), be))
            if tag == "D1":
                tol = R * (T1[j] + T1[j + 1])
            else:
                if not lamf > 0:
                    raise bad_input("lam", "be > 0 for D4", lamf, "Draw with weight decay.")
                bound = (nW[j + 1] * _f(fro(G[j + 1], be)) + _f(fro(G[j], be)) * nW[j]) / lamf
                tol = bound + R * (nW[j] ** 2 + nW[j + 1] ** 2 + (T1[j] + T1[j + 1]) / lamf)
            out.append(IdentityCheck(tag, f"j = {j + 1}", defect, tol, nW[j] ** 2))
        return out
    feats = layer_features(problem, theta, be)
    with be.working():
        imb = [_f(fro(W[i + 1].T @ W[i + 1] - W[i] @ W[i].T, be)) for i in range(L - 1)]
    delta = [imb[i] + R * (nW[i] ** 2 + nW[i + 1] ** 2) for i in range(L - 1)]
    s = max(_op_norm(be.to_float(w)) for w in W)
    for j in range(1, L + 1):
        kappa = L - j + 1
        st = stmt(L, j) if callable(stmt) else statement("D5" if j == 1 else "D6", depth=L,
                                                         layer=j)  # fmt: skip
        names = st.by_name()
        agop_name = next(x for x in names if x.startswith("AGOP"))
        values = {f"W_{j}": W[j - 1], agop_name: feats[j - 1].agop}
        diff = numeric(st.symbols, st.lhs - st.rhs, be, terms=k)
        eps_a = sum((L - i) * s ** (2 * (L - j)) * delta[i - 1] for i in range(j, L))
        eps_a += R * s ** (2 * kappa)
        d = W[j - 1].shape[1]
        phi = PSD_FLOOR_FACTOR * max(d, k) * u * s ** (2 * kappa)
        tol = np.sqrt(d) * (eps_a + phi) ** (1 / kappa) + R * s**2
        defect = _f(fro(diff(values), be))
        out.append(IdentityCheck("D5" if j == 1 else "D6", f"layer {j} (alpha = 1/{kappa})",
                                 defect, float(tol), nW[j - 1] ** 2))  # fmt: skip
    return out


def check_identity(
    tag: str, problem: Problem, theta: Array, be: Backend = FLOAT64, *,
    statement_: StatementArg = None, converged: bool = True,
) -> list[IdentityCheck]:  # fmt: skip
    """Check ``tag`` at ``theta`` (numbers of ``be``) in every layer (module docstring).

    ``converged``: the point is certified stationary (F4 then also checks W W^T = bFACT); F1,
    F5, D4, D5 and D6 are statements about such points (D5/D6 also about exactly balanced
    ones). ``statement_`` replaces the derived statement (quality tier: a wrong statement must
    fail the check); for "D5" it may be a function (L, j) -> statement. "D5" checks every layer
    j (D5 at j = 1, D6 above).
    """
    if tag in ("F1", "F2", "F4"):
        return _fact_checks(tag, problem, theta, be, statement_, converged)  # type: ignore[arg-type]
    if tag == "F5":
        return _f5_checks(problem, theta, be, statement_)  # type: ignore[arg-type]
    if tag in ("D1", "D4", "D5", "D6"):
        return _deep_linear_checks("D5" if tag == "D6" else tag, problem, theta, be, statement_)
    raise bad_input("tag", "be one of F1, F2, F4, F5, D1, D4, D5, D6", tag, "Pick a listed tag.")
