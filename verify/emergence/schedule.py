"""The paper's training schedule: two feature-learning steps, then GD with weight decay (S4).

Steps 1 and 2 (S4 [V]): weight decay ``lam_w = 1/(2 eta)`` on W, so the update forgets the old
weights: ``w_i <- -eta grad_{w_i} L``; smoothing ``sd^(1) = 1/(2k)`` (the paper: < 1/k) and
``sd^(2) = k^{-3/2}``. At initialisation g = 0, so the first gradient is
``grad_{w_i} L = -a_i E[y sig'(<w_i, x> + b_i) x]``, which points along ``sum_{j in A} M_j``
(``E[y x]`` does, by A1) and the second step sharpens it. A remark of ours [R]: such a step sets
``W = -eta grad_W L_data``, the matrix FACT (F3) is built from.

Ours, where the paper's appendix (unread) fixes the details [R]:

- ``eta^(1)``, ``eta^(2)`` are set so that the mean row norm of W after each step is
  ``row_norm`` (the step's scale only; its direction is the gradient's);
- a and b are held during steps 1-2; the readout starts again from ``a = 0`` for step 3;
- steps 3..T: full-batch GD on (W, b, a) with ``lam_a = lam_w = lam`` and ``sd = 0`` as in the
  paper, but with a step size ``lr`` and a step count chosen for a laptop (``T = 2 + steps``)
  instead of ``eta = k^2/(T m^{1/3})``, ``T = m^{4/3}``, whose constants are asymptotic;
- the loss is the hinge loss on the training sample (the paper: the population loss).

Every ``record_every`` steps (and after steps 0, 1, 2 and the last) a :class:`Checkpoint` records
train and test error, the hinge loss, the share of ``W^T W`` in span(M_A) and the per-neuron
alignment (:mod:`verify.emergence.measures`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.emergence.data import Dataset, Instance
from verify.emergence.measures import neuron_alignment, nfm_share
from verify.emergence.twolayer import Params, hinge, init_params, outputs

__all__ = ["Checkpoint", "Schedule", "TrainHistory", "train_schedule"]


@dataclass(frozen=True)
class Schedule:
    """Hyperparameters of the schedule (module docstring); validated on construction."""

    activation: str = "truncated-relu"
    width: int = 256  # 2m
    row_norm: float = 3.0
    steps: int = 200  # GD steps after the two feature-learning steps
    lr: float = 1.0
    lam: float = 1e-4
    record_every: int = 20

    def __post_init__(self) -> None:
        from verify.emergence.twolayer import ACTIVATIONS

        if self.activation not in ACTIVATIONS:
            raise bad_input("activation", f"be one of {', '.join(ACTIVATIONS)}", self.activation,
                            "Use --activation truncated-relu.")  # fmt: skip
        for name, least in (("steps", 0), ("record_every", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
                raise bad_input(name, f"be an integer >= {least}", value, "Pass e.g. 200.")
        w = self.width
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 2 or w % 2:
            raise bad_input("width", "be an even integer >= 2 (2m mirrored neurons)", w,
                            "Pass e.g. --width 128.")  # fmt: skip
        for name in ("row_norm", "lr"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise bad_input(name, "be a finite number > 0", value, "Pass e.g. 1.0.")
        if not (math.isfinite(self.lam) and self.lam >= 0):
            raise bad_input("lam", "be a finite number >= 0", self.lam, "Pass e.g. --lam 1e-4.")

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Checkpoint:
    """Measurements after ``step`` updates (0: initialisation; 1, 2: the feature steps)."""

    step: int
    train_error: float
    test_error: float
    hinge: float
    share: float  # share of W^T W in span(M_A)
    median_neuron_share: float
    median_cos: float

    def to_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


@dataclass
class TrainHistory:
    """Checkpoints of one run and the final parameters."""

    params: Params
    checkpoints: list[Checkpoint] = field(default_factory=list)
    diverged: bool = False

    @property
    def final(self) -> Checkpoint:
        return self.checkpoints[-1]

    @property
    def initial(self) -> Checkpoint:
        return self.checkpoints[0]

    def series(self, key: str) -> tuple[list[float], list[float]]:
        """(steps, values) of one checkpoint field, for plots."""
        return ([float(c.step) for c in self.checkpoints],
                [float(getattr(c, key)) for c in self.checkpoints])  # fmt: skip


def _error(y: np.ndarray, g: np.ndarray) -> float:
    """Misclassification rate; an output of exactly 0 counts as an error."""
    return float(np.mean(np.sign(g) != y))


def _record(
    step: int, sched: Schedule, p: Params, inst: Instance, train: Dataset, test: Dataset,
    loss: float, g_train: np.ndarray,
) -> Checkpoint:  # fmt: skip
    al = neuron_alignment(p.W, inst.M_A, inst.direction)
    return Checkpoint(
        step, _error(train.y, g_train), _error(test.y, outputs(sched.activation, p, test.X)),
        loss, nfm_share(p.W, inst.M_A), al.median_share, al.median_cos,
    )  # fmt: skip


def train_schedule(
    inst: Instance, train: Dataset, test: Dataset, sched: Schedule, rng: np.random.Generator,
    *, gamma: float, s2: float,
) -> TrainHistory:  # fmt: skip
    """Run the schedule on ``train``; ``gamma`` and ``s2`` set the readout's initial scale (S3).

    The control run passes the structured law's ``gamma`` and ``s2``: the network and its
    hyperparameters stay the same, only the data change.
    """
    k, act = inst.model.k, sched.activation
    p = init_params(sched.width, inst.model.d, k, s2, gamma, rng)
    loss, g, _ = hinge(act, p, train.X, train.y)
    hist = TrainHistory(p)
    hist.checkpoints.append(_record(0, sched, p, inst, train, test, loss, g))
    for step, sd in ((1, 1 / (2 * k)), (2, k**-1.5)):  # S4: the two feature-learning steps
        _, _, grad = hinge(act, p, train.X, train.y, sd)
        scale = float(np.mean(np.linalg.norm(grad.W, axis=1)))
        if not scale > 0:
            hist.diverged = True  # no signal reached W (every unit off): nothing to learn
            break
        p.W = -(sched.row_norm / scale) * grad.W  # w <- -eta grad_w L (lam_w = 1/(2 eta))
        loss, g, _ = hinge(act, p, train.X, train.y)
        hist.checkpoints.append(_record(step, sched, p, inst, train, test, loss, g))
    if hist.diverged:
        return hist
    # From here on W stays in the row space of the training inputs: step 2 set it to a multiple
    # of grad_W L = E^T X, and every later gradient is of that form too. So GD runs exactly (to
    # rounding) in coordinates C = X V (V: orthonormal basis of that row space, D columns when
    # noise = 0), at half the cost for the default sizes; W = W_c V^T.
    V = _row_space(train.X)
    C = train.X @ V
    q = Params(p.W @ V, p.b, np.zeros_like(p.a))  # [R] readout fitted afresh on the features
    for t in range(1, sched.steps + 1):
        loss, g, grad = hinge(act, q, C, train.y)
        q.W -= sched.lr * (grad.W + 2 * sched.lam * q.W)  # paper's penalty lam ||w||^2
        q.b -= sched.lr * grad.b  # biases undecayed (S3)
        q.a -= sched.lr * (grad.a + 2 * sched.lam * q.a)
        if not (np.isfinite(q.W).all() and np.isfinite(q.a).all()):
            hist.diverged = True
            break
        if t % sched.record_every == 0 or t == sched.steps:
            loss, g, _ = hinge(act, q, C, train.y)
            p = Params(q.W @ V.T, q.b, q.a)
            hist.checkpoints.append(_record(t + 2, sched, p, inst, train, test, loss, g))
    hist.params = Params(q.W @ V.T, q.b.copy(), q.a.copy())
    return hist


def _row_space(X: np.ndarray) -> np.ndarray:
    """Orthonormal basis (columns) of the row space of X: right singular vectors whose singular
    value exceeds max(n, d) eps s_max (numpy's matrix_rank cut-off)."""
    _, sv, Vt = np.linalg.svd(X, full_matrices=False)
    keep = sv > max(X.shape) * np.finfo(np.float64).eps * sv[0]
    return Vt[keep].T
