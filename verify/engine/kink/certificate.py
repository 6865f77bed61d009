"""The certificate of a Clarke-type stationary point on a ReLU kink, in float64 and at ``dps``.

The point (theta, s) comes from :func:`verify.engine.kink.newton.solve_on_kink`; see
:mod:`verify.engine.kink` for the maths. It is certified when all four rules hold:

1. every entry of G(theta, s), the gradient of the surrogate (relu'(z_p) := s_p at the pinned
   pairs), lies within its own rounding floor (:mod:`verify.engine.rounding`, where a pinned
   slope is an exact input and h_p = s_p z_p one product);
2. every pinned |z_p| lies within its forward rounding bound e_p (the bound of
   :func:`verify.engine.pieces.piece_report`: gamma_k (|h| |w|^T + |b|) plus the error carried
   from the layer below, times |slope| through each activation): z_p cannot be told from 0;
3. every other live pre-activation keeps its sign with room to spare: |z| > 2 (|dz| + e), dz
   the first-order change of z along the theta part of the square system's Newton step (the
   distance to its exact solution, up to O(|step|^2), covered by the factor 2);
4. every slope lies in [margin, 1 - margin] with margin = :data:`SLOPE_MARGIN` times the
   slopes' error bound e_s = 2 |J^-1|_slopes [floor; e_z] (the slope rows of the inverse square
   Jacobian applied to the rounding of the residual: how far the exact solution's slopes can sit
   from the computed ones, to first order; 2 covers the second-order remainder). The slopes are
   re-solved by least squares at the certified theta (Gauss-Newton on G(theta, .) = 0, in
   float64) as a check, and must agree with Newton's within e_s (float64's e_s at ``dps``).

Then the exact solution of the square system lies within rounding of the point, its pinned
pairs sit on the kink, the other pairs keep their signs, and its slopes are interior: a
Clarke-type stationary point where F1 holds with those slopes. If the square Jacobian is
singular (too many pins for the weights that move them, or a degenerate point), the point is not
certified and the reason says so.

At ``dps`` digits (:func:`refine_kink`): mixed-precision Newton on the same system, the
residual at ``dps`` digits and the correction solved with the float64 Jacobian's LU factors
(each sweep gains ~ -log10(cond u_64) digits), then the four rules at that precision.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from verify.engine.backends import FLOAT64, Array, Backend, mp_backend
from verify.engine.backprop import backprop
from verify.engine.hessian import gradient_floor
from verify.engine.kink.solver import Solver
from verify.engine.kink.surrogate import PinnedProblem, frozen, jacobian, slope_columns, z_at
from verify.engine.pieces import structural_zeros
from verify.engine.result import Status, TrainResult
from verify.engine.rounding import rounding_analysis

__all__ = ["SLOPE_MARGIN", "KinkReport", "certify_kink", "pinned_z_bounds", "refine_kink"]

#: rule 4: slopes must clear 0 and 1 by this many times their own error bound. Why 10: the bound
#: is first order (with a factor 2 for the remainder); an order of magnitude more leaves no doubt
#: that the exact slopes are interior
SLOPE_MARGIN = 10.0


@dataclass
class KinkReport:
    """Where a point certified on a kink sits (module docstring): the pinned pairs, the slopes,
    and the distance of every other live pre-activation to the kink."""

    pins: list[tuple[int, int, int]]  # (hidden layer 1-based, sample 1-based, unit 1-based)
    slopes: list[float]
    slope_error: float  # e_s (rule 4)
    slope_margin: float  # SLOPE_MARGIN * e_s
    pinned_z_ratio: float  # max_p |z_p| / e_p (rule 2: <= 1)
    kink_distance: float  # min over other live pairs of |z| less its rounding (rule 3)
    closest: tuple[int, int, int] | None
    margin: float  # 2 (|dz| + e) at the closest pair
    at_kink: int  # other live pairs failing rule 3
    gradient_ok: bool  # rule 1
    slopes_ok: bool  # rule 4
    cond: float  # condition estimate of the square Jacobian
    dead_units: list[list[int]]
    live_units: list[int]
    precision: str
    dead_at_kink: int = 0
    zero_modes: int = 0  # of the square Jacobian: continuous symmetries (kink.solver.Solver)
    slopes_determined: bool = True  # no zero mode of the square Jacobian moves the slopes
    inside: bool = False  # never inside a smooth piece: on a kink by construction

    @property
    def certified(self) -> bool:
        return (
            self.gradient_ok and self.pinned_z_ratio <= 1 and self.at_kink == 0 and self.slopes_ok
        )

    def text(self) -> str:
        lo, hi = (min(self.slopes), max(self.slopes)) if self.slopes else (0.0, 0.0)
        dead = sum(len(d) for d in self.dead_units)
        state = "certified" if self.certified else "NOT certified: " + ", ".join(
            why for ok, why in [
                (self.gradient_ok, "gradient above its floor"),
                (self.pinned_z_ratio <= 1, f"pinned |z| {self.pinned_z_ratio:.3g} x its rounding"),
                (self.at_kink == 0, f"{self.at_kink} other pair(s) too close to a kink"),
                (self.slopes_determined, "the square system is singular: "
                 f"{self.zero_modes} zero mode(s) move the slopes, so they are not determined"),
                (self.slopes_ok or not self.slopes_determined,
                 "a slope not clearly inside (0, 1)"),
            ] if not ok
        )  # fmt: skip
        return (
            f"ReLU ON A KINK ({state}): {len(self.pins)} pre-activation(s) pinned at 0 (|z_p| <= "
            f"{self.pinned_z_ratio:.2g} x rounding); F1 holds with relu'(0) := s_p in "
            f"[{lo:.4g}, {hi:.4g}] at them (slope error {self.slope_error:.2g}, margin "
            f"{self.slope_margin:.2g}): a Clarke-type stationary point, not a differentiable "
            f"one; other live pre-activations: min|z| >= {self.kink_distance:.3g}, needed > "
            f"{self.margin:.3g}; square Jacobian condition {self.cond:.3g}"
            + (
                f" ({self.zero_modes} symmetry zero modes, slopes unaffected)"
                if self.zero_modes
                else ""
            )
            + f"; {dead} dead unit(s)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "inside_piece": False,
            "on_kink": True,
            "stationarity": "clarke (backpropagation with relu'(0) := slope at the pinned pairs)",
            "certified_on_kink": self.certified,
            "pinned": [list(p) for p in self.pins],
            "pinned_count": len(self.pins),
            "slopes": self.slopes,
            "slope_range": [min(self.slopes), max(self.slopes)] if self.slopes else None,
            "slope_error": self.slope_error,
            "slope_margin": self.slope_margin,
            "pinned_z_over_rounding": self.pinned_z_ratio,
            "kink_distance": self.kink_distance,
            "closest_kink": list(self.closest) if self.closest else None,
            "kink_margin": self.margin,
            "at_kink": self.at_kink,
            "jacobian_condition": self.cond,
            "jacobian_zero_modes": self.zero_modes,
            "slopes_determined": self.slopes_determined,
            "dead_units": [[j + 1 for j in d] for d in self.dead_units],
            "live_units": self.live_units,
            "dead_units_at_kink": self.dead_at_kink,
            "precision": self.precision,
        }


def _forward_errors(
    problem: PinnedProblem, theta: Array, be: Backend, step: np.ndarray | None = None
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Per hidden layer, float64: z, its rounding bound e, dz = J_z step, structural zeros."""
    bp = backprop(problem, theta, be)
    params = problem.net.unflatten(FLOAT64.to_float(be.to_float(theta)))
    pstep = problem.net.unflatten(np.zeros(problem.net.n_params) if step is None else step)
    u = be.unit_roundoff
    h = problem.X
    err, dh = np.zeros_like(h), np.zeros_like(h)
    zs, errs, dzs, structs = [], [], [], []
    for layer, zb in enumerate(bp.zs[:-1]):
        (w, b), (pw, pb) = params[layer], pstep[layer]
        k = w.shape[1] + 1
        gamma = k * u / (1 - k * u)  # Higham's gamma_k for a dot product of length k
        size = np.abs(h) @ np.abs(w).T + (np.abs(b) if b is not None else 0.0)
        err = gamma * size + err @ np.abs(w).T
        dz = h @ pw.T + dh @ w.T + (pb if pb is not None else 0.0)
        z = FLOAT64.to_float(be.to_float(zb))
        zs.append(z)
        errs.append(err)
        dzs.append(dz)
        structs.append(structural_zeros(problem, h))
        s = np.abs(FLOAT64.to_float(be.to_float(bp.slopes[layer])))
        h = FLOAT64.to_float(be.to_float(bp.hs[layer + 1]))
        err, dh = err * s + u * np.abs(h), dz * s  # h = s z: one more rounding at pinned pairs
    return zs, errs, dzs, structs


def pinned_z_bounds(problem: PinnedProblem, theta: Array, be: Backend) -> tuple[np.ndarray, ...]:
    """``(z_p, e_p)`` at the pins, float64 (rule 2)."""
    zs, errs, _, _ = _forward_errors(problem, theta, be)
    z = np.array([zs[la][i, j] for la, i, j in problem.pins])
    e = np.array([errs[la][i, j] for la, i, j in problem.pins])
    return z, e


def certify_kink(
    problem: PinnedProblem, theta: Array, be: Backend = FLOAT64, solver: Solver | None = None
) -> tuple[KinkReport, Solver]:
    """The four rules (module docstring) at ``theta`` in the numbers of ``be``. Returns the
    report and the float64 solver of the square system (reused by :func:`refine_kink`).

    ``solver``: the float64 square Jacobian's solver at ``theta`` or within rounding of it
    (:func:`refine_kink`: at the float64 point of a ``dps`` one; :func:`on_kink`: the LU of
    Newton's last step, taken from a point that had already passed the float64 test). The rules
    read it only through first-order estimates with a factor 2 for the remainder (rules 3 and
    4), which a Jacobian rounding-level away moves by a relative ~ cond u."""
    th64 = FLOAT64.to_float(be.to_float(theta))
    keep = ~frozen(problem, th64)
    m, nk = len(problem.pins), int(keep.sum())
    free = np.ones(m, dtype=bool)
    p64 = problem.with_slopes(np.array([float(x) for x in problem.slopes]))
    if solver is None:
        solver = Solver.of(jacobian(p64, th64, free, keep)[0], m)
    cond = solver.cond
    ra = rounding_analysis(problem, theta, be)
    bp = ra.bp
    F = np.concatenate([FLOAT64.to_float(be.to_float(bp.grad))[keep],
                        FLOAT64.to_float(be.to_float(z_at(bp, problem.pins)))])  # fmt: skip
    step = np.zeros(problem.net.n_params)
    zs, errs, dzs, structs = _forward_errors(problem, theta, be)
    ep = np.array([errs[la][i, j] for la, i, j in problem.pins])
    zp = np.array([zs[la][i, j] for la, i, j in problem.pins])
    e_s = e_s64 = np.full(m, np.inf)
    if solver.ok and solver.slopes_determined:
        step[keep] = solver.solve(-F)[:nk]
        rows = solver.slope_rows()  # the slope rows of J^-1 (J^+ with symmetry zero modes)
        e_s = 2 * np.abs(rows) @ np.concatenate([ra.floor[keep], ep])
        if be.name != "float64":  # the least-squares check runs in float64: its own bound
            _, e64 = pinned_z_bounds(p64, th64, FLOAT64)
            e_s64 = 2 * np.abs(rows) @ np.concatenate([rounding_analysis(p64, th64).floor[keep],
                                                       e64])  # fmt: skip
        else:
            e_s64 = e_s
    _, _, dzs, _ = _forward_errors(problem, theta, be, step)
    pinset = {(la, i, j) for la, i, j in problem.pins}
    best: tuple[float, tuple[int, int, int] | None, float] = (float("inf"), None, 0.0)
    failing = dead_at_kink = 0
    dead_units, live_units = [], []
    for layer, (z, err, dz, struct) in enumerate(zip(zs, errs, dzs, structs, strict=True)):
        dead = np.asarray((z <= 0).all(axis=0), dtype=bool)
        dead_units.append([int(j) for j in np.flatnonzero(dead)])
        live_units.append(int((~dead).sum()))
        dead_at_kink += int((dead & (z.max(axis=0) == 0)).sum())
        off = dead[None, :] | struct[:, None]
        off = np.array(off, dtype=bool)
        for la, i, j in pinset:
            if la == layer:
                off[i, j] = True
        need = 2 * (np.abs(dz) + err)
        az = np.where(off, np.inf, np.abs(z))
        failing += int((az <= need).sum())
        az = az * (1 - FLOAT64.unit_roundoff) - err
        if np.isfinite(az).any():
            a, b = (int(x) for x in np.unravel_index(int(np.argmin(az)), az.shape))
            if az[a, b] < best[0]:
                best = (float(az[a, b]), (layer + 1, a + 1, b + 1), float(need[a, b]))
    s = np.array([float(x) for x in problem.slopes])
    err_s = float(np.max(e_s)) if m else 0.0
    margin = SLOPE_MARGIN * err_s
    agree = np.maximum(e_s64, e_s)
    s_ls = least_squares_slopes(p64, th64, keep, agree)
    slopes_ok = bool(
        np.isfinite(err_s) and (s >= margin).all() and (s <= 1 - margin).all()
        and (np.abs(s_ls - s) <= agree).all()
    )  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(np.max(np.where(zp == 0, 0.0, np.abs(zp) / ep))) if m else 0.0
    precision = "float64" if be.name == "float64" else f"{be.dps} digits"
    report = KinkReport(
        [(la + 1, i + 1, j + 1) for la, i, j in problem.pins], s.tolist(), err_s, margin, ratio,
        best[0], best[1], best[2], failing, ra.certified, slopes_ok, cond, dead_units,
        live_units, precision, dead_at_kink, zero_modes=solver.zero_modes,
        slopes_determined=solver.ok and solver.slopes_determined,
    )  # fmt: skip
    return report, solver


def least_squares_slopes(
    problem: PinnedProblem, theta: np.ndarray, keep: np.ndarray, tol: Any = 0.0
) -> Any:
    """Slopes re-solved at fixed theta: Gauss-Newton on min_s ||G(theta, s)|| (rule 4's check),
    three steps, or fewer once a step moves every slope by at most 1e-3 ``tol`` (the agreement
    rule 4 asks for): the steps converge quadratically, so the next one would move them by far
    less. One step with one hidden layer: there G is affine in s (its only products of slopes,
    s_p s_q z_q, carry a pinned z_q, ~ rounding), so the first step is the answer. Each step
    costs a least-squares solve of P x m (0.13 s on the standard 20-64-1 net, 738 pins)."""
    s = np.array([float(x) for x in problem.slopes])
    free = np.ones(s.size, dtype=bool)
    for _ in range(1 if problem.net.depth == 2 else 3):
        pp = problem.with_slopes(s)
        G = backprop(pp, theta).grad[keep]
        B = slope_columns(pp, theta, free)[0][keep]  # the differences s_q -> s_q + 1
        ds = np.linalg.lstsq(B, G, rcond=None)[0]
        s = s - ds
        if (np.abs(ds) <= 1e-3 * np.asarray(tol)).all():
            break
    return s


def refine_kink(result: TrainResult, dps: int, max_sweeps: int = 10) -> TrainResult:
    """Mixed-precision Newton on the square system at ``dps`` digits, then the certificate
    there (module docstring)."""
    problem, be = result.problem, mp_backend(dps)
    assert isinstance(problem, PinnedProblem)
    th64 = np.asarray(result.theta, dtype=float)
    keep = ~frozen(problem, th64)
    nk = int(keep.sum())
    _, solver = certify_kink(problem, th64)
    theta, s = be.asarray(th64), be.asarray(np.array([float(x) for x in problem.slopes]))
    pp = problem.with_slopes(s)
    sweeps = 0
    with be.working():
        for sweeps in range(max_sweeps + 1):
            report, _ = certify_kink(pp, theta, be, solver)
            if report.certified or not solver.ok or sweeps == max_sweeps:
                break
            bp = backprop(pp, theta, be)
            F = np.concatenate([bp.grad[keep], z_at(bp, pp.pins)])
            d = solver.solve(-be.to_float(F))
            theta = theta.copy()
            theta[keep] = theta[keep] + be.asarray(d[:nk])
            s = s + be.asarray(d[nk:])
            pp = pp.with_slopes(s)
    theta64 = be.to_float(theta)
    gn, floor = gradient_floor(pp, theta, be)
    gn64, floor64 = gradient_floor(pp.with_slopes(be.to_float(s)), theta64)
    status = Status.CONVERGED if report.certified else Status.ON_KINK
    reason = (f"at {dps} digits: ||G|| = {gn:.3g} " + ("<=" if report.gradient_ok else "above")
              + f" rounding floor {floor:.3g} after {sweeps} mixed-precision Newton sweeps on "
              f"the square system; {report.text()}")  # fmt: skip
    return replace(
        result, problem=pp, theta=theta64, theta_mp=theta, status=status, reason=reason,
        remedy="" if report.certified else result.remedy, grad_norm=gn64, grad_floor=floor64,
        grad_norm_mp=float(gn), grad_floor_mp=float(floor), dps=dps, newton_steps_mp=sweeps,
        pieces=report, objective=float(backprop(pp.with_slopes(be.to_float(s)), theta64).value),
    )  # fmt: skip


@dataclass
class KinkFound:
    """What :func:`on_kink` found: a certified point on a kink, or why not."""

    certified: bool
    problem: PinnedProblem | None
    theta: np.ndarray
    report: KinkReport | None
    steps: int
    residual: float
    why: str
    homotopy: int = 0  # L-BFGS iterations of the smoothing homotopy


def on_kink(
    problem: Any, theta: np.ndarray, deadline: float = float("inf"), from_start: bool = False
) -> KinkFound:
    """Seek and certify a Clarke-type stationary point near a float64 point on a kink, or
    ``from_start`` one reached from an initial point by the smoothing homotopy alone."""
    from verify.engine.kink.newton import solve_on_kink

    solved = solve_on_kink(problem, theta, deadline, from_start)
    head = (
        "a Clarke-type stationary point (Newton on the square system in the weights and the "
        "slopes at the pinned pre-activations) was sought and not certified: "
    )
    if not solved.converged or solved.problem is None:
        return KinkFound(False, None, theta, None, solved.steps, float("nan"),
                         head + solved.reason, solved.iterations)  # fmt: skip
    # Newton's last LU, if it was built on the coordinates the rules use
    keep = ~frozen(solved.problem, solved.theta)
    same = solved.keep is not None and np.array_equal(solved.keep, keep)
    reuse = solved.solver if same else None
    report, _ = certify_kink(solved.problem, solved.theta, solver=reuse)
    gn = float(np.linalg.norm(backprop(solved.problem, solved.theta).grad))
    why = "" if report.certified else head + report.text()
    return KinkFound(report.certified, solved.problem, solved.theta, report, solved.steps, gn, why,
                     solved.iterations)  # fmt: skip
