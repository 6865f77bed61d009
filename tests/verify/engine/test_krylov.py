"""MINRES on symmetric (indefinite, singular, shifted) systems against dense least squares;
preconditioned CG on positive definite ones against a dense solve."""

from __future__ import annotations

import numpy as np
import pytest

from verify.engine.krylov import minres, pcg


@pytest.mark.parametrize("kind", ["spd", "indefinite", "singular"])
@pytest.mark.parametrize("shift", [0.0, -0.1])
def test_minres_solves_symmetric_systems(kind: str, shift: float) -> None:
    """F1 (certification, Newton): MINRES's x agrees with the dense solution of
    (A - shift I) x = b, and the residual it reports is the true one."""
    rng = np.random.default_rng(7)
    p = 60
    Q, _ = np.linalg.qr(rng.standard_normal((p, p)))
    ev = np.linspace(1e-3, 2.0, p)
    if kind == "indefinite":
        ev[:10] *= -1
    if kind == "singular":
        ev[:5] = 0.0
    A = (Q * ev) @ Q.T
    b = A @ rng.standard_normal(p) if kind == "singular" else rng.standard_normal(p)
    M = A - shift * np.eye(p)
    x, iters, rel = minres(lambda v: A @ v, b, rtol=1e-12, maxiter=500, shift=shift)
    true_rel = np.linalg.norm(b - M @ x) / np.linalg.norm(b)
    assert rel <= 1e-12 and abs(true_rel - rel) <= 1e-12 and iters <= p + 5
    expected = np.linalg.lstsq(M, b, rcond=None)[0]
    if kind != "singular" or shift != 0.0:  # a singular system: any solution, residual checked
        assert np.allclose(x, expected, rtol=1e-8, atol=1e-8 * np.abs(expected).max())


def test_minres_stops_at_maxiter_and_on_zero_rhs() -> None:
    """F1 (certification, Newton): the iteration cap and b = 0 are handled without dividing by 0."""
    A = np.diag(np.logspace(-6, 0, 100))
    x, iters, rel = minres(lambda v: A @ v, np.ones(100), rtol=1e-14, maxiter=5)
    assert iters == 5 and 0 < rel < 1
    x, iters, rel = minres(lambda v: A @ v, np.zeros(100), rtol=1e-10, maxiter=5)
    assert iters == 0 and rel == 0.0 and not x.any()


@pytest.mark.parametrize("preconditioner", ["none", "diagonal", "nearby"])
def test_pcg_solves_positive_definite_systems(preconditioner: str) -> None:
    """F1 (certification, Newton): preconditioned CG's x agrees with the dense solution of
    A x = b, its reported residual is the true one, and a preconditioner near A (the
    factorization of a nearby matrix, as Newton keeps it) needs far fewer iterations than
    none (a wrong sign, a transposed update or a lost preconditioner fails it)."""
    rng = np.random.default_rng(3)
    p = 80
    Q, _ = np.linalg.qr(rng.standard_normal((p, p)))
    A = (Q * np.geomspace(1e-4, 1.0, p)) @ Q.T
    near = A + 1e-3 * np.diag(rng.uniform(1e-4, 1e-3, p))
    inverse = {"none": np.eye(p), "diagonal": np.diag(1 / np.diag(A)),
               "nearby": np.linalg.inv(near)}[preconditioner]  # fmt: skip
    b = rng.standard_normal(p)
    x, iters, rel = pcg(lambda v: A @ v, b, lambda r: inverse @ r, rtol=1e-10, maxiter=500)
    true_rel = np.linalg.norm(b - A @ x) / np.linalg.norm(b)
    assert rel <= 1e-10 and abs(true_rel - rel) <= 1e-11
    expected = np.linalg.solve(A, b)
    assert np.allclose(x, expected, rtol=0, atol=1e-5 * np.abs(expected).max())
    if preconditioner == "nearby":
        assert iters <= 8
    else:
        assert iters > 20


def test_pcg_stops_at_negative_curvature() -> None:
    """F1 (certification, Newton): on an indefinite A, CG stops at the first direction of
    non-positive curvature and returns the iterate so far (the caller's trial test decides)."""
    A = np.diag([1.0, -1.0])
    x, iters, _ = pcg(lambda v: A @ v, np.array([0.0, 1.0]), lambda r: r, rtol=1e-12, maxiter=5)
    assert iters == 0 and np.array_equal(x, [0.0, 0.0])
