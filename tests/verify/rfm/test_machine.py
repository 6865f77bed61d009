"""Kernel machines, KRR, input gradients, AGOP/FACT of a kernel machine and the RFM updates."""

from __future__ import annotations

import numpy as np
import pytest

from theory._errors import InputError, OutsideAssumptionsError
from verify.rfm import machine as R
from verify.rfm.kernels import KERNEL_KINDS, Kernel, KernelMachine, fit_krr

EPS = float(np.finfo(np.float64).eps)
KERNELS = [
    Kernel("laplace", 2.0),
    Kernel("gaussian", 1.5),
    Kernel("exponential", 3.0),
    Kernel("polynomial", 2.0, 3),
]


def _problem(seed: int = 0, n: int = 25, d: int = 4, c: int = 3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) / np.sqrt(d)
    Y = rng.standard_normal((n, c))
    W = rng.standard_normal((d, d))
    return X, Y, W.T @ W / d


def _explicit_agop(machine: KernelMachine, centered: bool = False) -> np.ndarray:
    J = machine.gradient(machine.X, same=True)
    if centered:
        J = J - J.mean(axis=0)
    return np.einsum("lca,lcb->ab", J, J) / J.shape[0]  # N1, entry by entry


def _f1_fact(machine: KernelMachine, Y: np.ndarray, lam: float) -> np.ndarray:
    """F1 literally: -(1/(n lam)) sum_i grad_x l_i x_i^T with residuals from the predictor."""
    resid = machine.predict(machine.X) - Y
    J = machine.gradient(machine.X, same=True)
    return -np.einsum("ic,icd,ie->de", resid, J, machine.X) / (machine.X.shape[0] * lam)


def _close(a: np.ndarray, b: np.ndarray, terms: int) -> bool:
    # Why: both sides are sums of the same `terms` products in a different order; float64
    # rounding is at most terms * eps times the size of the summands (Higham gamma_N), and the
    # summands are bounded by the largest entry times `terms` here (well-scaled data).
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), 1.0)
    return bool(np.max(np.abs(a - b)) <= 4 * terms * EPS * scale * terms)


# -- kernels and gradients --------------------------------------------------------------------
@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.kind)
def test_gradient_matches_finite_differences(kernel: Kernel) -> None:
    """N1: closed-form input gradients of f agree with central differences (away from centres)."""
    X, Y, M = _problem(1)
    machine = fit_krr(X, Y, kernel=kernel, M=M, ridge=0.1)
    Z = np.random.default_rng(2).standard_normal((4, X.shape[1]))
    J = machine.gradient(Z)
    h = 1e-5
    fd = np.stack(
        [
            (machine.predict(Z + h * e) - machine.predict(Z - h * e)) / (2 * h)
            for e in np.eye(X.shape[1])
        ],
        axis=-1,
    )
    # Why: central differences err by O(h^2 f''') (truncation) + O(eps |f| / h) (rounding);
    # with h = 1e-5 and |f|, |f'''| = O(|alpha|) = O(10) that is ~1e-9; 1e-6 leaves margin
    # while a wrong factor (sign, 1/L, M) would be off by O(1).
    assert np.max(np.abs(J - fd)) <= 1e-6 * max(1.0, np.max(np.abs(J)))
    assert np.max(np.abs(J)) > 1e-2  # not vacuous


def test_laplace_self_term_rule() -> None:
    """N1: Laplace gradient at a centre excludes the self term (min-norm Clarke gradient)."""
    X, Y, M = _problem(3, n=8)
    machine = fit_krr(X, Y, kernel=Kernel("laplace", 2.0), M=M, ridge=0.1)
    J = machine.gradient(X, same=True)
    i = 2
    others = [j for j in range(8) if j != i]
    part = KernelMachine(machine.kernel, M, X[others], machine.alpha[others], 0.1, "cholesky")
    assert np.allclose(J[i], part.gradient(X[i : i + 1])[0], rtol=0, atol=1e-13)
    # the rule is the average of the one-sided derivatives in +v and -v (the cone cancels)
    v = np.random.default_rng(4).standard_normal(X.shape[1])
    h = 1e-4  # the self term exp(-h |v|_M / L) is even in h, so it cancels for any h
    two_sided = machine.predict(X[i : i + 1] + h * v) - machine.predict(X[i : i + 1] - h * v)
    assert np.allclose(two_sided[0] / (2 * h), J[i] @ v, atol=1e-6)


def test_zero_distance_pairs_detected_without_same_flag() -> None:
    """N1: a query equal to a centre (same=False) gets the same self-term rule."""
    X, Y, M = _problem(5, n=6)
    machine = fit_krr(X, Y, kernel=Kernel("laplace", 2.0), M=M, ridge=0.1)
    assert np.allclose(machine.gradient(X.copy()), machine.gradient(X, same=True), atol=1e-13)


# -- KRR ----------------------------------------------------------------------------------------
def test_krr_cholesky_and_residual_identity() -> None:
    """K2 (residual identity): at ridge r > 0 the Cholesky fit has f(x_i) - y_i = -r alpha_i."""
    X, Y, M = _problem(6)
    machine = fit_krr(X, Y, kernel=Kernel("gaussian", 1.0), M=M, ridge=0.3)
    assert machine.solver == "cholesky"
    resid = machine.predict(X) - Y
    # Why: Cholesky is backward stable, so the defect is a few n eps |K| |alpha|.
    bound = 8 * X.shape[0] * EPS * (np.max(np.abs(machine.alpha)) * X.shape[0] + np.max(abs(Y)))
    assert np.max(np.abs(resid + 0.3 * machine.alpha)) <= bound
    assert np.max(np.abs(resid - 0.3 * machine.alpha)) > 1e3 * bound  # sign matters


def test_krr_fallback_on_duplicates_at_ridge_zero() -> None:
    """K2 (residual identity): duplicated points at ridge 0 fall back to the eigh pseudo-inverse."""
    X, Y, M = _problem(7, n=10)
    X[5] = X[4]
    Y[5] = Y[4]
    machine = fit_krr(X, Y, kernel=Kernel("laplace", 2.0), M=M, ridge=0.0)
    assert machine.solver == "eigh-pinv"
    # consistent duplicated targets: the minimum-norm solution still interpolates
    assert np.max(np.abs(machine.predict(X) - Y)) < 1e-8
    assert np.allclose(machine.alpha[4], machine.alpha[5], atol=1e-8)


def test_krr_vector_targets() -> None:
    """K2: a 1-D target becomes one output column."""
    X, Y, M = _problem(8)
    machine = fit_krr(X, Y[:, 0], M=M, ridge=0.1)
    assert machine.alpha.shape == (X.shape[0], 1)


# -- AGOP and FACT of a kernel machine ----------------------------------------------------------
@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.kind)
@pytest.mark.parametrize("centered", [False, True])
def test_agop_closed_form_both_routes(kernel: Kernel, centered: bool) -> None:
    """K1: closed-form AGOP (direct and pair routes) equals the explicit per-point AGOP."""
    X, Y, M = _problem(9, n=12, d=3, c=5)
    machine = fit_krr(X, Y, kernel=kernel, M=M, ridge=0.05)
    explicit = _explicit_agop(machine, centered)
    _, G = kernel.matrix_and_weights(X, X, M, same=True)
    for route in ("direct", "pairs"):
        closed = R._agop(machine, X, G, centered, route)
        assert _close(closed, explicit, 12 * 5 + 6), route
    assert np.max(np.abs(explicit)) > 1e-3
    # planted: forgetting the 1/n or the M on one side is far outside rounding
    assert not _close(closed * 12, explicit, 66)
    assert not _close(closed @ np.linalg.inv(M), explicit, 66)


def test_agop_at_other_points() -> None:
    """N1: AGOP at new points from the closed form equals the explicit per-point sum."""
    X, Y, M = _problem(10)
    machine = fit_krr(X, Y, kernel=Kernel("gaussian", 1.0), M=M, ridge=0.1)
    P = np.random.default_rng(11).standard_normal((7, X.shape[1]))
    J = machine.gradient(P)
    assert _close(R.agop(machine, P), np.einsum("lca,lcb->ab", J, J) / 7, 100)


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.kind)
def test_fact_alpha_route_equals_f1(kernel: Kernel) -> None:
    """K2: FACT through alpha, (r/(n lam)) M S, equals F1 with the predictor's residuals."""
    X, Y, M = _problem(12)
    machine = fit_krr(X, Y, kernel=kernel, M=M, ridge=0.2)
    lam = 0.7
    f1 = _f1_fact(machine, Y, lam)
    fact = R.kernel_fact(machine, lam=lam)
    assert _close(fact, f1, 25 * 3 + 8)
    assert np.max(np.abs(fact)) > 1e-3
    n = X.shape[0]
    assert not _close(-fact, f1, 83)  # flipped sign
    assert not _close(fact * n, f1, 83)  # missing 1/n
    assert not _close(fact.T, f1, 83)  # transposed (FACT is not symmetric)


def test_fact_direction_defined_at_ridge_zero() -> None:
    """K2: at ridge 0 FACT vanishes, but its direction M S / n through alpha does not."""
    X, Y, M = _problem(13)
    machine = fit_krr(X, Y, kernel=Kernel("laplace", 2.0), M=M, ridge=0.0)
    assert np.all(R.kernel_fact(machine, lam=1.0) == 0)
    direction = R.kernel_fact(machine)
    assert np.max(np.abs(direction)) > 1e-3
    # the direction is continuous in the ridge: small-ridge FACT * lam / r approaches it
    small = fit_krr(X, Y, kernel=Kernel("laplace", 2.0), M=M, ridge=1e-9)
    assert np.allclose(R.kernel_fact(small, lam=1.0) / 1e-9, direction, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kernel", KERNELS[2:], ids=lambda k: k.kind)
@pytest.mark.parametrize("ridge", [1e-2, 1.0])
def test_numeric_kernel_expansion(kernel: Kernel, ridge: float) -> None:
    """K1, K2, residual identity in float64 within derived rounding bounds; FACT M symmetric."""
    X, Y, M = _problem(14, n=40, d=5)
    machine = fit_krr(X, Y, kernel=kernel, M=M, ridge=ridge)
    checks = R.check_kernel_expansion(machine, Y, lam=0.5)
    assert all(v["ok"] for v in checks.values()), checks
    FM = R.kernel_fact(machine) @ M
    assert _close(FM, FM.T, 200)
    # the bounds are tight enough to catch a planted missing 1/n in K2
    fact = R.kernel_fact(machine, lam=0.5)
    assert np.max(np.abs(fact)) * (1 - 1 / 40) > 1e3 * checks["K2"]["tolerance"]


def test_kernel_expansion_outside_assumptions() -> None:
    """K1: the numeric K1/K2 check refuses distance kernels (they are not k(x^T M z))."""
    X, Y, M = _problem(15)
    machine = fit_krr(X, Y, kernel=Kernel("laplace", 2.0), M=M, ridge=0.1)
    with pytest.raises(OutsideAssumptionsError, match="inner-product kernels"):
        R.check_kernel_expansion(machine, Y)


def test_tau_kprime_r2() -> None:
    """K3: R^2 of tau vs k' is in [0, 1] for inner-product kernels and None otherwise."""
    X, Y, M = _problem(16)
    ip = fit_krr(X, Y, kernel=Kernel("exponential", 2.0), M=M, ridge=0.1)
    r2 = R.tau_kprime_r2(ip)
    assert r2 is not None and 0 <= r2 <= 1
    assert R.tau_kprime_r2(fit_krr(X, Y, M=M, ridge=0.1)) is None
    agree = R.feature_agreement(ip)
    assert -1 <= agree["pearson_nfa_vs_fact"] <= 1 and agree["k3_r2_tau_vs_kprime"] == r2


# -- updates ------------------------------------------------------------------------------------
def _well_conditioned(seed: int, d: int = 5, kappa: float = 4.0) -> np.ndarray:
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return (Q * np.linspace(1.0, kappa, d)) @ Q.T


def test_fixed_points() -> None:
    """RFM: M = FACT is a fixed point of fact, fact-geometric, fact-inner; AGOP = M^{1/s} of nfa."""
    M = _well_conditioned(17)
    res = R.fixed_point_residuals(M)
    # Why: eigh is backward stable (eigenvalue errors <= d eps lambda_max); a p-th root of an
    # eigenvalue mu = lambda^p amplifies that by lambda_max^p / (p lambda^p), i.e. kappa^(p-1);
    # p <= 4 and kappa = 4 here, so d eps kappa^3 (times a safety 16) bounds every method.
    tol = 16 * 5 * EPS * 4.0**3
    assert set(res) == {"nfa", "fact", "fact-geometric", "fact-inner"}
    assert max(res.values()) <= tol, res
    assert R.fixed_point_residuals(M, s=1.0)["nfa"] <= tol


def test_wrong_exponents_are_not_fixed_points() -> None:
    """RFM quality tier: (FACT FACT^T)^{1/4} or (FACT M^2 FACT^T)^{1/2} move M = FACT."""
    M = _well_conditioned(18)
    target = R.normalize_metric(M)
    wrong = [
        R.normalize_metric(R.psd_power(M @ M, 0.25)),
        R.normalize_metric(R.psd_power(M @ M @ M @ M, 0.5)),
        R.normalize_metric(R.psd_power(M @ M, 1.0)),
    ]
    for W in wrong:
        assert np.linalg.norm(W - target) / np.linalg.norm(target) > 1e-2


def test_updates_scale_free_and_normalised() -> None:
    """RFM: updates ignore a positive scale of FACT (r/lam) and have top eigenvalue 1."""
    X, Y, M = _problem(19)
    machine = fit_krr(X, Y, kernel=Kernel("exponential", 2.0), M=M, ridge=0.1)
    F = R.kernel_fact(machine)
    for method in ("fact", "fact-geometric", "fact-inner"):
        A = R.feature_update(method, M, fact=F)
        B = R.feature_update(method, M, fact=37.0 * F)
        assert np.allclose(A, B, atol=1e-12)
        assert abs(np.linalg.eigvalsh(A)[-1] - 1.0) < 1e-12
        assert np.linalg.eigvalsh(A)[0] > -1e-12


def test_psd_power_clips_negative_eigenvalues() -> None:
    """N3: matrix powers clip negative eigenvalues to 0."""
    A = np.diag([4.0, -1.0, 0.0])
    assert np.allclose(R.psd_power(A, 0.5), np.diag([2.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="no positive eigenvalue"):
        R.normalize_metric(np.zeros((2, 2)))


def test_rfm_loop_history_and_kernel_method() -> None:
    """RFM: the loop records iters + 1 fits; method 'kernel' is a single plain fit."""
    X, Y, M = _problem(20, n=30)
    seen = []
    out = R.rfm(
        X,
        Y,
        method="fact",
        iters=3,
        ridge=0.1,
        kernel=Kernel("laplace", 2.0),
        X_test=X[:5],
        Y_test=Y[:5],
        on_iter=lambda t, m, rec: seen.append(t),
    )
    assert seen == [0, 1, 2, 3] and len(out.test_acc) == 4
    assert abs(np.linalg.eigvalsh(out.M)[-1] - 1.0) < 1e-12
    plain = R.rfm(X, Y, method="kernel", iters=3, ridge=0.1)
    assert len(plain.train_acc) == 1 and np.allclose(plain.M, np.eye(X.shape[1]))
    assert out.to_dict()["iterations"] == 3


# -- bad input ----------------------------------------------------------------------------------
X0, Y0, M0 = _problem(0, n=6, d=3, c=1)
BAD = [
    (lambda: Kernel("cosine"), "kernel must be one of"),
    (lambda: Kernel("laplace", 0.0), "bandwidth must be a finite number > 0"),
    (lambda: Kernel("polynomial", 1.0, 0), "degree must be an integer >= 1"),
    (lambda: fit_krr(X0, Y0, ridge=-1.0), "ridge must be a finite number >= 0"),
    (lambda: fit_krr(X0, Y0[:4]), "Y must have 6 rows"),
    (lambda: fit_krr(X0[0], Y0), "X must be a non-empty 2-D array"),
    (lambda: fit_krr(X0 * np.nan, Y0), "X must contain only finite numbers"),
    (lambda: fit_krr(X0, Y0, M=np.eye(4)), "M must be 3 x 3"),
    (lambda: fit_krr(X0, Y0, M=np.triu(np.ones((3, 3)))), "M must be symmetric"),
    (lambda: fit_krr(X0, Y0, M=-np.eye(3)), "M must be positive semidefinite"),
    (lambda: R.rfm(X0, Y0, method="adam"), "method must be one of"),
    (lambda: R.rfm(X0, Y0, iters=-1), "iters must be an integer >= 0"),
    (lambda: R.rfm(X0, Y0, s=0.0), r"s must be in \(0, 4\]"),
    (lambda: R.rfm(X0, Y0, X_test=X0), "X_test/Y_test must be given together"),
    (lambda: R.rfm(X0, Y0, X_test=X0[:, :2], Y_test=Y0), "X_test must have 3 columns"),
    (lambda: R.kernel_fact(fit_krr(X0, Y0, ridge=0.1), lam=0.0), "lam must be > 0 for FACT"),
]


@pytest.mark.parametrize(("call", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_input(call, message: str) -> None:
    """RFM: every bad input names the argument, the rule, the value and a fix."""
    with pytest.raises(InputError, match=message) as info:
        call()
    assert "got" in str(info.value)


def test_kernel_kinds_listed() -> None:
    """RFM: every listed kernel kind builds and evaluates to a symmetric training Gram matrix."""
    X, _, M = _problem(21, n=5)
    for kind in KERNEL_KINDS:
        K = Kernel(kind, 2.0).matrix(X, X, M, same=True)
        assert np.allclose(K, K.T, atol=1e-13)
