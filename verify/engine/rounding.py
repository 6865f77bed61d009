"""The rounding floor of the gradient: a forward error analysis of backpropagation, per entry.

A point is certified stationary at a precision when every entry of its computed gradient lies
within the bound on that entry's own rounding error: then the computed gradient cannot be told
from zero at that precision, and the exact gradient at the stored weights is at most twice the
bound, entry by entry. The bound is computed alongside the gradient, from the magnitudes of the
terms actually summed, so a feature scaled by 1e9 raises the bounds of the entries its products
reach and no others. (The floor this replaces, u (k G + ||H|| ||theta||) from global norms, let
one large entry raise the threshold of all: badly scaled data passed points far from
stationary.)

Derivation (running error analysis, Higham, *Accuracy and Stability of Numerical Algorithms*,
2nd ed., sections 2.2, 3.1-3.5), in the standard model: every basic operation is exact up to a
factor (1 + delta), |delta| <= u, the unit roundoff of the backend; gamma_k = k u / (1 - k u).
Weights, biases, data and lam are exact inputs (float64 numbers, or their exact mpmath copies).
For each computed array a we carry e_a >= |a_computed - a_exact| entrywise and propagate it
through the steps of :func:`verify.engine.backprop.backprop`:

- product C = A B, inner dimension k, any summation order (Higham Lemma 3.3, Thm 3.5):
  e_C = gamma_k |A||B| + e_A |B| + (|A| + e_A) e_B (computed magnitudes; exact second order).
- z = h W^T + b: e_z = gamma_{in+1} (|h||W|^T + |b|) + e_h |W|^T.
- h' = sigma(z): by the mean value theorem, e_h' = |sigma'(z)| e_z + L2 e_z^2 / 2 + c u |h'|,
  and the slope s = sigma'(z) that backprop uses: e_s = |sigma''(z)| e_z + L3 e_z^2 / 2 +
  c u T, with L2, L3 global bounds on |sigma''|, |sigma'''| (table :data:`_SMOOTH`), T the size
  of the summands of the slope formula (1 + t^2 for tanh's 1 - t^2) and c =
  :data:`ELEMENTWISE_ULPS`. ReLU is 1-Lipschitz (e_h' = e_z); where |z| <= e_z its slope is
  unknown in {0, 1}, so e_s = 1 there. quadratic and identity are exact polynomials. At the
  pinned pairs of a point on a kink (:mod:`verify.engine.kink`) the slope is a given exact
  number s_p and h = s_p z one product: e_s = 0, e_h = |s_p| e_z + u |h| (the problem's
  ``pin_bounds``).
- mse: delta = f - y, e_delta = e_f + u |delta|. cross-entropy: delta = p sum(y) - y with
  p = softmax(f); p_k changes by at most p_k ((1 - p_k) e_f_k + sum_{j != k} p_j e_f_j) e^{4m}
  (m = max_j e_f_j; the factor bounds p along the segment), and the shift, exp, row sum and
  division add the relative error u |f_k - m*| + sum_j p_j u |f_j - m*| + (2c + 1) u + gamma_C
  (m* the row maximum, C classes).
- grad_W = delta^T h / n + lam W: e = (e_P + u |P|) / n + u |lam W| + u |grad_W|, e_P from
  the product rule (inner dimension n); grad_b = sum_i delta_i / n (+ lam b) likewise.
- dl/dh = delta W (inner dimension out); delta' = (dl/dh) * s: e = e_gh |s| + (|dl/dh| +
  e_gh) e_s + u |delta'|.

In float64 an underflow may add up to 2^-1074 per operation (Higham section 2.2); the floor adds
that times a count of the operations. The floor of an entry is :data:`SAFETY` times its bound;
the factor covers only the float64 evaluation of the bound itself (for mpmath, its magnitudes
are rounded to float64). The bound is then rigorous in the model, with two stated assumptions:
NumPy's products obey the gamma_k bound (true for every summation order, blocked or with fused
multiply-add), and each elementwise function is within c ulps. A bound that overflows float64
is infinite; an infinite or NaN floor never certifies (the callers say INCONCLUSIVE and why).

Being rigorous, the bound is pessimistic: it adds the errors of the n samples as if they had
the same sign, where in practice they partly cancel. Measured against the error of the float64
gradient (recomputed at 50 digits), the floor is ~10^2 times larger on networks with tens of
samples and ~3 x 10^3 times on n = 256 (tests/verify/engine/test_rounding.py, README).

The floor along the gradient (:func:`directional_floor`), the largest t with
t |g_i| / ||g|| <= floor_i for every i, is a single number with ||g|| <= t exactly when every
entry is within its floor; the training reports print it as the "rounding floor".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from verify.engine.backends import FLOAT64, Array, Backend
from verify.engine.backprop import Backprop, backprop
from verify.engine.problem import Problem

__all__ = [
    "ELEMENTWISE_ULPS",
    "SAFETY",
    "LayerRounding",
    "RoundingAnalysis",
    "directional_floor",
    "floor_ratio",
    "gamma",
    "rounding_analysis",
    "safe_norm",
    "to_float64",
]

#: c: ulps of error of one elementwise function value (module docstring). Why 8: glibc's exp,
#: log and tanh are accurate to < 1 ulp, NumPy's SIMD versions and Cephes' expit and ndtr to
#: <= 4 ulps, mpmath's functions to < 1 ulp of the working precision; the formulas built on them
#: (z * Phi(z), 1 - t * t, s * (1 - s), log(s) + m) add at most 3 roundings.
ELEMENTWISE_ULPS = 8
#: floor = SAFETY * bound. Why 1 + 2^-20: the bound is rigorous in the model (module docstring)
#: except for its own evaluation in float64, sums of nonnegative terms over fewer than 1e6
#: roundings on the longest chain (relative error < 1e6 * 2^-53 ~ 1e-10), and the rounding of
#: mpmath magnitudes to float64 (relative 2^-53): 2^-20 ~ 1e-6 covers both.
SAFETY = 1.0 + 2.0**-20
#: the smallest positive float64 (subnormal): what an underflow can add to one operation
_TINY = 2.0**-1074

#: per smooth activation (L2, L3, T2): L2 >= sup|sigma''| and L3 >= sup|sigma'''| for the
#: second-order terms of the mean-value bounds; T2 >= the summands of the curvature formula of
#: verify/engine/activations.py (for the rounding of the computed curvature).
#: tanh: sigma'' = -2 t (1 - t^2), max 4 / (3 sqrt 3) = 0.770; |sigma'''| max 2 (at 0).
#: sigmoid: max |sigma''| = sqrt(3) / 18 = 0.0962, max |sigma'''| = 1/8 (at 0).
#: softplus: sigma'' = sigmoid' <= 1/4, sigma''' = sigmoid'' <= 0.0962.
#: gelu: sigma'' = phi(z) (2 - z^2) <= 2 phi(0) = 0.798, |sigma'''| = phi |z^3 - 4 z| <= 0.779.
_SMOOTH: dict[str, tuple[float, float, float]] = {
    "tanh": (0.77, 2.0, 4.0),
    "sigmoid": (0.0963, 0.125, 1.0),
    "softplus": (0.25, 0.0963, 1.0),
    "gelu": (0.798, 0.779, 1.0),
}


@dataclass
class LayerRounding:
    """Error bounds (float64, entrywise) of one layer's computed arrays.

    ``h``: the layer input; ``grad_h``: dl_i/dh (= W^T delta_i); ``grad_W``/``grad_b``: the
    floor (SAFETY times the bound) of this layer's gradient entries.
    """

    h: np.ndarray
    grad_h: np.ndarray
    grad_W: np.ndarray
    grad_b: np.ndarray | None


@dataclass
class RoundingAnalysis:
    """The gradient at a point with its per-entry rounding floor (module docstring)."""

    bp: Backprop
    floor: np.ndarray  # float64, one entry per parameter, same layout as the flat gradient
    layers: list[LayerRounding]
    unit_roundoff: float
    kinks: int = 0  # ReLU pre-activations within their rounding error of the kink at 0

    @property
    def grad(self) -> Array:
        return self.bp.grad

    @property
    def abs_grad(self) -> np.ndarray:
        return np.abs(to_float64(self.bp.grad))

    @property
    def finite(self) -> bool:
        return bool(np.isfinite(self.abs_grad).all() and np.isfinite(self.floor).all())

    @property
    def ratio(self) -> float:
        """max_i |g_i| / floor_i (<= 1: certified); NaN when anything is not finite."""
        if not self.finite:
            return float("nan")
        return _worst_ratio(self.abs_grad, self.floor)

    @property
    def certified(self) -> bool:
        return self.finite and self.ratio <= 1.0

    @property
    def scale(self) -> float:
        """||floor|| / u: the size of the summands that cancel in the gradient."""
        return safe_norm(self.floor) / self.unit_roundoff

    def norms(self) -> tuple[float, float]:
        """``(||g||_2, floor in the direction of g)`` (see :func:`directional_floor`)."""
        return directional_floor(self.abs_grad, self.floor)


def safe_norm(a: Any) -> float:
    """Euclidean norm of float64 magnitudes without overflow of the squares (inf if any is)."""
    a = np.abs(np.asarray(a, dtype=np.float64)).ravel()
    if a.size == 0:
        return 0.0
    top = float(np.max(a))
    if not np.isfinite(top):
        return float("nan") if np.isnan(a).any() else float("inf")
    if top == 0:
        return 0.0
    return top * float(np.sqrt(np.sum((a / top) ** 2)))


def _worst_ratio(abs_grad: np.ndarray, floor: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(abs_grad == 0, 0.0, abs_grad / floor)
    return float(np.max(r)) if r.size else 0.0


def directional_floor(abs_grad: np.ndarray, floor: np.ndarray) -> tuple[float, float]:
    """``(||g||, t)``: t = ||g|| / max_i(|g_i| / floor_i), the floor along the gradient.

    ``||g|| <= t`` exactly when every entry is within its floor. For g = 0, t = ||floor||; when
    anything is not finite, t is NaN (no comparison with it succeeds).
    """
    gn = safe_norm(abs_grad)
    if not (np.isfinite(abs_grad).all() and np.isfinite(floor).all()):
        return gn, float("nan")
    worst = _worst_ratio(abs_grad, floor)
    if worst == 0:
        return gn, safe_norm(floor)
    return gn, gn / worst


def floor_ratio(gn: Any, floor: Any) -> Any:
    """max_i |g_i| / floor_i from ``(||g||, floor along g)`` of :func:`directional_floor`
    (0 for a zero gradient; NaN when the floor is NaN or not positive)."""
    if gn == 0:
        return 0.0
    return gn / floor if floor > 0 else float("nan")


def to_float64(a: Any) -> np.ndarray:
    """Float64 copy of backend numbers (mpmath values rounded; overflow gives inf)."""
    arr = np.asarray(a)
    if arr.dtype == object:
        return np.array([float(x) for x in arr.ravel()], dtype=np.float64).reshape(arr.shape)
    return np.asarray(arr, dtype=np.float64)


def gamma(k: int, u: float) -> float:
    """Higham's gamma_k = k u / (1 - k u): the relative error bound of a sum of k products."""
    return k * u / (1 - k * u)


def _act_bounds(
    name: str, z: np.ndarray, h: np.ndarray, s: np.ndarray, c2: np.ndarray, ez: np.ndarray,
    u: float,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(e_h, e_s): bounds on the activation's value and slope (module docstring)."""
    cu = ELEMENTWISE_ULPS * u
    if name == "identity":
        return ez, np.zeros_like(ez)
    if name == "relu":
        kink = np.abs(z) <= ez  # the sign of z, hence the slope, is not known there
        return np.where(kink, ez, np.abs(s) * ez), np.where(kink, 1.0, 0.0)
    if name == "quadratic":  # z*z: one rounding; the slope 2z is exact up to the error of z
        return 2 * np.abs(z) * ez + ez * ez + u * np.abs(h), 2 * ez
    L2, L3, T2 = _SMOOTH[name]
    if name == "tanh":
        terms = 1 + h * h  # slope 1 - t*t
    elif name == "sigmoid":
        terms = np.abs(h) * (1 + np.abs(h))  # slope s (1 - s)
    elif name == "softplus":
        terms = np.abs(s)  # the slope is the logistic function itself
    else:  # gelu: slope Phi(z) + z phi(z)
        from scipy import special  # here: SciPy's import costs 0.5 s of CPU at start-up

        terms = special.ndtr(z) + np.abs(z) * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    slope = np.abs(s) + cu * terms  # >= |sigma'(z_computed)|
    curv = np.abs(c2) + cu * T2  # >= |sigma''(z_computed)|
    eh = slope * ez + L2 * ez * ez / 2 + cu * np.abs(h) / (1 - cu)
    es = curv * ez + L3 * ez * ez / 2 + cu * terms
    return eh, es


def rounding_analysis(problem: Problem, theta: Array, be: Backend = FLOAT64) -> RoundingAnalysis:
    """Backpropagation at ``theta`` in the numbers of ``be`` with per-entry error bounds."""
    bp = backprop(problem, theta, be)
    u = float(be.unit_roundoff)
    net, n = problem.net, problem.n
    pin_bounds = getattr(problem, "pin_bounds", None)  # verify.engine.kink.surrogate.PinnedProblem
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        lam = abs(float(problem.lam))
        params = [(to_float64(w), None if b is None else to_float64(b)) for w, b in bp.params]
        hs = [np.abs(problem.X)] + [np.abs(to_float64(h)) for h in bp.hs[1:]]
        zs = [to_float64(z) for z in bp.zs]
        slopes = [np.abs(to_float64(s)) for s in bp.slopes]
        # forward: errors of the layer inputs h_l and of the slopes
        e_h, e_s, kinks = [np.zeros_like(problem.X)], [], 0
        for layer, (w, b) in enumerate(params):
            aw = np.abs(w)
            k = w.shape[1] + (b is not None)
            ez = gamma(k, u) * (hs[layer] @ aw.T + (0 if b is None else np.abs(b)))
            ez = ez + e_h[layer] @ aw.T
            if layer == len(params) - 1:
                break
            eh, es = _act_bounds(net.activation, zs[layer], to_float64(bp.hs[layer + 1]),
                                 slopes[layer], to_float64(bp.curvs[layer]), ez, u)  # fmt: skip
            if pin_bounds is not None:  # pinned pairs: slope s_p given exactly, h = s_p z
                eh, es = pin_bounds(layer, eh, es, ez, to_float64(bp.hs[layer + 1]), u)
            e_h.append(eh)
            e_s.append(es)
            if net.activation == "relu":
                kinks += int(np.count_nonzero((np.abs(zs[layer]) <= ez) & (es > 0)))
        e_g = _delta_bound(problem.loss, zs[-1], problem.Y, to_float64(bp.deltas[-1]), ez, u)
        out: list[LayerRounding] = []
        for layer in range(len(params) - 1, -1, -1):
            w, b = params[layer]
            g, aw = np.abs(to_float64(bp.deltas[layer])), np.abs(w)
            p_abs = g.T @ hs[layer]
            e_p = gamma(n, u) * p_abs + e_g.T @ hs[layer] + (g + e_g).T @ e_h[layer]
            e_gw = (e_p + u * p_abs) / n + u * lam * aw + u * np.abs(to_float64(bp.grads[layer][0]))
            e_gb = None
            if b is not None:
                col = np.sum(g, axis=0)
                e_gb = (gamma(n, u) * col + np.sum(e_g, axis=0) + u * col) / n
                if problem.decay_bias:
                    e_gb = e_gb + u * lam * np.abs(b) + u * np.abs(to_float64(bp.grads[layer][1]))
            e_gh = (gamma(w.shape[0], u) * g + e_g) @ aw
            out.append(LayerRounding(e_h[layer], e_gh, SAFETY * e_gw,
                                     None if e_gb is None else SAFETY * e_gb))  # fmt: skip
            if layer > 0:
                gh = np.abs(to_float64(bp.grad_h[layer]))
                nxt = np.abs(to_float64(bp.deltas[layer - 1]))
                e_g = e_gh * slopes[layer - 1] + (gh + e_gh) * e_s[layer - 1] + u * nxt
        out.reverse()
        floor = net.flatten([(lr.grad_W, lr.grad_b) for lr in out]).astype(np.float64)
        if be.name == "float64":  # underflow: each operation may add up to _TINY
            floor = floor + 4 * net.depth * (n + max(net.sizes) + 1) * _TINY
    return RoundingAnalysis(bp, floor, out, u, kinks)


def _delta_bound(
    loss: str, f: np.ndarray, Y: np.ndarray, delta: np.ndarray, e_f: np.ndarray, u: float
) -> np.ndarray:
    """Bound on the error of delta = dl/df (module docstring)."""
    if loss == "mse":
        return e_f + u * np.abs(delta)
    m = np.max(f, axis=1, keepdims=True)
    e = np.exp(f - m)
    p = e / np.sum(e, axis=1, keepdims=True)
    mass = np.abs(np.sum(Y, axis=1, keepdims=True))
    c = f.shape[1]
    # propagated error of f; the difference weighted - p e_f is a sum over j != k, and its
    # rounding (u p_k e_f_k) lies far below the rounding term u p_k of ``rnd``
    weighted = np.sum(p * e_f, axis=1, keepdims=True)
    prop = np.clip(1 - p, 0, None) * e_f + np.clip(weighted - p * e_f, 0, None)
    prop = prop * np.exp(4 * np.max(e_f, axis=1, keepdims=True))
    # roundings: the shift f - m, exp, the row sum (weights p_j) and the division
    shift = u * np.abs(f - m)
    rnd = (
        shift + np.sum(p * shift, axis=1, keepdims=True)
        + (2 * ELEMENTWISE_ULPS + 1) * u + gamma(c, u)
    )  # fmt: skip
    e_p = p * (prop + rnd)
    return mass * e_p + p * gamma(c, u) * mass + u * p * mass + u * np.abs(delta)
