"""Least-squares Newton steps in float64: the second stage of training (:mod:`verify.engine.train`).

The Hessian of L_lam is singular along continuous symmetries (rotations of linear hidden units,
bias shifts, the softmax shift), so each step is a least-squares one: for networks of up to
:data:`~verify.engine.hessian.DENSE_MAX` parameters the truncated pseudo-inverse from the dense
eigendecomposition (the Hessian assembled from exact Hessian-vector products, a block of columns
at a time), plus three Levenberg-Marquardt (saddle-free, |eigenvalue| + mu) shifts; above that,
MINRES (:mod:`verify.engine.krylov`) on Hessian-vector products, never a dense Hessian, with no
shift and the shift lam. A trial is kept only if it at least halves the gradient norm and, for a
piecewise-smooth activation, stays inside the current piece (``inside``, see
:mod:`verify.engine.pieces`); otherwise L-BFGS resumes (the caller).

Hessian-vector products at one point share one forward pass (:func:`verify.engine.backprop.hvp`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np

from verify.engine.backprop import backprop_at, hvp
from verify.engine.hessian import (
    DENSE_MAX,
    _eig_solver,
    dense_hessian,
    gradient_floor,
    rounding_at,
)
from verify.engine.krylov import minres
from verify.engine.lbfgs import LARGE_P
from verify.engine.objective64 import value_and_grad
from verify.engine.problem import Problem
from verify.engine.rounding import floor_ratio, safe_norm
from verify.engine.switched_off import snap_switched_off

__all__ = [
    "HANDOVER",
    "LATE_HANDOVER",
    "NonFinite",
    "grad64",
    "handover_level",
    "newton64",
    "newton_step",
]

#: accept or refuse a trial point (old theta, candidate): the piece test for ReLU
Inside = Callable[[np.ndarray, np.ndarray], bool]


class NonFinite(Exception):
    """The objective or its gradient became NaN or infinite at ``theta``."""

    def __init__(self, theta: np.ndarray) -> None:
        super().__init__("non-finite objective or gradient")
        self.theta = theta.copy()


def grad64(problem: Problem, theta: np.ndarray) -> tuple[float, np.ndarray]:
    """``(L_lam, grad L_lam)`` in float64 (:mod:`verify.engine.objective64`); raises
    :class:`NonFinite` instead of returning NaN or inf."""
    value, g = value_and_grad(problem, theta)
    if not (np.isfinite(value) and np.isfinite(g).all()):
        raise NonFinite(theta)
    return value, g


class _OutOfTime(Exception):
    """The wall-time budget ran out inside a Krylov solve."""


def _matvec(problem: Problem, theta: np.ndarray, deadline: float) -> Callable[..., np.ndarray]:
    def matvec(v: np.ndarray) -> np.ndarray:
        if time.perf_counter() > deadline:
            raise _OutOfTime
        return hvp(problem, theta, v)

    return matvec


#: MINRES iterations of a probing Newton step (:func:`newton64`). Why 100: in Newton's basin a
#: solve reaches a relative residual of 1e-2 in 12-45 iterations and 1e-5..1e-9 in 75-150 on the
#: issue-14 benchmarks (1e3-1e5 parameters), so a probe that lands in the basin gains two orders
#: or more; outside it (tanh 100-100-1 and 100-1000-1, n = 2000, at gradient 1e-10 of its
#: scale) 300 iterations left the residual at 0.15-0.3 and the step useless, and each iteration
#: costs as much as one of L-BFGS
PROBE_ITER = 100


#: the hand-over level (:func:`handover_level`) below and from LARGE_P parameters on
HANDOVER, LATE_HANDOVER = 1e-10, 1e-14


def handover_level(p: int) -> float:
    """Training's default ``newton_from`` for ``p`` parameters: L-BFGS hands over to Newton when
    ||grad|| <= level * (its scale, :func:`~verify.engine.hessian.handover_scale`);
    :data:`HANDOVER`, or :data:`LATE_HANDOVER` from :data:`~verify.engine.lbfgs.LARGE_P` on.

    Why later there: from 1e-10 of the scale both the 100-1000-1 and the 100-300-300-1
    benchmark nets (n = 2000) probed twice outside Newton's basin (at 1e-10 and 1e-12 of the
    scale; 100 Hessian-vector products, 5-9 s each) and were handed back to L-BFGS, whose
    iterations to 1e-14 are needed either way; starting at 1e-14, the first probe lands in the
    basin. Measured (training CPU, seed 0, same load): 145 -> 123 s and 186-197 -> 180 s.
    """
    return LATE_HANDOVER if p >= LARGE_P else HANDOVER


def _trials(
    problem: Problem, theta: np.ndarray, g: np.ndarray, deadline: float, rtol: float = 1e-10,
    probe: bool = False,
) -> Iterator[np.ndarray]:  # fmt: skip
    """Candidate steps, most Newton-like first (module docstring); ``rtol`` for MINRES;
    ``probe``: one MINRES solve of at most :data:`PROBE_ITER` iterations, no shifted one."""
    if problem.net.n_params <= DENSE_MAX:
        ev, V, keep = _eig_solver(dense_hessian(problem, theta))
        c = V.T @ -g
        top = float(np.max(np.abs(ev)))
        yield V[:, keep] @ (c[keep] / ev[keep])
        for mu in (1e-6, 1e-3, 1e-1):
            yield V @ (c / (np.abs(ev) + mu * top))
        return
    matvec = _matvec(problem, theta, deadline)
    # why only two shifts and 300 iterations: outside Newton's basin every Krylov solve is wasted
    # work; L-BFGS (resumed by the caller) is cheaper there
    for mu in (0.0,) if probe else (0.0, max(problem.lam, 1e-12)):
        yield minres(matvec, -g, rtol=rtol, maxiter=PROBE_ITER if probe else 300, shift=-mu)[0]


def _snap(
    problem: Problem, theta: np.ndarray, gn: float, floor: float
) -> tuple[np.ndarray, float] | None:
    """``theta`` with its switched-off units set to 0 (:mod:`verify.engine.switched_off`) and
    its gradient norm, when that improves the certificate's ratio; else None."""
    snapped = snap_switched_off(problem, theta)
    if snapped is None:
        return None
    gn_new, floor_new = gradient_floor(problem, snapped)
    if not floor_ratio(gn_new, floor_new) < floor_ratio(gn, floor):
        return None
    return snapped, gn_new


def newton_step(problem: Problem, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The least-squares Newton step -H^+ g at ``theta`` (the first trial of :func:`newton64`)."""
    return next(_trials(problem, theta, g, float("inf")))


def newton64(
    problem: Problem, theta: np.ndarray, steps: int, history: list[tuple[str, float]],
    deadline: float = float("inf"), inside: Inside | None = None,
) -> tuple[np.ndarray, int, bool, bool]:  # fmt: skip
    """Newton steps (module docstring). Returns (theta, steps taken, certified, left), where
    ``left`` says that the last step was refused because it left the piece."""
    left = False
    # Krylov steps (large networks) probe first: until a step has cut the gradient tenfold, the
    # point may lie outside Newton's basin, so a step is one short MINRES solve and a failure
    # hands back to L-BFGS at once (PROBE_ITER); dense steps are cheap and need no probe
    probe = problem.net.n_params > DENSE_MAX
    for k in range(steps):
        gn, floor = gradient_floor(problem, theta)
        if gn <= floor / 10:  # certified at floor; a step more is cheap and buys margin
            return theta, k, True, False
        if time.perf_counter() > deadline:
            return theta, k, gn <= floor, False
        # at rounding level (||g|| within the norm of the entries' thresholds) no step halves
        # the gradient, and the entries over their own thresholds are those of switched-off
        # units (their thresholds shrink with their weights): the snap first (standard net:
        # the 537 Hessian-vector products of the two failed trials saved)
        if gn <= safe_norm(rounding_at(problem, theta).threshold):
            snap = _snap(problem, theta, gn, floor)
            if snap is not None:
                theta = snap[0]
                history.append(("snap", snap[1]))
                continue
        g = backprop_at(problem, theta).grad  # the pass of the floor just computed
        # why this rtol: the new gradient is the MINRES residual (rtol |g|) plus O(|g|^2), so
        # rtol = floor / (10 |g|) lands at a tenth of the floor in one step when in Newton's basin;
        # never below 1e-10 (ten digits a step, from far away) nor above 1e-2 (a step must still
        # be a Newton step to test the basin)
        rtol = min(1e-2, max(1e-10, floor / (10 * gn)))
        try:
            for p in _trials(problem, theta, g, deadline, rtol, probe):
                cand = theta + p
                try:
                    gn_new = safe_norm(grad64(problem, cand)[1])
                except NonFinite:
                    continue
                # why halve: inside Newton's basin each step roughly squares the relative
                # gradient; a step that does not halve it means the point is outside the basin,
                # where L-BFGS (resumed by the caller with a tighter hand-over) is the better tool
                if gn_new > 0.5 * gn:
                    continue
                if inside is not None and not inside(theta, cand):
                    left = True  # the step crosses a kink: L_P's stationary point is elsewhere
                    continue
                theta, left = cand, False
                # why tenfold: in Newton's basin a step squares the relative gradient (or meets
                # its rtol, <= 1e-2), so it gains at least an order; a step outside gains less
                probe = probe and gn_new > 0.1 * gn
                history.append(("newton", gn_new))
                break
            else:
                snap = _snap(problem, theta, gn, floor)
                if snap is None:
                    return theta, k, gn <= floor, left
                theta = snap[0]
                history.append(("snap", snap[1]))
        except _OutOfTime:  # the time budget ran out inside a Krylov solve
            return theta, k, gn <= floor, left
    gn, floor = gradient_floor(problem, theta)
    return theta, steps, gn <= floor, left
