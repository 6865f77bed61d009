"""Piecewise-smooth activations (ReLU): activation patterns, dead units, kinks, and the
certificate that a stationary point lies strictly inside one smooth piece.

For ReLU, L_lam is smooth wherever no pre-activation z_ij (sample i, hidden unit j) equals 0:
there the activation pattern P = [z_ij > 0] is locally constant and L_lam coincides with the
smooth function L_P of the masked (gated linear) network, so Newton's method applies to L_P.
A stationary point of L_P is a stationary point of L_lam only if it lies inside the piece, i.e.
every z_ij keeps its sign. The certificate used here:

1. the gradient at theta is at its rounding floor (:mod:`verify.engine.train`), and
2. the Newton step p = -H_P^+ g of the piece (the distance to the piece's exact stationary point,
   up to O(|p|^2)) changes no live pre-activation's sign with room to spare:
   |z_ij| > 2 (|dz_ij| + e_ij) for every live pair, where dz = J_z p is the first-order change of
   z along p and e_ij bounds the rounding error of the computed z_ij (forward error of the dot
   products gamma_k (|h| |w|^T + |b|), k = fan-in + 1, plus the error carried in from the layer
   below, which ReLU does not amplify). The factor 2 covers the O(|p|^2) remainder.

Then the exact stationary point of L_P lies in the open piece, where L_lam = L_P, so it is a
genuine stationary point of L_lam within |p| of theta, and F1 applies there. The smallest |z_ij|
over live units is reported as the distance to the nearest kink.

Dead units (inactive on every sample, z_ij <= 0 for all i) are handled separately: their outputs
relu(z) are 0 on every sample, so their outgoing weights a_j and incoming weights w_j receive only
the weight-decay gradient lam a_j, lam w_j, and the exact Newton step on that block sets them to 0
(:func:`settle` does that exactly). At a_j = 0, w_j = 0 the unit's contribution
a_j relu(w_j . h + b_j) is second order in the perturbation, so L_lam is differentiable there
(though not twice), with zero gradient in the unit's coordinates. They are removed for Newton's
method (:class:`Reduction`), reported, and left out of the kink distance.

At ``dps`` digits (:func:`refine_piecewise`) the mpmath stage of :mod:`verify.engine.newton_mp`
runs on the reduced network (a preconditioned or eigendecomposed step would leave rounding noise
in the dead units' decoupled block, which would switch them on), the point is embedded back with
exact zeros, and the piece test is repeated at that precision.

A point where a live pre-activation sits at a kink is not certified inside a piece: status
``on_kink``. This is the usual end of training a ReLU network with weight decay: a unit's
hyperplane is pinned at a sample whose activation would raise the loss while the other samples
pull it across (a convex kink), a non-differentiable local minimum. Measured on the network
(4, 16, 16, 2), n = 32, lam = 1e-2: seeds 0-7, with and without biases, MSE and cross-entropy
(32 runs, ``benchmarks/bench_relu_kinks.py``): every run ended on a kink with 1-34
pre-activations pinned below 1e-6 of their unit's scale, at ||grad|| 1e-3..3e-2; a width-2
network certifies inside a piece.

Such a point is then certified ON the kink, as a Clarke-type stationary point
(:mod:`verify.engine.kink`): slopes s_p in [0, 1] at the pinned pairs for which backpropagation
with relu'(z_p) := s_p gives zero, found by Newton's method on a square system in the weights
and the slopes, with a four-rule certificate, and F1 then holds exactly with those slopes. (An
earlier version of this docstring argued that nothing near a kinked end point is certifiable,
because each adjacent piece's stationary point lies across the kink; that is true of the pieces'
own stationary points, but the kink itself carries the stationary point, with interior slopes.
Switching the pinned units off and training on, tried before, only reached trivial points.)
Of the 32 runs above, 27 are now certified on a kink (``benchmarks/bench_relu_kinks.py``: 8, 8,
7 and 4 of 8 for MSE and cross-entropy without biases, MSE and cross-entropy with them).

Exact zeros that are not kinks (:func:`structural_zeros`): without biases, a sample on which every
unit of the layer below is off has h_i = 0 and z_ij = 0 for every unit j, identically near theta.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from verify.engine.backends import FLOAT64, Array, Backend, mp_backend
from verify.engine.backprop import backprop
from verify.engine.hessian import gradient_floor
from verify.engine.problem import MLP, Problem
from verify.engine.result import Status, TrainResult

__all__ = [
    "KINKS",
    "PieceReport",
    "Reduction",
    "is_piecewise",
    "pattern",
    "piece_report",
    "refine_piecewise",
    "settle",
    "structural_zeros",
]

#: activations that are smooth except where a pre-activation equals one of these values
KINKS: dict[str, tuple[float, ...]] = {"relu": (0.0,)}


def is_piecewise(activation: str) -> bool:
    """Is ``activation`` piecewise smooth (handled by this module)?"""
    return activation in KINKS


@dataclass
class PieceReport:
    """Where a point sits relative to the kinks (module docstring)."""

    dead_units: list[list[int]]  # per hidden layer, 0-based indices of units inactive everywhere
    live_units: list[int]  # per hidden layer
    kink_distance: float  # min over live units of |z_ij| - rounding bound: exact |z| is >= this
    closest: tuple[int, int, int] | None  # (hidden layer 1-based, sample, unit) of that minimum
    margin: float  # 2 (|dz| + rounding) at the closest pair
    at_kink: int  # live pre-activations failing |z| > 2 (|dz| + rounding)
    inside: bool  # every live pre-activation passes: certified inside the piece
    precision: str
    dead_at_kink: int = 0  # dead units whose largest pre-activation is exactly 0 (no bias < 0)

    def text(self) -> str:
        dead = sum(len(d) for d in self.dead_units)
        where = ""
        if self.closest is not None:
            layer, i, j = self.closest
            where = f" (hidden layer {layer}, unit {j + 1}, sample {i + 1})"
        what = (
            "inside a smooth piece"
            if self.inside
            else f"on a kink: {self.at_kink} live pre-activation(s) closer to 0 than the piece's "
            "Newton step and the rounding can move them"
        )
        return (
            f"ReLU piece: {what}; distance to the nearest kink min|z| >= {self.kink_distance:.3g}"
            f"{where}, needed > {self.margin:.3g}; {dead} dead unit(s) "
            f"({', '.join(str(len(d)) for d in self.dead_units)} per hidden layer), "
            f"live {', '.join(str(n) for n in self.live_units)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "inside_piece": self.inside,
            "kink_distance": self.kink_distance,
            "closest_kink": list(self.closest) if self.closest else None,
            "kink_margin": self.margin,
            "at_kink": self.at_kink,
            "dead_units": [[j + 1 for j in d] for d in self.dead_units],
            "live_units": self.live_units,
            "dead_units_at_kink": self.dead_at_kink,
            "precision": self.precision,
        }


def pattern(problem: Problem, theta: Array, be: Backend = FLOAT64) -> list[np.ndarray]:
    """The activation pattern [z_ij > 0] of every hidden layer (boolean n x width arrays)."""
    bp = backprop(problem, theta, be)
    return [np.asarray(z > 0, dtype=bool) for z in bp.zs[:-1]]


def _dead(problem: Problem, theta: Array, be: Backend = FLOAT64) -> list[np.ndarray]:
    """Per hidden layer: units with z_ij <= 0 on every sample."""
    return [np.logical_not(p.any(axis=0)) for p in pattern(problem, theta, be)]


def settle(problem: Problem, theta: np.ndarray) -> np.ndarray:
    """``theta`` with every dead unit's incoming and outgoing weights (and its bias, if decayed or
    positive) set to exactly 0: the exact Newton step on that block (module docstring).

    Without weight decay (lam = 0) nothing changes: a dead unit's gradient is then exactly 0 at
    any weights, so they are already stationary and zeroing them would change W^T W (the
    dead-unit counterexample to the NFA relies on them)."""
    theta = np.array(theta, dtype=np.float64)
    if problem.lam == 0:
        return theta
    params = problem.net.unflatten(theta)  # views into theta
    for layer, dead in enumerate(_dead(problem, theta)):
        (w, b), (w_next, _) = params[layer], params[layer + 1]
        w[dead] = 0.0
        w_next[:, dead] = 0.0
        if b is not None:  # an undecayed bias <= 0 keeps the unit off with zero gradient
            b[dead & ((b > 0) | problem.decay_bias)] = 0.0
    return theta


def structural_zeros(problem: Problem, h: np.ndarray) -> np.ndarray:
    """Samples whose input to a layer is exactly 0 (every unit below off on them), no bias.

    Their pre-activations z_ij = w_j . h_i are exactly 0 but not kinks: each component of h_i is
    either the output of a unit strictly inactive on sample i (0 on a neighbourhood; the piece
    test checks that margin at the layer below) or of a dead unit settled to zero weights
    (O(eps) under an eps perturbation, entering through outgoing weights that are O(eps) too), so
    z_ij = O(eps^2) and relu(z_ij) is differentiable with derivative 0 there. With biases
    z_ij = b_j moves to first order, so nothing is excluded. Without this, every such pair read
    as a live pre-activation at exactly 0: a kink that is not there."""
    if problem.net.bias:
        return np.zeros(h.shape[0], dtype=bool)
    return np.asarray(np.all(h == 0, axis=1))


@dataclass
class Reduction:
    """The network with its dead units removed, and the maps between the two parameter vectors.

    ``keep`` indexes the full flat vector by the reduced one; dead units' entries (zero weights,
    biases <= 0) are taken from ``template`` when embedding."""

    full: Problem
    reduced: Problem
    keep: np.ndarray
    template: np.ndarray

    @staticmethod
    def of(problem: Problem, theta: np.ndarray) -> Reduction | None:
        """The reduction at a settled ``theta``; None if nothing is dead or a layer is all dead."""
        dead = _dead(problem, theta)
        if not any(d.any() for d in dead) or any(d.all() for d in dead):
            return None
        net = problem.net
        live = [np.ones(net.sizes[0], dtype=bool)] + [~d for d in dead]
        live.append(np.ones(net.sizes[-1], dtype=bool))
        keep, k = [], 0
        for layer, ((o, i), b) in enumerate(net.shapes):
            rows, cols = np.flatnonzero(live[layer + 1]), np.flatnonzero(live[layer])
            keep.append((k + rows[:, None] * i + cols[None, :]).reshape(-1))
            k += o * i
            if b is not None:
                keep.append(k + rows)
                k += o
        sizes = tuple(int(m.sum()) for m in live)
        reduced = Problem(
            MLP(sizes, net.activation, net.bias), problem.X, problem.Y, problem.loss,
            problem.lam, problem.decay_bias,
        )  # fmt: skip
        return Reduction(problem, reduced, np.concatenate(keep), np.array(theta, dtype=float))

    def shrink(self, theta: Array) -> Array:
        return theta[self.keep]

    def embed(self, theta_reduced: Array, be: Backend = FLOAT64) -> Array:
        full = be.asarray(self.template).copy()
        full[self.keep] = theta_reduced
        return full


def _newton_probe(problem: Problem, theta: Array, be: Backend) -> np.ndarray:
    """The float64 least-squares Newton step -H^+ g at ``theta`` (g in the numbers of ``be``)."""
    from verify.engine.newton64 import newton_step

    g = FLOAT64.to_float(be.to_float(backprop(problem, theta, be).grad))
    return newton_step(problem, FLOAT64.to_float(be.to_float(theta)), g)


def piece_report(problem: Problem, theta: Array, be: Backend = FLOAT64) -> PieceReport:
    """Pattern, dead units, kink distance and the inside-the-piece test at ``theta``."""
    bp = backprop(problem, theta, be)
    th64 = FLOAT64.to_float(be.to_float(theta))
    step = problem.net.unflatten(_newton_probe(problem, theta, be))
    params = problem.net.unflatten(th64)
    u = be.unit_roundoff
    zs = [FLOAT64.to_float(be.to_float(z)) for z in bp.zs[:-1]]
    X = problem.X
    h, err, dh = X, np.zeros_like(X), np.zeros_like(X)
    dead_units, live_units = [], []
    best: tuple[float, tuple[int, int, int] | None, float] = (float("inf"), None, 0.0)
    failing = dead_at_kink = 0
    for layer, z in enumerate(zs):
        (w, b), (pw, pb) = params[layer], step[layer]
        k = w.shape[1] + 1
        gamma = k * u / (1 - k * u)  # Higham's gamma_k for a dot product of length k
        size = np.abs(h) @ np.abs(w).T + (np.abs(b) if b is not None else 0.0)
        err = gamma * size + err @ np.abs(w).T  # rounding of z, carried from the layer below
        dz = h @ pw.T + dh @ w.T + (pb if pb is not None else 0.0)  # J_z p (forward mode)
        dead = np.asarray((z <= 0).all(axis=0))
        dead_units.append([int(j) for j in np.flatnonzero(dead)])
        dead_at_kink += int((dead & (z.max(axis=0) == 0)).sum())
        live_units.append(int((~dead).sum()))
        need = 2 * (np.abs(dz) + err)
        off = dead[None, :] | structural_zeros(problem, h)[:, None]  # not kinks (docstrings)
        az = np.where(off, np.inf, np.abs(z))
        failing += int((az <= need).sum())
        # a lower bound on the exact |z| (less its rounding, and less the rounding to float64 of
        # an mpmath z): the reported distance is guaranteed
        az = az * (1 - FLOAT64.unit_roundoff) - err
        if np.isfinite(az).any():
            i, j = np.unravel_index(int(np.argmin(az)), az.shape)
            if az[i, j] < best[0]:
                best = (float(az[i, j]), (layer + 1, int(i), int(j)), float(need[i, j]))
        s = (z > 0).astype(np.float64)
        h, err, dh = np.maximum(z, 0.0), err * s, dz * s  # ReLU is 1-Lipschitz: errors pass as is
    precision = "float64" if be.name == "float64" else f"{be.dps} digits"
    return PieceReport(
        dead_units, live_units, best[0], best[1], best[2], failing, failing == 0, precision,
        dead_at_kink,
    )  # fmt: skip


def refine_piecewise(
    result: TrainResult, dps: int, max_steps: int = 6, robust_steps: int = 12
) -> TrainResult:
    """:func:`~verify.engine.newton_mp.refine_mp` for ReLU networks (module docstring): on the
    reduced network, embedded back, certified only if the piece test passes at ``dps`` digits."""
    from verify.engine.kink import is_pinned
    from verify.engine.newton_mp import refine_mp

    if is_pinned(result.problem):  # certified on a kink: the square system at dps digits
        from verify.engine.kink.certificate import refine_kink

        return refine_kink(result, dps)
    problem, be = result.problem, mp_backend(dps)
    theta = settle(problem, result.theta)
    red = Reduction.of(problem, theta)
    if red is None:
        out = refine_mp(replace(result, theta=theta), dps, max_steps, robust_steps, pieces=False)
        theta_mp = out.theta_mp
    else:
        sub = replace(result, problem=red.reduced, theta=red.shrink(theta), pieces=None)
        out = refine_mp(sub, dps, max_steps, robust_steps, pieces=False)
        theta_mp = red.embed(out.theta_mp, be)
    theta64 = be.to_float(theta_mp)
    gn64, floor64 = gradient_floor(problem, theta64)
    gn, floor = gradient_floor(problem, theta_mp, be)
    report = piece_report(problem, theta_mp, be)
    at_floor = out.converged and gn <= floor
    status = Status.CONVERGED if at_floor and report.inside else Status.MAX_ITER
    if not report.inside:
        status = Status.ON_KINK
    reason = (
        f"at {dps} digits: ||grad L_lam|| = {gn:.3g} "
        + ("<=" if at_floor else "stayed above")
        + f" rounding floor {floor:.3g} after {out.newton_steps_mp} mpmath Newton steps; "
        + report.text()
    )
    if status is not Status.CONVERGED and result.status is not Status.CONVERGED:
        reason += f"; float64 stage: {result.reason}"
    remedy = "" if status is Status.CONVERGED else out.remedy or result.remedy
    if status is Status.ON_KINK:
        remedy = result.remedy if result.status is Status.ON_KINK else (
            "the point is too close to a kink at this precision: train to a point further from "
            "it (a narrower network, a larger --lam)"
        )  # fmt: skip
    return replace(
        out, problem=problem, theta=theta64, theta_mp=theta_mp, status=status, reason=reason,
        remedy=remedy, grad_norm=gn64, grad_floor=floor64, grad_norm_mp=gn, grad_floor_mp=floor,
        objective=float(backprop(problem, theta64).value), hessian=result.hessian, pieces=report,
    )  # fmt: skip
