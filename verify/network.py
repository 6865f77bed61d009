"""Multilayer perceptrons with exact gradients, Hessian-vector products and input Jacobians.

One implementation serves float64 NumPy and mpmath: every routine takes a *backend*
(:data:`FLOAT64` or :func:`mp_backend`), whose arrays are float64 ndarrays or object ndarrays of
``mpmath.mpf``. NumPy's ``@``, ``.T``, ``sum`` and elementwise arithmetic work on both; only the
elementwise transcendental functions differ, and they live in the backend. So the 50-digit check
runs the same backpropagation as the float64 training.

Conventions (fixed)
-------------------
- Data ``X`` has shape (n, d), one sample per row; targets ``Y`` have shape (n, c).
- Weights ``W_l`` have shape (out, in); a layer computes ``z = h @ W.T + b``. Layer l has input
  ``h_l`` (``h_1 = X``); the activation is applied after every layer except the last (the last
  layer is linear). Depth ``L`` = number of weight matrices (depth 1 = a linear/softmax model).
- Mean squared error: per-sample loss ``l_i = 0.5 * ||f(x_i) - y_i||^2`` (so delta = residual).
  Cross-entropy: ``l_i = -sum_k y_ik log softmax(f(x_i))_k`` (Y one-hot or rows of probabilities).
- Objective ``L_lam = (1/n) sum_i l_i + (lam/2) sum_l ||W_l||_F^2``
  (``+ (lam/2) ||b_l||^2`` only if ``decay_bias`` is True; default False).
- Parameters travel as one flat vector ``theta``: W1 (row-major), b1, W2, b2, ..., WL, bL.

Derivatives are exact (backpropagation; Hessian-vector products by Pearlmutter's R-operator, i.e.
forward-mode differentiation of the backpropagation, with the activation's second derivative).
The tests check them against mpmath central differences and against SymPy differentiation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
from scipy import special

from theory._errors import bad_input

__all__ = [
    "ACTIVATIONS",
    "FLOAT64",
    "LOSSES",
    "MLP",
    "Backend",
    "Backprop",
    "Problem",
    "backprop",
    "gradient",
    "hvp",
    "input_jacobians",
    "mp_backend",
    "objective",
]

Array = Any  # float64 ndarray or object ndarray of mpmath.mpf


# -- backends ----------------------------------------------------------------------------------
class Backend:
    """Elementwise functions and precision of one number type (see module docstring)."""

    name = "float64"
    dps = 15
    unit_roundoff = float(np.finfo(np.float64).eps) / 2

    def working(self) -> contextlib.AbstractContextManager[Any]:
        # overflow and invalid operations become inf/NaN, which the trainer detects and reports
        # as status non_finite (a warning would say less, and tests turn warnings into errors)
        return np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore")

    def asarray(self, a: Any) -> Array:
        return np.asarray(a, dtype=np.float64)

    def to_float(self, a: Any) -> np.ndarray:
        return np.asarray(a, dtype=np.float64)

    def sqrt(self, x: Any) -> Any:
        return np.sqrt(x)

    def exp(self, z: Array) -> Array:
        return np.exp(z)

    def log(self, z: Array) -> Array:
        return np.log(z)

    def tanh(self, z: Array) -> Array:
        return np.tanh(z)

    def sigmoid(self, z: Array) -> Array:
        return special.expit(z)

    def softplus(self, z: Array) -> Array:
        return np.logaddexp(0.0, z)

    def ncdf(self, z: Array) -> Array:
        return special.ndtr(z)

    def npdf(self, z: Array) -> Array:
        return np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)

    def step(self, z: Array) -> Array:
        """Heaviside step with step(0) = 0 (the ReLU slope convention at the kink)."""
        return (z > 0).astype(np.float64)

    def eigh(self, a: Array) -> tuple[Array, Array]:
        w, v = np.linalg.eigh(a)
        return w, v


class MpBackend(Backend):
    """mpmath numbers at ``dps`` decimal digits, held in NumPy object arrays."""

    name = "mpmath"

    def __init__(self, dps: int) -> None:
        self.dps = int(dps)
        with mpmath.workdps(self.dps):
            self.unit_roundoff = float(mpmath.mp.eps) / 2

    def working(self) -> contextlib.AbstractContextManager[Any]:
        return mpmath.workdps(self.dps)

    def asarray(self, a: Any) -> Array:
        arr = np.asarray(a)
        if arr.dtype == object:
            return arr
        # float64 -> mpf is exact, so the problem is defined by the same binary numbers.
        return _MPF(arr.astype(np.float64)).astype(object) if arr.ndim else mpmath.mpf(float(arr))

    def to_float(self, a: Any) -> np.ndarray:
        return np.asarray(_FLOAT(np.asarray(a, dtype=object)), dtype=np.float64)

    def sqrt(self, x: Any) -> Any:
        return _MP_SQRT(x) if isinstance(x, np.ndarray) and x.ndim else mpmath.sqrt(x)

    def exp(self, z: Array) -> Array:
        return _MP_EXP(z)

    def log(self, z: Array) -> Array:
        return _MP_LOG(z)

    def tanh(self, z: Array) -> Array:
        return _MP_TANH(z)

    def sigmoid(self, z: Array) -> Array:
        return 1 / (1 + _MP_EXP(-z))

    def softplus(self, z: Array) -> Array:
        return _MP_LOG1P(_MP_EXP(z))

    def ncdf(self, z: Array) -> Array:
        return _MP_NCDF(z)

    def npdf(self, z: Array) -> Array:
        return _MP_NPDF(z)

    def step(self, z: Array) -> Array:
        return np.where((z > 0).astype(bool), mpmath.mpf(1), mpmath.mpf(0)).astype(object)

    def eigh(self, a: Array) -> tuple[Array, Array]:
        w, v = mpmath.eigsy(mpmath.matrix(a.tolist()))
        n = len(w)
        vals = np.array([w[i] for i in range(n)], dtype=object)
        vecs = np.array([[v[i, j] for j in range(n)] for i in range(n)], dtype=object)
        return vals, vecs


_MPF = np.frompyfunc(mpmath.mpf, 1, 1)
_FLOAT = np.frompyfunc(float, 1, 1)
_MP_SQRT = np.frompyfunc(mpmath.sqrt, 1, 1)
_MP_EXP = np.frompyfunc(mpmath.exp, 1, 1)
_MP_LOG = np.frompyfunc(mpmath.log, 1, 1)
_MP_LOG1P = np.frompyfunc(mpmath.log1p, 1, 1)
_MP_TANH = np.frompyfunc(mpmath.tanh, 1, 1)
_MP_NCDF = np.frompyfunc(mpmath.ncdf, 1, 1)
_MP_NPDF = np.frompyfunc(mpmath.npdf, 1, 1)

#: the float64 backend
FLOAT64 = Backend()


def mp_backend(dps: int) -> Backend:
    """The mpmath backend at ``dps`` decimal digits."""
    if not isinstance(dps, (int, np.integer)) or isinstance(dps, bool) or not 16 <= dps <= 2000:
        raise bad_input("dps", "be an integer in [16, 2000]", dps, "Pass e.g. --dps 50.")
    return MpBackend(int(dps))


# -- activations: value, slope and curvature, the derivative next to its forward rule ----------
Act = Callable[[Backend, Array], tuple[Array, Array, Array]]


def _identity(be: Backend, z: Array) -> tuple[Array, Array, Array]:
    return z, z * 0 + 1, z * 0


def _relu(be: Backend, z: Array) -> tuple[Array, Array, Array]:
    s = be.step(z)  # slope 0 at the kink z = 0; curvature 0 almost everywhere
    return z * s, s, z * 0


def _tanh(be: Backend, z: Array) -> tuple[Array, Array, Array]:
    t = be.tanh(z)
    d1 = 1 - t * t
    return t, d1, -2 * t * d1


def _sigmoid(be: Backend, z: Array) -> tuple[Array, Array, Array]:
    s = be.sigmoid(z)
    d1 = s * (1 - s)
    return s, d1, d1 * (1 - 2 * s)


def _softplus(be: Backend, z: Array) -> tuple[Array, Array, Array]:
    s = be.sigmoid(z)  # softplus' = sigmoid, softplus'' = sigmoid (1 - sigmoid)
    return be.softplus(z), s, s * (1 - s)


def _gelu(be: Backend, z: Array) -> tuple[Array, Array, Array]:
    cdf, pdf = be.ncdf(z), be.npdf(z)  # gelu = z Phi(z), exact erf form
    return z * cdf, cdf + z * pdf, pdf * (2 - z * z)


def _quadratic(be: Backend, z: Array) -> tuple[Array, Array, Array]:
    return z * z, 2 * z, z * 0 + 2


ACTIVATIONS: dict[str, Act] = {
    "identity": _identity,
    "relu": _relu,
    "tanh": _tanh,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "gelu": _gelu,
    "quadratic": _quadratic,
}
LOSSES = ("mse", "cross_entropy")


# -- architecture and problem ------------------------------------------------------------------
@dataclass(frozen=True)
class MLP:
    """Layer sizes ``(d, m_1, ..., m_{L-1}, c)``, activation name, whether layers have biases."""

    sizes: tuple[int, ...]
    activation: str = "tanh"
    bias: bool = False

    def __post_init__(self) -> None:
        sizes = tuple(self.sizes)
        if len(sizes) < 2 or any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise bad_input(
                "sizes", "be >= 2 positive integers (d, widths..., c)", self.sizes,
                "Pass e.g. (4, 8, 2) for d=4, one hidden layer of width 8, c=2.",
            )  # fmt: skip
        if self.activation not in ACTIVATIONS:
            raise bad_input(
                "activation", f"be one of {sorted(ACTIVATIONS)}", self.activation,
                "Pick one of the listed names.",
            )  # fmt: skip
        object.__setattr__(self, "sizes", tuple(int(s) for s in sizes))

    @property
    def depth(self) -> int:
        return len(self.sizes) - 1

    @property
    def shapes(self) -> list[tuple[tuple[int, int], tuple[int, ...] | None]]:
        """``[(W_l shape (out, in), b_l shape or None), ...]``."""
        s = self.sizes
        return [((s[i + 1], s[i]), (s[i + 1],) if self.bias else None) for i in range(self.depth)]

    @property
    def n_params(self) -> int:
        return sum(w[0] * w[1] + (b[0] if b else 0) for w, b in self.shapes)

    def unflatten(self, theta: Array) -> list[tuple[Array, Array | None]]:
        """Views ``[(W_1, b_1), ...]`` into the flat parameter vector."""
        out, k = [], 0
        for (o, i), b in self.shapes:
            w = theta[k : k + o * i].reshape(o, i)
            k += o * i
            bias = None
            if b is not None:
                bias, k = theta[k : k + o], k + o
            out.append((w, bias))
        assert k == len(theta), "theta length does not match the architecture"
        return out

    def flatten(self, params: list[tuple[Array, Array | None]]) -> Array:
        parts = []
        for w, b in params:
            parts.append(np.asarray(w).reshape(-1))
            if b is not None:
                parts.append(np.asarray(b).reshape(-1))
        return np.concatenate(parts)

    def init(self, seed: int | np.random.Generator = 0) -> np.ndarray:
        """Gaussian weights of standard deviation 1/sqrt(fan_in), zero biases (float64)."""
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        params = [
            (rng.standard_normal(w) / np.sqrt(w[1]), np.zeros(b) if b else None)
            for w, b in self.shapes
        ]
        return self.flatten(params)


@dataclass(frozen=True, eq=False)
class Problem:
    """A training problem: network, data, loss and weight decay (validated on construction)."""

    net: MLP
    X: np.ndarray
    Y: np.ndarray
    loss: str = "mse"
    lam: float = 1e-2
    decay_bias: bool = False
    _cache: dict[str, tuple[Array, Array, Any]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        X, Y = _finite_matrix("X", self.X), _finite_matrix("Y", self.Y)
        n, d = X.shape
        if Y.shape[0] != n:
            raise bad_input(
                "Y", f"have one row per sample of X (n = {n})", f"shape {Y.shape}",
                "Pass Y of shape (n, c).",
            )  # fmt: skip
        if (d, Y.shape[1]) != (self.net.sizes[0], self.net.sizes[-1]):
            raise bad_input(
                "net.sizes", f"start with d = {d} and end with c = {Y.shape[1]} (from X, Y)",
                self.net.sizes, "Match the input and output sizes to the data.",
            )  # fmt: skip
        if self.loss not in LOSSES:
            raise bad_input("loss", f"be one of {list(LOSSES)}", self.loss, "Pick a listed name.")
        if self.loss == "cross_entropy":
            # why 1e-9: rows of probabilities written in float64 sum to 1 within a few ulps
            bad = (Y < 0).any(axis=1) | (np.abs(Y.sum(axis=1) - 1) > 1e-9)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise bad_input(
                    f"Y[{i}]", "be a probability row (entries >= 0, sum 1) for cross_entropy",
                    Y[i].tolist(), "Pass one-hot labels or rows of class probabilities.",
                )  # fmt: skip
        lam = float(self.lam)
        if not np.isfinite(lam) or lam < 0:
            raise bad_input("lam", "be a finite number >= 0", self.lam, "Pass e.g. 1e-2.")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "Y", Y)
        object.__setattr__(self, "lam", lam)
        object.__setattr__(self, "decay_bias", bool(self.decay_bias))

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    def data(self, be: Backend) -> tuple[Array, Array, Any]:
        """``(X, Y, lam)`` as numbers of ``be`` (exact conversions of the float64 values)."""
        key = "float64" if be.name == "float64" else "mp"
        if key not in self._cache:
            self._cache[key] = (be.asarray(self.X), be.asarray(self.Y), be.asarray(self.lam))
        return self._cache[key]


def _finite_matrix(name: str, a: Any) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise bad_input(name, "be a numeric array", f"dtype {arr.dtype}", "Pass float data.")
    if arr.ndim != 2 or 0 in arr.shape:
        raise bad_input(
            name, "be a non-empty 2-D array (one sample per row)", f"shape {arr.shape}",
            "Reshape to (n, features), e.g. x.reshape(-1, 1).",
        )  # fmt: skip
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise bad_input(
            name, "be finite (no NaN or inf)", f"{arr[idx]} at {idx}", "Clean or drop those rows."
        )
    return arr


# -- forward and backward ----------------------------------------------------------------------
@dataclass
class Backprop:
    """Everything one forward/backward pass computes (arrays in the backend's numbers).

    ``hs[l]`` input of layer l (n x in), ``zs[l]`` pre-activation (n x out), ``slopes[l]`` and
    ``curvs[l]`` the activation's first/second derivative at ``zs[l]`` (hidden layers only),
    ``losses`` the per-sample losses l_i, ``deltas[l]`` = dl_i/dz_l (n x out, NOT divided by n),
    ``grad_h[l]`` = dl_i/dh_l = deltas[l] @ W_l (n x in), ``grad`` the flat gradient of L_lam.
    """

    params: list[tuple[Array, Array | None]]
    hs: list[Array]
    zs: list[Array]
    slopes: list[Array]
    curvs: list[Array]
    losses: Array
    deltas: list[Array] = field(default_factory=list)
    grad_h: list[Array] = field(default_factory=list)
    grads: list[tuple[Array, Array | None]] = field(default_factory=list)
    value: Any = None
    grad: Array = None


def _forward(problem: Problem, theta: Array, be: Backend) -> Backprop:
    X, Y, _ = problem.data(be)
    act = ACTIVATIONS[problem.net.activation]
    params = problem.net.unflatten(theta)
    hs, zs, slopes, curvs = [X], [], [], []
    h = X
    for layer, (w, b) in enumerate(params):
        z = h @ w.T if b is None else h @ w.T + b
        zs.append(z)
        if layer < len(params) - 1:
            h, ds, d2s = act(be, z)
            hs.append(h)
            slopes.append(ds)
            curvs.append(d2s)
    losses, delta = _loss(problem.loss, be, zs[-1], Y)
    bp = Backprop(params, hs, zs, slopes, curvs, losses)
    bp.deltas = [delta]
    return bp


def _softmax(be: Backend, f: Array) -> tuple[Array, Array]:
    """``(softmax(f), logsumexp(f))`` row-wise, shifted by the row maximum for stability."""
    m = np.max(f, axis=1, keepdims=True)
    e = be.exp(f - m)
    s = np.sum(e, axis=1, keepdims=True)
    return e / s, (m + be.log(s))[:, 0]


def _loss(name: str, be: Backend, f: Array, Y: Array) -> tuple[Array, Array]:
    """Per-sample losses and delta = dl_i/df (n x c)."""
    if name == "mse":
        r = f - Y
        return 0.5 * np.sum(r * r, axis=1), r
    p, lse = _softmax(be, f)
    mass = np.sum(Y, axis=1)  # 1 for probability rows; kept so the formula is exact for any Y
    return mass * lse - np.sum(Y * f, axis=1), p * mass[:, None] - Y


def backprop(problem: Problem, theta: Array, be: Backend = FLOAT64) -> Backprop:
    """Forward and backward pass: objective value, flat gradient and all per-layer caches."""
    with be.working():
        theta = be.asarray(theta)
        bp = _forward(problem, theta, be)
        _, _, lam = problem.data(be)
        n = problem.n
        g = bp.deltas[0]
        grads: list[tuple[Array, Array | None]] = []
        grad_h: list[Array] = []
        deltas: list[Array] = []
        for layer in range(len(bp.params) - 1, -1, -1):
            w, b = bp.params[layer]
            deltas.append(g)
            gw = g.T @ bp.hs[layer] / n + lam * w  # grad_W L_lam = (1/n) sum delta h^T + lam W
            gb = None
            if b is not None:
                gb = np.sum(g, axis=0) / n + (lam * b if problem.decay_bias else 0)
            grads.append((gw, gb))
            gh = g @ w  # dl_i/dh_l = W^T delta_i (F1's grad_h l_i)
            grad_h.append(gh)
            if layer > 0:
                g = gh * bp.slopes[layer - 1]
        bp.deltas, bp.grad_h, bp.grads = deltas[::-1], grad_h[::-1], grads[::-1]
        bp.grad = problem.net.flatten(bp.grads)
        decay = sum(np.sum(w * w) for w, _ in bp.params)
        if problem.decay_bias:
            decay = decay + sum(np.sum(b * b) for _, b in bp.params if b is not None)
        bp.value = np.sum(bp.losses) / n + lam * decay / 2
    return bp


def objective(problem: Problem, theta: Array, be: Backend = FLOAT64) -> Any:
    """L_lam(theta) = (1/n) sum_i l_i + (lam/2) sum_l ||W_l||_F^2 (+ biases if decayed)."""
    return backprop(problem, theta, be).value


def gradient(problem: Problem, theta: Array, be: Backend = FLOAT64) -> tuple[Any, Array]:
    """``(L_lam(theta), grad L_lam(theta))`` with the gradient as a flat vector."""
    bp = backprop(problem, theta, be)
    return bp.value, bp.grad


def hvp(problem: Problem, theta: Array, v: Array, be: Backend = FLOAT64) -> Array:
    """Exact Hessian-vector product H(theta) v by the R-operator (forward mode over backprop)."""
    with be.working():
        theta, v = be.asarray(theta), be.asarray(v)
        bp = _forward(problem, theta, be)
        _, Y, lam = problem.data(be)
        n, net = problem.n, problem.net
        vparams = net.unflatten(v)
        # forward: R z_l = R h_l W_l^T + h_l V_l^T + R b_l, R h_{l+1} = s'(z_l) R z_l
        rzs, rh = [], None
        for layer, ((w, _), (vw, vb)) in enumerate(zip(bp.params, vparams, strict=True)):
            rz = bp.hs[layer] @ vw.T
            if rh is not None:
                rz = rz + rh @ w.T
            if vb is not None:
                rz = rz + vb
            rzs.append(rz)
            if layer < len(bp.params) - 1:
                rh = bp.slopes[layer] * rz
        g, rg = bp.deltas[0], _loss_rop(problem.loss, be, bp.zs[-1], Y, rzs[-1])
        out: list[tuple[Array, Array | None]] = []
        for layer in range(len(bp.params) - 1, -1, -1):
            (w, _), (vw, vb) = bp.params[layer], vparams[layer]
            h = bp.hs[layer]
            rgw = rg.T @ h / n + lam * vw
            if layer > 0:  # R h_l is nonzero only for hidden inputs
                rgw = rgw + g.T @ (bp.slopes[layer - 1] * rzs[layer - 1]) / n
            rgb = None
            if vb is not None:
                rgb = np.sum(rg, axis=0) / n + (lam * vb if problem.decay_bias else 0)
            out.append((rgw, rgb))
            if layer > 0:
                gh, rgh = g @ w, rg @ w + g @ vw
                ds, d2s = bp.slopes[layer - 1], bp.curvs[layer - 1]
                g, rg = gh * ds, rgh * ds + gh * d2s * rzs[layer - 1]
        return net.flatten(out[::-1])


def _loss_rop(name: str, be: Backend, f: Array, Y: Array, rf: Array) -> Array:
    """R(delta): the directional derivative of dl/df along R f."""
    if name == "mse":
        return rf
    p, _ = _softmax(be, f)
    mass = np.sum(Y, axis=1)[:, None]
    return mass * (p * rf - p * np.sum(p * rf, axis=1, keepdims=True))


def input_jacobians(problem: Problem, theta: Array, be: Backend = FLOAT64) -> list[list[Array]]:
    """``J[l][k]`` (n x in_l): row i is d f_k(x_i) / d h_l, the output-k Jacobian w.r.t. layer l's
    input, by backpropagating the unit vector e_k through the layers above l."""
    with be.working():
        theta = be.asarray(theta)
        bp = _forward(problem, theta, be)
        c = problem.net.sizes[-1]
        out: list[list[Array]] = [[] for _ in bp.params]
        for k in range(c):
            g = bp.zs[-1] * 0
            g[:, k] = g[:, k] + 1
            for layer in range(len(bp.params) - 1, -1, -1):
                gh = g @ bp.params[layer][0]
                out[layer].append(gh)
                if layer > 0:
                    g = gh * bp.slopes[layer - 1]
        return out
