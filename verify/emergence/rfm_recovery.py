"""RFM on the emergence data: does the learned metric M concentrate on span(M_A)? (section 5, S4)

A Recursive Feature Machine (:func:`verify.rfm.rfm`; this is the one module of the subpackage
that imports the RFM machine, since RFM on the same data is part of this experiment) alternates
kernel ridge regression with the Mahalanobis metric M and an update of M: NFA-RFM
``M <- AGOP^s`` or FACT-RFM ``M <- (FACT FACT^T)^{1/2}`` (F5), each normalised to top eigenvalue 1.
The network's measure applies unchanged: the share ``tr(P_A M) / tr(M)`` of M in span(M_A)
(:func:`verify.emergence.measures.subspace_share`), k/d for the starting metric M = I, and the
eigenvalue-weighted mass of M's top-k eigenspace in span(M_A).

Settings (ours [R]): Laplace kernel of bandwidth 10 (the toolkit's RFM default), ridge 1e-3,
``s = 1/2`` (the toolkit's default; ``s = 1``, the original RFM code's, concentrates M faster),
a subsample of ``n`` training points (kernel solves cost n^3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verify.emergence.data import Dataset, Instance
from verify.emergence.measures import subspace_share, top_mass
from verify.rfm.machine import Kernel, rfm

__all__ = ["RFM_METHODS", "RFMRecovery", "rfm_recovery"]

RFM_METHODS: tuple[str, ...] = ("nfa", "fact")


@dataclass(frozen=True)
class RFMRecovery:
    """Share of M in span(M_A) after each iteration (entry 0: M = I) and the final fit."""

    method: str
    n: int
    shares: list[float] = field(default_factory=list)
    top_mass: float = 0.0
    test_error: float = 0.0

    @property
    def share(self) -> float:
        return self.shares[-1]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"share": self.share}


def rfm_recovery(
    inst: Instance, train: Dataset, test: Dataset, *, method: str = "nfa", n: int = 1000,
    iters: int = 10, bandwidth: float = 10.0, ridge: float = 1e-3, s: float = 0.5,
) -> RFMRecovery:  # fmt: skip
    """Run RFM on the first ``n`` training samples and measure M after every iteration."""
    shares: list[float] = []

    def record(t: int, machine: Any, rec: dict[str, float]) -> None:
        shares.append(subspace_share(machine.M, inst.M_A))

    out = rfm(
        train.X[:n], train.y[:n], method=method, kernel=Kernel("laplace", bandwidth), ridge=ridge,
        iters=iters, s=s, X_test=test.X, Y_test=test.y, on_iter=record,
    )  # fmt: skip
    return RFMRecovery(
        method, n, shares, top_mass(out.M, inst.M_A, inst.model.k),
        float(1.0 - out.test_acc[-1]),
    )  # fmt: skip
