"""ReLU points ON a kink: Clarke-type stationary points, found by Newton's method on a square
system in the weights and the slopes at the pinned pre-activations.

Trained ReLU networks with weight decay usually end where a few pre-activations z_p, p =
(hidden layer, sample, unit), sit exactly at the kink 0 (:mod:`verify.engine.pieces`): a
non-differentiable local minimum. There no gradient exists, but backpropagation with a slope
s_p in [0, 1] chosen for relu'(z_p) at each pinned pair (the generalized derivative of relu at
0 is the interval [0, 1]) gives a vector G(theta, s). The point is a **Clarke-type stationary
point** when some slopes s in [0, 1]^m make G vanish: 0 lies in the set of gradients that
backpropagation with admissible slopes produces (the conservative field of backpropagation,
Bolte and Pauwels, Math. Program. 2021, which contains the Clarke subdifferential; with one
pinned pair per sample whose pre-activations have linearly independent gradients, it equals
conv{gradients of the adjacent pieces}, the Clarke subdifferential itself).

F1 then holds exactly, layer by layer, with grad_h l_i taken by the same backpropagation: the
slopes s make grad_W L_lam := (1/n) sum_i delta_i h_i^T + lam W = 0 for every layer, and the
four-line proof of F1 (REFERENCE.md section 1) uses nothing else. The AGOP of the NFA uses the
same slopes. A useful view: at the pinned pairs replace relu by the linear map h = s_p z
(:class:`PinnedProblem`, the *surrogate*). Its value equals L_lam on the set {z_p = 0}, and G is
its gradient, so Hessian-vector products of the surrogate are exact second derivatives of G in
theta, and G is affine in each s_p separately.

The square system, P + m equations in P + m unknowns (theta, s):

    G(theta, s) = 0   (P equations),      z_p(theta, s) = 0   (m equations),

is solved by Newton's method in float64 (:func:`verify.engine.kink.newton.solve_on_kink`), with an
active set: the pinned set and the starting slopes come from a smoothing homotopy
(:mod:`verify.engine.kink.start`, which says why the L-BFGS end point is not a usable start); a
pair whose slope leaves [0, 1] is released to the side its slope points to (slope < 0: off, > 1:
on), held there (slope fixed at 0 or 1, no z equation) until Newton converges, and dropped from the
pins once its z has the sign of that side; a non-pinned pair whose sign a step changes is pinned.
Dead units (inactive on every sample) are settled to zero weights and frozen, structural zeros
(:func:`verify.engine.pieces.structural_zeros`) are not kinks; both keep their existing handling.

Modules: :mod:`~verify.engine.kink.surrogate` (the surrogate and the Jacobian, which takes the
Hessian of one hidden layer in closed form, :mod:`~verify.engine.kink.shallow`),
:mod:`~verify.engine.kink.solver` (LU or least squares), :mod:`~verify.engine.kink.start` (the
smoothing homotopy, its L-BFGS in the per-unit metric of :mod:`~verify.engine.kink.metric`),
:mod:`~verify.engine.kink.newton` (the active-set Newton method) and
:mod:`~verify.engine.kink.certificate` (the four rules, and the refinement at ``dps`` digits).
"""

from verify.engine.kink.surrogate import PinnedProblem, is_pinned

__all__ = ["PinnedProblem", "is_pinned"]
