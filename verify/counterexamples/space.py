"""The search space of counterexample candidates: small MLPs, their data, decay and start.

A :class:`Candidate` is one point of the space (activation, widths, input distribution, target,
weight decay, initialisation scale, seed, optional rounding of the data) and builds its problem
deterministically; :class:`SearchSpace` says where :func:`verify.counterexample_search.search`
draws candidates from. ``_random_candidate`` draws one; ``_mutate`` is the local refinement
step (log-normal moves of the input distribution, target, decay and initialisation).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.counterexamples.claims import Claim, _linear_only
from verify.engine.network import Problem

__all__ = [
    "ACTIVATION_CHOICES",
    "INPUT_CHOICES",
    "TARGET_CHOICES",
    "Candidate",
    "SearchSpace",
]

ACTIVATION_CHOICES = ("tanh", "relu", "quadratic", "gelu", "softplus", "identity")
INPUT_CHOICES = ("isotropic", "anisotropic", "lowrank", "sparse")
TARGET_CHOICES = ("teacher", "quadratic", "linear", "product")


@dataclass(frozen=True)
class Candidate:
    """One point of the search space; :meth:`problem` builds it deterministically.

    Inputs (n x d), rows from ``inputs``: "isotropic" N(0, I); "anisotropic" coordinate
    standard deviations kappa^(-k/(d-1)), k = 0..d-1 (``input_param`` = kappa >= 1);
    "lowrank" rank round(input_param) (exact copies of Gaussian columns); "sparse" each entry
    nonzero with probability ``input_param``. Targets (n x c), scaled to unit root-mean-square:
    "teacher" a random tanh two-layer net (4 units); "quadratic" y_k = sum_j a_jk x_j^2 with
    a_j ~ std_j^(-beta) (``target_param`` = beta: large weight on low-variance inputs,
    REFERENCE section 6); "linear" X B; "product" x_1 x_2 (+ x_3 x_4 for the second output).
    ``digits``: inputs and targets rounded to that many significant digits (None: float64).
    """

    activation: str = "tanh"
    widths: tuple[int, ...] = (4,)
    d: int = 3
    c: int = 1
    n: int = 24
    lam: float = 1e-3
    inputs: str = "isotropic"
    input_param: float = 1.0
    target: str = "teacher"
    target_param: float = 1.0
    init_scale: float = 1.0
    seed: int = 0
    digits: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    def describe(self) -> str:
        return (
            f"{self.activation} MLP {(self.d, *self.widths, self.c)}, lam={self.lam:.2g}, "
            f"n={self.n}, {self.inputs}({self.input_param:.3g}) inputs, {self.target}"
            f"({self.target_param:.3g}) target, init x{self.init_scale:.2g}, seed {self.seed}"
            + (f", data rounded to {self.digits} digits" if self.digits else "")
        )

    def problem(self) -> Problem:
        from verify.engine.network import MLP

        rng = np.random.default_rng(self.seed)
        d, n, c = self.d, self.n, self.c
        std = np.ones(d)
        Z = rng.standard_normal((n, d))
        if self.inputs == "anisotropic":
            std = float(self.input_param) ** (-np.arange(d) / max(d - 1, 1))
            X = Z * std
        elif self.inputs == "lowrank":
            r = int(min(max(round(self.input_param), 1), d))
            # columns beyond r are exact copies of earlier ones times +-1/2 or +-2 (exact in
            # float64), so X has rank r exactly: a float64 mixture would leave a direction of
            # variance ~1e-32, which makes lam = 0 problems ill-posed at 50 digits
            Zr = rng.standard_normal((n, r))
            factors = rng.choice([-2.0, -0.5, 0.5, 2.0], size=d)
            X = np.stack([Zr[:, k] if k < r else Zr[:, k % r] * factors[k] for k in range(d)], 1)
        elif self.inputs == "sparse":
            X = Z * (rng.random((n, d)) < self.input_param)
        else:
            X = Z
        if self.target == "quadratic":
            a = std ** (-float(self.target_param)) * np.linspace(1.0, 0.6, d)
            A = a[:, None] * (1 + 0.5 * np.arange(c)[None, :] * rng.random((d, c)))
            Y = (X**2) @ A
        elif self.target == "linear":
            Y = X @ rng.standard_normal((d, c))
        elif self.target == "product":
            cols = [X[:, (2 * k) % d] * X[:, (2 * k + 1) % d] for k in range(c)]
            Y = np.stack(cols, axis=1)
        else:
            T = rng.standard_normal((4, d)) / np.sqrt(d)
            Y = np.tanh(X @ T.T) @ rng.standard_normal((c, 4)).T
        rms = float(np.sqrt(np.mean(Y * Y)))
        Y = Y / rms if rms > 0 else Y
        if self.digits:
            X, Y = _round_sig(X, self.digits), _round_sig(Y, self.digits)
        net = MLP((d, *self.widths, c), self.activation)
        return Problem(net, X, Y, "mse", self.lam)

    def theta0(self, problem: Problem) -> np.ndarray:
        """Gaussian init (verify.network.MLP.init) times ``init_scale`` in the first layer and
        divided by it in the last (an unbalanced start when init_scale != 1)."""
        net = problem.net
        params = net.unflatten(net.init(self.seed + 1).copy())
        params[0] = (params[0][0] * self.init_scale, params[0][1])
        params[-1] = (params[-1][0] / self.init_scale, params[-1][1])
        return net.flatten(params)


def _round_sig(a: np.ndarray, digits: int) -> np.ndarray:
    """Round to ``digits`` significant digits (zeros stay zero)."""
    with np.errstate(divide="ignore"):
        mag = np.where(a != 0, np.floor(np.log10(np.abs(np.where(a != 0, a, 1.0)))), 0.0)
    scale = 10.0 ** (digits - 1 - mag)
    return np.round(a * scale) / scale


@dataclass(frozen=True)
class SearchSpace:
    """Where :func:`search` draws candidates from (defaults: the whole space)."""

    activations: tuple[str, ...] = ACTIVATION_CHOICES
    inputs: tuple[str, ...] = INPUT_CHOICES
    targets: tuple[str, ...] = TARGET_CHOICES
    depths: tuple[int, ...] = (2, 3)
    max_width: int = 6
    max_d: int = 5
    samples: tuple[int, ...] = (16, 24, 32, 48)
    log10_lam: tuple[float, float] = (-5.0, -1.0)

    def __post_init__(self) -> None:
        from verify.engine.network import ACTIVATIONS

        for name, values, allowed in (("activations", self.activations, tuple(ACTIVATIONS)),
                                      ("inputs", self.inputs, INPUT_CHOICES),
                                      ("targets", self.targets, TARGET_CHOICES)):  # fmt: skip
            bad = [v for v in values if v not in allowed]
            if not values or bad:
                raise bad_input(f"space.{name}", f"be a non-empty subset of {list(allowed)}",
                                values, "Drop the unknown names.")  # fmt: skip
        if not self.depths or min(self.depths) < 2 or self.max_width < 1 or self.max_d < 2:
            raise bad_input("space", "have depths >= 2, max_width >= 1 and max_d >= 2",
                            self, "Pass e.g. SearchSpace(depths=(2,), max_d=3).")  # fmt: skip


def _random_candidate(
    rng: np.random.Generator, claim: Claim, space: SearchSpace = SearchSpace()
) -> Candidate:
    acts = ("identity",) if claim.applies is _linear_only else space.activations
    act = str(rng.choice(acts))
    depth = int(rng.choice(space.depths))
    d = int(rng.integers(2, space.max_d + 1))
    inputs = str(rng.choice(space.inputs))
    param = {"anisotropic": float(np.exp(rng.uniform(0, np.log(300)))),
             "lowrank": float(rng.integers(1, max(d, 2))),
             "sparse": float(rng.uniform(0.3, 0.9))}.get(inputs, 1.0)  # fmt: skip
    lo, hi = space.log10_lam
    lam = 0.0 if claim.lam_policy == "zero" else float(10 ** rng.uniform(lo, hi))
    return Candidate(
        activation=act,
        widths=tuple(int(rng.integers(min(2, space.max_width), space.max_width + 1))
                     for _ in range(depth - 1)),  # fmt: skip
        d=d, c=int(rng.integers(1, 3)), n=int(rng.choice(space.samples)), lam=lam,
        inputs=inputs, input_param=param, target=str(rng.choice(space.targets)),
        target_param=float(rng.uniform(0, 2)), init_scale=float(np.exp(rng.uniform(-1, 1))),
        seed=int(rng.integers(0, 2**31)),
    )  # fmt: skip


def _mutate(rng: np.random.Generator, c: Candidate, claim: Claim) -> Candidate:
    """Local refinement: move one or two continuous parameters of the input distribution,
    target, decay or initialisation (log-normal steps), or draw a new data sample."""
    out = c
    for _ in range(int(rng.integers(1, 3))):
        k = int(rng.integers(0, 5))
        if k == 0 and c.inputs == "anisotropic":
            out = replace(out, input_param=float(min(max(out.input_param * np.exp(
                rng.normal(0, 0.7)), 1.0), 3e3)))  # fmt: skip
        elif k == 0 and c.inputs == "sparse":
            out = replace(out, input_param=float(np.clip(out.input_param + rng.normal(0, .1),
                                                         .1, 1)))  # fmt: skip
        elif k == 1 and claim.lam_policy != "zero":
            out = replace(out, lam=float(np.clip(out.lam * np.exp(rng.normal(0, 1)), 1e-7, 1)))
        elif k == 2:
            out = replace(out, target_param=float(np.clip(out.target_param + rng.normal(0, .4),
                                                          0, 3)))  # fmt: skip
        elif k == 3:
            out = replace(out, init_scale=float(out.init_scale * np.exp(rng.normal(0, 0.5))))
        else:
            out = replace(out, seed=int(rng.integers(0, 2**31)))
    return out
