"""Exact derivatives of the MLP engine, checked by two independent routes.

Route 1: central differences in mpmath at 40 digits (step 1e-12, truncation error ~1e-24).
Route 2: SymPy differentiation of an explicit small network with rational data.
Every test runs the engine in both float64 and mpmath (one implementation, two backends).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theory._errors import InputError
from verify.engine.network import (
    ACTIVATIONS,
    FLOAT64,
    LOSSES,
    MLP,
    Problem,
    backprop,
    gradient,
    hvp,
    input_jacobians,
    mp_backend,
    objective,
)

MP = mp_backend(40)
# why 1e-12 at 40 digits: the central-difference truncation error is ~h^2 * |f'''| ~ 1e-24 and
# the cancellation error ~1e-40 / 1e-12 = 1e-28, so agreement to 1e-18 is a sharp check
STEP = mpmath.mpf(10) ** -12
FD_TOL = 1e-18


def _problem(act: str, loss: str, sizes: tuple[int, ...], bias: bool, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    n, c = 5, sizes[-1]
    X = rng.standard_normal((n, sizes[0]))
    if loss == "mse":
        Y = rng.standard_normal((n, c))
    else:
        Y = rng.dirichlet(np.ones(c), size=n)  # rows of probabilities, not only one-hot
    return Problem(MLP(sizes, act, bias), X, Y, loss, 0.1, decay_bias=bias and seed % 2 == 0)


def _theta(problem: Problem, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    return problem.net.init(seed) + 0.3 * rng.standard_normal(problem.net.n_params)


archs = st.tuples(
    st.sampled_from(sorted(ACTIVATIONS)),
    st.sampled_from(LOSSES),
    st.lists(st.integers(1, 3), min_size=1, max_size=3),
    st.booleans(),
    st.integers(0, 10_000),
)


def _build(spec: tuple) -> tuple[Problem, np.ndarray]:
    act, loss, widths, bias, seed = spec
    c = 2 if loss == "cross_entropy" else widths[-1]
    sizes = (widths[0], *widths[1:-1], c) if len(widths) > 1 else (widths[0], c)
    problem = _problem(act, loss, sizes, bias, seed)
    return problem, _theta(problem, seed)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(archs)
def test_gradient_matches_mpmath_central_differences(spec: tuple) -> None:
    """F1: grad L_lam (the (1/n) sum delta h^T + lam W of the proof) equals mpmath differences."""
    problem, theta = _build(spec)
    _, g_mp = gradient(problem, theta, MP)
    with MP.working():
        t = MP.asarray(theta)
        rng = np.random.default_rng(0)
        for j in rng.choice(len(theta), size=min(4, len(theta)), replace=False):
            e = np.zeros(len(theta), dtype=object)
            e[:] = mpmath.mpf(0)
            e[j] = STEP
            fd = (objective(problem, t + e, MP) - objective(problem, t - e, MP)) / (2 * STEP)
            assert abs(fd - g_mp[j]) <= FD_TOL * (1 + abs(g_mp[j]))
    # float64 and mpmath run the same code: they agree to float64 rounding
    g64 = gradient(problem, theta)[1]
    scale = np.linalg.norm(MP.to_float(g_mp)) + 1
    assert np.linalg.norm(g64 - MP.to_float(g_mp)) <= 1e-12 * scale


@settings(max_examples=10, deadline=None, derandomize=True)
@given(archs)
def test_hvp_matches_differences_of_the_exact_gradient(spec: tuple) -> None:
    """F1 (Newton certification): R-operator H v equals central differences of the gradient."""
    problem, theta = _build(spec)
    v = np.random.default_rng(7).standard_normal(len(theta))
    with MP.working():
        t, vm = MP.asarray(theta), MP.asarray(v)
        hv = hvp(problem, t, vm, MP)
        fd = (gradient(problem, t + STEP * vm, MP)[1] - gradient(problem, t - STEP * vm, MP)[1]) / (
            2 * STEP
        )
        err = max(abs(x) for x in hv - fd)
        assert err <= FD_TOL * (1 + max(abs(x) for x in hv))
    assert np.allclose(hvp(problem, theta, v), MP.to_float(hv), rtol=1e-10, atol=1e-12)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(archs)
def test_input_jacobians_match_differences(spec: tuple) -> None:
    """N1: the Jacobian of output k w.r.t. layer 1's input equals mpmath differences."""
    problem, theta = _build(spec)
    jac = input_jacobians(problem, theta, MP)
    net = problem.net
    with MP.working():
        params = net.unflatten(MP.asarray(theta))
        X = MP.asarray(problem.X)

        def out(x: np.ndarray) -> np.ndarray:
            h = x
            act = ACTIVATIONS[net.activation]
            for layer, (w, b) in enumerate(params):
                h = h @ w.T + (b if b is not None else 0)
                if layer < net.depth - 1:
                    h = act(MP, h)[0]
            return h

        for j in range(X.shape[1]):
            dx = X * 0
            dx[:, j] = dx[:, j] + STEP
            fd = (out(X + dx) - out(X - dx)) / (2 * STEP)
            for k in range(net.sizes[-1]):
                err = max(abs(x) for x in fd[:, k] - jac[0][k][:, j])
                assert err <= FD_TOL * 10


def _sympy_objective(problem: Problem, syms: list[sp.Symbol]) -> sp.Expr:
    """The objective written out entry by entry in SymPy (independent of the engine)."""
    net, X, Y = problem.net, sp.Matrix(problem.X.tolist()), sp.Matrix(problem.Y.tolist())
    X = X.applyfunc(sp.nsimplify)
    Y = Y.applyfunc(sp.nsimplify)
    x = sp.Symbol("x")
    sig = {
        "identity": x,
        "relu": sp.Max(x, 0),
        "tanh": sp.tanh(x),
        "sigmoid": 1 / (1 + sp.exp(-x)),
        "softplus": sp.log(1 + sp.exp(x)),
        "gelu": x * (1 + sp.erf(x / sp.sqrt(2))) / 2,
        "quadratic": x**2,
    }[net.activation]
    k, ws = 0, []
    for (o, i), b in net.shapes:
        W = sp.Matrix(o, i, syms[k : k + o * i])
        k += o * i
        bb = None
        if b:
            bb, k = sp.Matrix(syms[k : k + o]), k + o
        ws.append((W, bb))
    n = X.shape[0]
    total = sp.Integer(0)
    for r in range(n):
        h = X[r, :].T
        for layer, (W, bb) in enumerate(ws):
            h = W * h + (bb if bb is not None else sp.zeros(W.shape[0], 1))
            if layer < net.depth - 1:
                h = h.applyfunc(lambda z: sig.subs(x, z))
        y = Y[r, :].T
        if problem.loss == "mse":
            total += sum((h[q] - y[q]) ** 2 for q in range(len(y))) / 2
        else:
            lse = sp.log(sum(sp.exp(h[q]) for q in range(len(y))))
            total += -sum(y[q] * (h[q] - lse) for q in range(len(y)))
    lam = sp.nsimplify(problem.lam)
    decay = sum(sum(v**2 for v in W) for W, _ in ws)
    if problem.decay_bias:
        decay += sum(sum(v**2 for v in bb) for _, bb in ws if bb is not None)
    return total / n + lam * decay / 2


@pytest.mark.parametrize("act", ["identity", "tanh", "sigmoid", "softplus", "gelu", "quadratic"])
@pytest.mark.parametrize("loss", LOSSES)
def test_gradient_and_hessian_match_sympy(act: str, loss: str) -> None:
    """F1: gradient and Hessian entries equal SymPy's differentiation of the written-out sum."""
    rng = np.random.default_rng(3)
    X = rng.integers(-3, 4, size=(2, 2)) / 4
    Y = np.array([[1.0, 0.0], [0.25, 0.75]]) if loss == "cross_entropy" else X[:, ::-1] / 2
    problem = Problem(MLP((2, 2, 2), act, bias=True), X, Y, loss, 0.125, decay_bias=True)
    theta = rng.integers(-4, 5, size=problem.net.n_params) / 8
    syms = list(sp.symbols(f"t0:{len(theta)}"))
    L = _sympy_objective(problem, syms)
    point = {s: sp.Rational(int(v * 8), 8) for s, v in zip(syms, theta, strict=True)}
    _, g = gradient(problem, theta, MP)
    e = np.zeros(len(theta))
    e[4] = 1.0
    col = hvp(problem, theta, e, MP)
    with MP.working():  # why 1e-30: both routes carry 40 digits; the values are O(1)
        for j in (0, 3, 5, 9, len(theta) - 1):
            exact = sp.diff(L, syms[j]).subs(point).evalf(45)
            assert abs(mpmath.mpf(str(exact)) - g[j]) < 1e-30
        for j in (1, 4, 7):
            exact = sp.diff(L, syms[4], syms[j]).subs(point).evalf(45)
            assert abs(mpmath.mpf(str(exact)) - col[j]) < 1e-30


def test_backends_share_one_implementation() -> None:
    """F1: float64 and mpmath objectives agree, and mpmath conversion of float64 data is exact."""
    problem, theta = _build(("tanh", "mse", [3, 4, 2], True, 1))
    v64 = float(objective(problem, theta))
    vmp = objective(problem, theta, mp_backend(30))
    assert abs(v64 - float(vmp)) <= 1e-14 * abs(v64)
    with mpmath.workdps(60):
        assert mp_backend(60).asarray(np.array([0.1]))[0] == mpmath.mpf(0.1)
    assert FLOAT64.name == "float64"


def test_backprop_caches_have_documented_shapes() -> None:
    """F1: hs[l] is (n, in), deltas[l] and zs[l] are (n, out), grad_h[l] is (n, in)."""
    problem, theta = _build(("gelu", "cross_entropy", [3, 4, 5], False, 2))
    bp = backprop(problem, theta)
    for layer, ((o, i), _) in enumerate(problem.net.shapes):
        assert bp.hs[layer].shape == (5, i)
        assert bp.zs[layer].shape == bp.deltas[layer].shape == (5, o)
        assert bp.grad_h[layer].shape == (5, i)


GOOD_X, GOOD_Y = np.ones((3, 2)), np.zeros((3, 1))
BAD_INPUTS = [
    (lambda: MLP((2,), "tanh"), r"sizes must be >= 2 positive integers"),
    (lambda: MLP((2, 0, 1), "tanh"), r"sizes must be >= 2 positive integers"),
    (lambda: MLP((2, 1), "swish"), r"activation must be one of"),
    (lambda: Problem(MLP((2, 1)), GOOD_X * np.nan, GOOD_Y), r"X must be finite"),
    (lambda: Problem(MLP((2, 1)), GOOD_X, GOOD_Y + np.inf), r"Y must be finite"),
    (lambda: Problem(MLP((2, 1)), GOOD_X[0], GOOD_Y), r"X must be a non-empty 2-D array"),
    (lambda: Problem(MLP((2, 1)), GOOD_X, GOOD_Y[:2]), r"Y must have one row per sample"),
    (lambda: Problem(MLP((3, 1)), GOOD_X, GOOD_Y), r"net.sizes must start with d = 2"),
    (lambda: Problem(MLP((2, 1)), GOOD_X, GOOD_Y, "hinge"), r"loss must be one of"),
    (lambda: Problem(MLP((2, 1)), GOOD_X, GOOD_Y, lam=-1.0), r"lam must be a finite number >= 0"),
    (lambda: Problem(MLP((2, 1)), GOOD_X, GOOD_Y, lam=np.nan), r"lam must be a finite number"),
    (
        lambda: Problem(MLP((2, 2)), GOOD_X, np.full((3, 2), 0.7), "cross_entropy"),
        r"Y\[0\] must be a probability row",
    ),
    (lambda: Problem(MLP((2, 1)), np.array([["a", "b"]]), GOOD_Y), r"X must be a numeric array"),
    (lambda: mp_backend(8), r"dps must be an integer in \[16, 300\]"),
]


@pytest.mark.parametrize(("build", "message"), BAD_INPUTS)
def test_bad_inputs_raise_one_line_errors(build, message) -> None:  # noqa: ANN001
    """F1 (inputs): every bad input raises InputError naming argument, rule, value and fix."""
    with pytest.raises(InputError, match=message) as info:
        build()
    assert "\n" not in str(info.value) and "got" in str(info.value)


@pytest.mark.parametrize("bias", [False, True])
def test_offsets_locate_each_layer_in_the_flat_vector(bias: bool) -> None:
    """F1 (certification): MLP.offsets gives, per layer, where W_l and b_l lie in the flat
    parameter vector: the same entries that unflatten's views show."""
    net = MLP((3, 5, 4, 2), "tanh", bias)
    theta = np.arange(net.n_params, dtype=float)
    for (w, b), (start, w_end, b_end) in zip(net.unflatten(theta), net.offsets, strict=True):
        assert np.array_equal(theta[start:w_end], w.reshape(-1))
        assert np.array_equal(theta[w_end:b_end], b if b is not None else np.zeros(0))
    assert net.offsets[-1][2] == net.n_params
