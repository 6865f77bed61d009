"""Certified convergence to a stationary point of L_lam: L-BFGS, then Newton, then mpmath Newton.

1. Full-batch L-BFGS (:mod:`verify.engine.lbfgs`, NumPy) with the exact gradient
   (:mod:`verify.engine.objective64`), until the gradient is small relative to its own scale
   (``newton_from``) or L-BFGS stops (at the precision limit the line search fails: normal).
2. Newton steps in float64 with the exact Hessian (:mod:`verify.engine.newton64`: Hessian-vector
   products, R-operator). The Hessian is singular along continuous symmetries (rotations of
   hidden units of linear networks, bias shifts, the softmax shift), so the step is
   least-squares: a pseudo-inverse step from the dense eigendecomposition for small networks,
   MINRES on Hessian-vector products for large ones (never a dense Hessian). A step is kept only
   if it halves the gradient norm; otherwise damped (Levenberg-Marquardt, saddle-free) steps are
   tried, and if they fail too, L-BFGS resumes with a tighter hand-over.
   For ReLU (:mod:`verify.engine.pieces`) dead units are switched off exactly and removed, Newton
   runs on the smooth piece of the remaining network, a step that changes the activation pattern
   is refused, and the point is certified only if the piece's Newton step stays inside the piece.
   A point on a kink is then certified ON the kink when possible, as a Clarke-type stationary
   point (:mod:`verify.engine.kink`: a smoothing homotopy, Newton on the square system in the
   weights and the slopes at the pinned pairs, a four-rule certificate); the result's problem is
   then the surrogate with those slopes, so every check downstream uses them. Otherwise the
   status is ``on_kink``, and the reason says why the kink certificate failed. Before all this,
   a ReLU network trained from its random initial point (no ``theta0``) first tries the homotopy
   from there, which then is the training
   (:data:`verify.engine.kink.start.START_BETAS`); only if that point is not certified does it
   take the path above (measured in-process on the standard 20-64-1 net: 1.0-3.2 s of CPU over
   seeds 0-11, where the path above took 3.6-6.3 s over seeds 0-5; benchmarks/bench_relu_kinks.py
   certified 29 of 32 runs, 23-25 before).
3. Optionally, Newton in mpmath at ``dps`` digits: the step solves H p = -g with the EXACT mpmath
   Hessian (mpmath Hessian-vector products, the same R-operator code), by iterative refinement
   preconditioned with the float64 pseudo-inverse of H: each refinement sweep gains about
   -log10(cond(H) * u_float64) digits of the step, so a few sweeps give a full-precision Newton
   step, and Newton's quadratic convergence takes a float64 point (gradient ~1e-16) to the 50-digit
   floor in two or three steps. That fast path fails on ill-conditioned problems (relative
   curvature ~1e-11, e.g. quadratic networks on anisotropic inputs): the start is not yet in
   Newton's basin, or genuine curvature falls under the float64 cut-off. Networks of <= ROBUST_MAX
   parameters then get least-squares Newton steps from the dense exact Hessian (float64 first,
   then mpmath with its eigendecomposition at full precision), several eigenvalue cut-offs tried
   per step, the best kept, and a few non-monotone steps allowed.

Certified means: every entry of the computed gradient lies within its threshold: its rounding
floor (a bound on its rounding error computed alongside the gradient from the magnitudes of the
terms summed, tightened a posteriori where possible), the a priori floor for the error the last
Newton step left behind, and the change the weights' own rounding can cause
(:mod:`verify.engine.rounding`, derivation there): what a converged iterate at that precision
can show. The exact gradient at the point is then within |computed| + floor, entry by entry.
For ReLU the same threshold is used, and the point must also be certified inside one smooth
piece (:mod:`verify.engine.pieces`) or on a kink with interior slopes
(:mod:`verify.engine.kink`). A result that is not certified is never turned into a verdict other
than INCONCLUSIVE.

The Hessian spectrum summary (``spectrum``) is not used by any verdict. "auto" computes it
only where it is cheap (a dense eigendecomposition below :data:`SPECTRUM_AUTO_FLOPS`); otherwise
it is reported as not computed; "lanczos" or "dense" ask for it explicitly.

Layout: this module holds :func:`train` and :func:`evaluate`; :mod:`verify.engine.lbfgs` and
:mod:`verify.engine.newton64` the float64 optimisers, :mod:`verify.engine.result` the result
records, :mod:`verify.engine.hessian` the Hessian, spectrum and rounding floor,
:mod:`verify.engine.newton_mp` the mpmath stage (:func:`refine_mp`), all re-exported here.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from theory._errors import bad_input
from verify.base.validate import check_seed
from verify.engine.hessian import (
    DENSE_MAX,
    LANCZOS_MAX,
    dense_hessian,
    gradient_floor,
    handover_scale,
    hessian_norm,
    hessian_summary,
    mp_hessian,
    symmetry_directions,  # fmt: skip
)
from verify.engine.lbfgs import lbfgs, restart_factor
from verify.engine.memory import check_network_memory
from verify.engine.network import Problem, backprop, mp_backend
from verify.engine.newton64 import NonFinite, grad64, handover_level, newton64
from verify.engine.newton_mp import ROBUST_MAX, refine_mp
from verify.engine.pieces import Reduction, is_piecewise, pattern, piece_report, settle
from verify.engine.precondition import diagonal_scaling
from verify.engine.result import HessianSummary, Status, TrainResult
from verify.engine.rounding import floor_ratio, safe_norm
from verify.engine.scaling import scaling_hint
from verify.engine.synthetic import synthetic_problem

if TYPE_CHECKING:
    from verify.engine.kink.certificate import KinkFound

__all__ = [
    "DENSE_MAX",
    "LANCZOS_MAX",
    "ROBUST_MAX",
    "SPECTRUM_AUTO_FLOPS",
    "HessianSummary",
    "Status",
    "TrainResult",
    "dense_hessian",
    "evaluate",
    "gradient_floor",
    "hessian_norm",
    "hessian_summary",
    "mp_hessian",
    "refine_mp",
    "symmetry_directions",
    "synthetic_problem",
    "train",
]


#: "auto" spectrum: a dense Hessian (p Hessian-vector products, ~2 n p^2 flops) and its
#: eigenvalues (~4 p^3) only below this many flops. Why 1e9: about 0.2 s of one core, small next
#: to training wherever it is below it; the standard 1,344-parameter net (n = 256) is above it
SPECTRUM_AUTO_FLOPS = 1e9


def train(
    problem: Problem,
    *,
    seed: int = 0,
    theta0: np.ndarray | None = None,
    max_iter: int = 20_000,
    newton_from: float | None = None,
    newton_steps: int = 6,
    dps: int | None = None,
    spectrum: str = "auto",
    max_seconds: float | None = None,
) -> TrainResult:
    """Train to a certified stationary point of L_lam (module docstring), optionally at ``dps``.

    ``newton_from``: L-BFGS hands over at ||grad|| <= newton_from * (gradient scale); default
    :func:`~verify.engine.newton64.handover_level`.
    ``spectrum``: "auto", "dense", "lanczos" or "none" (Hessian summary at the final point).
    ``max_seconds``: wall-time budget of the float64 stage (status max_iter when exceeded).
    """
    check_seed(seed, "seed")
    if dps is not None:
        mp_backend(dps)  # validates dps before any work
    value = f"MLP {problem.net.sizes}, n={problem.n}"
    check_network_memory(problem.net, problem.n, dps=dps, argument="problem", value=value)
    deadline = time.perf_counter() + (max_seconds if max_seconds is not None else float("inf"))
    return _train(
        problem, seed, theta0, max_iter, newton_from, newton_steps, dps, spectrum, deadline
    )


def _train(
    problem: Problem, seed: int, theta0: np.ndarray | None, max_iter: int,
    newton_from: float | None, newton_steps: int, dps: int | None, spectrum: str, deadline: float,
) -> TrainResult:  # fmt: skip
    start = time.perf_counter()
    p = problem.net.n_params
    if theta0 is None:
        theta = problem.net.init(seed)
    else:
        theta = np.asarray(theta0, dtype=np.float64).reshape(-1)
        if theta.shape != (p,) or not np.isfinite(theta).all():
            raise bad_input(
                "theta0", f"be {p} finite numbers (the flat parameter vector)",
                f"shape {np.shape(theta0)}", "Pass net.init(seed) or a saved run's parameters.",
            )  # fmt: skip
    if dps is not None:
        mp_backend(dps)  # validates dps before any work
    if spectrum not in ("auto", "dense", "lanczos", "none"):
        raise bad_input("spectrum", "be auto, dense, lanczos or none", spectrum, "Use auto.")
    history: list[tuple[str, float]] = []
    iterations, steps, certified, status = 0, 0, False, Status.MAX_ITER
    reason = ""
    piecewise = is_piecewise(problem.net.activation)
    newton = _newton_piecewise if piecewise else newton64
    # why 500 for ReLU: on the smooth nets measured here L-BFGS halves the gradient every 50-100
    # iterations; at a kink it zigzags and the gradient stays put (the standard ReLU net used all
    # 20,000 iterations at ||g|| ~ 2e-3). Smooth activations never stop for this reason
    stall = 500 if piecewise else None
    if piecewise and theta0 is None:  # first the smoothing homotopy from the initial point
        # (kink/start.py); not from a given theta0: callers pass one to reach the stationary
        # point near it (check --refine, polishing an optimiser's end point), and the homotopy's
        # smooth early levels would carry it elsewhere
        from verify.engine.kink.certificate import on_kink

        found = on_kink(problem, theta, deadline, from_start=True)
        if found.certified:
            return _finish(problem, theta, Status.ON_KINK, reason, 0, 0, history, start,
                           spectrum, dps, found=found)  # fmt: skip
    try:
        grad64(problem, theta)
        level = handover_level(p) if newton_from is None else newton_from
        handover = level * handover_scale(problem, theta)  # level * gradient scale
        for _ in range(5):  # L-BFGS, then Newton; tighten the hand-over if Newton stalls
            budget = max_iter - iterations
            if budget <= 0 or time.perf_counter() > deadline:
                break
            run = lbfgs(lambda t: grad64(problem, t), theta, gtol=handover, maxiter=budget,
                        deadline=deadline, stall=stall,
                        scaling=diagonal_scaling(problem), restart=restart_factor(p))  # fmt: skip
            theta, iterations = run.x, iterations + run.nit
            history.append(("lbfgs", safe_norm(run.g)))
            if np.linalg.norm(theta) > 1e8:
                status, reason = Status.DIVERGED, f"||theta|| = {np.linalg.norm(theta):.3g}"
                break
            theta, k, certified, left = newton(problem, theta, newton_steps, history, deadline)
            steps += k
            if certified:
                status = Status.CONVERGED
                break
            if left and run.stop in ("line search", "stall"):
                break  # at a kink: L-BFGS cannot go on, Newton's step leaves the piece
            handover *= 1e-2
    except NonFinite as exc:
        theta, status = exc.theta, Status.NON_FINITE
        reason = "the objective or its gradient became NaN or infinite"
    # the kink certificate (verify/engine/kink/) only when training stopped at a kink, not when
    # the iteration budget ran out (it would train on with its own homotopy)
    kinks = deadline if iterations < max_iter else None
    return _finish(problem, theta, status, reason, iterations, steps, history, start, spectrum,
                   dps, kinks)  # fmt: skip


def _newton_piecewise(
    problem: Problem, theta: np.ndarray, steps: int, history: list[tuple[str, float]],
    deadline: float,
) -> tuple[np.ndarray, int, bool, bool]:  # fmt: skip
    """Newton on the smooth piece of a ReLU network (:mod:`verify.engine.pieces`): dead units
    switched off exactly and removed, steps that change the activation pattern refused."""
    theta = settle(problem, theta)
    red = Reduction.of(problem, theta)
    sub, x = (red.reduced, red.shrink(theta)) if red is not None else (problem, theta)
    ref = pattern(sub, x)

    def inside(old: np.ndarray, cand: np.ndarray) -> bool:
        return all(np.array_equal(a, b) for a, b in zip(ref, pattern(sub, cand), strict=True))

    x, k, certified, left = newton64(sub, x, steps, history, deadline, inside)
    # settled again: Newton leaves rounding-level weights on dead units when nothing was removed
    # (a whole layer dead); they change no output, so the point stays certified
    return (red.embed(x) if red is not None else settle(problem, x)), k, certified, left


_REMEDIES = {
    Status.CONVERGED: "",
    Status.MAX_ITER: (
        "raise max_iter (--max-iter), increase lam (weight decay conditions the problem), or use "
        "a smaller network; with undecayed biases a quadratic network may have no minimiser "
        "(decay_bias)"
    ),
    Status.DIVERGED: "increase lam or standardise the data",
    Status.ON_KINK: (
        "the point is on a kink and no Clarke-type stationary point was certified near it (the "
        "reason says which rule failed): try another --seed or a larger --lam, or use a smooth "
        "activation (softplus, gelu, tanh)"
    ),
    Status.NOT_STATIONARY: (
        "train these weights to convergence (factcheck check --refine, or more iterations of "
        "your optimiser with the L2 term in the gradient, not decoupled AdamW decay)"
    ),
    Status.NON_FINITE: (
        "standardise the data, increase lam, or use a bounded activation (quadratic and identity "
        "networks can overflow)"
    ),
}


def _finish(
    problem: Problem, theta: np.ndarray, status: Status, reason: str, iterations: int,
    steps: int, history: list[tuple[str, float]], start: float, spectrum: str, dps: int | None,
    kink_deadline: float | None = None, found: KinkFound | None = None,
) -> TrainResult:  # fmt: skip
    pieces, kink_why = None, ""
    if status is not Status.NON_FINITE and is_piecewise(problem.net.activation):
        if status is not Status.DIVERGED and found is None:
            pieces = piece_report(problem, theta)
            if not pieces.inside and status in (Status.CONVERGED, Status.MAX_ITER):
                status = Status.ON_KINK
        if status is Status.ON_KINK and kink_deadline is not None and found is None:
            # on a kink: certify a Clarke-type stationary point nearby (verify/engine/kink/)
            from verify.engine.kink.certificate import on_kink

            found = on_kink(problem, theta, kink_deadline)
        if found is not None:  # from here, or from the homotopy at the start (_train)
            if found.certified and found.problem is not None:
                problem, theta, status = found.problem, found.theta, Status.CONVERGED
                pieces = found.report  # type: ignore[assignment]  # a KinkReport
                steps += found.steps
                history.append(("kink-newton", found.residual))
            kink_why = found.why
    if status is Status.NON_FINITE:
        gn, floor, value = float("nan"), float("nan"), float("nan")
    else:
        gn, floor = gradient_floor(problem, theta)
        value = float(backprop(problem, theta).value)
    homotopy = f", {found.homotopy} in the smoothing homotopy," if found is not None else ""
    done = f"after {iterations} L-BFGS iterations{homotopy} and {steps} Newton steps"
    if status is Status.CONVERGED and pieces is not None and not pieces.inside:
        reason = (  # certified ON a kink (verify/engine/kink/): G is not a gradient of L_lam
            f"||G|| = {gn:.3g} <= rounding floor {floor:.3g} (every entry within its own floor; G "
            "= backpropagation with relu'(0) := the certified slopes at the pinned pairs) "
            f"{done} and Newton on the kink's square system"
        )
    elif status is Status.CONVERGED:
        reason = (
            f"||grad L_lam|| = {gn:.3g} <= rounding floor {floor:.3g} (every entry within its own "
            f"threshold) {done}"
        )
    elif status is Status.MAX_ITER:
        reason = f"{above_floor(gn, floor)} {done}"
    elif status is Status.ON_KINK:
        reason = f"||grad L_lam|| = {gn:.3g} (rounding floor {floor:.3g}) {done}"
    if pieces is not None:
        reason += "; " + pieces.text()
        if status is Status.ON_KINK:
            reason += _KINK_WHY + (f"; {kink_why}" if kink_why else "")
    summary = None
    method = _spectrum_method(problem, spectrum)
    if status is not Status.NON_FINITE and method != "none":
        summary = hessian_summary(problem, theta, method)
        if pieces is not None and (pieces.dead_at_kink or not pieces.inside):
            summary.kind = "unknown"  # the Hessian of the piece's smooth extension, not of L_lam
            summary.method += (
                " (of the smooth piece; "
                + ("on a kink" if not pieces.inside else "dead units at the kink")
                + ": L_lam is not twice differentiable there)"
            )
    elif status is not Status.NON_FINITE and spectrum == "auto":
        p = problem.net.n_params
        summary = HessianSummary("not computed (costly here; ask with spectrum='lanczos')", p,
                                 None, None, None, 0, 0, None, "unknown")  # fmt: skip
    remedy = _REMEDIES[status]
    hint = "" if status is Status.CONVERGED else scaling_hint(problem, theta)
    if hint:  # badly scaled data or weights (verify/engine/scaling.py)
        remedy = f"{hint}; otherwise {remedy}"
    result = TrainResult(
        problem, theta, status, reason, remedy, gn, floor, value, iterations, steps,
        time.perf_counter() - start, summary, history=history, pieces=pieces,
    )  # fmt: skip
    if dps is not None and status is Status.CONVERGED:
        result = refine_mp(result, dps)
    result.seconds = time.perf_counter() - start
    return result


#: why a kink is not certified (appended to the reason of status on_kink)
_KINK_WHY = (
    ". L_lam is not differentiable on a kink; trained ReLU networks with weight decay usually "
    "end on one (a unit's hyperplane pinned at a sample whose activation would raise the loss), "
    "where F1 holds only with slopes in [0, 1] at the pinned pairs that make backpropagation "
    "vanish (a Clarke-type stationary point)"
)


def _spectrum_method(problem: Problem, spectrum: str) -> str:
    """The summary actually computed: "auto" is dense where cheap (SPECTRUM_AUTO_FLOPS)."""
    if spectrum != "auto":
        return spectrum
    p, n = problem.net.n_params, problem.n
    return "dense" if 2 * n * p * p + 4 * p**3 <= SPECTRUM_AUTO_FLOPS else "none"


def evaluate(problem: Problem, theta: np.ndarray, spectrum: str = "auto") -> TrainResult:
    """Status of a GIVEN point, without moving it: converged iff the float64 gradient is at its
    rounding floor (and, for ReLU, the point is certified inside a smooth piece), otherwise
    ``not_stationary`` or ``on_kink`` (for run files written by other code)."""
    theta = np.asarray(theta, dtype=np.float64)
    start = time.perf_counter()
    try:
        grad64(problem, theta)
    except NonFinite:
        result = _finish(problem, theta, Status.NON_FINITE, "", 0, 0, [], start, spectrum, None)
        result.reason = "the loss or its gradient at the given point is not finite (overflow)"
        return result
    gn, floor = gradient_floor(problem, theta)
    if gn <= floor:
        return _finish(problem, theta, Status.CONVERGED, "", 0, 0, [], start, spectrum, None)
    result = _finish(problem, theta, Status.NOT_STATIONARY, "", 0, 0, [], start, spectrum, None)
    if result.status is Status.NOT_STATIONARY:
        result.reason = (f"the given point is not stationary: {above_floor(gn, floor)}") + (
            "; " + result.pieces.text() if result.pieces is not None else ""
        )
    return result


def above_floor(gn: float, floor: float) -> str:
    """Why a gradient is not certified: the worst entry's multiple of its own floor."""
    ratio = floor_ratio(gn, floor)
    if not np.isfinite(ratio):
        return (
            f"||grad L_lam|| = {gn:.3g}, and the gradient or its rounding floor is not finite "
            "(float64 overflowed)"
        )
    return (
        f"||grad L_lam|| = {gn:.3g} is above its rounding floor {floor:.3g}: an entry is "
        f"{ratio:.3g} times its own floor"
    )
