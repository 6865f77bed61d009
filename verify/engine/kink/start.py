"""Where to start Newton on a kink: a smoothing homotopy that finds the pinned pairs and their
slopes (:mod:`verify.engine.kink`).

L-BFGS ends a kinked ReLU run zigzagging across the kinks, at ||grad|| ~ 1e-2, too far from the
Clarke-type stationary point for Newton's method on the square system (measured: damped steps
that cross further kinks and pin ever more pairs until the system is singular). Replacing relu by
softplus_beta(z) = log(1 + exp(beta z)) / beta on the live units makes L_lam smooth; its
stationary points tend to a Clarke-type stationary point of the ReLU objective as beta grows,
with the pinned pairs at z = O(1/beta) and sigmoid(beta z_p) -> s_p, the slopes (the smoothed
gradient IS the backpropagation with slopes sigmoid(beta z)). So each level of beta gives a
candidate pinned set {|beta z| <= :data:`START_BETA_Z`} with starting slopes sigmoid(beta z_p),
from which Newton converges in a few steps when beta is large enough. From the network's
initial point (``from_start``, training's first attempt for ReLU) two smoother levels come
first (:data:`START_BETAS`): there the homotopy is the training.

Each level's L-BFGS runs in the variables of a per-unit metric
(:mod:`verify.engine.kink.metric`): the smoothing makes the Hessian stiff in hundreds of
directions inside single units' incoming weights, which the metric's blocks hold exactly.

Dead units keep relu (a settled dead unit has z = 0, where softplus_beta would switch it on).
A live unit whose every pre-activation is near the kink (|beta z_ij| <= :data:`PIN_BETA_Z` on
all samples) is a unit decaying to zero weights, which smoothing keeps barely alive: it is
switched off (incoming and outgoing weights and its bias set to 0,
:mod:`verify.engine.switched_off`), which makes it a dead unit, exactly stationary in its
coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from verify.engine.backends import FLOAT64, Array, Backend
from verify.engine.backprop import Backprop, _loss, backprop
from verify.engine.kink.metric import UnitMetric, unit_metric
from verify.engine.lbfgs import LbfgsResult, lbfgs
from verify.engine.objective64 import back_through
from verify.engine.problem import Problem

__all__ = [
    "BETAS",
    "LOW_GTOL",
    "METRIC_REFRESH",
    "NEWTON_FROM",
    "MAXITER",
    "PIN_BETA_Z",
    "START_BETAS",
    "START_BETA_Z",
    "START_LOW_GTOL",
    "SWITCH_FROM",
    "SmoothedProblem",
    "smoothed_levels",
]

#: the smoothing levels, relative to 1 / (median live |z|). Why these: 1e2 already rounds most
#: kinks that L-BFGS zigzags across; each factor 10 shrinks the pinned z by 10, and at 1e6 the
#: smoothed point lies within ~1e-6 of the kink point, well inside Newton's basin. Newton starts
#: from the levels from 1e4 on: at 1e2 the candidate set is several times the pinned set
#: (measured: 446 candidates for 35 pins on the (4, 16, 16, 2) network, 2,559 for ~740 on the
#: standard 20-64-1 net), and the square system that large only costs time; at 1e3 it still
#: holds pairs that are not pinned (20-64-1: 791 candidates, a singular system, 0.5-1.3 s lost),
#: and the 1e4 level, once its candidates settle (:data:`CHUNK`), costs less than that
BETAS = (1e2, 1e3, 1e4, 1e5, 1e6)
NEWTON_FROM = 1e4
#: a level below NEWTON_FROM only starts the next one: its L-BFGS stops at this fraction of the
#: level's starting gradient. Why 1e-4: on the standard 20-64-1 net over seeds 0-5 (with the
#: per-unit metric) 1e-6 took 29.8 s of CPU for the six runs and 1e-2 27.4 s, and in another
#: setting 1e-4, 1e-3, 1e-2 took 23.4, 22.5, 21.7 s, every run certified; but at 1e-2 the
#: acceptance net `verify fact --activation relu --depth 3 --width 16 --bias` ended on a kink
#: Newton could not certify, while 1e-3, 1e-4 and 1e-6 certified it (and its plain and
#: cross-entropy versions) at the same point. 1e-4 keeps two decades from that edge
LOW_GTOL = 1e-4
#: the levels and their LOW_GTOL when the homotopy starts at the network's initial point instead
#: of a trained one (``from_start`` of :func:`smoothed_levels`, training's first attempt for
#: ReLU, :mod:`verify.engine.train`): two smoother levels first, where softplus_1 (beta = 1 /
#: median |z|) is an ordinary smooth network, so the levels are the training. Why: on the
#: standard 20-64-1 net over seeds 0-5 the whole training took 11.5 s of CPU for the six runs
#: (10.3 s over seeds 6-11; each certified, 150-450 pins), against 26.5 s for L-BFGS on the
#: kinked loss (~3,000 iterations, a stall of 500) and the homotopy from there (~740 pins).
#: Started at 1e1 instead, seed 0 needed 126 Newton steps; over seeds 0-11, without 1e1, 1e2
#: or 1e3 the twelve runs took 42.9, 42.8 and 25.4 s against ~23 s. Why 1e-2 here: with 1e-4
#: and 1e-3 the six runs took 18.1 and 15.1 s against 11.1 s (measured before the last changes
#: to Newton's rounds)
START_BETAS = (1e0, 1e1, *BETAS)
START_LOW_GTOL = 1e-2
#: units are switched off (:data:`PIN_BETA_Z`) only from this level on: below it |beta z| <= 30
#: on every sample holds for units whose pre-activations are merely of the median's size
SWITCH_FROM = 1e2
#: a unit is decaying to zero (switched off) when |beta z| <= this on every sample. Why 30:
#: sigmoid(+-30) is 1e-13 from 0 or 1, so no sample's slope tells the unit from a dead one
PIN_BETA_Z = 30.0
#: a pair is a candidate pin, Newton's starting active set, when |beta z| <= this. Why 10 (slopes
#: within 4.5e-5 of 0 or 1 left out): a pair the smoothed point holds that close to a side is
#: seldom pinned at the end, and each wrong pin costs Newton steps and active-set rounds, while a
#: missed one is pinned when a step carries it across 0. Measured on the standard 20-64-1 net at
#: beta = 1e4: 748 candidates at 30 (21 Newton steps, 3 rounds), 739 at 10 (8 steps), 738 pinned
#: in the end; the certified point is the same. On the (4, 16, 16, 2) runs of
#: benchmarks/bench_relu_kinks.py 27 of 32 were certified, 24 at 30 (27-28 with the levels below)
START_BETA_Z = 10.0
#: L-BFGS iterations per level, at most
MAXITER = 3000
#: on the levels Newton starts from, L-BFGS runs CHUNK iterations at a time and stops once the
#: candidate pins (:data:`START_BETA_Z`) have not changed over SETTLED runs: what Newton needs
#: from the level is its active set and a point in its basin, not the smoothed stationary point.
#: Why: on the standard 20-64-1 net at beta = 1e4, from the converged 1e3 point, the candidate
#: set missed 40, 10, 2, 0 of the 738 final pins after 100, 200, 300, 400 iterations and then
#: stayed the same to 3,000 (while ||x - x*|| fell only from 3e-3 to 1e-3); Newton from 300
#: iterations converged in one round, from 100 it did not. When Newton fails from the settled
#: point (the depth-3 width-16 net with biases did), the level goes on to its MAXITER iterations
#: and Newton starts again from there
CHUNK, SETTLED = 100, 2
#: L-BFGS iterations between two estimates of the per-unit metric (:func:`_descend`). Why 200:
#: on the 20-64-1 net from its trained point, to 1e-6 of each level's starting gradient at
#: 1e2, 1e3, 1e4, refreshing every 50 took 1,950 + 850 + 750 iterations, every 200 1,400 + 800
#: + 650; over seeds 0-5 of the whole run, 100 and 400 were within the runs' spread of 200
METRIC_REFRESH = 200


@dataclass(frozen=True, eq=False)
class SmoothedProblem(Problem):
    """relu replaced by softplus_beta on the live units (``live``: per hidden layer, a mask)."""

    beta: float = 1.0
    live: Any = None

    def pin(
        self, be: Backend, layer: int, z: Array, h: Array, ds: Array, d2s: Array
    ) -> tuple[Array, Array, Array]:
        live = self.live[layer][None, :]
        soft, sig = _softplus(self.beta, np.asarray(z, dtype=float))
        return (np.where(live, soft, h), np.where(live, sig, ds),
                np.where(live, self.beta * sig * (1 - sig), d2s))  # fmt: skip


def _softplus(beta: float, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """softplus_beta(z) = (max(beta z, 0) + log(1 + e)) / beta, e = exp(-|beta z|), and its
    slope, the logistic of beta z, from r = 1 / (1 + e), the logistic of |beta z| (in
    [1/2, 1]): log(1 + e) = -log r, and the logistic is r for beta z >= 0 and 1 - r below,
    which is 1/2 + copysign(r - 1/2, beta z) with both subtractions exact (Sterbenz).

    Accuracy: both to ~u absolutely (the slope's 1 - r as the former 1/2 (1 + tanh(beta z / 2))),
    which is all L-BFGS and the line search use: e below u rounds away in 1 + e, changing
    softplus by less than u / beta where it is itself below that. So |beta z| is capped at 40
    inside the exp, which changes nothing (exp(-40) < u / 2: r is 1 either way) and keeps exp
    off its slow paths near underflow. Why not log1p and tanh: on a 256 x 64 pass (the
    standard net) the former form took 130-170 us, 45 of them each in log1p and tanh; this one
    takes ~100. In place, as both callers need the same numbers bit for bit."""
    bz = beta * z
    a = np.abs(bz)
    r = np.minimum(a, 40.0)
    np.negative(r, out=r)
    np.exp(r, out=r)
    r += 1.0
    np.divide(1.0, r, out=r)  # (faster than np.reciprocal)
    a += bz  # max(beta z, 0) = (beta z + |beta z|) / 2, exactly
    a *= 0.5
    a -= np.log(r)
    a /= beta
    r -= 0.5
    np.copysign(r, bz, out=r)
    r += 0.5
    return a, r


def _value_grad(sp: SmoothedProblem, theta: np.ndarray) -> tuple[float, np.ndarray]:
    """``(L_lam, grad L_lam)`` of the smoothed problem: the numbers of
    :func:`verify.engine.backprop.backprop` bit for bit (the same operations in the same order),
    without what L-BFGS does not use (curvatures, dl/dx, the per-layer caches): ~9,000 calls in
    the homotopy of the 20-64-1 net."""
    be = FLOAT64
    with be.working():
        X, Y, lam = sp.data(be)
        params = sp.net.unflatten(be.asarray(theta))
        hs, slopes, h = [X], [], X
        for layer, (w, b) in enumerate(params):
            z = be.matmul(h, w.T) if b is None else be.matmul(h, w.T) + b
            if layer < len(params) - 1:
                soft, sig = _softplus(sp.beta, z)
                off = np.flatnonzero(~sp.live[layer])
                if off.size:  # relu on the dead units: their columns only (pin's numbers)
                    z_off = z[:, off]
                    s = be.step(z_off)
                    soft[:, off], sig[:, off] = z_off * s, s
                h = soft
                hs.append(h)
                slopes.append(sig)
        losses, g = _loss(sp.loss, be, z, Y)
        n, grads = sp.n, []
        for layer in range(len(params) - 1, -1, -1):
            w, b = params[layer]
            gw = be.matmul(g.T, hs[layer]) / n + lam * w
            gb = None
            if b is not None:
                gb = np.sum(g, axis=0) / n + (lam * b if sp.decay_bias else 0)
            grads.append((gw, gb))
            if layer > 0:
                g = back_through(g, w)
                g *= slopes[layer - 1]
        decay = sum(np.sum(w * w) for w, _ in params)
        if sp.decay_bias:
            decay = decay + sum(np.sum(b * b) for _, b in params if b is not None)
        value = np.sum(losses) / n + lam * decay / 2
    return float(value), sp.net.flatten(grads[::-1])


def _switch_off(
    problem: Problem, theta: np.ndarray, sp: SmoothedProblem, live: list[np.ndarray]
) -> np.ndarray:
    """``theta`` with every live unit that sits at the kink on all samples switched off (and
    ``live`` updated in place)."""
    theta = theta.copy()
    params = problem.net.unflatten(theta)  # views
    for layer, z in enumerate(backprop(sp, theta).zs[:-1]):
        gone = live[layer] & (np.abs(sp.beta * z) <= PIN_BETA_Z).all(axis=0)
        if gone.any():
            (w, b), (w_next, _) = params[layer], params[layer + 1]
            w[gone], w_next[:, gone] = 0.0, 0.0
            if b is not None:
                b[gone] = 0.0
            live[layer] &= ~gone
    return theta


def smoothed_levels(
    problem: Problem, theta: np.ndarray, live: list[np.ndarray], deadline: float,
    from_start: bool = False,
) -> Any:  # fmt: skip
    """Yield ``(beta, theta_beta, pins, slopes, iterations)`` for each level of :data:`BETAS`
    (docstring), or of :data:`START_BETAS` ``from_start`` (``theta`` an initial point, not a
    trained one); ``iterations``: the L-BFGS iterations of the homotopy so far."""
    import time

    zs = backprop(problem, theta).zs[:-1]
    scale = float(
        np.median(np.concatenate([np.abs(z[:, m]).ravel() for z, m in zip(zs, live, strict=True)]))
    )
    scale = scale if scale > 0 else 1.0
    x = np.array(theta, dtype=float)
    betas, low_gtol = (START_BETAS, START_LOW_GTOL) if from_start else (BETAS, LOW_GTOL)
    its = 0  # L-BFGS iterations so far, the last item of each yield
    for beta in betas:
        if time.perf_counter() > deadline:
            return
        sp = SmoothedProblem(problem.net, problem.X, problem.Y, problem.loss, problem.lam,
                             problem.decay_bias, beta=beta / scale, live=live)  # fmt: skip

        def fun(t: np.ndarray, sp: SmoothedProblem = sp) -> tuple[float, np.ndarray]:
            return _value_grad(sp, t)

        # why gtol 1e-9 of the level's starting gradient (at least 1e-12): the smoothed problem
        # is smooth, so L-BFGS converges; the point need only be close enough for Newton on the
        # kink system. low_gtol below NEWTON_FROM: such a level only starts the next one
        g0 = float(np.linalg.norm(fun(x)[1]))
        gtol = max(1e-12, 1e-9 * g0)
        if beta < NEWTON_FROM:
            run, _ = _descend(sp, x, max(gtol, low_gtol * g0), MAXITER, deadline)
            x, its = run.x, its + run.nit
            if beta >= SWITCH_FROM:
                x = _switch_off(problem, x, sp, live)
            continue
        # first where the candidate pins settled; if Newton fails from there, the rest of the
        # level's iterations
        x, done, early = _until_settled(x, sp, live, gtol, deadline)
        x, its = _switch_off(problem, x, sp, live), its + done
        yield (beta, x, *_candidates(sp, x, live), its)
        if early and done < MAXITER and time.perf_counter() <= deadline:
            run, _ = _descend(sp, x, gtol, MAXITER - done, deadline)
            x, its = _switch_off(problem, run.x, sp, live), its + run.nit
            yield (beta, x, *_candidates(sp, x, live), its)


def _candidates(
    sp: SmoothedProblem, x: np.ndarray, live: list[np.ndarray]
) -> tuple[list[tuple[int, int, int]], np.ndarray]:
    """The candidate pins at ``x`` and their slopes sigmoid(beta z)."""
    bp = backprop(sp, x)
    pins, slopes = [], []
    for layer, near in enumerate(_near(sp, bp, live)):
        for i, j in np.argwhere(near):
            pins.append((layer, int(i), int(j)))
            slopes.append(float(bp.slopes[layer][i, j]))
    return pins, np.array(slopes)


def _near(sp: SmoothedProblem, bp: Any, live: list[np.ndarray]) -> list[np.ndarray]:
    """Per hidden layer: the candidate pins, live pairs with |beta z| <= START_BETA_Z."""
    return [m[None, :] & (np.abs(sp.beta * z) <= START_BETA_Z)
            for z, m in zip(bp.zs[:-1], live, strict=True)]  # fmt: skip


def _until_settled(
    x: np.ndarray, sp: SmoothedProblem, live: list[np.ndarray], gtol: float, deadline: float
) -> tuple[np.ndarray, int, bool]:
    """L-BFGS on a level Newton starts from, in runs of :data:`CHUNK` iterations, until it
    converges, reaches :data:`MAXITER`, or the candidate pins stay the same over
    :data:`SETTLED` runs in a row (docstring of :data:`CHUNK`). Returns the point, the
    iterations done, and whether it stopped because the candidates settled."""
    done, same, last, bp = 0, 0, None, None
    while done < MAXITER:
        run, bp = _descend(sp, x, gtol, min(CHUNK, MAXITER - done), deadline, bp)
        x, done = run.x, done + run.nit
        if run.stop != "maxiter":
            break
        near = _near(sp, bp, live)
        same = same + 1 if last is not None and all(
            np.array_equal(a, b) for a, b in zip(near, last, strict=True)) else 0  # fmt: skip
        if same >= SETTLED and done < MAXITER:
            return x, done, True
        last = near
    return x, done, False


def _descend(
    sp: SmoothedProblem, x: np.ndarray, gtol: float, maxiter: int, deadline: float,
    bp: Backprop | None = None,
) -> tuple[LbfgsResult, Backprop]:  # fmt: skip
    """L-BFGS on the smoothed problem to ||grad|| <= ``gtol`` (or ``maxiter`` iterations), in
    the variables of the per-unit metric (:mod:`verify.engine.kink.metric`), re-estimated every
    :data:`METRIC_REFRESH` iterations (the pairs then start afresh: they live in the old
    variables). ``bp``: the pass at ``x`` if the caller has it; the pass at the end point is
    returned with the result (one pass per run serves the metric, the stop test and the
    caller)."""
    done, nfev, x = 0, 0, np.array(x, dtype=float)
    bp = backprop(sp, x) if bp is None else bp
    while True:
        metric = unit_metric(sp, bp)
        if metric is None:  # too large to build, or not finite: gamma I
            run = lbfgs(lambda t: _value_grad(sp, t), x, gtol=gtol, maxiter=maxiter - done,
                        deadline=deadline)  # fmt: skip
            return replace(run, nit=done + run.nit, nfev=nfev + run.nfev), backprop(sp, run.x)

        def fun(u: np.ndarray, metric: UnitMetric = metric) -> tuple[float, np.ndarray]:
            f, g = _value_grad(sp, metric.to_theta(u))
            return f, metric.to_u_grad(g)

        # ||grad_theta|| <= metric.norm ||grad_u||: the u tolerance implies the theta one
        run = lbfgs(fun, metric.to_u(x), gtol=gtol / metric.norm,
                    maxiter=min(METRIC_REFRESH, maxiter - done), deadline=deadline)  # fmt: skip
        x, done, nfev = metric.to_theta(run.x), done + run.nit, nfev + run.nfev
        bp = backprop(sp, x)  # its gradient is _value_grad's, bit for bit
        g = np.asarray(bp.grad)
        stop = "gtol" if float(np.linalg.norm(g)) <= gtol else run.stop
        if stop != "maxiter" or done >= maxiter:
            return LbfgsResult(x, run.f, g, done, nfev, stop), bp
