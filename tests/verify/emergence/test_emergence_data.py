"""The data model (S1, S2): exact moments against closed forms, samples against the moments."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from theory._errors import InputError
from verify.emergence.data import EmergenceModel, Instance

MODELS = [
    EmergenceModel(),
    EmergenceModel(d=40, D=20, k=3, p_o=0.3, p_aligned=0.8),
    EmergenceModel(d=30, D=30, k=7, p_o=0.1, p_aligned=0.2, labels="majority"),
    EmergenceModel(d=16, D=9, k=5, p_o=0.5, p_aligned=1.0, labels="majority"),
]


def _gamma_closed_form(m: EmergenceModel) -> float:
    """A1 by hand: the aligned part gives q/2; for majority the uniform part adds
    Pr[Bin(k-1, 1/2) = (k-1)/2] / 2 (bit j decides the vote exactly when the others tie)."""
    q = m.p_aligned
    if m.labels == "parity":
        return q / 2
    return q / 2 + (1 - q) * math.comb(m.k - 1, (m.k - 1) // 2) / 2**m.k


@pytest.mark.parametrize("m", MODELS, ids=lambda m: f"{m.labels}-k{m.k}-q{m.p_aligned}")
def test_exact_moments_match_closed_forms(m: EmergenceModel) -> None:
    """S1 (A0, A1) and S2: enumerated moments equal the closed forms."""
    mom = m.moments()
    tol = 2**m.k * 16 * np.finfo(float).eps  # why: sums of 2^k products of numbers <= 1
    assert abs(mom.p_plus - 0.5) <= tol  # A0
    assert abs(mom.gamma - _gamma_closed_form(m)) <= tol  # A1
    assert mom.gamma > 0
    assert abs(mom.s2 - (m.k / 4 + (m.D - m.k) * m.p_o * (1 - m.p_o))) <= tol  # S2
    assert mom.p_background == m.p_o  # A2


def test_labels_follow_the_set_p() -> None:
    """S1: y = +1 iff sum_A phi~_j is in P (odd numbers for parity, > k/2 for majority)."""
    for labels, in_p in (("parity", lambda s: s % 2 == 1), ("majority", lambda s: s > 5 / 2)):
        m = EmergenceModel(k=5, labels=labels)
        codes = np.array(list(itertools.product((0.0, 1.0), repeat=5)))
        want = np.array([1.0 if in_p(int(c.sum())) else -1.0 for c in codes])
        assert np.array_equal(m.label_rule(codes), want)


def test_control_has_no_correlation_for_parity() -> None:
    """S1 (A1'): the control law makes every relevant pattern uncorrelated with y (gamma = 0)."""
    mom = EmergenceModel().moments(control=True)
    assert abs(mom.gamma) <= 1e-15 and mom.p_background == 0.5
    assert abs(mom.s2 - 32 / 4) <= 1e-13  # S2 for the control: s0^2 = D/4


@pytest.mark.parametrize("m", MODELS[:3], ids=["default", "k3", "majority"])
def test_samples_obey_a0_a1_a2_and_s2(m: EmergenceModel) -> None:
    """S1, S2: sample moments within 4 standard errors of the exact ones (fixed seed)."""
    rng = np.random.default_rng(0)
    inst = Instance.draw(m, rng)
    n = 40_000
    data = inst.sample(n, rng)
    mom = m.moments()
    bg = np.setdiff1d(np.arange(m.D), inst.A)
    assert abs(np.mean(data.y)) <= 4 / math.sqrt(n)  # A0
    rel = data.bits[:, inst.A]
    cov = np.mean(data.y[:, None] * rel, axis=0) - np.mean(data.y) * rel.mean(axis=0)
    assert np.all(np.abs(cov - mom.gamma) <= 4 / math.sqrt(n))  # A1, |y phi| <= 1
    rate = data.bits[:, bg].mean()
    assert abs(rate - m.p_o) <= 4 * math.sqrt(m.p_o * (1 - m.p_o) / (n * len(bg)))  # A2
    corr = np.corrcoef(data.bits.T)[np.ix_(bg, np.arange(m.D))] - np.eye(m.D)[bg]
    # why 5 SE: the maximum of |bg| * D roughly N(0, 1/n) correlations (A2 independence)
    assert np.max(np.abs(corr)) <= 5 / math.sqrt(n)
    sq = np.sum(data.X**2, axis=1)
    assert abs(sq.mean() - 1.0) <= 4 * sq.std() / math.sqrt(n)  # S2: E ||x||^2 = 1
    assert np.abs(data.X.mean(axis=0)).max() <= 5 / math.sqrt(n)  # centred


def _normalised(X: np.ndarray) -> bool:
    """The S2 check of the test above, as a predicate (for the planted variant below)."""
    sq = np.sum(X**2, axis=1)
    return bool(abs(sq.mean() - 1.0) <= 4 * sq.std() / math.sqrt(len(sq)))


def test_planted_wrong_normalisation_is_caught() -> None:
    """S2 (planted): dividing by s^2 instead of s, or forgetting the k relevant variances, fails
    the sample check that the true normalisation passes."""
    m = EmergenceModel()
    rng = np.random.default_rng(1)
    data = Instance.draw(m, rng).sample(20_000, rng)
    s = math.sqrt(m.moments().s2)
    assert _normalised(data.X)
    assert not _normalised(data.X / s)  # divided by s^2
    s_wrong = math.sqrt((m.D - m.k) * m.p_o * (1 - m.p_o))  # relevant variances dropped
    assert not _normalised(data.X * s / s_wrong)


def test_dictionary_is_orthonormal_and_a_is_a_subset() -> None:
    """S1: M has orthonormal columns, A has k distinct sorted indices, the direction is unit."""
    m = EmergenceModel()
    inst = Instance.draw(m, np.random.default_rng(3))
    assert np.abs(inst.M.T @ inst.M - np.eye(m.D)).max() <= 1e-13
    assert len(set(inst.A.tolist())) == m.k and np.all(np.diff(inst.A) > 0)
    assert abs(np.linalg.norm(inst.direction) - 1) <= 1e-14


def test_inputs_lie_in_the_span_of_the_patterns() -> None:
    """S1: without noise x = M phi; with noise the inputs leave span(M)."""
    m = EmergenceModel()
    rng = np.random.default_rng(4)
    inst = Instance.draw(m, rng)
    X = inst.sample(100, rng).X
    assert np.abs(X - X @ inst.M @ inst.M.T).max() <= 1e-13
    noisy = Instance(EmergenceModel(noise=0.5), inst.M, inst.A).sample(100, rng).X
    assert np.abs(noisy - noisy @ inst.M @ inst.M.T).max() > 0.05


def test_same_seed_same_data() -> None:
    """S1: the draw and the samples are reproducible for a seed."""
    m = EmergenceModel()
    a = Instance.draw(m, np.random.default_rng(5))
    b = Instance.draw(m, np.random.default_rng(5))
    assert np.array_equal(a.M, b.M) and np.array_equal(a.A, b.A)
    assert np.array_equal(
        a.sample(50, np.random.default_rng(6)).X, b.sample(50, np.random.default_rng(6)).X
    )


BAD = [
    ({"k": 4}, "k must be odd"),
    ({"k": 9, "D": 8}, "k must be <= D"),
    ({"D": 70}, "D must be <= d"),
    ({"p_o": 0.7}, r"p_o must be in \(0, 1/2\]"),
    ({"p_o": 0.0}, "p_o must be"),
    ({"p_aligned": 0.0}, "gamma > 0"),
    ({"p_aligned": 1.5}, "p_aligned must be in"),
    ({"labels": "xor"}, "labels must be one of"),
    ({"noise": -1.0}, "noise must be"),
    ({"d": 0}, "d must be an integer >= 1"),
    ({"k": 17, "D": 20, "d": 20}, "k must be <= 16"),
    ({"k": 2.5}, "k must be an integer"),
]


@pytest.mark.parametrize("kwargs,match", BAD, ids=[m for _, m in BAD])
def test_bad_parameters_are_refused(kwargs: dict[str, object], match: str) -> None:
    """S1: each assumption (A0, A1, A2) or size rule broken gives an error naming it."""
    with pytest.raises(InputError, match=match):
        EmergenceModel(**kwargs)  # type: ignore[arg-type]


def test_bad_sample_size() -> None:
    """S1: n must be a positive integer."""
    inst = Instance.draw(EmergenceModel(), np.random.default_rng(0))
    with pytest.raises(InputError, match="n must be a positive integer"):
        inst.sample(0, np.random.default_rng(0))
