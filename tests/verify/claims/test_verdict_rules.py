"""Verdict rules of the FACT and NFA checks, each guarded by a test that fails when the rule is
broken (F1, F2, N1-N3): re-checks that cannot be skipped, Pearson not cosine, tolerances as
tight as documented, the centered and the mpmath AGOP, trivial stationary points."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from theory._records import Verdict
from verify.claims import fact as fact_mod
from verify.claims import nfa as nfa_mod
from verify.claims.checks import check_f2, check_fact, check_nfa
from verify.claims.features import layer_features, nfa_score
from verify.engine.network import FLOAT64, MLP, Problem, backprop, mp_backend
from verify.engine.train import TrainResult, synthetic_problem, train


@pytest.fixture(scope="module")
def converged() -> TrainResult:
    result = train(synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0), seed=0)
    assert result.converged
    return result


# -- re-checks cannot be skipped ----------------------------------------------------------------
def _failing_refine(result: TrainResult, dps: int) -> TrainResult:
    raise RuntimeError("refinement unavailable")


def _unconverged_refine(result: TrainResult, dps: int) -> TrainResult:
    from dataclasses import replace

    from verify.engine.result import Status

    return replace(result, status=Status.MAX_ITER, reason="did not reach the floor")


@pytest.mark.parametrize("refine", [_failing_refine, _unconverged_refine])
def test_fact_refutation_needs_its_recheck(
    converged: TrainResult, refine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F1: a planted formula is REFUTED only when the higher-precision re-check confirms it; a
    re-check that fails or does not converge leaves INCONCLUSIVE (the re-check is not skipped)."""
    assert check_fact(converged, formula="sign_flipped").verdict is Verdict.REFUTED
    monkeypatch.setattr(fact_mod, "refine_mp", refine)
    out = check_fact(converged, formula="sign_flipped")
    assert out.verdict is Verdict.INCONCLUSIVE
    assert all(layer.verdict is not Verdict.REFUTED for layer in out.layers)


@pytest.mark.parametrize("refine", [_failing_refine, _unconverged_refine])
def test_nfa_refutation_needs_its_recheck(
    converged: TrainResult, refine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N2: an NFA failure is REFUTED only after the re-check; without it, INCONCLUSIVE."""
    monkeypatch.setattr(nfa_mod, "refine_mp", refine)
    out = check_nfa(converged, alpha=0.5, threshold=0.9999, layers=[1])
    assert out.verdict is Verdict.INCONCLUSIVE
    assert "not REFUTED" in out.reason


# -- Pearson decides, as stated -----------------------------------------------------------------
def test_nfa_verdict_uses_pearson_not_cosine(converged: TrainResult) -> None:
    """N3: with the threshold between the two scores, the verdict follows Pearson."""
    sc = check_nfa(converged, alpha=0.5, threshold=0.5, layers=[1]).layers[0].score
    assert abs(sc.pearson - sc.cosine) > 1e-3  # the two scores separate at this point
    mid = (sc.pearson + sc.cosine) / 2
    out = check_nfa(converged, alpha=0.5, threshold=mid, layers=[1], recheck=False)
    expected = Verdict.NUMERICALLY_CONSISTENT if sc.pearson > sc.cosine else Verdict.REFUTED
    assert out.layers[0].verdict is expected


def test_best_alpha_maximises_pearson(converged: TrainResult) -> None:
    """N3: the best exponent over the grid is the one with the largest Pearson correlation."""
    feat = layer_features(converged.problem, converged.theta)[0]
    sc = nfa_score(feat, None)
    assert sc.pearson == max(p for _, p, _ in sc.by_alpha)
    assert sc.alpha == max(sc.by_alpha, key=lambda r: r[1])[0]


# -- tolerances as tight as documented -----------------------------------------------------------
def _documented_fact_tolerance(result: TrainResult, layer: int) -> float:
    """F2 bound + (depth + 1) k u (||W||^2 + (1/(n lam)) sum_i |grad_h l_i| |h_i|), from backprop
    directly (verify/claims/common.py)."""
    pb, net = result.problem, result.problem.net
    bp = backprop(pb, result.theta)
    W, gW = bp.params[layer][0], bp.grads[layer][0]
    h, gh = bp.hs[layer], bp.grad_h[layer]
    scale = np.sum(W * W) + np.sum(np.linalg.norm(gh, axis=1) * np.linalg.norm(h, axis=1)) / (
        pb.n * pb.lam
    )
    k = pb.n + net.depth * max(net.sizes)
    u = np.finfo(np.float64).eps / 2
    return np.linalg.norm(W) * np.linalg.norm(gW) / pb.lam + (net.depth + 1) * k * u * scale


@pytest.mark.parametrize(
    ("factor", "expected"), [(100.0, Verdict.REFUTED), (0.1, Verdict.NUMERICALLY_CONSISTENT)]
)
def test_fact_tolerance_is_as_tight_as_documented(converged: TrainResult, factor: float,
                                                  expected: Verdict) -> None:  # fmt: skip
    """F1: the tolerance (F2 at the certified gradient + the propagated rounding bound,
    verify/claims/defect_bounds.py) lies between 1x and 20x the global Higham estimate
    ||W|| ||grad_W|| / lam + (depth + 1) k u scale on this well-scaled network; a FACT perturbed
    by 100x that estimate is REFUTED (a tolerance loosened 1000x would pass it), by 0.1x it is
    consistent (the tolerance is not too tight)."""
    tols = [_documented_fact_tolerance(converged, k) for k in range(2)]

    def perturbed(feat, n):  # noqa: ANN001, ANN202
        e = np.zeros_like(feat.fact)
        e[0, 0] = factor * tols[feat.layer - 1]
        return feat.fact + e

    out = check_fact(converged, formula=perturbed, recheck=False)
    assert [layer.verdict for layer in out.layers] == [expected, expected]
    for layer, tol in zip(out.layers, tols, strict=True):
        assert tol <= layer.tolerance <= 20 * tol


def test_f2_tolerance_is_as_tight_as_documented(
    converged: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F2: the residual's rounding bound lies between 1x and 20x the global estimate
    (depth + 1) k u scale here; a residual 100x that estimate is REFUTED (a bound loosened 1000x
    would pass it), 0.1x is consistent."""
    feats = layer_features(converged.problem, converged.theta)
    tols = [_documented_fact_tolerance(converged, k) - f.f2_bound for k, f in enumerate(feats)]
    bounds = fact_mod.fact_bounds(converged.problem, converged.theta, FLOAT64)
    for b, tol in zip(bounds, tols, strict=True):
        assert tol <= b.f2_residual_rounding <= 20 * tol
    for factor, expected in ((100.0, Verdict.REFUTED), (0.1, Verdict.NUMERICALLY_CONSISTENT)):
        fake = [
            type(f)(**{**f.__dict__, "f2_residual": factor * t})
            for f, t in zip(feats, tols, strict=True)
        ]
        monkeypatch.setattr(fact_mod, "layer_features", lambda *a, fake=fake, **k: fake)
        assert check_f2(converged)[0] is expected


def test_f2_residual_is_not_compared_with_itself(converged: TrainResult) -> None:
    """F2: the residual ||(W^T W - FACT) - W^T grad_W L / lam|| is computed from the gradient
    (independently re-derived here), so it is nonzero at rounding level but tiny, and it moves
    when FACT is wrong."""
    pb = converged.problem
    theta = converged.theta + 0.01  # off convergence: both terms are large
    feats = layer_features(pb, theta)
    bp = backprop(pb, theta)
    for k, f in enumerate(feats):
        W, gW = bp.params[k][0], bp.grads[k][0]
        fact = -(bp.grad_h[k].T @ bp.hs[k]) / (pb.n * pb.lam)
        resid = np.linalg.norm(W.T @ W - fact - W.T @ gW / pb.lam)
        assert f.f2_residual == pytest.approx(resid, rel=1e-6, abs=1e-15)
        assert np.linalg.norm(W.T @ gW / pb.lam) > 1e3 * max(f.f2_residual, 1e-300)


# -- the centered AGOP and the mpmath AGOP -------------------------------------------------------
def _jacobians_fd(pb: Problem, theta: np.ndarray) -> np.ndarray:
    """Input Jacobians (n, c, d) of the network output by central differences (float64)."""

    def out(X):  # noqa: ANN001, ANN202
        bp = backprop(Problem(pb.net, X, np.zeros((X.shape[0], pb.net.sizes[-1])), pb.loss,
                              pb.lam), theta)  # fmt: skip
        return bp.zs[-1]

    h = 1e-6  # why: central differences err by O(h^2) ~ 1e-12 and rounding by O(u/h) ~ 1e-10
    J = np.zeros((pb.n, pb.net.sizes[-1], pb.net.sizes[0]))
    for b in range(pb.net.sizes[0]):
        e = np.zeros(pb.net.sizes[0])
        e[b] = h
        J[:, :, b] = (out(pb.X + e) - out(pb.X - e)) / (2 * h)
    return J


def test_centered_agop_on_a_nonlinear_network(converged: TrainResult) -> None:
    """N1: the centered AGOP of a tanh network is (1/n) sum_i (J_i - Jbar)^T (J_i - Jbar), from
    finite-difference Jacobians; it differs from the uncentered AGOP by Jbar^T Jbar."""
    pb = converged.problem
    J = _jacobians_fd(pb, converged.theta)
    Jbar = J.mean(axis=0)
    agop = np.einsum("ncd,nce->de", J, J) / pb.n
    centered = np.einsum("ncd,nce->de", J - Jbar, J - Jbar) / pb.n
    feat = layer_features(pb, converged.theta)[0]
    # why 1e-7: finite-difference error ~1e-10 relative per entry, summed over n samples
    np.testing.assert_allclose(feat.agop, agop, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(feat.agop_centered, centered, rtol=1e-7, atol=1e-9)
    assert np.linalg.norm(Jbar.T @ Jbar) > 1e-2  # the two differ on this network


def test_mpmath_agop_is_computed_at_full_precision(converged: TrainResult) -> None:
    """N1: at 50 digits the AGOP of a 2-layer tanh network matches W2 diag(tanh') W1 computed
    directly in mpmath to 1e-45 (float64 anywhere in the path would leave ~1e-16)."""
    pb, be = converged.problem, mp_backend(50)
    theta = be.asarray(converged.theta)
    feat = layer_features(pb, theta, be)[0]
    (W1, _), (W2, _) = pb.net.unflatten(theta)
    X = be.asarray(pb.X)
    with mpmath.workdps(50):
        agop = np.zeros((4, 4), dtype=object) * mpmath.mpf(0)
        for i in range(pb.n):
            z = W1 @ X[i]
            slope = np.array([1 - mpmath.tanh(v) ** 2 for v in z], dtype=object)
            J = W2 @ (W1 * slope.reshape(-1, 1))
            agop = agop + J.T @ J
        agop = agop / pb.n
        err = max(abs(a - b) for a, b in zip(feat.agop.flat, agop.flat, strict=True))
        top = max(abs(a) for a in agop.flat)
    assert all(isinstance(x, mpmath.mpf) for x in feat.agop.flat)
    assert err <= 1e-45 * top


# -- trivial stationary points -------------------------------------------------------------------
def test_trivial_stationary_point_is_flagged() -> None:
    """F1, N2: one output with cross-entropy is a constant loss; the only stationary point has
    all weights zero. FACT holds as 0 = 0 (flagged trivial), the NFA is INCONCLUSIVE, never
    REFUTED."""
    pb = synthetic_problem(MLP((4, 8, 1), "tanh"), 32, loss="cross_entropy", seed=0)
    res = train(pb, seed=0)
    assert res.converged and not np.any(res.theta)
    fact = check_fact(res)
    nfa = check_nfa(res, alpha=0.5)
    assert fact.verdict is Verdict.NUMERICALLY_CONSISTENT and fact.trivial
    assert "TRIVIAL" in fact.reason
    assert nfa.verdict is Verdict.INCONCLUSIVE and nfa.trivial
    assert "trivial stationary point" in nfa.reason


# -- the formulas of layer_features against independent NumPy ----------------------------------
def test_bfact_and_fact_formulas(converged: TrainResult) -> None:
    """F1, F4: FACT = -(1/(n lam)) sum_i grad_h l_i h_i^T and bFACT = -(1/(n lam)) sum_i
    delta_i (W h_i)^T, from backprop directly (a flipped sign, n for 1/n, or lam for 1/lam fail)."""
    pb = converged.problem
    theta = converged.theta + 0.05  # off convergence: FACT and W^T W differ
    bp = backprop(pb, theta)
    for k, f in enumerate(layer_features(pb, theta)):
        W, h, gh, delta = bp.params[k][0], bp.hs[k], bp.grad_h[k], bp.deltas[k]
        np.testing.assert_allclose(f.fact, -(gh.T @ h) / (pb.n * pb.lam), rtol=1e-12)
        np.testing.assert_allclose(f.bfact, -(delta.T @ (h @ W.T)) / (pb.n * pb.lam), rtol=1e-12)
        np.testing.assert_allclose(f.nfm, W.T @ W, rtol=1e-14)
        gram = W @ W.T
        assert f.bfact_rel_error == pytest.approx(
            np.linalg.norm(gram - f.bfact) / np.linalg.norm(gram), rel=1e-10
        )


def test_symmetrized_and_psd_fact(converged: TrainResult) -> None:
    """F5: (FACT + FACT^T)/2 and (FACT FACT^T)^(1/2) as defined, off convergence where FACT is
    not symmetric (so a dropped transpose or a missing 1/2 changes them)."""
    pb = converged.problem
    for f in layer_features(pb, converged.theta + 0.05):
        assert f.fact_asymmetry > 1e-3
        np.testing.assert_allclose(f.fact_sym(), (f.fact + f.fact.T) / 2, rtol=1e-14)
        w, v = np.linalg.eigh(f.fact @ f.fact.T)
        root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
        np.testing.assert_allclose(f.fact_psd(), root, rtol=1e-7, atol=1e-9 * np.abs(root).max())
        np.testing.assert_allclose(f.fact_psd() @ f.fact_psd(), f.fact @ f.fact.T, rtol=1e-8,
                                   atol=1e-12 * np.abs(f.fact @ f.fact.T).max())  # fmt: skip


def test_features_without_weight_decay(converged: TrainResult) -> None:
    """N1: at lam = 0 FACT is undefined (NaN, never a division error) while W^T W and the AGOP
    are computed, in float64 and in mpmath."""
    pb = converged.problem
    zero = Problem(pb.net, pb.X, pb.Y, pb.loss, 0.0)
    for be in (None, mp_backend(20)):
        theta = converged.theta if be is None else be.asarray(converged.theta)
        feats = layer_features(zero, theta) if be is None else layer_features(zero, theta, be)
        for f in feats:
            assert all(x != x for x in np.asarray(f.fact, dtype=float).flat)  # NaN
            assert np.isfinite(np.asarray(f.agop, dtype=float)).all()
            assert np.linalg.norm(np.asarray(f.nfm, dtype=float)) > 0


def test_correlation_definitions_and_precision() -> None:
    """N3: Pearson and cosine as defined, 'defined' False exactly when Pearson is 0/0, and the
    scores computed at the backend's precision."""
    from verify.claims.features import correlation

    a = np.array([[1.0, 2.0], [3.0, 5.0]])
    b = np.array([[2.0, 1.0], [4.0, 4.0]])
    c = correlation(a, b)
    ac, bc = a - a.mean(), b - b.mean()
    assert c.defined and c.pearson == pytest.approx(
        np.sum(ac * bc) / np.linalg.norm(ac) / np.linalg.norm(bc), rel=1e-14
    )
    assert c.cosine == pytest.approx(np.sum(a * b) / np.linalg.norm(a) / np.linalg.norm(b))
    flat = correlation(np.ones((2, 2)), b)
    assert not flat.defined and flat.pearson == 0.0 and flat.cosine > 0
    assert not correlation(np.zeros((2, 2)), np.zeros((2, 2))).defined
    be = mp_backend(50)
    with be.working():
        am, bm = be.asarray(a), be.asarray(b)
        cm = correlation(am, bm, be)
        exact = mpmath.mpf(np.sum((am - np.mean(am)) * (bm - np.mean(bm)))) / (
            mpmath.sqrt(np.sum((am - np.mean(am)) ** 2))
            * mpmath.sqrt(np.sum((bm - np.mean(bm)) ** 2))
        )
        assert abs(mpmath.mpf(cm.pearson) - exact) < 1e-15  # floats returned, computed in mpmath
        cos = np.sum(am * bm) / (mpmath.sqrt(np.sum(am * am)) * mpmath.sqrt(np.sum(bm * bm)))
        assert cm.cosine == float(cos)


def test_nfa_score_defaults_and_choices(converged: TrainResult) -> None:
    """N2, N3: by default alpha = 0.5 on the uncentered AGOP; a given alpha is not searched;
    an empty grid is refused."""
    from theory._errors import InputError

    feat = layer_features(converged.problem, converged.theta)[0]
    sc = nfa_score(feat)
    assert sc.alpha == 0.5 and not sc.searched and not sc.centered and sc.by_alpha[0][0] == 0.5
    assert sc.layer == 1 and sc.defined and not sc.trivial
    assert nfa_score(feat, 1.0).by_alpha == ((1.0, *nfa_score(feat, 1.0).by_alpha[0][1:]),)
    assert nfa_score(feat, centered=True).centered
    with pytest.raises(InputError, match="grid must contain at least one exponent"):
        nfa_score(feat, None, grid=())
