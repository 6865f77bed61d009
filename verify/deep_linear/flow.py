"""Gradient flow of deep linear networks: balancedness and the NFA with exponent 1/L, numerically.

Companion of theory/deep_linear/balance.py (D1-D4) and theory/deep_linear/nfa.py (D5, D6);
REFERENCE.md tag D7. The network is f(x) = W_L ... W_1 x = A x (conventions of
verify.engine.network:
X is n x d with samples as rows, W_k is out x in), the loss the engine's mean squared error

    l(A) = (1/(2n)) ||X A^T - Y||_F^2,   grad_A l = A Sxx - Syx,  Sxx = X^T X/n, Syx = Y^T X/n,

and the flow dW_k/dt = -(W_L..W_{k+1})^T grad_A l (W_{k-1}..W_1)^T - lam W_k. Recorded over time:

- imbalance ||D_j||_F, D_j = W_{j+1}^T W_{j+1} - W_j W_j^T (D2: conserved if lam = 0;
  D3: decays as exp(-2 lam t), so the fitted rate of log ||D|| is 2 lam);
- the NFA defect ||W_1^T W_1 - AGOP^{1/L}||_F / ||W_1^T W_1||_F, AGOP = A^T A (uncentered; the
  input Jacobian of a linear network is A at every sample), PSD power by eigh with clipping (D5);
- Pearson and cosine correlations of W_1^T W_1 with AGOP^alpha for alpha in {1/L, 1/2, 1}.

Integrators: float64 scipy.integrate.solve_ivp with DOP853 (8th order, adaptive) at rtol 1e-12;
and for small networks an mpmath Gragg-Bulirsch-Stoer extrapolation integrator with step-size
control at ``dps`` digits (mpmath.odefun was measured too slow). With one output
(c = 1) the AGOP has rank one and every exponent gives correlation 1, so the exponent cannot be
identified: a :class:`ScalarOutputWarning` is emitted and the result is flagged.

This module gathers the names; they live in :mod:`verify.deep_linear.initialization` (problem and
initialisations), :mod:`verify.deep_linear.dynamics` (integration, metrics, FlowResult, decay fit)
and :mod:`verify.deep_linear.report` (report entries and the converged-point check).
"""

from __future__ import annotations

from verify.deep_linear.dynamics import ATOL as ATOL
from verify.deep_linear.dynamics import RTOL as RTOL
from verify.deep_linear.dynamics import (
    FlowResult,
    ScalarOutputWarning,
    decay_rate_fit,
    psd_power_clipped,
    run_flow,
)
from verify.deep_linear.dynamics import _gradients as _gradients  # used by the tests (D1)
from verify.deep_linear.initialization import INITS as INITS
from verify.deep_linear.initialization import FlowProblem as FlowProblem
from verify.deep_linear.initialization import (
    balanced_init,
    balanced_init_mp,
    flow_problem,
    gaussian_init,
)
from verify.deep_linear.report import ConvergedCheck, converged_check, report_entries

__all__ = [
    "FlowResult",
    "ScalarOutputWarning",
    "ConvergedCheck",
    "balanced_init",
    "balanced_init_mp",
    "converged_check",
    "decay_rate_fit",
    "flow_problem",
    "gaussian_init",
    "psd_power_clipped",
    "report_entries",
    "run_flow",
]
