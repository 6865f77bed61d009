"""The Hessian of L_lam and the gradient's rounding floor (see :mod:`verify.engine.train`).

Float64 Hessians are assembled from exact Hessian-vector products (R-operator), never by finite
differences; the mpmath Hessian (:func:`mp_hessian`) is the same at ``dps`` digits. The spectrum
summary counts zero modes that have a structural reason (continuous symmetries, dead units).
The rounding floor is the per-entry forward error bound of :mod:`verify.engine.rounding`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from verify.engine.backprop import hvp_many, remember_point
from verify.engine.network import FLOAT64, Array, Backend, Problem, backprop, hvp
from verify.engine.result import HessianSummary
from verify.engine.rounding import RoundingAnalysis, rounding_analysis, safe_norm

__all__ = [
    "DENSE_MAX",
    "LANCZOS_MAX",
    "dense_hessian",
    "gradient_floor",
    "handover_scale",
    "hessian_norm",
    "hessian_summary",
    "mp_hessian",
    "operator_norm",
    "rounding_at",
    "rounding_floor",
    "symmetry_directions",
]

#: float64 dense Hessians (eigendecomposition) up to this many parameters, Krylov above
DENSE_MAX = 800
#: Lanczos spectrum estimates up to this many parameters (above: not computed unless asked)
LANCZOS_MAX = 20_000


def gradient_floor(problem: Problem, theta: Array, be: Backend = FLOAT64) -> tuple[float, float]:
    """``(||grad L_lam||, floor)``: the gradient norm and its rounding floor along the gradient.

    Every entry of the gradient has its own threshold: its rounding floor, plus the a priori
    floor for the previous Newton step's error, plus its weights' rounding allowance
    (:mod:`verify.engine.rounding`). ``floor`` is the threshold in the direction of the
    gradient, so ``||grad|| <= floor`` exactly when every entry is within its own threshold
    (the certificate). NaN when anything overflowed.
    """
    _, gn, floor = _grad_floor_mp(problem, theta, be)
    return float(gn), float(floor)


def handover_scale(problem: Problem, theta: np.ndarray) -> float:
    """A size of the gradient's terms, k G + ||H|| ||theta||, that places the L-BFGS -> Newton
    hand-over (:func:`verify.engine.train.train`); never a certificate.

    k = n + depth * max width, G = (1/n) sum_l sum_i |delta_il| |h_il| + lam ||theta||, ||H||
    from :func:`hessian_norm`. This global estimate was the rounding floor (over u) before the
    per-entry floor of :mod:`verify.engine.rounding`; it stays only here, where it decides when
    L-BFGS hands over, so training follows the same path as before (:func:`rounding_floor`
    with u = 1).
    """
    theta = np.asarray(theta, dtype=np.float64)
    bp = backprop(problem, theta)
    with FLOAT64.working():
        terms = sum(
            float(np.sum(np.linalg.norm(d, axis=1) * np.linalg.norm(h, axis=1)))
            for d, h in zip(bp.deltas, bp.hs, strict=True)
        )
        size = float(np.linalg.norm(theta))
        k = problem.n + problem.net.depth * max(problem.net.sizes)
        hnorm = hessian_norm(problem, theta)
        return float(rounding_floor(1.0, k, terms / problem.n, problem.lam, size, hnorm))


def hessian_norm(problem: Problem, theta: np.ndarray, iterations: int = 12) -> float:
    """||H||_2 by power iteration on exact Hessian-vector products (float64).

    Why 12 iterations from a fixed random start: the floor needs the order of magnitude only; the
    estimate approaches ||H|| from below, geometrically, and 12 steps put it within a factor ~2.
    """
    return operator_norm(lambda v: hvp(problem, theta, v), problem.net.n_params, iterations)


def operator_norm(
    matvec: Callable[[np.ndarray], np.ndarray], p: int, iterations: int = 12
) -> float:
    """||A||_2 of a symmetric operator given by ``matvec`` on float64 vectors of length ``p``:
    power iteration from a fixed random start (why 12 and 2: :func:`hessian_norm`)."""
    v = np.random.default_rng(0).standard_normal(p)
    est = 0.0
    for _ in range(iterations):
        v /= np.linalg.norm(v)
        w = np.asarray(matvec(v), dtype=np.float64)
        est = float(np.linalg.norm(w))
        if not np.isfinite(est) or est == 0:
            return est if np.isfinite(est) else float("inf")
        v = w
    return 2 * est  # why 2: the power-iteration estimate is a lower bound


def dense_hessian(problem: Problem, theta: np.ndarray) -> np.ndarray:
    """Float64 Hessian of L_lam from exact Hessian-vector products, a block of columns at a time."""
    p = problem.net.n_params
    H = np.empty((p, p))
    # why this block size: the stacked R-operator holds ~ block * n * width numbers per array;
    # 2^19 of them (4 MiB) stay in cache (measured on the 20-64-1 net, n = 256: 32 directions a
    # block, 0.19-0.21 s a Hessian; 256 a block, 0.37 s), and at least 8 directions amortise the
    # Python overhead (100-10-1, n = 2000: 2 a block 0.74 s, 8 or 20 a block 0.53 s)
    block = max(1, min(p, max(8, (1 << 19) // max(1, problem.n * max(problem.net.sizes)))))
    eye = np.eye(block)
    for j in range(0, p, block):
        k = min(block, p - j)
        E = np.zeros((k, p))
        E[:, j : j + k] = eye[:k, :k]
        H[j : j + k] = hvp_many(problem, theta, E)
    return (H + H.T) / 2


def symmetry_directions(problem: Problem, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zero-mode directions of the Hessian of L_lam at ``theta`` that have a structural reason.

    Returns ``(symmetry, dead)``, rows are tangent vectors. ``symmetry``: continuous symmetries of
    L_lam near theta. Units that act linearly on every sample (all units for the identity
    activation; ReLU units whose pre-activation is > 0 on every sample) can be rotated
    (W_l -> Q W_l, b_l -> Q b_l, W_{l+1} -> W_{l+1} Q^T, Q orthogonal, which keeps the weight
    decay) and, with undecayed biases, shifted (b_l -> b_l + v, b_{l+1} -> b_{l+1} - W_{l+1} v);
    with cross-entropy and an undecayed output bias, b_L -> b_L + t 1 (softmax is shift
    invariant). ``dead``: the undecayed bias of a switched-off unit (zero outgoing weights, or a
    ReLU unit inactive on every sample) does not enter L_lam at all.
    """
    net = problem.net
    theta = np.asarray(theta, dtype=np.float64)
    params, bp = net.unflatten(theta), backprop(problem, theta)
    shift_bias = net.bias and not problem.decay_bias
    sym: list[np.ndarray] = []
    dead: list[np.ndarray] = []

    def vec(changes: dict[tuple[int, int], np.ndarray]) -> np.ndarray:
        parts = [np.zeros_like(a) if a is not None else None for wb in params for a in wb]
        for (layer, which), delta in changes.items():
            parts[2 * layer + which] = parts[2 * layer + which] + delta
        return net.flatten([(parts[2 * i], parts[2 * i + 1]) for i in range(net.depth)])

    for layer in range(net.depth - 1):
        (w, b), (w2, _) = params[layer], params[layer + 1]
        z, m = bp.zs[layer], w.shape[0]
        if net.activation == "identity":
            linear = np.ones(m, dtype=bool)
        elif net.activation == "relu":
            linear = (z > 0).all(axis=0)
        else:
            linear = np.zeros(m, dtype=bool)
        cols = np.linalg.norm(w2, axis=0)
        # why sqrt(u): at a float64 stationary point a switched-off unit's weights are ~u, not 0
        off = cols <= np.sqrt(FLOAT64.unit_roundoff) * max(float(cols.max()), 1e-300)
        if net.activation == "relu":
            off |= (z < 0).all(axis=0)
        idx = np.flatnonzero(linear)
        for p, q in ((int(p), int(q)) for p in idx for q in idx if p < q):
            a = np.zeros((m, m))
            a[p, q], a[q, p] = 1.0, -1.0
            ch = {(layer, 0): a @ w, (layer + 1, 0): -w2 @ a}
            if b is not None:
                ch[(layer, 1)] = a @ b
            sym.append(vec(ch))
        for i in range(m) if shift_bias else ():
            e = np.eye(m)[i]
            if linear[i]:
                sym.append(vec({(layer, 1): e, (layer + 1, 1): -w2 @ e}))
            elif off[i]:
                dead.append(vec({(layer, 1): e}))
    if problem.loss == "cross_entropy" and shift_bias:
        sym.append(vec({(net.depth - 1, 1): np.ones(net.sizes[-1])}))
    p = net.n_params
    return np.array(sym).reshape(len(sym), p), np.array(dead).reshape(len(dead), p)


def _rank(rows: np.ndarray) -> int:
    if rows.shape[0] == 0:
        return 0
    s = np.linalg.svd(rows, compute_uv=False)
    # why 1e-8: generators are built from exact entries of theta; dependent ones cancel to ~1e-16
    return int(np.sum(s > 1e-8 * s[0])) if s[0] > 0 else 0


def hessian_summary(
    problem: Problem, theta: np.ndarray, method: str = "auto", H: np.ndarray | None = None
) -> HessianSummary:
    """Min/max eigenvalue, near-zero count, symmetry zero modes and the kind of point."""
    p = problem.net.n_params
    sym_dirs, dead_dirs = symmetry_directions(problem, theta)
    sym = _rank(sym_dirs)
    dead = _rank(np.vstack([sym_dirs, dead_dirs])) - sym
    if method == "auto":
        method = "dense" if p <= DENSE_MAX else ("lanczos" if p <= LANCZOS_MAX else "none")
    if method == "none":
        return HessianSummary("not computed", p, None, None, None, sym, dead, None, "unknown")
    if method == "dense":
        ev = np.linalg.eigvalsh(dense_hessian(problem, theta) if H is None else H)
        lo, hi = float(ev[0]), float(ev[-1])
    else:
        from scipy.sparse import linalg as sla  # only here: its import costs 0.3 s CPU

        op = _hess_operator(problem, theta)
        # a fixed start vector: without v0 ARPACK draws one from a process-wide generator, so the
        # last digits would depend on how many Lanczos runs the process made before (the report
        # with --jobs 1 and --jobs 2 would differ)
        v0 = np.random.default_rng(0).standard_normal(p)
        try:  # why tol 1e-6: the summary needs a few digits, not the eigenvalues to full precision
            hi = float(
                sla.eigsh(op, k=1, which="LA", tol=1e-6, v0=v0, return_eigenvectors=False)[0]
            )
            lo = float(
                sla.eigsh(op, k=1, which="SA", tol=1e-6, v0=v0, return_eigenvectors=False)[0]
            )
        except sla.ArpackNoConvergence:
            return HessianSummary(
                "lanczos (no convergence)", p, None, None, None, sym, dead, None, "unknown"
            )
        ev = None
    # why sqrt(u) * max|ev|: float64 eigenvalues carry absolute error ~ k u ||H||, far below this
    # threshold, so no true zero mode is missed; genuine curvature (>= lam in directions weight
    # decay controls) sits far above it for the problem sizes used here.
    tol = float(np.sqrt(np.finfo(float).eps)) * max(abs(lo), abs(hi))
    near = int(np.sum(np.abs(ev) <= tol)) if ev is not None else None
    if lo < -tol:
        kind = "saddle"
    elif near is None:
        kind = "local minimum" if sym + dead == 0 and lo > tol else "unknown"
    else:
        kind = "local minimum" if near <= sym + dead else "degenerate local minimum"
    name = "dense eigendecomposition" if ev is not None else "lanczos (extremes only)"
    return HessianSummary(name, p, lo, hi, near, sym, dead, tol, kind)


def _hess_operator(problem: Problem, theta: np.ndarray) -> Any:
    from scipy.sparse import linalg as sla

    p = problem.net.n_params
    return sla.LinearOperator((p, p), matvec=lambda v: hvp(problem, theta, v), dtype=np.float64)


def mp_hessian(problem: Problem, theta: Array, be: Backend) -> Array:
    """The exact Hessian of L_lam in the backend's numbers: p Hessian-vector products
    (R-operator), symmetrised (object array p x p for mpmath)."""
    p = problem.net.n_params
    e = be.asarray(np.zeros(p))
    cols = []
    for j in range(p):
        unit = e.copy()
        unit[j] = unit[j] + 1
        cols.append(hvp(problem, theta, unit, be))
    with be.working():
        H = np.array(cols).T
        return (H + H.T) / 2


def _pinv_rcond(p: int, u: float) -> float:
    # why 100 * p * u: the assembled Hessian has backward error ~ p u ||H|| (p Hessian-vector
    # products of rounding u); eigenvalues below 100 times that are noise, not curvature.
    return 100.0 * p * u


def _eig_solver(H: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ev, V = np.linalg.eigh(H)
    keep = np.abs(ev) > _pinv_rcond(len(ev), FLOAT64.unit_roundoff) * np.max(np.abs(ev))
    return ev, V, keep


def _grad_floor_mp(problem: Problem, theta: Array, be: Backend) -> tuple[Array, Any, Any]:
    """(gradient, its norm, its floor along the gradient) in the backend's numbers.

    The floor is ||g|| / max_i(|g_i| / floor_i) (:func:`verify.engine.rounding.directional_floor`),
    so every comparison ``norm <= c * floor`` reads ``max_i |g_i| / floor_i <= c``.
    """
    ra = rounding_at(problem, theta, be)
    with be.working():
        # float64: a norm that cannot overflow (entries near 1e300 have a finite norm)
        gn = be.sqrt(np.sum(ra.grad * ra.grad)) if be.name != "float64" else safe_norm(ra.grad)
        if not (ra.finite and np.isfinite(float(gn))):
            return ra.grad, gn, float("nan")
        ratio = ra.ratio
        floor = gn / ratio if ratio > 0 else ra.norms()[1]
        return ra.grad, gn, floor


def rounding_at(problem: Problem, theta: Array, be: Backend = FLOAT64) -> RoundingAnalysis:
    """:func:`verify.engine.rounding.rounding_analysis` at ``theta``, the last point's kept on the
    problem (one per precision) and returned again while ``theta`` (by value) is unchanged.

    One point is asked for several times: by the Newton stage before and after a step, by the
    final report and by the FACT defect bounds; at 50 digits each analysis costs a backward pass
    of ~0.5 s. Its pass also becomes the point of the Hessian-vector products
    (:func:`verify.engine.backprop.remember_point`). Treat the result as read-only.
    """
    key, theta = f"rounding-point-{be.name}-{be.dps}", be.asarray(theta)
    saved = problem._cache.get(key)
    if saved is not None:
        at, ra = saved
        if at.shape == theta.shape and bool(np.all(at == theta)):
            return ra
    at = theta.copy()  # a private copy: the caller may change its array later
    ra = rounding_analysis(problem, at, be)
    problem._cache[key] = (at, ra)
    remember_point(problem, at, be, ra.bp)
    return ra


def rounding_floor(unit_roundoff: Any, k: int, terms: Any, lam: Any, theta_norm: Any,
                   hnorm: Any) -> Any:  # fmt: skip
    """The global size ``u (k (terms + lam ||theta||) + ||H|| ||theta||)`` of the gradient's
    rounding error: ``k`` the longest chain of summations, ``terms`` = (1/n) sum_l sum_i
    |delta_il| |h_il|, ``hnorm`` = ||H||_2, ``theta_norm`` = ||theta||.

    Pure arithmetic on numbers. It is no longer the engine's certificate (one large entry raises
    it for all entries, so badly scaled data passed points far from stationary; the engine
    certifies with the per-entry floor of :mod:`verify.engine.rounding`); it places the L-BFGS
    hand-over (:func:`handover_scale`) and is the rule of implementations of L_lam that carry no
    per-entry bounds (:mod:`verify.torch`).
    """
    return unit_roundoff * (k * (terms + lam * theta_norm) + hnorm * theta_norm)
