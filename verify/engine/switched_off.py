"""Switched-off hidden units, set exactly to zero: the last step to a certified point.

A hidden unit j of layer l is switched off when its incoming row W_l[j, :] and its outgoing
column W_{l+1}[:, j] both vanish. For an activation with sigma(0) = 0 (identity, relu, tanh,
gelu, quadratic) and no bias on the unit, (W_l[j, :], W_{l+1}[:, j]) = (0, 0) is exactly
stationary in those coordinates: the unit's output is 0, so the data gradient of its outgoing
weights vanishes, and its back-propagated delta is W_{l+1}[:, j]^T delta = 0, so the data
gradient of its incoming weights vanishes; weight decay vanishes at 0 too. (With a bias b_j the
unit outputs the constant sigma(b_j), which an output bias absorbs at a stationary point. The
gradient of b_j is then (1/n) sum_i delta_ij + lam b_j = lam b_j when biases are decayed, so
there b_j = 0 too: a bias of a switched-off unit that has decayed with its weights is set to 0
as well; without bias decay b_j is free and left as it is.)

Why the trainer needs this. Near such a unit, with weights of size eps, every term of the unit's
gradient entries is proportional to eps, and so is their rounding floor
(:mod:`verify.engine.rounding`): the ratio gradient / floor does not shrink with eps, and the
per-entry certificate is reached only at eps = 0 exactly. Newton converges to it (eps -> eps^2)
but never lands on it. :func:`snap_switched_off` proposes the point with those units set to 0;
the callers keep it only when the certificate's ratio max_i |g_i| / floor_i improves, so a unit
that is not switched off (a unit of a sigmoid network whose constant output sigma(b) still
carries weight, for instance) is never removed.
"""

from __future__ import annotations

import numpy as np

from verify.engine.backends import FLOAT64, Array, Backend
from verify.engine.problem import Problem

__all__ = ["SNAP_RELATIVE", "snap_switched_off"]

#: candidates: units whose incoming and outgoing weights are all below SNAP_RELATIVE times the
#: largest weight of their matrices. Why sqrt(u) of float64: L-BFGS's linear convergence leaves
#: a decaying unit around that size and Newton takes it far below; a live unit is far above it.
#: Only a candidate: the snap is kept only if the certificate improves (module docstring).
SNAP_RELATIVE = float(np.sqrt(FLOAT64.unit_roundoff))


def snap_switched_off(problem: Problem, theta: Array, be: Backend = FLOAT64) -> Array | None:
    """``theta`` with every candidate switched-off unit set to exactly 0, or None if none."""
    net = problem.net
    if net.depth < 2:
        return None
    out = np.array(theta, dtype=object if be.name != "float64" else np.float64, copy=True)
    params = net.unflatten(out)  # views into ``out``
    zero = be.asarray(0.0)
    changed = False
    for layer in range(net.depth - 1):
        (w_in, b_in), (w_out, _) = params[layer], params[layer + 1]
        a_in = np.abs(be.to_float(w_in))
        a_out = np.abs(be.to_float(w_out))
        top_in, top_out = float(a_in.max()), float(a_out.max())
        # a decayed bias of the unit goes with its weights (module docstring)
        a_b = np.abs(be.to_float(b_in)) if b_in is not None and problem.decay_bias else None
        top_b = float(a_b.max()) if a_b is not None else 0.0
        for j in range(w_in.shape[0]):
            small_in = a_in[j].max() <= SNAP_RELATIVE * top_in
            small_out = a_out[:, j].max() <= SNAP_RELATIVE * top_out
            nonzero = a_in[j].max() > 0 or a_out[:, j].max() > 0
            if small_in and small_out and nonzero:
                w_in[j, :] = zero
                w_out[:, j] = zero
                if b_in is not None and a_b is not None and a_b[j] <= SNAP_RELATIVE * top_b:
                    b_in[j] = zero
                changed = True
    return out if changed else None
