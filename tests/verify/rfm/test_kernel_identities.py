"""K1 and K2 property-tested on drawn kernel machines, by code generated from the statements.

Statements: verify.claims.statements (the outer products of theory.derive_agop_expansion and
derive_fact_expansion, with S_tau and S_k' from their symbol tables). Left sides by independent
routes: in float64 the toolkit's kernel machine (verify.rfm: kernel ridge regression by
Cholesky, closed-form input gradients), AGOP by N1 and FACT by F1 from the residuals
f(x_i) - y_i; at 50 digits the same definitions in mpmath (exact linear solve). Tolerances:
Higham's gamma_N times the same sums taken with absolute values (both routes expand to the same
terms), plus, for K2, the measured defect of its hypothesis (the residual identity
f(x_i) - y_i = -r alpha_i, exact only for an exact KRR solve) propagated through F1.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.claims.generated import numeric
from verify.claims.statements import k2_claim_template, statement
from verify.engine.network import FLOAT64, Backend, mp_backend
from verify.rfm.kernels import Kernel, fit_krr

DPS = 50
FEW = settings(max_examples=max(2, settings.default.max_examples // 3))


@st.composite
def kernel_machines(draw: st.DrawFn) -> dict[str, Any]:
    """An inner-product kernel machine (exponential or polynomial kernel) with a random SPD
    metric M, fitted by kernel ridge regression, and a weight decay lam for FACT."""
    n, d, c = draw(st.integers(3, 7)), draw(st.integers(2, 3)), draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["exponential", "polynomial"]))
    kernel = Kernel(kind, bandwidth=draw(st.sampled_from([2.0, 4.0, 8.0])),
                    degree=draw(st.integers(2, 3)))  # fmt: skip
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    X = rng.standard_normal((n, d)) / np.sqrt(d)
    B = rng.standard_normal((d, d))
    M = B.T @ B / d + 0.1 * np.eye(d)
    Y = rng.standard_normal((n, c))
    ridge = float(10 ** draw(st.floats(-3, 0)))
    lam = float(10 ** draw(st.floats(-2, 0)))
    return {"kernel": kernel, "X": X, "M": M, "Y": Y, "ridge": ridge, "lam": lam}


def _kprime(kernel: Kernel, t: Any) -> Any:
    """k'(t) of the inner-product kernels of verify.rfm.kernels (exp(t/L), (1 + t/L)^p)."""
    L = kernel.bandwidth
    if kernel.kind == "exponential":
        return np.exp(t / L) / L if isinstance(t, np.ndarray) else mpmath.exp(t / L) / L
    return kernel.degree / L * (1 + t / L) ** (kernel.degree - 1)


def _k(kernel: Kernel, t: Any) -> Any:
    L = kernel.bandwidth
    return mpmath.exp(t / L) if kernel.kind == "exponential" else (1 + t / L) ** kernel.degree


def _float64_sides(m: dict[str, Any]) -> dict[str, Any]:
    """AGOP (N1) and FACT (F1) of the toolkit's fitted machine, and the statement's inputs."""
    machine = fit_krr(m["X"], m["Y"], kernel=m["kernel"], M=m["M"], ridge=m["ridge"])
    assert machine.solver == "cholesky"
    X, A, M = machine.X, machine.alpha, machine.M
    n = X.shape[0]
    J = machine.gradient(X, same=True)  # J[i, c] = grad f_c(x_i)
    resid = machine.predict(X) - m["Y"]
    return {"AGOP": np.einsum("ica,icb->ab", J, J) / n,  # N1
            "FACT": -np.einsum("ic,icd,ie->de", resid, J, X) / (n * m["lam"]),  # F1
            "A": A, "X": X, "M": M, "Kp": _kprime(m["kernel"], X @ M @ X.T), "n": n,
            "r": m["ridge"], "lam": m["lam"], "J": J, "gap": resid + m["ridge"] * A}  # fmt: skip


def _mp_sides(m: dict[str, Any], be: Backend) -> dict[str, Any]:
    """The same at ``be``'s precision: exact (mpmath) KRR solve, gradients by the chain rule."""
    with be.working():
        X, M, Y = be.asarray(m["X"]), be.asarray(m["M"]), be.asarray(m["Y"])
        r, lam = mpmath.mpf(m["ridge"]), mpmath.mpf(m["lam"])
        n, d = X.shape
        T = X @ M @ X.T
        K = np.array([[_k(m["kernel"], t) for t in row] for row in T], dtype=object)
        Kp = np.array([[_kprime(m["kernel"], t) for t in row] for row in T], dtype=object)
        system = mpmath.matrix((K + r * np.eye(n, dtype=object)).tolist())
        cols = [mpmath.lu_solve(system, mpmath.matrix(Y[:, c].tolist())) for c in range(Y.shape[1])]
        A = np.array([[col[i] for col in cols] for i in range(n)], dtype=object)
        # grad f_c(x_i) = M sum_j alpha_jc k'(x_i^T M x_j) x_j (chain rule, N1)
        J = np.array([[M @ (X.T @ (A[:, c] * Kp[i])) for c in range(A.shape[1])]
                      for i in range(n)], dtype=object)  # fmt: skip
        resid = K @ A - Y
        agop = sum(np.outer(J[i, c], J[i, c]) for i in range(n) for c in range(A.shape[1])) / n
        fact = -sum(resid[i, c] * np.outer(J[i, c], X[i]) for i in range(n)
                    for c in range(A.shape[1])) / (n * lam)  # fmt: skip
        # n as an mpmath number: the statement's 1/n must not become a float64 division
        return {"AGOP": agop, "FACT": fact, "A": A, "X": X, "M": M, "Kp": Kp,
                "n": mpmath.mpf(n), "r": r,
                "lam": lam, "J": J, "gap": resid + r * A}  # fmt: skip


def _gamma(N: int, u: float) -> float:
    """Higham's gamma_N = N u / (1 - N u): the relative rounding of an N-term computation."""
    return N * u / (1 - N * u)


def _tolerances(v: dict[str, Any], be: Backend) -> dict[str, float]:
    """Entrywise-max tolerances for K1 and K2 (module docstring)."""
    f = {k: (np.abs(be.to_float(np.asarray(x))) if isinstance(x, np.ndarray) else abs(float(x)))
         for k, x in v.items()}  # fmt: skip
    X, A, M, Kp, n, r, lam = f["X"], f["A"], f["M"], f["Kp"], int(v["n"]), f["r"], f["lam"]
    d, c = X.shape[1], A.shape[1]
    N = 2 * n + 2 * d + c + 3  # the longest chain of sums in either route
    u = float(be.unit_roundoff)
    P = A @ A.T
    k1 = M @ X.T @ (P * (Kp.T @ Kp / n)) @ X @ M
    k2 = (r / (n * lam)) * M @ X.T @ (P * Kp) @ X
    Jabs = np.abs(be.to_float(np.asarray(v["J"], dtype=object if be is not FLOAT64 else float)))
    gap = f["gap"] + _gamma(2, u) * (f["gap"] + r * A)
    propagated = np.einsum("ic,icd,ie->de", gap, Jabs, X) / (n * lam)
    return {
        "K1": 2 * _gamma(N, u) * float(k1.max()),
        "K2": 2 * _gamma(N, u) * float(k2.max()) + float(propagated.max()),
    }


def _defect(tag: str, v: dict[str, Any], be: Backend, stmt: Any = None) -> tuple[float, float]:
    s = stmt or statement(tag)
    diff = numeric(s.symbols, s.lhs - s.rhs, be)({str(x): v[str(x)] for x in s.symbols})
    return float(np.max(np.abs(be.to_float(np.asarray(diff))))), _tolerances(v, be)[tag]


@given(kernel_machines())
def test_k1_agop_kernel_expansion(m: dict[str, Any]) -> None:
    """K1: AGOP = M S_tau M, S_tau = X^T ((A A^T) o (K'^T K' / n)) X, at fitted machines."""
    err, tol = _defect("K1", _float64_sides(m), FLOAT64)
    assert err <= tol


@given(kernel_machines())
def test_k2_fact_kernel_expansion(m: dict[str, Any]) -> None:
    """K2: FACT = (r/(n lam)) M S_k', S_k' = X^T ((A A^T) o K') X, at fitted KRR machines."""
    err, tol = _defect("K2", _float64_sides(m), FLOAT64)
    assert err <= tol


@FEW
@given(kernel_machines())
def test_k1_k2_at_50_digits(m: dict[str, Any]) -> None:
    """K1, K2: the same statements at 50 digits (mpmath solve and gradients)."""
    be = mp_backend(DPS)
    v = _mp_sides(m, be)
    for tag in ("K1", "K2"):
        err, tol = _defect(tag, v, be)
        assert err <= tol < 1e-30 * (1 + float(np.max(np.abs(be.to_float(v["AGOP"])))))


def test_k2_template_is_the_derivation_claim() -> None:
    """K2: the statement's outer product (r/(n lam)) M S_k' is the record's claim at n = 3."""
    template, sub = k2_claim_template()
    at3 = template.xreplace({sub["n"]: 3, sub["M"]: sub["old_M"], sub["S_k'"]: sub["old_S"]})
    assert at3 == sub["claim"]


@pytest.fixture(scope="module")
def machine() -> dict[str, Any]:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6, 3)) / np.sqrt(3)
    B = rng.standard_normal((3, 3))
    return {"kernel": Kernel("exponential", 4.0), "X": X, "M": B.T @ B / 3 + 0.1 * np.eye(3),
            "Y": rng.standard_normal((6, 2)), "ridge": 0.1, "lam": 0.5}  # fmt: skip


@pytest.mark.parametrize("precision", ["float64", "50 digits"])
def test_mutated_statements_fail(machine: dict[str, Any], precision: str) -> None:
    """K1, K2 (quality): T replaced by K' (the planted variant of the derivation), a flipped
    sign, a missing 1/n and a transposed product all fail."""
    be = FLOAT64 if precision == "float64" else mp_backend(DPS)
    v = _float64_sides(machine) if be is FLOAT64 else _mp_sides(machine, be)
    k1, k2 = statement("K1"), statement("K2")
    s = k1.by_name()
    X, A, Kp, M = s["X"], s["A"], s["Kp"], s["M"]
    n = s["n"]
    wrong = {
        "K1": [k1.mutated(rhs=M * X.T * sp.HadamardProduct(A * A.T, Kp) * X * M, what="T=K'"),
               k1.mutated(rhs=-k1.rhs, what="sign")],
        "K2": [k2.mutated(rhs=-k2.rhs, what="sign"),
               k2.mutated(rhs=k2.rhs.xreplace({n: 1}), what="missing 1/n"),
               k2.mutated(rhs=k2.rhs.T, what="transposed")],
    }  # fmt: skip
    for tag, stmts in wrong.items():
        err, tol = _defect(tag, v, be)
        assert err <= tol
        for bad in stmts:
            err, tol = _defect(tag, v, be, bad)
            assert err > tol, (tag, bad.source)
