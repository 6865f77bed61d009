"""The share measure and alignment (S4) on known subspaces; planted wrong measures fail."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from theory._errors import InputError
from verify.emergence.measures import neuron_alignment, nfm_share, subspace_share, top_mass

D_IN, K = 20, 4
Share = Callable[[np.ndarray, np.ndarray], float]


def _frame(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """An orthonormal basis B of a k-dim subspace and one of its orthogonal complement."""
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((D_IN, D_IN)))
    return Q[:, :K], Q[:, K:]


def _properties_hold(share: Share) -> bool:
    """What a share of span(B) must satisfy, on matrices with known answers (S4)."""
    B, C = _frame()
    rng = np.random.default_rng(1)
    inside = rng.standard_normal((7, K)) @ B.T  # rows in span(B)
    outside = rng.standard_normal((7, D_IN - K)) @ C.T
    mixed = np.vstack([inside, outside])
    checks = [
        abs(share(B @ B.T, B) - 1) <= 1e-12,  # the projection itself: 1
        abs(share(C @ C.T, B)) <= 1e-12,  # the complement: 0
        abs(share(np.eye(D_IN), B) - K / D_IN) <= 1e-12,  # isotropic: k/d
        abs(share(inside.T @ inside, B) - 1) <= 1e-12,
        abs(share(5.0 * (inside.T @ inside), B) - 1) <= 1e-12,  # scale-free
        abs(share(mixed.T @ mixed, B) - np.sum(inside**2) / np.sum(mixed**2)) <= 1e-12,
    ]
    return all(checks)


def test_share_on_known_subspaces() -> None:
    """S4: tr(P S)/tr(S) is 1 on the subspace, 0 off it, k/d for I, the energy fraction else."""
    assert _properties_hold(subspace_share)


PLANTED: dict[str, Share] = {
    # projection onto the wrong subspace (the first k coordinates instead of span(B))
    "wrong subspace": lambda S, B: float(np.trace(S[:K, :K]) / np.trace(S)),
    # no normalisation by the trace
    "missing 1/tr(S)": lambda S, B: float(np.trace(B.T @ S @ B)),
    # B B^T confused with B^T B (the identity of size k)
    "transposed projector": lambda S, B: float(np.trace(S[:K, :K] @ (B.T @ B)) / np.trace(S)),
    # projecting onto the complement
    "complement": lambda S, B: float(1 - np.trace(B.T @ S @ B) / np.trace(S)),
}


@pytest.mark.parametrize("name", PLANTED)
def test_planted_wrong_measures_fail(name: str) -> None:
    """S4 (planted): each mutated share measure fails the properties the true one passes."""
    assert not _properties_hold(PLANTED[name])


def test_random_gaussian_w_has_expected_share_k_over_d() -> None:
    """S4: a Gaussian W has E[share of W^T W] = k/d exactly (Beta law); mean of 400 draws
    within 4 standard errors."""
    B, _ = _frame(2)
    rng = np.random.default_rng(3)
    vals = np.array([nfm_share(rng.standard_normal((16, D_IN)), B) for _ in range(400)])
    assert abs(vals.mean() - K / D_IN) <= 4 * vals.std(ddof=1) / np.sqrt(len(vals))


def test_nfm_share_equals_share_of_w_transpose_w() -> None:
    """S4: ||W B||^2 / ||W||^2 = tr(B^T W^T W B) / tr(W^T W)."""
    B, _ = _frame(4)
    W = np.random.default_rng(5).standard_normal((9, D_IN))
    assert abs(nfm_share(W, B) - subspace_share(W.T @ W, B)) <= 1e-13


def test_top_mass_and_alignment() -> None:
    """S4: top-k eigenvectors inside span(B) give mass 1; rows along v give cos 1."""
    B, C = _frame(6)
    S = B @ np.diag([4.0, 3.0, 2.0, 1.0]) @ B.T + 0.01 * C @ C.T
    assert abs(top_mass(S, B, K) - 1) <= 1e-12
    assert top_mass(0.01 * B @ B.T + C @ np.diag(np.arange(1.0, D_IN - K + 1)) @ C.T, B, K) < 1e-10
    v = B.sum(axis=1)
    W = np.outer([1.0, -2.0, 3.0], v)
    al = neuron_alignment(W, B, v)
    assert abs(al.median_cos - 1) <= 1e-12 and abs(al.median_share - 1) <= 1e-12
    assert al.frac_cos_above_0_9 == 1.0
    al = neuron_alignment(np.vstack([W, C[:, :3].T]), B, v)  # three orthogonal rows added
    assert al.frac_cos_above_0_9 == 0.5


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda B: subspace_share(np.eye(D_IN), 2 * B), "orthonormal"),
        (lambda B: subspace_share(np.zeros((D_IN, D_IN)), B), "positive trace"),
        (lambda B: subspace_share(np.eye(3), B), "d x k"),
        (lambda B: nfm_share(np.zeros((2, D_IN)), B), "non-zero"),
        (lambda B: neuron_alignment(np.zeros((2, D_IN)), B, B[:, 0]), "non-zero row"),
    ],
)
def test_bad_inputs(call: Callable[[np.ndarray], object], match: str) -> None:
    """S4: invalid bases and empty matrices are refused with a message naming the rule."""
    B, _ = _frame()
    with pytest.raises(InputError, match=match):
        call(B)
