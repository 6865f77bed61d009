"""Every field of the layer features against an independent oracle (N1, F1, F2, F4, F5).

The oracle shares no code with :mod:`verify.engine.backprop` or :mod:`verify.claims.features`:
it runs one sample at a time through its own forward pass in mpmath at 40 digits and takes
every derivative (grad_h l_i, delta_i = dl_i/dz, the input Jacobians J_i, grad_W L_lam) by
central differences of that forward pass, then forms the matrices from the definitions in the
module docstring of :mod:`verify.claims.features`, entry by entry. The point is NOT stationary,
so FACT is asymmetric, grad_W is far from zero and every summary is a number of its own.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from verify.claims import features
from verify.claims.features import LayerFeatures, layer_features
from verify.engine.network import FLOAT64, MLP, Problem, mp_backend

DPS = 40
#: central-difference step: truncation error ~ STEP^2 |f'''| ~ 1e-24, cancellation error
#: ~ 10^-DPS / STEP = 1e-28; both far below every tolerance used here
STEP = mpmath.mpf("1e-12")
#: float64 against the oracle. Why 1e-11 relative: every matrix is a sum of at most
#: k = n + depth * max width = 16 products whose rounding errors add up to ~ k u = 2e-15 of the
#: summands' size (Higham's gamma_k), and the summands here are within a factor ~100 of the result
F64_REL = 1e-11
#: the mpmath backend at 30 digits against the oracle: k u ~ 1e-29, plus the oracle's own
#: difference error ~ 1e-24 (STEP^2); 1e-20 leaves room for both
MP_REL = 1e-20

NET = MLP((3, 4, 3, 2), "tanh", bias=True)
N, LAM = 4, 0.05


def _problem(lam: float = LAM) -> tuple[Problem, np.ndarray]:
    rng = np.random.default_rng(7)
    X, Y = rng.standard_normal((N, 3)), rng.standard_normal((N, 2))
    theta = NET.init(3) + 0.3 * rng.standard_normal(NET.n_params)  # nonzero biases too
    return Problem(NET, X, Y, "mse", lam), theta


# -- the oracle: one sample at a time, derivatives by central differences ----------------------
def _mp(a: np.ndarray) -> np.ndarray:
    return np.vectorize(mpmath.mpf, otypes=[object])(np.asarray(a, dtype=float))


def _params(theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(_mp(w), _mp(b)) for w, b in NET.unflatten(np.asarray(theta, dtype=float))]


def _run(params: list, start: int, v: np.ndarray, at_z: bool = False) -> np.ndarray:
    """Network output from layer ``start`` on: ``v`` is that layer's input (or, with ``at_z``,
    its pre-activation)."""
    for idx in range(start, len(params)):
        w, b = params[idx]
        z = (
            v
            if (at_z and idx == start)
            else np.array(
                [sum(w[r, c] * v[c] for c in range(w.shape[1])) + b[r] for r in range(w.shape[0])],
                dtype=object,
            )
        )
        v = z if idx == len(params) - 1 else np.array([mpmath.tanh(x) for x in z], dtype=object)
    return v


def _loss(f: np.ndarray, y: np.ndarray) -> mpmath.mpf:
    return sum((f[k] - y[k]) ** 2 for k in range(len(f))) / 2


def _diff(fn, v: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """Central differences of ``fn`` (vector or scalar valued) at ``v``: one column per entry."""
    cols = []
    for a in range(len(v)):
        up, down = v.copy(), v.copy()
        up[a] += STEP
        down[a] -= STEP
        cols.append((np.atleast_1d(fn(up)) - np.atleast_1d(fn(down))) / (2 * STEP))
    return np.array(cols, dtype=object).T


def _objective(theta: np.ndarray, problem: Problem) -> mpmath.mpf:
    params = [(_mp_keep(w), _mp_keep(b)) for w, b in NET.unflatten(theta)]
    data = sum(
        _loss(_run(params, 0, _mp(x)), _mp(y)) for x, y in zip(problem.X, problem.Y, strict=True)
    )
    return data / N + mpmath.mpf(problem.lam) * sum(np.sum(w * w) for w, _ in params) / 2


def _mp_keep(a: np.ndarray) -> np.ndarray:
    return np.array(a, dtype=object)


def oracle(problem: Problem, theta: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Per layer: W, h (n x in), grad_h, delta, the Jacobians J_i and grad_W, in mpmath."""
    with mpmath.workdps(DPS):
        params = _params(theta)
        X, Y = _mp(problem.X), _mp(problem.Y)
        theta_mp = _mp(theta)
        grad = _diff(lambda t: _objective(t, problem), theta_mp)[0]
        grads = [w for w, _ in NET.unflatten(grad)]
        out = []
        for idx, (w, b) in enumerate(params):
            hs, gh, dl, jac = [], [], [], []
            for x, y in zip(X, Y, strict=True):
                h = x
                for j in range(idx):  # the input of layer idx
                    wj, bj = params[j]
                    h = np.array([mpmath.tanh(z) for z in wj @ h + bj], dtype=object)
                hs.append(h)
                gh.append(_diff(lambda v, y=y, idx=idx: _loss(_run(params, idx, v), y), h)[0])
                dl.append(
                    _diff(lambda v, y=y, idx=idx: _loss(_run(params, idx, v, True), y), w @ h + b)[
                        0
                    ]
                )
                jac.append(_diff(lambda v, idx=idx: _run(params, idx, v), h))  # c x in
            out.append({
                "W": w, "h": np.array(hs), "gh": np.array(gh), "delta": np.array(dl),
                "J": jac, "grad_W": grads[idx],
            })  # fmt: skip
        return out


def _fro(a: np.ndarray) -> mpmath.mpf:
    return mpmath.sqrt(sum(x * x for x in np.ravel(a)))


def expected(o: dict[str, np.ndarray], lam: float) -> dict[str, object]:
    """The matrices and summaries from their definitions, entry by entry (features.py doc)."""
    with mpmath.workdps(DPS):
        w, h, gh, dl, J = o["W"], o["h"], o["gh"], o["delta"], o["J"]
        lam_mp, d_in, d_out = mpmath.mpf(lam), w.shape[1], w.shape[0]

        def mat(rows: int, cols: int, entry) -> np.ndarray:  # noqa: ANN001
            return np.array([[entry(a, b) for b in range(cols)] for a in range(rows)], dtype=object)

        nfm = mat(d_in, d_in, lambda a, b: sum(w[r, a] * w[r, b] for r in range(d_out)))
        fact = mat(
            d_in, d_in, lambda a, b: -sum(gh[i][a] * h[i][b] for i in range(N)) / (N * lam_mp)
        )
        wh = [w @ h[i] for i in range(N)]
        bfact = mat(
            d_out, d_out, lambda a, b: -sum(dl[i][a] * wh[i][b] for i in range(N)) / (N * lam_mp)
        )
        c = J[0].shape[0]
        agop = mat(d_in, d_in, lambda a, b: sum(
            J[i][k, a] * J[i][k, b] for i in range(N) for k in range(c)) / N)  # fmt: skip
        jbar = sum(J) / N
        agop_c = mat(d_in, d_in, lambda a, b: sum(
            (J[i][k, a] - jbar[k, a]) * (J[i][k, b] - jbar[k, b])
            for i in range(N) for k in range(c)) / N)  # fmt: skip
        gram = mat(d_out, d_out, lambda a, b: sum(w[a, s] * w[b, s] for s in range(d_in)))
        sizes = sum(_fro(gh[i]) * _fro(h[i]) for i in range(N))
        return {
            "W": w, "nfm": nfm, "fact": fact, "bfact": bfact, "agop": agop,
            "agop_centered": agop_c, "grad_W": o["grad_W"],
            "fact_rel_error": _fro(nfm - fact) / _fro(nfm),
            "fact_defect": _fro(nfm - fact),
            "f2_bound": _fro(w) * _fro(o["grad_W"]) / lam_mp,
            "bfact_rel_error": _fro(gram - bfact) / _fro(gram),
            "fact_asymmetry": _fro(fact - fact.T) / _fro(fact),
            "nfm_norm": _fro(nfm),
            "rounding_scale": _fro(w) ** 2 + sizes / (N * lam_mp),
        }  # fmt: skip


MATRICES = ("W", "nfm", "fact", "bfact", "agop", "agop_centered", "grad_W")
NUMBERS = (
    "fact_rel_error", "fact_defect", "f2_bound", "bfact_rel_error", "fact_asymmetry", "nfm_norm",
    "rounding_scale",
)  # fmt: skip


@pytest.fixture(scope="module")
def point() -> tuple[Problem, np.ndarray, list[dict[str, object]]]:
    problem, theta = _problem()
    return problem, theta, [expected(o, LAM) for o in oracle(problem, theta)]


def _close(got: object, want: object, rel: float, ref: object = None) -> bool:
    """Entries agree to ``rel`` times the largest entry of ``ref`` (default ``want``)."""
    g = np.asarray(got, dtype=object).ravel()
    e = np.asarray(want, dtype=object).ravel()
    with mpmath.workdps(DPS):
        scale = max(abs(x) for x in np.ravel(want if ref is None else ref))
        return g.shape == e.shape and all(
            abs(mpmath.mpf(a) - b) <= rel * scale for a, b in zip(g, e, strict=True)
        )


def _assert_matches(feats: list[LayerFeatures], want: list[dict[str, object]], rel: float) -> None:
    assert [f.layer for f in feats] == [1, 2, 3]
    for feat, exp in zip(feats, want, strict=True):
        for name in (*MATRICES, *NUMBERS):
            # the last layer's centered AGOP is 0 (its Jacobian is constant): measured on AGOP
            ref = exp["agop"] if name == "agop_centered" else None
            # the summaries are Python floats in both backends: one rounding of float64 (4 u)
            tol = max(rel, 2 * FLOAT64.unit_roundoff * 2) if name in NUMBERS else rel
            assert _close(getattr(feat, name), exp[name], tol, ref), f"layer {feat.layer}: {name}"


def test_every_field_matches_the_oracle_in_float64(point) -> None:  # noqa: ANN001
    """N1, F1, F2, F4, F5: NFM, AGOP (plain and centered), FACT, bFACT, grad_W and every summary
    (relative FACT error, defect, F2 bound, bFACT error, FACT asymmetry, ||W^T W||, rounding
    scale) of every layer agree with the oracle to float64 rounding, and the summaries are not
    degenerate (FACT is asymmetric off a stationary point, so a transposed FACT is caught)."""
    problem, theta, want = point
    _assert_matches(
        layer_features(Problem(NET, problem.X, problem.Y, "mse", LAM), theta), want, F64_REL
    )
    for exp in want:
        assert exp["fact_asymmetry"] > 1e-2 and exp["fact_rel_error"] > 1e-2


def test_every_field_matches_the_oracle_at_30_digits(point) -> None:  # noqa: ANN001
    """N1, F1, F2, F4, F5: the mpmath backend at 30 digits agrees with the oracle to 1e-20,
    far beyond what float64 can reach (so no field is silently computed in float64)."""
    problem, theta, want = point
    mp = mp_backend(30)
    fresh = Problem(NET, problem.X, problem.Y, "mse", LAM)
    feats = layer_features(fresh, mp.asarray(theta), mp)
    _assert_matches(feats, want, MP_REL)
    with mpmath.workdps(DPS):  # the PSD form at 30 digits: its square is FACT FACT^T
        root = feats[0].fact_psd(mp)
        target = want[0]["fact"] @ want[0]["fact"].T
        assert _close(root @ root, target, MP_REL) and _close(root, root.T, MP_REL, target)


def test_f2_residual_terms_and_psd_forms(point) -> None:  # noqa: ANN001
    """F2, F5: the F2 residual ||(W^T W - FACT) - W^T grad_W / lam|| is rounding only (F2 is an
    identity at every point: checked on the oracle's own matrices first), ``terms`` is
    k = n + depth * max width, and fact_sym / fact_psd are (FACT + FACT^T)/2 and the PSD root
    of FACT FACT^T."""
    problem, theta, want = point
    feats = layer_features(Problem(NET, problem.X, problem.Y, "mse", LAM), theta)
    for feat, exp in zip(feats, want, strict=True):
        with mpmath.workdps(DPS):
            f2 = exp["nfm"] - exp["fact"] - exp["W"].T @ exp["grad_W"] / mpmath.mpf(LAM)
            assert _fro(f2) <= 1e-20 * exp["nfm_norm"]  # the oracle obeys F2 (difference error)
        # rounding of a sum of k products, relative to the summands' size (rounding_scale)
        assert feat.f2_residual <= 100 * feat.terms * FLOAT64.unit_roundoff * feat.rounding_scale
        assert feat.terms == N + 3 * 4  # n + depth * max(3, 4, 3, 2)
        with mpmath.workdps(DPS):
            assert _close(feat.fact_sym(), (exp["fact"] + exp["fact"].T) / 2, F64_REL)
        root = feat.fact_psd()
        target = np.array(exp["fact"] @ exp["fact"].T, dtype=float)
        assert np.allclose(root @ root, target, rtol=0, atol=F64_REL * np.abs(target).max() * 10)
        assert np.allclose(root, root.T) and np.min(np.linalg.eigvalsh(root)) > -1e-12


def test_features_are_cached_by_value_and_precision(point) -> None:  # noqa: ANN001
    """N1: the same point and precision return the same features; a changed point (also when
    the caller's array is changed in place) or another precision computes them afresh."""
    problem, theta, want = point
    fresh = Problem(NET, problem.X, problem.Y, "mse", LAM)
    moving = theta.copy()
    first = layer_features(fresh, moving)
    assert layer_features(fresh, moving.copy()) is first
    moving[0] += 0.25  # in place: the cache must have kept its own copy
    second = layer_features(fresh, moving)
    assert second is not first and second[0].W[0, 0] == first[0].W[0, 0] + 0.25
    assert layer_features(fresh, theta) is not second
    _assert_matches(layer_features(fresh, theta), want, F64_REL)
    mp = mp_backend(25)
    high = layer_features(fresh, theta, mp)
    assert type(high[0].nfm[0, 0]).__name__ == "mpf"
    assert layer_features(fresh, theta, mp_backend(26)) is not high


def test_without_weight_decay_fact_is_nan_and_nfm_agop_are_kept(point) -> None:  # noqa: ANN001
    """F1 (assumptions), N1: at lam = 0 FACT, bFACT, the F2 bound and the rounding scale are NaN
    (they divide by lam) in both backends, while W^T W and the AGOP match the oracle."""
    problem, theta, want = point
    zero = Problem(NET, problem.X, problem.Y, "mse", 0.0)
    for be, rel in ((FLOAT64, F64_REL), (mp_backend(20), 1e-15)):
        for feat, exp in zip(layer_features(zero, be.asarray(theta), be), want, strict=True):
            assert all(x != x for x in np.ravel(feat.fact)) and all(
                x != x for x in np.ravel(feat.bfact)
            )
            assert np.isnan(feat.f2_bound) and np.isnan(feat.rounding_scale)
            assert _close(feat.nfm, exp["nfm"], rel) and _close(feat.agop, exp["agop"], rel)


def test_ratio_of_zero_norms() -> None:
    """N3, F1: a ratio of norms is 0 when both are 0 and infinite when only the denominator is."""
    assert features._ratio(0.0, 0.0) == 0.0
    assert features._ratio(2.0, 0.0) == float("inf")
    assert features._ratio(3.0, 4.0) == 0.75
