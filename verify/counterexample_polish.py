"""Newton in mpmath: refine a float64 point to a stationary point certified at ``dps`` digits.

:func:`polish` takes a point (usually the float64 engine's, verify.train.train) and applies
Newton steps to the gradient of L_lam in mpmath at ``dps`` digits (50 by default) until the
gradient is at its rounding floor (verify.train.gradient_floor, the engine's certification rule).
Steps use the exact mpmath Hessian for small networks and a float64 Hessian with the mpmath
gradient otherwise; a point that does not reach its floor is returned with status MAX_ITER, and
:mod:`verify.counterexample_certify` then says INCONCLUSIVE, never REFUTED.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from verify.network import Array, Backend, Problem, backprop, hvp, mp_backend
from verify.train import Status, TrainResult, dense_hessian, gradient_floor

__all__ = ["CERT_DPS", "polish"]

#: default working precision of a certificate (decimal digits)
CERT_DPS = 50


def _solvers(H: np.ndarray) -> list[Callable[[np.ndarray], np.ndarray]]:
    """Float64 solvers for H p = r, tried in order: plain LU, then eigen pseudo-inverses.

    Why several cut-offs: ill-conditioned but regular Hessians (the quadratic family, cond ~1e12)
    need every eigenvalue kept, while symmetry zero modes (linear networks at lam = 0) must be
    dropped; 1e-13 / 1e-10 / 1e-7 (relative to the top eigenvalue) separate the two cases."""
    ev, V = np.linalg.eigh(H)
    top = float(np.max(np.abs(ev))) or 1.0
    out: list[Callable[[np.ndarray], np.ndarray]] = []
    with np.errstate(all="ignore"):
        try:
            lu = np.linalg.inv(H)
            if np.isfinite(lu).all():
                out.append(lambda r: lu @ r)
        except np.linalg.LinAlgError:
            pass
    for cut in (1e-13, 1e-10, 1e-7):
        keep = np.abs(ev) > cut * top
        Vk, ek = V[:, keep], ev[keep]
        out.append(_pinv_solver(Vk, ek))
    return out


def _pinv_solver(Vk: np.ndarray, ek: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    def solve(r: np.ndarray) -> np.ndarray:
        return np.asarray(Vk @ ((Vk.T @ r) / ek))

    return solve


def _mp_hessian(problem: Problem, theta: Array, be: Backend) -> Any:
    """The exact Hessian of L_lam in mpmath: p Hessian-vector products (R-operator)."""
    p = len(theta)
    cols = [hvp(problem, theta, be.asarray(np.eye(p)[j]), be) for j in range(p)]
    with be.working():
        return mpmath.matrix([[cols[j][i] for j in range(p)] for i in range(p)])


def _mp_steps(H: Any, g: Array, be: Backend) -> list[Array]:
    """Least-squares Newton steps -H^+ g with the exact mpmath Hessian, for eigenvalue cut-offs
    10^(-dps/2), 1e-14, 1e-10 and 1e-6 of the largest (most inclusive first).

    Why several: zero modes of continuous symmetries and flat directions (linear networks, dead
    units at lam = 0) sit at rounding level at an exact stationary point but at the level of the
    residual gradient near it, and a step along them would slide along a manifold of stationary
    points; genuine curvature can itself be small (the quadratic family's is ~1e-11 relative).
    The caller keeps the step that lowers the gradient most."""
    p = len(g)
    vals, vecs = mpmath.eigsy(H)
    top = max(abs(vals[i]) for i in range(p))
    gv = mpmath.matrix([x for x in g])
    coef = [((vecs[:, i].T * gv)[0], vals[i]) for i in range(p)]
    out = []
    for cut in (mpmath.mpf(10) ** (-(be.dps // 2)), 1e-14, 1e-10, 1e-6):
        step = mpmath.matrix(p, 1)
        for i, (c, v) in enumerate(coef):
            if abs(v) > cut * top:
                step -= vecs[:, i] * (c / v)
        out.append(np.array([step[i] for i in range(p)], dtype=object))
    return out


def polish(
    problem: Problem, theta: Array, dps: int = CERT_DPS, *, max_steps: int = 40,
    dense_max: int = 80,
) -> TrainResult:  # fmt: skip
    """Newton in mpmath at ``dps`` digits from ``theta`` until ||grad L_lam|| <= its floor.

    Steps solve H p = -g with a float64 Hessian factorisation (chord Newton: each step gains
    about -log10(cond(H) u_64) digits, enough for ill-conditioned problems where the engine's
    truncated pseudo-inverse stalls), then, if that stalls, with the exact mpmath Hessian
    (networks of <= ``dense_max`` parameters). A step is kept only if it lowers the gradient.
    Certification is the engine's rule (verify.train.gradient_floor at ``dps`` digits).
    """
    be = mp_backend(dps)
    with be.working():  # every mpmath operation below (th + step, ...) at dps digits
        return _polish(problem, theta, dps, be, max_steps, dense_max)


def _polish(
    problem: Problem, theta: Array, dps: int, be: Backend, max_steps: int, dense_max: int
) -> TrainResult:
    start = time.perf_counter()
    th = be.asarray(theta)
    hnorm = float(np.max(np.abs(np.linalg.eigvalsh(dense_hessian(problem, be.to_float(th))))))
    history: list[tuple[str, float]] = []

    def grad_at(t: Array) -> tuple[Array, float, float]:
        g = backprop(problem, t, be).grad
        gn, floor = gradient_floor(problem, t, be, hnorm=hnorm)
        return g, gn, floor

    g, gn, floor = grad_at(th)
    scale = floor / be.unit_roundoff
    steps, certified, detours = 0, gn <= floor, 0
    dense = problem.net.n_params <= dense_max
    best = (gn, th, g, floor)
    while not certified and steps < max_steps:
        accepted, first = False, None
        if dense:  # exact mpmath Hessian, fresh at every step
            tried: list[tuple[Any, int, Array, Array, Any]] = []
            for step in _mp_steps(_mp_hessian(problem, th, be), g, be):
                g2, gn2, floor2 = grad_at(th + step)
                if np.isfinite(gn2):
                    tried.append((gn2, len(tried), th + step, g2, floor2))
                    if gn2 <= max(1e-2 * gn, floor2):
                        break  # why 1e-2: two digits gained, Newton is in its basin; no need
                        # to try the more truncated steps
            if tried:
                gn2, k, cand, g2, floor2 = min(tried, key=lambda t: (t[0], t[1]))
                first = (tried[0][2], tried[0][3], tried[0][0], tried[0][4])
                # why 0.9: a negligible decrease from a truncated step would waste iterations
                # (the detour below with the full step is the better move then)
                if gn2 < 0.9 * gn:
                    th, g, gn, floor, accepted = cand, g2, gn2, floor2, True
        else:  # float64 Hessian with the mpmath gradient: linear contraction ~cond(H) u_64
            g64 = be.to_float(g)
            for solve in _solvers(dense_hessian(problem, be.to_float(th))):
                for frac in (1.0, 0.5):
                    p64 = solve(-g64)
                    if not np.isfinite(p64).all():
                        continue
                    cand = th + be.asarray(frac * p64)
                    g2, gn2, floor2 = grad_at(cand)
                    first = first or (cand, g2, gn2, floor2)
                    if np.isfinite(gn2) and gn2 < 0.9 * gn:  # why 0.9: any clear decrease
                        th, g, gn, floor, accepted = cand, g2, gn2, floor2, True
                        break
                if accepted:
                    break
        # a plain Newton step of an ill-conditioned problem may raise the gradient before it
        # falls quadratically (non-monotone Newton): allow a few such detours with the most
        # inclusive step, keeping the best point seen. Why 1e-3 of the gradient scale (floor / u,
        # the size of the terms that cancel in the gradient): a point whose gradient stays that
        # far below its own terms is still near a stationary point
        if not accepted and first is not None and detours < 3 and first[2] < 1e-3 * scale:
            detours += 1
            (th, g, gn, floor), accepted = first, True
        if not accepted:
            break
        steps += 1
        history.append((f"newton@{dps}", gn))
        certified = gn <= floor
        if gn < best[0]:
            best = (gn, th, g, floor)
    gn, th, g, floor = best
    certified = gn <= floor
    final64 = be.to_float(th)
    gn64, floor64 = gradient_floor(problem, final64, hnorm=hnorm)
    with be.working():
        t0 = be.asarray(theta)
        moved = float(be.sqrt(np.sum((th - t0) ** 2)) / max(be.sqrt(np.sum(t0 * t0)), 1e-300))
    how = "Newton (exact mpmath Hessian)" if dense else "Newton (float64 Hessian, mpmath gradient)"
    reason = (
        f"at {dps} digits: ||grad L_lam|| = {gn:.3g} " + ("<=" if certified else "stayed above")
        + f" rounding floor {floor:.3g} after {steps} {how} steps"
    )  # fmt: skip
    return TrainResult(
        problem, final64, Status.CONVERGED if certified else Status.MAX_ITER, reason,
        "" if certified else "train closer to a stationary point first, or raise max_steps",
        gn64, floor64, float(backprop(problem, final64).value), 0, 0,
        time.perf_counter() - start, None, dps, th, gn, floor, steps, history, moved,
    )  # fmt: skip
