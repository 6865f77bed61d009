"""The data model of Shi, Wei, Liang (ICLR 2022, arXiv:2206.01717): patterns and labels (S1, S2).

Notation of the paper (REFERENCE section 7):

- A dictionary ``M`` (d x D) with orthonormal columns ``M_j``, the *patterns*; here the first D
  columns of a random orthogonal d x d matrix (Haar, seeded).
- A hidden code ``phi~`` in {0,1}^D marks which patterns are present; ``A`` (|A| = k) is the set
  of *class-relevant* patterns, drawn uniformly.
- Labels from the relevant entries only: ``y = +1`` iff ``sum_{j in A} phi~_j`` lies in P.
  ``parity`` (P = odd numbers): ``y = prod_{j in A} (2 phi~_j - 1)``; ``majority``
  (P = {i > k/2}). Both need odd k (for parity, A0 fails when k is even).
- Law of ``phi~_A`` (ours, the REFERENCE laptop default [R]): with probability ``p_aligned`` all
  relevant patterns are on or all are off (1/2 each), otherwise uniform on {0,1}^k.
- Background (A2): each ``phi~_j``, j outside A, independent of everything, on with probability
  ``p_o <= 1/2``.
- Inputs without additive noise in the paper [V], ``x~ = M phi~``; ``noise > 0`` adds isotropic
  Gaussian noise of total variance ``noise^2`` (our option, off by default).

Assumptions checked exactly (by enumerating the 2^k atoms of the law of ``phi~_A``):
(A0) ``Pr[y = +1] = 1/2``; (A1) ``gamma := E[y phi~_j] - E[y] E[phi~_j] > 0`` for every j in A;
(A2) holds by construction. For the default law, ``gamma = p_aligned / 2`` (parity) and
``gamma = p_aligned / 2 + (1 - p_aligned) C(k-1, (k-1)/2) / 2^k`` (majority).

Normalisation (S2): ``x = (x~ - E x~) / s``, ``s^2 = E ||x~ - E x~||^2``; with orthonormal M,
``s^2 = sum_{j in A} Var(phi~_j) + (D - k) p_o (1 - p_o)``, so ``E ||x||^2 = 1`` (plus
``noise^2``). Every relevant pattern has ``E phi~_j = 1/2`` under this law, so
``s^2 = k/4 + (D - k) p_o (1 - p_o)``.

Control (A1', the structure removed): all D patterns i.i.d. Bernoulli(1/2), the same labelling rule
on the same A, normalised the same way (``s0^2 = D/4``). Every relevant pattern is then
uncorrelated with y for parity (gamma = 0), which is what the paper's Theorem 3 needs.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from theory._errors import bad_input

__all__ = ["LABELS", "MAX_K", "Dataset", "EmergenceModel", "Instance", "Moments"]

LABELS: tuple[str, ...] = ("parity", "majority")
MAX_K = 16  # the exact moments enumerate 2^k codes of the relevant patterns


@dataclass(frozen=True)
class Moments:
    """Exact moments of one law (structured or control), from the 2^k atoms of ``phi~_A``."""

    p_plus: float  # Pr[y = +1]                                           (A0)
    gamma: float  # min over j in A of E[y phi~_j] - E[y] E[phi~_j]       (A1)
    mean_relevant: float  # E[phi~_j], j in A (the same for every j by symmetry)
    var_relevant: float  # Var(phi~_j), j in A
    p_background: float  # Pr[phi~_j = 1], j outside A                    (A2)
    s2: float  # E ||x~ - E x~||^2                                        (S2)

    def to_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Dataset:
    """``n`` samples: inputs ``X`` (n x d), labels ``y`` in {-1, +1}, raw codes ``bits`` (n x D)."""

    X: np.ndarray
    y: np.ndarray
    bits: np.ndarray


@dataclass(frozen=True)
class EmergenceModel:
    """Parameters of the data model (module docstring); validated on construction."""

    d: int = 64
    D: int = 32
    k: int = 5
    p_o: float = 0.5
    p_aligned: float = 0.5
    labels: str = "parity"
    noise: float = 0.0

    def __post_init__(self) -> None:
        for name, least in (("d", 1), ("D", 1), ("k", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
                raise bad_input(name, f"be an integer >= {least}", value, f"Pass e.g. --{name} 5.")
        if self.D > self.d:
            raise bad_input("D", f"be <= d = {self.d} (D orthonormal patterns in R^d)", self.D,
                            "Lower --D or raise --d.")  # fmt: skip
        if self.k > self.D:
            raise bad_input("k", f"be <= D = {self.D} (A is a subset of the patterns)", self.k,
                            "Lower --k or raise --D.")  # fmt: skip
        if self.k > MAX_K:
            raise bad_input("k", f"be <= {MAX_K} (the exact moments enumerate 2^k codes)", self.k,
                            "Lower --k.")  # fmt: skip
        if self.labels not in LABELS:
            raise bad_input("labels", f"be one of {', '.join(LABELS)}", self.labels,
                            "Use --labels parity.")  # fmt: skip
        if self.k % 2 == 0:
            raise bad_input("k", f"be odd for {self.labels} labels (A0: Pr[y = +1] = 1/2)", self.k,
                            "Pass an odd k, e.g. --k 5.")  # fmt: skip
        if not (math.isfinite(self.p_o) and 0 < self.p_o <= 0.5):
            raise bad_input("p_o", "be in (0, 1/2] (A2: background patterns on w.p. p_o <= 1/2)",
                            self.p_o, "Pass e.g. --p-o 0.5.")  # fmt: skip
        if not (math.isfinite(self.p_aligned) and 0 <= self.p_aligned <= 1):
            raise bad_input("p_aligned", "be in [0, 1]", self.p_aligned, "Pass e.g. 0.5.")
        if not (math.isfinite(self.noise) and self.noise >= 0):
            raise bad_input("noise", "be a finite number >= 0", self.noise, "Pass --noise 0.")
        if self.moments().gamma <= 0:
            raise bad_input(
                "p_aligned", f"give gamma > 0 (A1) for {self.labels} labels", self.p_aligned,
                "Pass p_aligned > 0 (parity needs the aligned part: gamma = p_aligned / 2).",
            )  # fmt: skip

    # -- the law of phi~_A, exactly ----------------------------------------------------------------
    def label_rule(self, bits_a: np.ndarray) -> np.ndarray:
        """Labels in {-1, +1} from the relevant bits (rows of ``bits_a``, k columns)."""
        if self.labels == "parity":
            return np.prod(2.0 * bits_a - 1.0, axis=1)  # P = odd numbers
        return np.where(bits_a.sum(axis=1) > self.k / 2, 1.0, -1.0)  # P = {i > k/2}

    def relevant_law(self, control: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """All 2^k codes of ``phi~_A`` (rows) and their probabilities."""
        codes = np.array(list(itertools.product((0.0, 1.0), repeat=self.k)))
        if control:
            return codes, np.full(len(codes), 2.0**-self.k)
        probs = np.full(len(codes), (1 - self.p_aligned) * 2.0**-self.k)
        probs[0] += self.p_aligned / 2  # all off
        probs[-1] += self.p_aligned / 2  # all on
        return codes, probs

    def moments(self, control: bool = False) -> Moments:
        """Exact A0, A1, A2 and S2 quantities of the structured law (or of the control)."""
        codes, probs = self.relevant_law(control)
        y = self.label_rule(codes)
        ey = float(probs @ y)
        mean = probs @ codes  # E phi~_j, j in A
        cov = probs @ (y[:, None] * codes) - ey * mean  # gamma_j (A1)
        var = probs @ codes**2 - mean**2
        p_bg = 0.5 if control else self.p_o
        s2 = float(np.sum(var)) + (self.D - self.k) * p_bg * (1 - p_bg)  # S2
        return Moments(
            p_plus=(1 + ey) / 2, gamma=float(np.min(cov)), mean_relevant=float(mean[0]),
            var_relevant=float(var[0]), p_background=p_bg, s2=s2,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"moments": self.moments().to_dict(),
                                      "control_moments": self.moments(True).to_dict()}  # fmt: skip


@dataclass(frozen=True)
class Instance:
    """One draw of the dictionary ``M`` and the relevant set ``A`` for a model."""

    model: EmergenceModel
    M: np.ndarray  # d x D, orthonormal columns
    A: np.ndarray  # sorted indices of the relevant patterns

    @classmethod
    def draw(cls, model: EmergenceModel, rng: np.random.Generator) -> Instance:
        """Haar-random orthonormal patterns (QR of a Gaussian, signs fixed) and a uniform A."""
        Q, R = np.linalg.qr(rng.standard_normal((model.d, model.d)))
        Q = Q * np.sign(np.diag(R))  # makes the QR factor Haar-distributed
        A = np.sort(rng.choice(model.D, size=model.k, replace=False))
        return cls(model, Q[:, : model.D].copy(), A)

    @property
    def M_A(self) -> np.ndarray:
        """The relevant patterns (d x k), an orthonormal basis of span(M_A)."""
        return self.M[:, self.A]

    @property
    def direction(self) -> np.ndarray:
        """The paper's learned direction ``sum_{j in A} M_j``, normalised (S4)."""
        v = self.M_A.sum(axis=1)
        return v / np.linalg.norm(v)

    def sample(self, n: int, rng: np.random.Generator, *, control: bool = False) -> Dataset:
        """``n`` samples of the structured law, or of the control (A1') with ``control=True``."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise bad_input("n", "be a positive integer", n, "Pass e.g. --n-train 4000.")
        m = self.model
        codes, probs = m.relevant_law(control)
        p_bg = 0.5 if control else m.p_o
        bits = (rng.random((n, m.D)) < p_bg).astype(np.float64)  # A2: independent background
        bits[:, self.A] = codes[rng.choice(len(codes), size=n, p=probs)]
        mom = m.moments(control)
        mean = np.full(m.D, p_bg)
        mean[self.A] = mom.mean_relevant
        X = ((bits - mean) / math.sqrt(mom.s2)) @ self.M.T  # S2: x = M (phi~ - E phi~) / s
        if m.noise > 0:
            X = X + m.noise / math.sqrt(m.d) * rng.standard_normal(X.shape)
        return Dataset(X, m.label_rule(bits[:, self.A]), bits)
