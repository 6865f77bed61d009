"""``polish``: take a torch model's weights to a certified stationary point of L_lam, in float64.

The engine's method (:mod:`verify.engine.train`) on the model's own objective
(:mod:`verify.torch._objective`), on its device:

1. full-batch L-BFGS (SciPy's L-BFGS-B on the flat parameter vector; value and gradient from
   torch), until the gradient is ``newton_from`` times its own scale;
2. Newton steps with exact Hessian-vector products (``Objective.hvp`` and ``Objective.hessian``):
   least-squares steps from the dense Hessian's eigendecomposition up to ``DENSE_MAX``
   parameters, Newton-Krylov above (MINRES, the Krylov solver of the conjugate-gradient family
   for symmetric matrices that may be singular or indefinite, as Hessians with symmetry zero
   modes are). A step is kept only if it halves the gradient; otherwise L-BFGS resumes with a
   tighter hand-over, up to five rounds;
3. the certificate: the gradient at or below its rounding floor
   (:func:`verify.torch._stationarity.certify`, the engine's rule).

The result says how far the weights moved (relative to their norm, and per parameter tensor)
and holds a polished float64 copy of the model on the device used, in the train/eval mode of
the model passed in, which is not modified.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy import optimize
from scipy.sparse import linalg as sla
from torch import nn

from theory._errors import bad_input
from verify.engine.hessian import DENSE_MAX, _eig_solver
from verify.engine.result import Status
from verify.torch._inputs import build_objective
from verify.torch._losses import LossFn
from verify.torch._objective import Objective
from verify.torch._stationarity import Stationarity, hessian_norm, stationarity, unit_roundoff
from verify.torch._sums import layer_sums

__all__ = ["PolishResult", "polish"]


@dataclass
class PolishResult:
    """Outcome of :func:`polish`: the polished copy, the certificate and how far it moved."""

    model: nn.Module
    status: Status
    reason: str
    grad_norm: float
    grad_floor: float
    grad_norm_start: float
    moved: float  # ||theta - theta_0|| / ||theta_0||
    moved_max: float  # max_j |theta_j - theta_0j|
    moved_by_parameter: dict[str, float]  # ||p - p_0|| / ||p_0|| per parameter tensor
    iterations: int
    newton_steps: int
    seconds: float
    history: list[tuple[str, float]] = field(default_factory=list)

    @property
    def certified(self) -> bool:
        return self.status is Status.CONVERGED

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "reason": self.reason,
            "grad_norm": self.grad_norm,
            "grad_floor": self.grad_floor,
            "grad_norm_start": self.grad_norm_start,
            "moved": self.moved,
            "moved_max": self.moved_max,
            "moved_by_parameter": self.moved_by_parameter,
            "lbfgs_iterations": self.iterations,
            "newton_steps": self.newton_steps,
            "seconds": self.seconds,
        }

    def to_text(self) -> str:
        return (
            f"polish: {self.status.value}, ||grad L_lam|| {self.grad_norm_start:.3g} -> "
            f"{self.grad_norm:.3g} (floor {self.grad_floor:.3g}), weights moved by "
            f"{self.moved:.3g} (relative; max entry {self.moved_max:.3g}), {self.iterations} "
            f"L-BFGS iterations, {self.newton_steps} Newton steps, {self.seconds:.2f} s"
        )


class _NonFinite(Exception):
    pass


class _Run:
    """The optimisers on one objective, with NumPy <-> torch conversion at the boundary."""

    def __init__(self, obj: Objective, deadline: float) -> None:
        self.obj, self.deadline = obj, deadline
        self.history: list[tuple[str, float]] = []

    def t(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, device=self.obj.device, dtype=self.obj.dtype)

    def fg(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        v, g = self.obj.value_and_grad(self.t(theta))
        value, grad = float(v), g.detach().cpu().numpy().astype(np.float64)
        if not (np.isfinite(value) and np.isfinite(grad).all()):
            raise _NonFinite
        return value, grad

    def stat(self, theta: np.ndarray, hnorm: float | None = None) -> Stationarity:
        t = self.t(theta)
        cap = self.obj.capture(t)
        return stationarity(self.obj, t, cap, layer_sums(self.obj, t, cap), hnorm)

    def lbfgs(self, theta: np.ndarray, gtol: float, maxiter: int) -> tuple[np.ndarray, int]:
        def stop(intermediate_result: optimize.OptimizeResult) -> None:
            if time.perf_counter() > self.deadline:
                raise StopIteration

        res = optimize.minimize(
            self.fg, theta, jac=True, method="L-BFGS-B", callback=stop,
            # ftol=0: stop on the gradient or a failed line search, never on a small decrease
            options={"maxiter": maxiter, "gtol": gtol, "ftol": 0.0, "maxcor": 20},
        )  # fmt: skip
        theta = np.asarray(res.x, dtype=np.float64)
        self.history.append(("lbfgs", float(np.linalg.norm(self.fg(theta)[1]))))
        return theta, int(res.nit)

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        return self.obj.hessian(self.t(theta)).detach().cpu().numpy().astype(np.float64)

    def newton(self, theta: np.ndarray, steps: int) -> tuple[np.ndarray, int, bool]:
        """Least-squares Newton steps (the engine's ``_newton64``); (theta, steps, certified)."""
        hnorm = hessian_norm(self.obj, self.t(theta))
        lam = self.obj.lam
        for k in range(steps):
            st = self.stat(theta, hnorm)
            # stop once certified with a margin of 10 below the floor (a step more is cheap)
            if st.certified and st.grad_norm <= st.floor / 10:
                return theta, k, True
            if time.perf_counter() > self.deadline:
                return theta, k, st.certified
            g = self.fg(theta)[1]
            trials: Iterable[np.ndarray]
            if self.obj.n_params <= DENSE_MAX:
                ev, V, keep = _eig_solver(self.hessian(theta))
                c = V.T @ -g
                top = float(np.max(np.abs(ev)))
                trials = [V[:, keep] @ (c[keep] / ev[keep])] + [
                    V @ (c / (np.abs(ev) + mu * top)) for mu in (1e-6, 1e-3, 1e-1)
                ]
            else:
                tt = self.t(theta)
                op = sla.LinearOperator(
                    (g.size, g.size), dtype=np.float64,
                    matvec=lambda v, tt=tt: self.obj.hvp(tt, self.t(v)).detach().cpu().numpy(),
                )  # fmt: skip
                # why rtol 1e-10, 300 iterations, shifts 0 and lam: as the engine's _newton64
                trials = (sla.minres(op, -g, rtol=1e-10, maxiter=300, shift=-mu)[0]
                          for mu in (0.0, lam))  # fmt: skip
            for p in trials:
                cand = theta + p
                try:
                    gn_new = float(np.linalg.norm(self.fg(cand)[1]))
                except _NonFinite:
                    continue
                # why halve: inside Newton's basin each step roughly squares the gradient
                if gn_new <= 0.5 * st.grad_norm:
                    theta = cand
                    self.history.append(("newton", gn_new))
                    break
            else:
                return theta, k, st.certified
        return theta, steps, self.stat(theta, hnorm).certified


def polish(
    model: nn.Module, loss_fn: LossFn | str, X: Any, Y: Any, lam: float, *,
    decay_bias: bool = True, device: Any = None, dtype: torch.dtype = torch.float64,
    max_iter: int = 20_000, newton_from: float = 1e-7, newton_steps: int = 6,
    max_seconds: float | None = None,
) -> PolishResult:  # fmt: skip
    """Polish ``model``'s weights to a certified stationary point of L_lam (module docstring).

    Arguments as :func:`verify.torch.feature_report`; ``max_iter`` bounds the L-BFGS iterations,
    ``newton_from`` is the hand-over to Newton (gradient / its scale), ``max_seconds`` a wall
    time budget (status max_iter when exceeded).
    """
    start = time.perf_counter()
    if not (isinstance(max_iter, int) and max_iter >= 1):
        raise bad_input("max_iter", "be an integer >= 1", max_iter, "Pass e.g. 20000.")
    obj, _, _, _ = build_objective(model, loss_fn, X, Y, lam, None, device, dtype, decay_bias)
    deadline = start + (max_seconds if max_seconds is not None else float("inf"))
    run = _Run(obj, deadline)
    theta0 = obj.theta0.detach().cpu().numpy().astype(np.float64)
    theta, iterations, steps, status = theta0.copy(), 0, 0, Status.MAX_ITER
    st0 = run.stat(theta0)
    try:
        # the hand-over: newton_from times the gradient's scale (its floor / u), as the engine
        handover = newton_from * st0.floor / unit_roundoff(obj.dtype)
        for _ in range(5):
            budget = max_iter - iterations
            if budget <= 0 or time.perf_counter() > deadline:
                break
            # why / sqrt(p): L-BFGS-B stops on the largest component, the hand-over is a norm
            theta, nit = run.lbfgs(theta, handover / np.sqrt(theta.size), budget)
            iterations += nit
            theta, k, certified = run.newton(theta, newton_steps)
            steps += k
            if certified:
                status = Status.CONVERGED
                break
            handover *= 1e-2
    except _NonFinite:
        status = Status.NON_FINITE
    return _result(obj, run, theta0, theta, status, st0, iterations, steps, start)


def _result(
    obj: Objective, run: _Run, theta0: np.ndarray, theta: np.ndarray, status: Status,
    st0: Stationarity, iterations: int, steps: int, start: float,
) -> PolishResult:  # fmt: skip
    st = run.stat(theta) if status is not Status.NON_FINITE else None
    gn = st.grad_norm if st else float("nan")
    floor = st.floor if st else float("nan")
    if st is not None:  # the certificate at the final point decides, nothing else
        status = Status.CONVERGED if st.certified else Status.MAX_ITER
    if status is Status.CONVERGED:
        reason = (
            f"||grad L_lam|| = {gn:.3g} <= rounding floor {floor:.3g} after {iterations} "
            f"L-BFGS iterations and {steps} Newton steps"
        )
    elif status is Status.MAX_ITER:
        reason = (
            f"||grad L_lam|| = {gn:.3g} stayed above its rounding floor {floor:.3g} after "
            f"{iterations} L-BFGS iterations and {steps} Newton steps; raise max_iter or "
            "max_seconds, or increase lam"
        )
    else:
        reason = "the objective or its gradient became NaN or infinite; standardise the data"
    delta = theta - theta0
    by_param = {}
    for name, a, b in zip(obj.names, obj.offsets, obj.offsets[1:], strict=False):
        base = float(np.linalg.norm(theta0[a:b]))
        change = float(np.linalg.norm(delta[a:b]))
        by_param[name] = change / base if base else change
    norm0 = float(np.linalg.norm(theta0))
    return PolishResult(
        obj.release(run.t(theta)), status, reason, gn, floor, st0.grad_norm,
        float(np.linalg.norm(delta)) / norm0 if norm0 else float(np.linalg.norm(delta)),
        float(np.max(np.abs(delta))) if delta.size else 0.0, by_param, iterations, steps,
        time.perf_counter() - start, run.history,
    )  # fmt: skip
