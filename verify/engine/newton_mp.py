"""Newton at ``dps`` digits in mpmath: the certification stage of :mod:`~verify.engine.train`.

A fast stage (float64-preconditioned refinement sweeps on the exact mpmath Newton system) and,
when it stalls on an ill-conditioned problem, a robust stage (least-squares Newton from the dense
exact Hessian, several eigenvalue cut-offs, a few non-monotone steps), first in float64 when the
start is not float64-stationary, then in mpmath.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.engine.hessian import (
    DENSE_MAX,
    _eig_solver,
    _grad_floor_mp,
    _pinv_rcond,
    dense_hessian,
    gradient_floor,
    mp_hessian,
)
from verify.engine.network import FLOAT64, Array, Backend, Problem, backprop, hvp, mp_backend
from verify.engine.pieces import is_piecewise, refine_piecewise
from verify.engine.result import Status, TrainResult
from verify.engine.rounding import floor_ratio, rounding_analysis
from verify.engine.switched_off import snap_switched_off

__all__ = ["ROBUST_MAX", "refine_mp"]

#: the robust mpmath stage (dense mpmath Hessian, mpmath eigendecomposition, O(p^3) mpf
#: operations per step: ~1.5 s at p = 36, ~25 s at p = 100 for 50 digits) up to this size
ROBUST_MAX = 120


def refine_mp(
    result: TrainResult, dps: int, max_steps: int = 6, robust_steps: int = 12,
    *, pieces: bool = True,
) -> TrainResult:  # fmt: skip
    """Newton in mpmath at ``dps`` digits from ``result.theta`` (module docstring, step 3).

    Fast stage (``max_steps``): the exact mpmath Hessian enters through Hessian-vector products;
    the float64 pseudo-inverse of the Hessian preconditions the refinement sweeps that solve each
    Newton system. It fails on ill-conditioned problems, where the float64 point is not yet in
    Newton's basin or genuine curvature sits near the float64 cut-off. Then the robust stage
    (``robust_steps``, networks of <= :data:`ROBUST_MAX` parameters) takes least-squares Newton
    steps from the dense exact mpmath Hessian and its eigendecomposition at ``dps`` digits,
    trying several eigenvalue cut-offs and allowing a few non-monotone steps
    (:func:`_robust_newton`).

    ReLU (``pieces``): dead units removed, the pattern re-checked at ``dps`` digits
    (:func:`verify.engine.pieces.refine_piecewise`).
    """
    if pieces and is_piecewise(result.problem.net.activation):
        return refine_piecewise(result, dps, max_steps, robust_steps)
    problem, be = result.problem, mp_backend(dps)
    if problem.net.n_params > 4 * DENSE_MAX:
        raise bad_input(
            "dps", f"be used with networks of <= {4 * DENSE_MAX} parameters",
            problem.net.n_params, "Drop --dps for this network (float64 only).",
        )  # fmt: skip
    start = time.perf_counter()
    history = list(result.history)
    theta64 = np.asarray(result.theta, dtype=np.float64)
    H = dense_hessian(problem, theta64)
    robust = problem.net.n_params <= ROBUST_MAX and robust_steps > 0
    steps64 = 0
    gn64, floor64 = gradient_floor(problem, theta64)
    snapped = snap_switched_off(problem, theta64) if not gn64 <= floor64 else None
    if snapped is not None:  # switched-off units set to 0 first (switched_off.py), if it helps
        gn_s, floor_s = gradient_floor(problem, snapped)
        if floor_ratio(gn_s, floor_s) < floor_ratio(gn64, floor64):
            theta64, gn64, floor64 = snapped, gn_s, floor_s
            history.append(("snap", gn_s))
    if robust and gn64 > floor64:  # not float64-stationary: the cheap float64 steps first
        with FLOAT64.working():
            theta64, steps64, _ = _robust_newton(problem, theta64, FLOAT64, robust_steps, history)
        if steps64:
            H = dense_hessian(problem, theta64)
    theta, steps, certified = _fast_newton_mp(problem, theta64, be, H, max_steps, history)
    if not certified and robust:
        with be.working():
            theta, k, certified = _robust_newton(problem, theta, be, robust_steps, history)
        steps += k
    gn64, floor64 = gradient_floor(problem, be.to_float(theta))
    start_theta = be.asarray(result.theta)
    with be.working():
        moved = float(
            be.sqrt(np.sum((theta - start_theta) ** 2))
            / max(be.sqrt(np.sum(start_theta**2)), 1e-300)
        )
    status = Status.CONVERGED if certified else Status.MAX_ITER
    _, gn_mp, floor_mp = _grad_floor_mp(problem, theta, be)
    reason = (
        f"at {dps} digits: ||grad L_lam|| = {float(gn_mp):.3g} "
        + ("<=" if certified else "stayed above")
        + f" rounding floor {float(floor_mp):.3g} after {steps} mpmath Newton steps"
    )
    if not certified and result.status is not Status.CONVERGED:
        reason += f"; float64 stage: {result.reason}"
    return TrainResult(
        problem, be.to_float(theta), status, reason,
        "" if certified else "raise the step budget or train to a float64 stationary point first",
        gn64, floor64, float(backprop(problem, be.to_float(theta)).value), result.iterations,
        result.newton_steps + steps64, result.seconds + time.perf_counter() - start,
        result.hessian, dps, theta, float(gn_mp), float(floor_mp), steps, history, moved,
    )  # fmt: skip


def _fast_newton_mp(
    problem: Problem, theta64: np.ndarray, be: Backend, H: np.ndarray,
    max_steps: int, history: list[tuple[str, float]],
) -> tuple[Array, int, bool]:  # fmt: skip
    """Newton at the precision of ``be``: each step solves H p = -g (exact mpmath H through
    Hessian-vector products) by refinement sweeps preconditioned with the float64 truncated
    pseudo-inverse of ``H``. Stops at the first step that does not lower the gradient.
    Returns (theta, steps taken, certified)."""
    ev, V, keep = _eig_solver(H)
    Vk, evk = V[:, keep], ev[keep]

    def precond(r: Array) -> Array:
        return be.asarray(Vk @ ((Vk.T @ be.to_float(r)) / evk))

    theta, steps = be.asarray(theta64), 0
    with be.working():
        g, gn, floor = _grad_floor_mp(problem, theta, be)
        while True:
            history.append((f"newton@{be.dps}", float(gn)))
            if gn <= floor:
                return theta, steps, True
            if steps == max_steps:
                return theta, steps, False
            rel = gn * be.unit_roundoff / floor  # |g| / (floor / u): relative stationarity
            target = max(floor / 10, gn * min(1e-3, rel))  # residual for a quadratic step
            p, rn_prev = precond(-g), None
            for _ in range(16):  # refinement sweeps, each gains ~13 digits
                r = -g - hvp(problem, theta, p, be)
                rn = be.sqrt(np.sum(r * r))
                if rn <= target or (rn_prev is not None and rn > rn_prev / 2):
                    break
                p, rn_prev = p + precond(r), rn
            cand = theta + p
            g2, gn2, floor2 = _grad_floor_mp(problem, cand, be)
            if not (gn2 < gn or floor_ratio(gn2, floor2) < floor_ratio(gn, floor)):
                # a step that lowers neither the gradient nor its ratio to the floor: refused;
                # switched-off units set to 0 are the last candidate (switched_off.py)
                cand = snap_switched_off(problem, theta, be)
                if cand is None:
                    return theta, steps, False
                g2, gn2, floor2 = _grad_floor_mp(problem, cand, be)
                if not floor_ratio(gn2, floor2) < floor_ratio(gn, floor):
                    return theta, steps, False
            theta, steps, g, gn, floor = cand, steps + 1, g2, gn2, floor2


def _truncated_cuts(be: Backend, p: int) -> list[float]:
    """Relative eigenvalue cut-offs of the least-squares Newton step, most inclusive first.

    Why these: 10^(-dps/2) keeps every eigenvalue above the level at which zero modes of
    continuous symmetries sit near (not at) a stationary point (their eigenvalues scale with the
    residual gradient); genuine curvature of ill-conditioned problems can be as small as 1e-11
    relative (the quadratic family), so 1e-14 and 1e-10 bracket it; 1e-6 is the coarse, safe
    step far from the basin. None is below the Hessian's own rounding level (``_pinv_rcond``:
    eigenvalues under it are noise). The caller tries every cut, so a cut that is wrong for this
    problem costs one gradient evaluation.
    """
    floor = _pinv_rcond(p, be.unit_roundoff)
    return sorted({max(c, floor) for c in (10.0 ** (-(be.dps // 2)), 1e-14, 1e-10, 1e-6)})


def _robust_newton(
    problem: Problem, theta: Array, be: Backend, max_steps: int,
    history: list[tuple[str, float]],
) -> tuple[Array, int, bool]:  # fmt: skip
    """Least-squares Newton with the exact dense Hessian (float64 or mpmath), several cut-offs.

    Every step evaluates the gradient at each truncated step -H_cut^+ g and keeps the one with
    the smallest gradient. A step that does not lower the gradient is still taken up to
    ``_DETOURS`` times (non-monotone Newton: on ill-conditioned problems the full step first
    raises the gradient, then converges quadratically), but only while the gradient stays far
    below its own terms (1e-3 of ||floor|| / u, the size of the summands that cancel in it).
    The best point seen is returned (a certified one first, else the smallest gradient).
    Returns (theta, steps taken, certified).
    """
    g, gn, floor = _grad_floor_mp(problem, theta, be)
    score = floor_ratio(gn, floor)
    # the size of the summands that cancel in the gradient: its floor entries over u
    scale = rounding_analysis(problem, theta, be).scale
    best = (not score <= 1, gn, theta, score)
    detours, steps = 0, 0
    while steps < max_steps and not score <= 1:
        vals, vecs = be.eigh(mp_hessian(problem, theta, be))
        top = max(abs(v) for v in vals)
        coef = vecs.T @ g  # components of g in the eigenbasis
        trials: list[tuple[Any, int, Any, Array, Array]] = []
        for cut in _truncated_cuts(be, len(vals)):
            keep = np.array([abs(v) > cut * top for v in vals], dtype=bool)
            if not keep.any():
                continue
            cand = theta - vecs[:, keep] @ (coef[keep] / vals[keep])
            with be.working():
                g2, gn2, floor2 = _grad_floor_mp(problem, cand, be)
            if np.isfinite(float(gn2)):
                trials.append((gn2, len(trials), floor2, cand, g2))
        if not trials:
            break
        # the most inclusive step that halves the gradient (Newton's basin: quadratic decrease);
        # else the best clear decrease (0.9: a negligible one would only burn a Hessian); else a
        # detour with the most inclusive step (non-monotone Newton, see the docstring)
        halving = [t for t in trials if t[0] <= gn / 2]
        best_trial = min(trials, key=lambda t: (t[0], t[1]))
        if halving:
            gn2, _, floor2, cand, g2 = halving[0]
        elif best_trial[0] < 0.9 * gn:
            gn2, _, floor2, cand, g2 = best_trial
        else:
            gn2, _, floor2, cand, g2 = trials[0]
            if detours >= _DETOURS or not gn2 < 1e-3 * scale:
                break
            detours += 1
        theta, g, gn, floor, steps = cand, g2, gn2, floor2, steps + 1
        score = floor_ratio(gn, floor)
        history.append((f"newton-lsq@{be.dps}", float(gn)))
        best = min(best, (not score <= 1, gn, theta, score), key=lambda t: (t[0], t[1]))
    _, gn, theta, score = best
    if not score <= 1:  # switched-off units set to 0 are the last candidate (switched_off.py)
        snapped = snap_switched_off(problem, theta, be)
        if snapped is not None:
            _, gn2, floor2 = _grad_floor_mp(problem, snapped, be)
            if floor_ratio(gn2, floor2) < score:
                theta, score = snapped, floor_ratio(gn2, floor2)
                history.append((f"snap@{be.dps}", float(gn2)))
    return theta, steps, bool(score <= 1)


#: non-monotone steps allowed in the robust stage (each costs one Hessian)
_DETOURS = 3
