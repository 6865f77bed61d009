"""MINRES on symmetric (indefinite, singular, shifted) systems against dense least squares."""

from __future__ import annotations

import numpy as np
import pytest

from verify.engine.krylov import minres


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
