"""A drawn network as a small frozen record (:class:`NetworkSpec`) and where draws come from.

A :class:`NetworkSpec` fixes everything about one training problem and its starting point:
architecture (activation, widths, bias), data (input distribution, target, number of samples,
optional rounding to a few significant digits), loss, weight decay lam and the initialisation.
:meth:`NetworkSpec.problem` and :meth:`NetworkSpec.theta0` build them deterministically, so a
spec is a reproducible, hashable, printable name for a network: Hypothesis draws specs, shrinks
them toward simpler ones (fewer samples, smaller widths, simpler numbers) and prints them in a
failure message; the on-disk cache (:mod:`verify.strategies.cache`) keys on what they build.

:class:`NetworkSpace` says where specs are drawn from; :data:`NETWORK_FAMILIES` names a few
spaces (the ``--family`` of ``factcheck conjecture``).

Data (n x d inputs, rows from ``inputs``): "isotropic" N(0, I); "anisotropic" coordinate
standard deviations kappa^(-k/(d-1)), k = 0..d-1 (``input_param`` = kappa >= 1); "lowrank" rank
round(input_param) (exact copies of Gaussian columns); "sparse" each entry nonzero with
probability ``input_param``. Targets (n x c), scaled to root-mean-square ``target_scale``:
"teacher" a random tanh two-layer net (4 units); "quadratic" y_k = sum_j a_jk x_j^2 with
a_j ~ std_j^(-beta) (``target_param`` = beta: large weight on low-variance inputs, REFERENCE
section 6); "linear" X B; "product" x_1 x_2 (+ x_3 x_4 for the second output). Cross-entropy
targets are the one-hot argmax of those values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.engine.network import ACTIVATIONS, LOSSES, MLP, Problem

__all__ = [
    "ACTIVATION_CHOICES",
    "CERTIFIED_ACTIVATIONS",
    "INPUT_CHOICES",
    "NETWORK_FAMILIES",
    "TARGET_CHOICES",
    "NetworkSpace",
    "NetworkSpec",
]

#: every activation of the engine, in the order Hypothesis shrinks toward (simplest first)
ACTIVATION_CHOICES = ("tanh", "relu", "quadratic", "gelu", "softplus", "sigmoid", "identity")
#: the activations whose trained networks the engine certifies stationary today. ReLU is left
#: out: its minimisers generally put a kink on a data point, where L_lam is not differentiable,
#: so nearly every ReLU draw would be rejected (and Hypothesis would fail its filter health
#: check). Add "relu" here once the engine certifies ReLU networks.
CERTIFIED_ACTIVATIONS = ("tanh", "identity", "sigmoid", "softplus", "gelu", "quadratic")
INPUT_CHOICES = ("isotropic", "anisotropic", "lowrank", "sparse")
TARGET_CHOICES = ("teacher", "quadratic", "linear", "product")
INITS = ("gaussian", "balanced")


@dataclass(frozen=True)
class NetworkSpec:
    """One training problem and its start; :meth:`problem` builds it deterministically.

    ``init`` "gaussian": the engine's initialisation (verify.engine.network.MLP.init) with the
    first layer times ``init_scale`` and the last divided by it (unbalanced when != 1);
    "balanced" (deep linear networks): W_k = V_k S V_{k-1}^T with orthonormal columns V_k and a
    common diagonal S, exactly balanced in exact arithmetic (D_k = 0, REFERENCE section 3).
    ``digits``: inputs and targets rounded to that many significant digits (None: float64).
    Biases, when present, are in the weight decay (without decay a softplus or quadratic unit
    can escape to infinity, and L_lam then has no minimiser).
    """

    activation: str = "tanh"
    widths: tuple[int, ...] = (4,)
    d: int = 3
    c: int = 1
    n: int = 24
    lam: float = 1e-3
    loss: str = "mse"
    bias: bool = False
    inputs: str = "isotropic"
    input_param: float = 1.0
    target: str = "teacher"
    target_param: float = 1.0
    target_scale: float = 1.0
    init: str = "gaussian"
    init_scale: float = 1.0
    seed: int = 0
    digits: int | None = None

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("activation", self.activation, tuple(ACTIVATIONS)),
            ("loss", self.loss, tuple(LOSSES)),
            ("inputs", self.inputs, INPUT_CHOICES),
            ("target", self.target, TARGET_CHOICES),
            ("init", self.init, INITS),
        ):
            if value not in allowed:
                raise bad_input(name, f"be one of {list(allowed)}", value, "Pick a listed name.")
        if self.loss == "cross_entropy" and self.c < 2:
            raise bad_input("c", "be >= 2 for cross_entropy (classes)", self.c, "Pass c=2.")
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.d, *self.widths, self.c)

    @property
    def depth(self) -> int:
        return len(self.widths) + 1

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    def describe(self) -> str:
        return (
            f"{self.activation} MLP {self.sizes}{' with biases' if self.bias else ''}, "
            f"{self.loss}, lam={self.lam:.2g}, n={self.n}, {self.inputs}({self.input_param:.3g})"
            f" inputs, {self.target}({self.target_param:.3g}) target x{self.target_scale:.3g}, "
            f"{self.init} init x{self.init_scale:.2g}, seed {self.seed}"
            + (f", data rounded to {self.digits} digits" if self.digits else "")
        )

    def with_(self, **changes: Any) -> NetworkSpec:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return replace(self, **changes)

    def problem(self) -> Problem:
        rng = np.random.default_rng(self.seed)
        X, std = _inputs(self, rng)
        Y = _targets(self, X, std, rng)
        if self.digits:
            X, Y = _round_sig(X, self.digits), _round_sig(Y, self.digits)
        if self.loss == "cross_entropy":
            Y = np.eye(self.c)[np.argmax(Y, axis=1)]
        net = MLP(self.sizes, self.activation, self.bias)
        return Problem(net, X, Y, self.loss, self.lam, decay_bias=self.bias)

    def theta0(self, problem: Problem | None = None) -> np.ndarray:
        """The starting parameters (see the class docstring)."""
        net = problem.net if problem is not None else MLP(self.sizes, self.activation, self.bias)
        if self.init == "balanced":
            return _balanced(net, self.seed + 1, self.init_scale)
        params = net.unflatten(net.init(self.seed + 1).copy())
        params[0] = (params[0][0] * self.init_scale, params[0][1])
        params[-1] = (params[-1][0] / self.init_scale, params[-1][1])
        return net.flatten(params)


def _inputs(s: NetworkSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    d, n = s.d, s.n
    std = np.ones(d)
    Z = rng.standard_normal((n, d))
    if s.inputs == "anisotropic":
        std = float(s.input_param) ** (-np.arange(d) / max(d - 1, 1))
        return Z * std, std
    if s.inputs == "lowrank":
        r = int(min(max(round(s.input_param), 1), d))
        # columns beyond r are exact copies of earlier ones times +-1/2 or +-2 (exact in float64),
        # so X has rank r exactly: a float64 mixture would leave a direction of variance ~1e-32,
        # which makes lam = 0 problems ill-posed at 50 digits
        Zr = rng.standard_normal((n, r))
        factors = rng.choice([-2.0, -0.5, 0.5, 2.0], size=d)
        cols = [Zr[:, k] if k < r else Zr[:, k % r] * factors[k] for k in range(d)]
        return np.stack(cols, 1), std
    if s.inputs == "sparse":
        return Z * (rng.random((n, d)) < s.input_param), std
    return Z, std


def _targets(s: NetworkSpec, X: np.ndarray, std: np.ndarray, rng: np.random.Generator) -> Any:
    d, c = s.d, s.c
    if s.target == "quadratic":
        a = std ** (-float(s.target_param)) * np.linspace(1.0, 0.6, d)
        A = a[:, None] * (1 + 0.5 * np.arange(c)[None, :] * rng.random((d, c)))
        Y = (X**2) @ A
    elif s.target == "linear":
        Y = X @ rng.standard_normal((d, c))
    elif s.target == "product":
        Y = np.stack([X[:, (2 * k) % d] * X[:, (2 * k + 1) % d] for k in range(c)], axis=1)
    else:
        T = rng.standard_normal((4, d)) / np.sqrt(d)
        Y = np.tanh(X @ T.T) @ rng.standard_normal((c, 4)).T
    rms = float(np.sqrt(np.mean(Y * Y)))
    return Y * (s.target_scale / rms) if rms > 0 else Y


def _round_sig(a: np.ndarray, digits: int) -> np.ndarray:
    """Round to ``digits`` significant digits (zeros stay zero)."""
    with np.errstate(divide="ignore"):
        mag = np.where(a != 0, np.floor(np.log10(np.abs(np.where(a != 0, a, 1.0)))), 0.0)
    scale = 10.0 ** (digits - 1 - mag)
    return np.round(a * scale) / scale


def _balanced(net: MLP, seed: int, scale: float) -> np.ndarray:
    """W_k = V_k S V_{k-1}^T (orthonormal columns V_k, common diagonal S): D_k = 0 (D5)."""
    rng = np.random.default_rng(seed)
    r = min(net.sizes)
    V = [np.linalg.qr(rng.standard_normal((m, r)))[0] for m in net.sizes]
    s = scale * np.sort(rng.uniform(0.5, 1.5, r))[::-1]
    params = [(V[k + 1] @ np.diag(s) @ V[k].T, np.zeros(net.sizes[k + 1]) if net.bias else None)
              for k in range(net.depth)]  # fmt: skip
    return net.flatten(params)


@dataclass(frozen=True)
class NetworkSpace:
    """Where specs are drawn from. Ranges are (low, high), inclusive; tuples list choices.

    Choices are listed simplest first: Hypothesis shrinks a failing draw toward the first
    choice, the low end of an integer range and simple numbers (``digits`` = 1 is the simplest
    rounding of the data, None keeps float64 data).
    """

    activations: tuple[str, ...] = ACTIVATION_CHOICES
    inputs: tuple[str, ...] = INPUT_CHOICES
    targets: tuple[str, ...] = TARGET_CHOICES
    depths: tuple[int, ...] = (2, 3)
    max_width: int = 6
    max_d: int = 5
    samples: tuple[int, ...] = (16, 24, 32, 48)
    log10_lam: tuple[float, float] = (-5.0, -1.0)
    losses: tuple[str, ...] = ("mse",)
    biases: tuple[bool, ...] = (False,)
    outputs: tuple[int, int] = (1, 2)
    min_width: int = 1
    min_d: int = 2
    log_target_scale: tuple[float, float] = (0.0, 0.0)
    log_init_scale: tuple[float, float] = (-1.0, 1.0)
    digits: tuple[int | None, ...] = (None,)
    inits: tuple[str, ...] = ("gaussian",)
    max_quadratic_depth: int = 2

    def __post_init__(self) -> None:
        for name, values, allowed in (
            ("activations", self.activations, tuple(ACTIVATIONS)),
            ("inputs", self.inputs, INPUT_CHOICES),
            ("targets", self.targets, TARGET_CHOICES),
            ("losses", self.losses, tuple(LOSSES)),
            ("inits", self.inits, INITS),
        ):
            bad = [v for v in values if v not in allowed]
            if not values or bad:
                raise bad_input(f"space.{name}", f"be a non-empty subset of {list(allowed)}",
                                values, "Drop the unknown names.")  # fmt: skip
        if (not self.depths or min(self.depths) < 1 or not 1 <= self.min_width <= self.max_width
                or not 1 <= self.min_d <= self.max_d):  # fmt: skip
            raise bad_input("space", "have depths >= 1, 1 <= min_width <= max_width and "
                            "1 <= min_d <= max_d", self,
                            "Pass e.g. NetworkSpace(depths=(2,), max_d=3).")  # fmt: skip
        lo, hi = self.outputs
        if not 1 <= lo <= hi or ("cross_entropy" in self.losses and hi < 2):
            raise bad_input("space.outputs", "be (low, high) with 1 <= low <= high (high >= 2 "
                            "for cross_entropy)", self.outputs, "Pass e.g. (1, 2).")  # fmt: skip
        if not self.samples or min(self.samples) < 1 or not self.digits:
            raise bad_input("space", "have samples >= 1 and at least one digits choice",
                            (self.samples, self.digits), "Pass e.g. samples=(16,).")  # fmt: skip

    def with_(self, **changes: Any) -> NetworkSpace:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


#: named spaces of certifiable networks (``factcheck conjecture --family NAME``)
NETWORK_FAMILIES: dict[str, NetworkSpace] = {
    "mlp": NetworkSpace(
        activations=tuple(a for a in CERTIFIED_ACTIVATIONS if a != "identity"),
        inputs=("isotropic", "anisotropic"), targets=("teacher", "quadratic", "linear"),
        depths=(2, 3), max_width=5, max_d=4, samples=(12, 16, 24), log10_lam=(-3.0, -1.5),
        losses=("mse", "cross_entropy"), biases=(False, True), outputs=(1, 3), min_width=2,
    ),
    "tanh-mlp": NetworkSpace(
        activations=("tanh",), inputs=("isotropic", "anisotropic"),
        targets=("teacher", "quadratic", "linear"), depths=(2, 3), max_width=5, max_d=4,
        samples=(12, 16, 24), log10_lam=(-3.0, -1.5), outputs=(1, 2), min_width=2,
    ),
    "deep-linear": NetworkSpace(
        activations=("identity",), inputs=("isotropic", "anisotropic"), targets=("linear",),
        depths=(2, 3, 4, 5, 6), max_width=4, max_d=4, samples=(12, 16), log10_lam=(-3.0, -2.0),
        outputs=(2, 3), min_width=2, log_target_scale=(0.7, 1.4),
    ),
    "quadratic": NetworkSpace(
        activations=("quadratic",), inputs=("anisotropic", "isotropic"),
        targets=("quadratic", "teacher"), depths=(2,), max_width=5, max_d=4,
        samples=(16, 24, 32), log10_lam=(-4.0, -2.0), outputs=(1, 1), min_width=2,
    ),
}  # fmt: skip
