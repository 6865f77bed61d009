"""Newton's method with an active set on the square system of a point on a ReLU kink
(:mod:`verify.engine.kink`, where the active-set rules are stated)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from verify.engine.backends import FLOAT64
from verify.engine.backprop import Backprop, backprop
from verify.engine.kink.certificate import pinned_z_bounds
from verify.engine.kink.solver import QR_FROM, Solver
from verify.engine.kink.surrogate import PinnedProblem, frozen, jacobian, pinned, z_at
from verify.engine.pieces import _dead, settle, structural_zeros
from verify.engine.problem import Problem
from verify.engine.rounding import rounding_analysis
from verify.engine.switched_off import snap_switched_off

__all__ = ["KinkSolve", "solve_on_kink"]

#: Newton steps per active set, and active-set rounds (before the last level of the homotopy,
#: _EARLY_ROUNDS: the next level's candidates are closer to the pins than further rounds bring
#: these; measured on seed 3 of the 20-64-1 net from its initial point, 12 rounds at beta =
#: 1e4 did not settle in 2.6 s, and the 1e5 level's candidates converged in 3 rounds, 0.4 s)
_STEPS, _ROUNDS, _EARLY_ROUNDS = 12, 12, 4
#: a chord step (the last Jacobian's factorization reused) is kept only when it shrinks ||F|| at
#: least this many times. Why 2: near the solution Newton's own steps shrink it far more, so a
#: chord step that does not even halve it means the Jacobian has gone stale; a fresh one is
#: computed then
_CHORD = 2.0


@dataclass
class KinkSolve:
    """Outcome of :func:`solve_on_kink`: the surrogate, the point, and how it went."""

    problem: PinnedProblem | None
    theta: np.ndarray
    converged: bool  # gradient within its floor, pinned z within rounding, slopes in [0, 1]
    steps: int
    rounds: int
    reason: str
    cond: float = float("inf")  # 1-norm condition estimate of the last Jacobian
    beta: float = float("nan")  # the smoothing level Newton started from
    # converged: the LU of the last Newton step's Jacobian (None if not an LU), and the moving
    # coordinates it was built on (the certificate reuses it, certificate.on_kink)
    solver: Solver | None = None
    keep: np.ndarray | None = None
    iterations: int = 0  # L-BFGS iterations of the smoothing homotopy


def _masks(problem: Problem, theta: np.ndarray, bp: Backprop) -> list[np.ndarray]:
    """Per hidden layer: pairs that can be kinks (live unit, not a structural zero)."""
    out = []
    for layer, z in enumerate(bp.zs[:-1]):
        dead = np.logical_not((np.asarray(z) > 0).any(axis=0))
        struct = structural_zeros(problem, np.asarray(bp.hs[layer], dtype=float))
        out.append(~dead[None, :] & ~struct[:, None])
    return out


#: what :class:`_Float64Test` remembers: pins, slopes, theta, free mask, and its answer there
_Memo = tuple[tuple[tuple[int, int, int], ...], np.ndarray, np.ndarray, np.ndarray, bool]


class _Float64Test:
    """The float64 test of a Newton iterate: every gradient entry within its floor, every free z
    within its rounding; it remembers the largest gradient threshold it saw (:meth:`far`)."""

    bound = float("inf")
    # the last test's point and answer: a round asks again at the same point (the chord loop's
    # last test, the round's next step, the round's end), ~12 ms each on the 20-64-1 net when
    # the point passes, 70 ms of a 1.3 s run
    _last: _Memo | None = None

    def __call__(self, problem: PinnedProblem, theta: np.ndarray, free: np.ndarray) -> bool:
        slopes = np.asarray(problem.slopes, dtype=float)
        last = self._last
        if (last is not None and last[0] == problem.pins and np.array_equal(last[1], slopes)
                and np.array_equal(last[2], theta) and np.array_equal(last[3], free)):  # fmt: skip
            return last[4]
        ra = rounding_analysis(problem, theta)
        self.bound = float(np.max(ra.threshold)) if ra.finite else float("inf")
        ok = ra.certified
        if ok:
            z, ez = pinned_z_bounds(problem, theta, FLOAT64)
            ok = bool((np.abs(z[free]) <= ez[free]).all())
        self._last = (problem.pins, slopes.copy(), theta.copy(), free.copy(), ok)
        return ok

    def far(self, G: np.ndarray) -> bool:
        """A gradient whose largest entry is 10 times the largest threshold of the last test
        cannot pass (thresholds move little between Newton's nearby iterates): the test's
        rounding analysis (~5 ms on the 20-64-1 net) is skipped. A wrong skip would cost one
        more step, never a certificate: the test that ends a round is never skipped."""
        return bool(np.max(np.abs(G), initial=0.0) > 10.0 * self.bound)


def solve_on_kink(
    problem: Problem, theta: np.ndarray, deadline: float = float("inf"), from_start: bool = False
) -> KinkSolve:
    """Newton's method with an active set on the square system (module docstring), started
    from each level of the smoothing homotopy (:mod:`verify.engine.kink.start`) in turn;
    ``from_start``: ``theta`` is an initial point, and the homotopy is the training."""
    from verify.engine.kink.start import BETAS, smoothed_levels

    theta = settle(problem, np.asarray(theta, dtype=float))
    keep = ~frozen(problem, theta)
    live = [~d for d in _dead(problem, theta)]
    out = KinkSolve(None, theta, False, 0, 0, "no pre-activation is pinned at a kink")
    steps = its = 0
    tried: list[tuple[int, int, int]] = []  # the pins Newton last failed from
    for level in smoothed_levels(problem, theta, live, deadline, from_start):
        beta, x, cand, slopes, its = level
        keep = ~frozen(problem, x)  # units switched off by the homotopy are frozen too
        masks = _masks(problem, x, backprop(problem, x))
        ok = [bool(masks[la][i, j]) for la, i, j in cand]
        pins = [p for p, o in zip(cand, ok, strict=True) if o]
        if not pins:
            out = KinkSolve(None, x, False, steps, 0, "no pre-activation is pinned at a kink")
            continue
        last = beta >= BETAS[-1]
        if pins == tried and not last:
            # the same level's further iterations left the pins as they were: Newton would
            # retrace the rounds that failed (measured on seed 3 of the 20-64-1 net: 383 pins,
            # 12 rounds that did not settle, 2.6 s, then the same 12 again, 2.1 s)
            continue
        out = _active_set(problem, x, pins, slopes[np.array(ok, dtype=bool)], keep, masks,
                          last=last)  # fmt: skip
        tried = pins
        steps = out.steps = steps + out.steps
        out.beta = beta
        if out.converged:
            break
    out.iterations = its
    return out


def _active_set(
    problem: Problem, theta: np.ndarray, pins: list[tuple[int, int, int]], slopes: np.ndarray,
    keep: np.ndarray, masks: list[np.ndarray], last: bool = True,
) -> KinkSolve:  # fmt: skip
    """Newton on the square system, pinning pairs that cross 0 and releasing slopes outside
    [0, 1] (module docstring). Before the ``last`` level of the homotopy, a singular system
    above :data:`~verify.engine.kink.solver.QR_FROM` unknowns ends the attempt: its candidate
    set still holds pairs that are not pinned (measured on the 20-64-1 net: 791 candidates at
    beta = 1e3, condition 1.6e11; at 1e4 739, a regular system, and 738 pins in the end), and
    the next level costs less than the rank-revealing factorization (1.3 s at n = 2,066)."""
    pins = list(pins)  # grown below: the caller's list stays as given (solve_on_kink's tried)
    free = np.ones(len(pins), dtype=bool)
    steps, cond = 0, float("inf")
    solver: Solver | None = None
    limit = _ROUNDS if last else _EARLY_ROUNDS
    nk, certified64 = int(keep.sum()), _Float64Test()
    rounds = 0
    while rounds < limit:
        rounds += 1
        pp = pinned(problem, pins, slopes)
        sides = [np.sign(np.asarray(z, dtype=float)) for z in backprop(pp, theta).zs[:-1]]
        crossed: list[tuple[int, int, int]] = []
        # was the last step a chord step, or none yet in this round? (a round that starts at a
        # point already passing the float64 test, once a held pair is dropped, still ends on a
        # Newton step: measured on the 20-64-1 net, such a round ended at 0.76 x the floor, where
        # rule 4's least-squares check failed)
        chord = True
        for _ in range(_STEPS):
            # the last step of the last round is Newton's: chord steps stall at ~0.2 x the floor,
            # where the slopes' least-squares check of the certificate (rule 4) fails more often
            settled = free.all() and bool(((slopes >= 0) & (slopes <= 1)).all())
            if not (chord and settled) and certified64(pp, theta, free):
                break
            J, F = jacobian(pp, theta, free, keep)
            solver = Solver.of(J, int(free.sum()), search=True, lu_only=not last)
            cond = solver.cond
            if not (solver.ok or last) and J.shape[0] > QR_FROM and np.isfinite(J).all():
                return KinkSolve(pp, theta, False, steps, rounds, (
                    f"the square system (P + m = {J.shape[0]}, m = {int(free.sum())} pinned "
                    f"pairs, condition {cond:.3g}) is singular before the last smoothing level"
                ), cond)  # fmt: skip
            if not solver.ok:
                return KinkSolve(pp, theta, False, steps, rounds, (
                    f"the square system (P + m = {J.shape[0]}) is not finite or zero at this "
                    f"point with m = {int(free.sum())} pinned pairs"
                ), cond)  # fmt: skip
            step = solver.solve(-F)
            norm0, t = float(np.linalg.norm(F)), 1.0
            for _ in range(6):  # damped: a step must lower ||F|| (halved up to 6 times)
                cand, s_cand, cp, F2 = _moved(pp, theta, slopes, t * step, free, keep)
                if np.linalg.norm(F2) < norm0:
                    break
                t /= 2
            else:  # no step lowers ||F||: outside Newton's basin, or at rounding level with
                # switched-off units left at ~1e-20 (switched_off.py): set them to 0 if it helps
                snapped = snap_switched_off(pp, theta)
                if snapped is None or not _ratio(pp, snapped) < _ratio(pp, theta):
                    break
                theta = snapped
                continue
            theta, slopes, pp, steps, chord = cand, s_cand, cp, steps + 1, False
            crossed = _crossings(pp, theta, masks, sides)
            # chord steps: the same factorization again while each step shrinks ||F|| at least
            # _CHORD-fold (a Jacobian costs ~100 of them on the 20-64-1 net), until the point
            # passes the float64 test; one Newton step follows (above)
            for _ in range(_STEPS):
                if crossed or (not certified64.far(F2[:nk]) and certified64(pp, theta, free)):
                    break
                cand, s_cand, cp, F3 = _moved(pp, theta, slopes, solver.solve(-F2), free, keep)
                if not np.linalg.norm(F3) <= np.linalg.norm(F2) / _CHORD:
                    break
                theta, slopes, pp, steps, F2, chord = cand, s_cand, cp, steps + 1, F3, True
                crossed = _crossings(pp, theta, masks, sides)
            if crossed:
                break
        if crossed:  # a step carried live pairs across 0: pin them (active set)
            pins += crossed
            slopes = np.concatenate([slopes, np.full(len(crossed), 0.5)])
            free = np.concatenate([free, np.ones(len(crossed), dtype=bool)])
            continue
        if not certified64(pp, theta, free):
            return KinkSolve(
                pp,
                theta,
                False,
                steps,
                rounds,
                f"Newton on the square system stalled after {steps} steps ({_where(pp, theta)}, "
                f"m = {len(pins)} pinned pairs, condition {cond:.3g})",
                cond,
            )
        out = slopes < 0, slopes > 1
        if free.all() and not (out[0] | out[1]).any():
            # when the last step was Newton's (the loop above ends on one unless it ran out of
            # steps), taken from a point that had passed the float64 test, its Jacobian is the
            # one here to rounding: the certificate reuses its LU
            newton_last = not chord and solver is not None and solver.lu is not None
            lu = solver if newton_last else None
            return KinkSolve(pp, theta, True, steps, rounds, "", cond, solver=lu, keep=keep)
        zs = np.asarray(z_at(backprop(pp, theta), pp.pins), dtype=float)
        pins, slopes, free, confirming = _release(pins, slopes, free, zs)
        if confirming:
            # only held pairs on their side were dropped: their slopes 0 or 1 are relu's there,
            # so the point already solves the smaller system, and the next round only confirms
            # it (one Newton step); it is not counted against the limit. Measured on seed 7 of
            # the 20-64-1 net: the 1e4 level's 4th round ended so, and the level was given up
            # (then the 1e5 level's 4 rounds, 0.8 s in all)
            limit = max(limit, rounds + 1)
        if not pins:
            return KinkSolve(
                None,
                theta,
                False,
                steps,
                rounds,
                "every pinned pair was released: the point is inside a piece",
            )
    return KinkSolve(
        None,
        theta,
        False,
        steps,
        limit,
        f"the active set did not settle in {limit} rounds",
        cond,
    )


def _release(
    pins: list[tuple[int, int, int]], slopes: np.ndarray, free: np.ndarray, zs: np.ndarray
) -> tuple[list[tuple[int, int, int]], np.ndarray, np.ndarray, bool]:
    """The end of an active-set round that did not settle (``zs``: z at the pins). A free slope
    outside [0, 1] is held at its side (no longer free); a held pair whose z lies on its side is
    dropped (relu's own slope there); a held pair on the wrong side is pinned again (free, slope
    1/2). Returns the new pins, slopes and free mask, and whether the only change was dropping
    held pairs (``confirming``: the point already solves the smaller system)."""
    below, above = slopes < 0, slopes > 1
    held_ok = ~free & (((slopes == 1) & (zs > 0)) | ((slopes == 0) & (zs < 0)))
    slopes = np.where(below & free, 0.0, np.where(above & free, 1.0, slopes))
    free = free & ~(below | above)
    repin = ~free & ~held_ok & ~(below | above)  # held, but on the wrong side: pin again
    free = free | repin
    confirming = not (below | above).any() and not repin.any() and bool(held_ok.any())
    pins = [p for p, d in zip(pins, held_ok, strict=True) if not d]
    slopes, free = slopes[~held_ok], free[~held_ok]
    slopes[repin[~held_ok]] = 0.5
    return pins, slopes, free, confirming


def _where(problem: PinnedProblem, theta: np.ndarray) -> str:
    """Where a stalled Newton run stands: the worst gradient entry and pinned z over their
    rounding bounds (both <= 1 when certified)."""
    z, ez = pinned_z_bounds(problem, theta, FLOAT64)
    with np.errstate(divide="ignore", invalid="ignore"):
        zr = float(np.max(np.abs(z) / ez)) if z.size else 0.0
    return f"max |G_i| / floor_i = {_ratio(problem, theta):.3g}, max |z_p| / e_p = {zr:.3g}"


def _ratio(problem: PinnedProblem, theta: np.ndarray) -> float:
    """max_i |G_i| / floor_i (NaN-safe: NaN compares as not better)."""
    return float(rounding_analysis(problem, theta).ratio)


def _value(
    problem: PinnedProblem, theta: np.ndarray, free: np.ndarray, keep: np.ndarray
) -> tuple[Backprop, np.ndarray]:
    bp = backprop(problem, theta)
    fpins = tuple(p for p, f in zip(problem.pins, free, strict=True) if f)
    return bp, np.concatenate([bp.grad[keep], z_at(bp, fpins)])


def _moved(
    problem: PinnedProblem, theta: np.ndarray, slopes: np.ndarray, step: np.ndarray,
    free: np.ndarray, keep: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, PinnedProblem, np.ndarray]:  # fmt: skip
    """The point, slopes and surrogate after ``step`` in (theta[keep], s[free]), and F there."""
    cand = theta.copy()
    cand[keep] += step[: int(keep.sum())]
    s_cand = slopes.copy()
    s_cand[free] += step[int(keep.sum()) :]
    cp = problem.with_slopes(s_cand)
    _, F = _value(cp, cand, free, keep)
    return cand, s_cand, cp, F


def _crossings(
    problem: PinnedProblem, theta: np.ndarray, masks: list[np.ndarray], sides: list[np.ndarray]
) -> list[tuple[int, int, int]]:
    """Non-pinned candidate pairs whose sign differs from ``sides``."""
    pinset = set(problem.pins)
    out = []
    for layer, (z, ok, sd) in enumerate(zip(backprop(problem, theta).zs[:-1], masks, sides,
                                            strict=True)):  # fmt: skip
        moved = ok & (np.sign(np.asarray(z, dtype=float)) != sd) & (sd != 0)
        out += [(layer, int(i), int(j)) for i, j in np.argwhere(moved)
                if (layer, int(i), int(j)) not in pinset]  # fmt: skip
    return out
