"""What training reports: the status, the Hessian spectrum summary and :class:`TrainResult`."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from verify.engine.network import Array, Backend, Problem

__all__ = ["HessianSummary", "Status", "TrainResult"]


class Status(str, enum.Enum):
    """How the optimisation ended."""

    CONVERGED = "converged"
    MAX_ITER = "max_iter"
    DIVERGED = "diverged"
    NON_FINITE = "non_finite"
    NOT_STATIONARY = "not_stationary"  # a given point (not trained here) above its gradient floor
    ON_KINK = "on_kink"  # piecewise-smooth activation: not certified inside one smooth piece

    def __str__(self) -> str:
        return self.value


@dataclass
class HessianSummary:
    """Spectrum of the Hessian of L_lam at the final point (float64)."""

    method: str  # "dense eigendecomposition", "lanczos (extremes only)", "not computed"
    n_params: int
    min_eig: float | None
    max_eig: float | None
    near_zero: int | None  # eigenvalues with |ev| <= zero_tol
    symmetry_zero_modes: int  # exact zero modes from continuous symmetries at this point
    dead_unit_modes: int  # biases of switched-off units, which L_lam does not see
    zero_tol: float | None
    kind: str  # "local minimum" (up to the zero modes explained), "degenerate local minimum",
    # "saddle" or "unknown"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class TrainResult:
    """Outcome of :func:`train` (and :func:`refine_mp`): point, status, gradient, spectrum."""

    problem: Problem
    theta: np.ndarray  # float64 parameters (rounded from theta_mp if refined)
    status: Status
    reason: str
    remedy: str
    grad_norm: float  # ||grad L_lam|| in float64 at theta
    grad_floor: float  # certification threshold in float64
    objective: float
    iterations: int = 0  # L-BFGS iterations
    newton_steps: int = 0
    seconds: float = 0.0
    hessian: HessianSummary | None = None
    dps: int | None = None
    theta_mp: Array | None = None  # object array of mpf at dps digits
    grad_norm_mp: float | None = None
    grad_floor_mp: float | None = None
    newton_steps_mp: int = 0
    history: list[tuple[str, float]] = field(default_factory=list)
    moved: float = 0.0  # ||theta_final - theta_start|| / ||theta_start|| of the mpmath polish
    pieces: Any = None  # ReLU: verify.engine.pieces.PieceReport (kink distance, dead units)

    @property
    def converged(self) -> bool:
        return self.status is Status.CONVERGED

    def certified_at(self, be: Backend) -> bool:
        """Is the point certified stationary at the precision of ``be``?"""
        if not self.converged:
            return False
        if be.name == "float64":
            return True
        return (
            self.dps is not None
            and self.dps >= be.dps
            and self.grad_norm_mp is not None
            and self.grad_floor_mp is not None
            and self.grad_norm_mp <= self.grad_floor_mp
        )

    def point(self, be: Backend) -> Array:
        """Parameters in the numbers of ``be`` (the mpmath point if refined at that precision)."""
        if be.name != "float64" and self.theta_mp is not None and be.dps <= (self.dps or 0):
            return self.theta_mp
        return be.asarray(self.theta)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "reason": self.reason,
            "remedy": self.remedy,
            "grad_norm": self.grad_norm,
            "grad_floor": self.grad_floor,
            "grad_norm_dps": self.grad_norm_mp,
            "grad_floor_dps": self.grad_floor_mp,
            "dps": self.dps,
            "objective": self.objective,
            "lbfgs_iterations": self.iterations,
            "newton_steps": self.newton_steps,
            "newton_steps_dps": self.newton_steps_mp,
            "seconds": self.seconds,
            "hessian": self.hessian.to_dict() if self.hessian else None,
            "moved_by_refinement": self.moved,
            "pieces": self.pieces.to_dict() if self.pieces is not None else None,
        }
