"""The rounding floor of the gradient: a forward error analysis of backpropagation, per entry,
and the certificate of stationarity built on it.

Three per-entry quantities at a point theta (float64 or mpmath weights):

- the **floor** F_i >= |g_i computed - g_i exact|, the rounding error of the computed gradient;
- the **allowance** R_i >= |g_i exact(theta (1 + d)) - g_i exact(theta)| for every relative
  perturbation |d_j| <= u of the weights: how much the exact gradient changes when the weights
  move by their own rounding. Stored weights are at best the rounding of a stationary point, so
  even the best point a precision can hold shows an exact gradient up to R;
- the **threshold** T_i = F_i + P_i + R_i, P the a priori floor. The certificate: every |g_i
  computed| <= T_i. Why: Newton's last step removed the gradient computed at the previous
  iterate, whose error is left in the exact gradient at the new point (H H^-1 e = e to first
  order); that point is gone, so its error is bounded a priori (P: the a posteriori bound of one
  point says nothing about the next, where rounding falls differently, and a measured sigmoid
  network's last Newton steps leave exact gradients several times the current point's measured
  error); the new gradient is computed with an error up to F; R covers the rounding of the step
  to stored weights. So T is what a converged iterate can show at that precision (to first
  order), and a gradient above T in any entry is evidence of a point that is not stationary.
  Without the a posteriori step F = P and T = 2 P + R. Whatever the verdict, the exact gradient
  at the stored weights obeys |g exact| <= |g computed| + F entrywise, rigorously; every
  tolerance downstream (the F2 allowance of :mod:`verify.claims.defect_bounds`) uses that, never
  T.

All three are computed from the magnitudes of the terms actually summed, so a feature scaled by
1e9 raises the bounds of the entries its products reach and no others. (The floor this
replaces, u (k G + ||H|| ||theta||) from global norms, let one large entry raise the threshold of
all: badly scaled data passed points far from stationary.)

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
  c u T, with L2, L3 global bounds on |sigma''|, |sigma'''|, T the size of the summands of
  the slope formula (1 + t^2 for tanh's 1 - t^2) and c = ELEMENTWISE_ULPS (both tabled in
  :mod:`verify.engine.stepbounds`). ReLU is 1-Lipschitz (e_h' = e_z); where |z| <= e_z its
  slope is unknown in {0, 1}, so e_s = 1 there. quadratic and identity are exact polynomials.
  At the pinned pairs of a point on a kink (:mod:`verify.engine.kink`) the slope is a given
  exact number s_p and h = s_p z one product: e_s = 0, e_h = |s_p| e_z + u |h| (the problem's
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

The allowance R is the same propagation in exact arithmetic (u = 0 in every rule above) with
the weights and biases as the only inputs in error, |dW| <= u_w |W|: z gains
u_w ((|h| + e_h) |W|^T + |b|), dl/dh gains u_w (|delta| + e_delta) |W|, and grad_W gains
u_w lam |W| (:func:`_bounds` with ``(u, u_w) = (0, u)``; the floor is ``(u, 0)``). The
activation's second-order terms L2 e_z^2 / 2 keep it a bound, not only a first-order estimate.

In float64 an underflow may add up to 2^-1074 per operation (Higham section 2.2); the floor adds
that times a count of the operations. The floor of an entry is :data:`SAFETY` times its bound;
the factor covers only the float64 evaluation of the bound itself (for mpmath, its magnitudes
are rounded to float64). The bound is then rigorous in the model, with two stated assumptions:
NumPy's products obey the gamma_k bound (true for every summation order, blocked or with fused
multiply-add), and each elementwise function is within c ulps. A bound that overflows float64
is infinite; an infinite or NaN floor never certifies (the callers say INCONCLUSIVE and why).

Being rigorous, the a priori bound is pessimistic: it adds the errors of the n samples as if
they had the same sign, where in practice they partly cancel. Measured against the error of the
float64 gradient (recomputed at 50 digits), it is ~10^2 times larger on networks with tens of
samples and ~3 x 10^3 times on n = 256. Where the a priori threshold already certifies, the
floor is therefore tightened by an a posteriori bound, the error measured against a
recomputation in extended precision plus that recomputation's own a priori bound
(:mod:`verify.engine.posterior`): as rigorous, and within a small factor of the measured error
(2.6 times on the standard network; README, ``benchmarks/bench_rounding.py``). The tightened
floor is the one the tolerances use, and the F of the certificate's threshold.

The threshold along the gradient (:func:`directional_floor`), the largest t with
t |g_i| / ||g|| <= T_i for every i, is a single number with ||g|| <= t exactly when every
entry is within its threshold; the training reports print it as the "rounding floor".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from verify.engine.backends import FLOAT64, Array, Backend
from verify.engine.backprop import Backprop, backprop
from verify.engine.problem import Problem
from verify.engine.stepbounds import ELEMENTWISE_ULPS, act_bounds, delta_bound, gamma

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

#: floor = SAFETY * bound. Why 1 + 2^-20: the bound is rigorous in the model (module docstring)
#: except for its own evaluation in float64, sums of nonnegative terms over fewer than 1e6
#: roundings on the longest chain (relative error < 1e6 * 2^-53 ~ 1e-10), and the rounding of
#: mpmath magnitudes to float64 (relative 2^-53): 2^-20 ~ 1e-6 covers both.
SAFETY = 1.0 + 2.0**-20


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
    """The gradient at a point with its per-entry rounding floor (module docstring).

    ``floor``: bound on |computed - exact gradient| entrywise (a priori, or the tighter a
    posteriori bound after :meth:`tighten`); ``allowance``: how far the exact gradient can move
    when every weight moves by its own rounding, u |theta| (the stored weights are at best the
    rounding of a stationary point); ``prior``: the a priori floor. The certificate compares
    each entry with ``threshold = floor + prior + allowance`` (module docstring, "The
    certificate").
    """

    bp: Backprop
    floor: np.ndarray  # float64, one entry per parameter, same layout as the flat gradient
    layers: list[LayerRounding]
    unit_roundoff: float
    kinks: int = 0  # ReLU pre-activations within their rounding error of the kink at 0
    allowance: np.ndarray | None = None
    prior: np.ndarray | None = None
    posterior: bool = False  # floor tightened by the extended-precision recomputation
    previous: np.ndarray | None = None  # bound on the previous Newton step's error (tighten)

    @property
    def grad(self) -> Array:
        return self.bp.grad

    @property
    def abs_grad(self) -> np.ndarray:
        return np.abs(to_float64(self.bp.grad))

    @property
    def threshold(self) -> np.ndarray:
        """floor + previous + allowance, entrywise (previous = floor unless tightened): what a
        float64 Newton iterate at the rounding of an exact stationary point can show (module
        docstring)."""
        extra = 0.0 if self.allowance is None else self.allowance
        previous = self.floor if self.previous is None else self.previous
        with np.errstate(over="ignore", invalid="ignore"):
            return SAFETY * (self.floor + previous + extra)

    @property
    def finite(self) -> bool:
        return bool(np.isfinite(self.abs_grad).all() and np.isfinite(self.threshold).all())

    @property
    def ratio(self) -> float:
        """max_i |g_i| / threshold_i (<= 1: certified); NaN when anything is not finite."""
        if not self.finite:
            return float("nan")
        return _worst_ratio(self.abs_grad, self.threshold)

    @property
    def certified(self) -> bool:
        return self.finite and self.ratio <= 1.0

    @property
    def scale(self) -> float:
        """||floor|| / u: the size of the summands that cancel in the gradient."""
        return safe_norm(self.floor) / self.unit_roundoff

    def norms(self) -> tuple[float, float]:
        """``(||g||_2, threshold in the direction of g)`` (see :func:`directional_floor`)."""
        return directional_floor(self.abs_grad, self.threshold)

    def tighten(self, tight: np.ndarray, net: Any) -> None:
        """Replace the floor by ``min(floor, tight)`` entrywise (both are bounds), layers too.
        The previous Newton step's error keeps its a priori bound (module docstring, "The
        certificate")."""
        self.previous = self.floor
        self.floor = np.minimum(self.floor, tight)
        self.posterior = True
        for lr, (fw, fb) in zip(self.layers, net.unflatten(self.floor), strict=True):
            lr.grad_W, lr.grad_b = fw, fb


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


def rounding_analysis(
    problem: Problem,
    theta: Array,
    be: Backend = FLOAT64,
    posterior: bool = True,
    allowance: bool = True,
) -> RoundingAnalysis:
    """Backpropagation at ``theta`` in the numbers of ``be`` with per-entry error bounds.

    ``floor``: the a priori bound of the module docstring, replaced entrywise by the smaller a
    posteriori bound of :mod:`verify.engine.posterior` when ``posterior`` is set, the backend is
    float64, and the a priori threshold already certifies (the recomputation costs one long
    double backpropagation, so it is spent only where it can change the decision).
    ``allowance``: the weights' own rounding (:func:`_bounds` with ``u_w = u``; without it the
    threshold is floor + prior). :func:`verify.engine.hessian.rounding_at` keeps the last result per
    problem and precision.
    """
    bp = backprop(problem, theta, be)
    u = float(be.unit_roundoff)
    prior, layers, kinks = _bounds(problem, bp, u, 0.0)
    extra = _bounds(problem, bp, 0.0, u)[0] if allowance else None
    ra = RoundingAnalysis(bp, prior, layers, u, kinks, allowance=extra, prior=prior)
    if posterior and be.name == "float64" and ra.certified:
        from verify.engine.posterior import posterior_floor  # it builds on this module

        tight = posterior_floor(problem, theta, ra)
        if tight is not None:
            ra.tighten(tight, problem.net)
    return ra


def _bounds(
    problem: Problem, bp: Backprop, u: float, u_w: float
) -> tuple[np.ndarray, list[LayerRounding], int]:
    """Per-entry bound (SAFETY times it) on the gradient's error, with ``u`` the rounding of
    every operation and ``u_w`` a relative perturbation of every weight and bias (module
    docstring): ``(u, 0)`` is the rounding floor, ``(0, u)`` the allowance for the weights' own
    rounding, each propagated through the same steps."""
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
            ab = 0 if b is None else np.abs(b)
            k = w.shape[1] + (b is not None)
            ez = gamma(k, u) * (hs[layer] @ aw.T + ab) + e_h[layer] @ aw.T
            if u_w:  # W (1 + d), |d| <= u_w, acting on h + e_h
                ez = ez + u_w * ((hs[layer] + e_h[layer]) @ aw.T + ab)
            if layer == len(params) - 1:
                break
            eh, es = act_bounds(net.activation, zs[layer], to_float64(bp.hs[layer + 1]),
                                 slopes[layer], to_float64(bp.curvs[layer]), ez, u)  # fmt: skip
            if pin_bounds is not None:  # pinned pairs: slope s_p given exactly, h = s_p z
                eh, es = pin_bounds(layer, eh, es, ez, to_float64(bp.hs[layer + 1]), u)
            e_h.append(eh)
            e_s.append(es)
            if net.activation == "relu":
                kinks += int(np.count_nonzero((np.abs(zs[layer]) <= ez) & (es > 0)))
        e_g = delta_bound(problem.loss, zs[-1], problem.Y, to_float64(bp.deltas[-1]), ez, u)
        out: list[LayerRounding] = []
        for layer in range(len(params) - 1, -1, -1):
            w, b = params[layer]
            g, aw = np.abs(to_float64(bp.deltas[layer])), np.abs(w)
            p_abs = g.T @ hs[layer]
            e_p = gamma(n, u) * p_abs + e_g.T @ hs[layer] + (g + e_g).T @ e_h[layer]
            e_gw = (
                (e_p + u * p_abs) / n + (u + u_w) * lam * aw
                + u * np.abs(to_float64(bp.grads[layer][0]))
            )  # fmt: skip
            e_gb = None
            if b is not None:
                col = np.sum(g, axis=0)
                e_gb = (gamma(n, u) * col + np.sum(e_g, axis=0) + u * col) / n
                if problem.decay_bias:
                    e_gb = e_gb + (u + u_w) * lam * np.abs(b)
                    e_gb = e_gb + u * np.abs(to_float64(bp.grads[layer][1]))
            e_gh = (gamma(w.shape[0], u) * g + e_g) @ aw + u_w * (g + e_g) @ aw
            out.append(LayerRounding(e_h[layer], e_gh, SAFETY * e_gw,
                                     None if e_gb is None else SAFETY * e_gb))  # fmt: skip
            if layer > 0:
                gh = np.abs(to_float64(bp.grad_h[layer]))
                nxt = np.abs(to_float64(bp.deltas[layer - 1]))
                e_g = e_gh * slopes[layer - 1] + (gh + e_gh) * e_s[layer - 1] + u * nxt
        out.reverse()
        floor = net.flatten([(lr.grad_W, lr.grad_b) for lr in out]).astype(np.float64)
        if u and bp.grad.dtype != object:  # underflow: each operation may add up to the
            tiny = float(np.finfo(bp.grad.dtype).smallest_subnormal)  # smallest subnormal
            floor = floor + 4 * net.depth * (n + max(net.sizes) + 1) * tiny
    return floor, out, kinks
