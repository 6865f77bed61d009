"""Least-squares Newton steps in float64: the second stage of training (:mod:`verify.engine.train`).

The Hessian of L_lam is singular along continuous symmetries (rotations of linear hidden units,
bias shifts, the softmax shift), so each step is a least-squares one: for networks of up to
:data:`~verify.engine.hessian.DENSE_MAX` parameters the truncated pseudo-inverse from the dense
eigendecomposition (the Hessian assembled from exact Hessian-vector products, a block of columns
at a time), plus three Levenberg-Marquardt (saddle-free, |eigenvalue| + mu) shifts; above that,
with one hidden layer and up to :data:`CHOLESKY_MAX` parameters, first the Newton step from the
Cholesky factorization of the closed-form Hessian when it is positive definite, and at the next
points conjugate gradients preconditioned with that factorization; otherwise MINRES
(:mod:`verify.engine.krylov`) on Hessian-vector products, never a dense Hessian, with no shift
and the shift lam. A trial is kept only if it at least halves the gradient norm and, for a
piecewise-smooth activation, stays inside the current piece (``inside``, see
:mod:`verify.engine.pieces`); otherwise L-BFGS resumes (the caller).

Hessian-vector products at one point share one forward pass (:func:`verify.engine.backprop.hvp`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from verify.engine.backprop import backprop_at, hvp
from verify.engine.cholesky import Cholesky
from verify.engine.hessian import (
    DENSE_MAX,
    _eig_solver,
    dense_hessian,
    gradient_floor,
    rounding_at,
)
from verify.engine.krylov import minres, pcg
from verify.engine.lbfgs import LARGE_P
from verify.engine.objective64 import value_and_grad
from verify.engine.problem import Problem
from verify.engine.rounding import floor_ratio, safe_norm
from verify.engine.switched_off import snap_switched_off

__all__ = [
    "CHOLESKY_MAX",
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


#: above DENSE_MAX and up to this many parameters, a network with one hidden layer (where
#: :mod:`verify.engine.kink.shallow` forms the Hessian in closed form) takes its Newton steps
#: from the Hessian's Cholesky factorization (:mod:`verify.engine.cholesky`), when it is
#: positive definite, before any Krylov solve; the factorization is kept to precondition the
#: next points' steps. Why: on the standard tanh 20-64-1 net (1,344 parameters, n = 256)
#: MINRES took three solves of ~230 Hessian-vector products (~0.2 s of the ~0.9 s run); the
#: closed-form Hessian and its factorization take ~60 ms, a preconditioned step at a later
#: point ~5-10 ms (:data:`PCG_ITER`). Why 2,000: the factorization grows as P^3 (0.2 s at
#: 2,500) and its memory as P^2 (~7 P^2 numbers with the output Jacobian,
#: verify.engine.memory), a Krylov solve as P
CHOLESKY_MAX = 2000
#: conjugate-gradient iterations of a Newton step preconditioned with the kept factorization.
#: Why 20: near the point where it was factored, each iteration cuts the error by about the
#: relative change of the Hessian since (standard net: 1e-10 in 3-6 iterations); a step that
#: needs more is better taken from a fresh factorization (~12 iterations' cost)
PCG_ITER = 20


@dataclass
class _Kept:
    """The Cholesky factorization of the last closed-form Hessian (:data:`CHOLESKY_MAX`);
    ``indefinite``: one was not positive definite, and this Newton run tries none again (a
    Krylov step costs less than a factorization that fails at every step near a saddle)."""

    factor: Cholesky | None = None
    indefinite: bool = False


def _preconditioned_step(
    problem: Problem, theta: np.ndarray, g: np.ndarray, factor: Cholesky, rtol: float,
    deadline: float,
) -> np.ndarray:  # fmt: skip
    """The Newton step -H^-1 g at ``theta`` by conjugate gradients on Hessian-vector products,
    preconditioned with the factorization of the Hessian at an earlier point."""
    return pcg(_matvec(problem, theta, deadline), -g, factor.solve, rtol=rtol,
               maxiter=PCG_ITER)[0]  # fmt: skip


def _cholesky_trials(
    problem: Problem, theta: np.ndarray, g: np.ndarray, rtol: float, kept: _Kept,
    deadline: float,
) -> Iterator[np.ndarray]:  # fmt: skip
    """With a kept factorization (of the Hessian at an earlier point), the Newton step at
    ``theta`` by conjugate gradients on Hessian-vector products preconditioned with it
    (:data:`PCG_ITER` iterations at most, to ``rtol``); then, or else, the Newton step from the
    Cholesky factorization of the Hessian at ``theta``, if it is positive definite (and kept)."""
    from verify.engine.backprop import backprop
    from verify.engine.kink.shallow import shallow_hessian

    if kept.factor is not None:
        # why rtol / 100 (at least 1e-12): an iteration costs ~1 ms, so the step can aim two
        # digits below the floor (standard net: FACT's error 8e-13 when it aimed at a tenth of
        # the floor, 4e-14 below)
        yield _preconditioned_step(problem, theta, g, kept.factor, max(1e-12, rtol / 100),
                                   deadline)  # fmt: skip
    if kept.indefinite:
        return
    kept.factor = Cholesky.of(shallow_hessian(problem, backprop(problem, theta)))
    kept.indefinite = kept.factor is None
    if kept.factor is not None:
        yield -kept.factor.solve(g)


def _trials(
    problem: Problem, theta: np.ndarray, g: np.ndarray, deadline: float, rtol: float = 1e-10,
    probe: bool = False, kept: _Kept | None = None,
) -> Iterator[np.ndarray]:  # fmt: skip
    """Candidate steps, most Newton-like first (module docstring); ``rtol`` for the Krylov
    solves; ``probe``: one MINRES solve of at most :data:`PROBE_ITER` iterations, no shifted
    one; ``kept``: the factorization kept between the points of one Newton run, for
    :data:`CHOLESKY_MAX`."""
    from verify.engine.kink.shallow import applies

    p = problem.net.n_params
    if p <= DENSE_MAX:
        ev, V, keep = _eig_solver(dense_hessian(problem, theta))
        c = V.T @ -g
        top = float(np.max(np.abs(ev)))
        yield V[:, keep] @ (c[keep] / ev[keep])
        for mu in (1e-6, 1e-3, 1e-1):
            yield V @ (c / (np.abs(ev) + mu * top))
        return
    if p <= CHOLESKY_MAX and applies(problem):
        kept = _Kept() if kept is None else kept
        yield from _cholesky_trials(problem, theta, g, rtol, kept, deadline)
        if probe and kept.factor is not None:
            # the exact Newton step (a positive definite Hessian's) did not halve the gradient:
            # outside Newton's basin, where L-BFGS costs less than a MINRES probe (standard
            # net, seed 2: two probes of 100 products, one of them taken for a tenfold gain)
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


def _polished(
    problem: Problem, theta: np.ndarray, gn: float, kept: _Kept, history: list[tuple[str, float]],
    inside: Inside | None,
) -> np.ndarray:  # fmt: skip
    """``theta`` certified at a tenth of its floor, or, with a kept factorization, one more
    preconditioned Newton step from it when that lowers the gradient again and stays certified
    (and in the piece). Why: the step that lands below a tenth of the floor leaves the
    gradient at its quadratic remainder, ~1e-15 on the standard net, where FACT's relative
    error is ~1e-12; one more step (~15 ms with its check, no factorization) reaches the
    rounding noise (~1e-16, FACT ~4e-14), as the Krylov path's longer solves did."""
    if kept.factor is None:
        return theta
    g = backprop_at(problem, theta).grad
    step = _preconditioned_step(problem, theta, g, kept.factor, 1e-12, float("inf"))
    # switched-off units set to 0 (the snap, :mod:`verify.engine.switched_off`) stay there:
    # their coordinates are decoupled from the rest, and the step would move them off 0 by
    # rounding, above their own (zero-weight) thresholds
    step[theta == 0] = 0.0
    cand = theta + step
    gn_new, floor_new = gradient_floor(problem, cand)
    if not (gn_new <= gn / 2 and gn_new <= floor_new / 10):  # (False for NaN too)
        return theta
    if inside is not None and not inside(theta, cand):
        return theta
    history.append(("newton", gn_new))
    return cand


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
    kept = _Kept()
    for k in range(steps):
        gn, floor = gradient_floor(problem, theta)
        if gn <= floor / 10:  # certified at floor; a step more is cheap and buys margin
            return _polished(problem, theta, gn, kept, history, inside), k, True, False
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
            for p in _trials(problem, theta, g, deadline, rtol, probe, kept):
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
