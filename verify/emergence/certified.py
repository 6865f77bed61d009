"""FACT and AGOP at a certified stationary point of a network on the emergence data (F1, N1).

The schedule of :mod:`verify.emergence.schedule` stops after a fixed number of GD steps, where F1
need not hold. Here the toolkit's engine (:func:`verify.engine.train.train`: L-BFGS, then
Newton, with a
certificate that the gradient is at its rounding floor) trains a two-layer network
``x -> a^T sig(W x + b) + c`` with the mean squared error against the labels +-1 and weight decay
``lam`` on W and a (``L_lam`` of :mod:`verify.engine.network`). At a certified point F1 gives
``W^T W = FACT`` to rounding, checked by :func:`verify.claims.checks.check_fact`, so FACT's share of
span(M_A) equals the NFM's; the AGOP (N1, uncentered) is a different matrix and gets its own share.

Engine limits shape the setting (ours [R]): smooth activations (tanh here) certify directly; a
ReLU run ends on a kink (a point where L_lam is not differentiable), which the engine certifies
only after training stops there, with slopes in (0, 1) at the pinned pairs (verify/engine/kink),
and within this iteration budget it reports ``on_kink`` or ``max_iter`` and the F1 check is
INCONCLUSIVE; it has no hinge loss (MSE instead); and a dense
Hessian needs few parameters, so the width is small (8) and n a subsample (1000 by default).
The start is warm: W from the schedule's two feature-learning steps (rows of norm 1), first-layer
biases 0, and the readout (a, c) at the minimiser of L_lam with the first layer held (ridge least
squares, the convex part of the problem). Training then runs to a certified stationary point;
the start only selects which one (from a random readout, one seed in five stopped at a poor
one). Iterations are capped by count, not wall time, so the result is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from verify.claims.checks import check_fact
from verify.claims.features import layer_features
from verify.emergence.data import Dataset, Instance
from verify.emergence.measures import nfm_share, subspace_share, top_mass
from verify.emergence.schedule import Schedule, train_schedule
from verify.emergence.twolayer import value
from verify.engine.network import MLP, Problem
from verify.engine.train import train

__all__ = ["CertifiedFeatures", "certified_features"]


@dataclass(frozen=True)
class CertifiedFeatures:
    """One certified training run and the shares of its feature matrices in span(M_A)."""

    activation: str
    n: int
    width: int
    lam: float
    status: str  # the engine's status ("converged" = certified)
    reason: str
    grad_norm: float
    grad_floor: float
    fact_verdict: str  # verify.claims.checks.check_fact on the first layer and the readout
    fact_rel_error: float  # ||W^T W - FACT||_F / ||W^T W||_F, first layer
    nfm_share: float
    fact_share: float  # of (FACT + FACT^T)/2
    agop_share: float
    fact_top_mass: float  # top-k eigenspace of FACT inside span(M_A)
    agop_top_mass: float
    test_error: float

    @property
    def certified(self) -> bool:
        return self.status == "converged"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def certified_features(
    inst: Instance, train_set: Dataset, test: Dataset, rng: np.random.Generator, *,
    activation: str = "tanh", n: int = 1000, width: int = 8, lam: float = 3e-4,
    max_iter: int = 20_000,
) -> CertifiedFeatures:  # fmt: skip
    """Train on the first ``n`` training samples to a certified stationary point; measure."""
    sub = Dataset(train_set.X[:n], train_set.y[:n], train_set.bits[:n])
    model = inst.model
    mom = model.moments()
    warm = train_schedule(
        inst, sub, test,
        Schedule(activation="tanh" if activation == "tanh" else "relu", width=width,
                 row_norm=1.0, steps=0),
        rng, gamma=mom.gamma, s2=mom.s2,
    ).params  # fmt: skip
    net = MLP((model.d, width, 1), activation, bias=True)
    # the readout's start: the minimiser of L_lam over (a, c) with the first layer held, i.e.
    # ridge least squares (H^T H / n + lam I) a = H^T y / n on the warm features H
    H = np.hstack([value(activation, sub.X @ warm.W.T), np.ones((n, 1))])
    reg = n * lam * np.eye(width + 1)
    reg[-1, -1] = 0.0  # the output bias c is not decayed (decay_bias=False)
    coef = np.linalg.solve(H.T @ H + reg, H.T @ sub.y)
    theta0 = net.flatten([(warm.W, np.zeros(width)), (coef[None, :width], coef[width:])])
    problem = Problem(net, sub.X, sub.y[:, None], "mse", lam)
    res = train(problem, theta0=theta0, max_iter=max_iter, spectrum="none")
    check = check_fact(res)
    B, k = inst.M_A, model.k
    if not np.isfinite(res.theta).all():  # diverged: no feature matrices to measure
        nan = float("nan")
        return CertifiedFeatures(
            activation, n, width, lam, res.status.value, res.reason, nan, nan,
            check.verdict.value, nan, nan, nan, nan, nan, nan, nan,
        )  # fmt: skip
    feat = layer_features(problem, res.theta)[0]
    (W, b), (a, c) = net.unflatten(res.theta)
    assert b is not None and c is not None
    g = value(activation, test.X @ W.T + b) @ a[0] + c[0]
    return CertifiedFeatures(
        activation=activation, n=n, width=width, lam=lam, status=res.status.value,
        reason=res.reason, grad_norm=float(res.grad_norm), grad_floor=float(res.grad_floor),
        fact_verdict=check.verdict.value, fact_rel_error=float(feat.fact_rel_error),
        nfm_share=nfm_share(W, B), fact_share=subspace_share(feat.fact, B),
        agop_share=subspace_share(feat.agop, B), fact_top_mass=top_mass(feat.fact, B, k),
        agop_top_mass=top_mass(feat.agop, B, k),
        test_error=float(np.mean(np.sign(g) != test.y)),
    )  # fmt: skip
