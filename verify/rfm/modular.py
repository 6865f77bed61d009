"""Modular addition with RFM (REFERENCE section 5): grokking and block-circulant features.

All pairs (a, b) mod p, one-hot encoded, with targets e_{(a+b) mod p}. :func:`run_modular`
records train and test accuracy after every RFM iteration and how block-circulant the learned
metric M is (:func:`circulant_structure`). Settings are the function defaults; seeds are fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.base.validate import check_seed
from verify.rfm.inputs import Progress, _check_methods, _check_rfm_memory, _check_s, _positive_int
from verify.rfm.kernels import Kernel, KernelMachine
from verify.rfm.machine import RFMResult, rfm

__all__ = ["ModularResult", "circulant_structure", "modular_addition_data", "run_modular"]


def modular_addition_data(
    p: int, train_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All pairs (a, b) mod p as one-hot [e_a; e_b] in R^{2p}, targets e_{(a+b) mod p}; split."""
    a, b = np.divmod(np.arange(p * p), p)
    X = np.zeros((p * p, 2 * p))
    X[np.arange(p * p), a] = 1.0
    X[np.arange(p * p), p + b] = 1.0
    Y = np.eye(p)[(a + b) % p]
    perm = rng.permutation(p * p)
    n_train = int(round(train_fraction * p * p))
    tr, te = perm[:n_train], perm[n_train:]
    return X[tr], Y[tr], X[te], Y[te]


def _circulant_fraction(B: np.ndarray, hankel: bool) -> float | None:
    """Share of ||B||_F^2 in its projection on circulant (B_ij = c_{j-i}) or Hankel (c_{i+j})."""
    p = B.shape[0]
    i, j = np.indices(B.shape)
    label = ((i + j) if hankel else (j - i)) % p
    means = np.bincount(label.ravel(), B.ravel(), minlength=p) / p
    energy = float(np.sum(B**2))
    return float(np.sum(means[label] ** 2) / energy) if energy > 0 else None


def circulant_structure(M: np.ndarray, p: int, *, seed: int = 0) -> dict[str, Any]:
    """How block-circulant M (2p x 2p) is: per p x p block, the share of energy in its circulant
    projection (average along wrapped diagonals) and in its Hankel projection, after removing the
    diagonal of M and each block's mean (I and constants are trivially circulant). ``baseline``:
    the same measure after one random relabelling of the residues (same in both inputs), which
    destroys the cyclic order: about 1/p if the structure is not there.
    """

    def measure(Mx: np.ndarray) -> dict[str, Any]:
        Mx = Mx - np.diag(np.diag(Mx))
        out: dict[str, Any] = {}
        num = den = 0.0
        for name, (r, c) in {"aa": (0, 0), "ab": (0, 1), "bb": (1, 1)}.items():
            B = Mx[r * p : (r + 1) * p, c * p : (c + 1) * p]
            B = B - (B.sum() / (p * p - p) * (1 - np.eye(p)) if r == c else B.mean())
            if r == c:
                B = B - np.diag(np.diag(B))
            circ, hank = _circulant_fraction(B, False), _circulant_fraction(B, True)
            out[name] = {"circulant": circ, "hankel": hank}
            e = float(np.sum(B**2))
            num += e * max(circ or 0.0, hank or 0.0)
            den += e
        out["overall"] = num / den if den > 0 else None
        return out

    perm = np.random.default_rng(seed).permutation(p)
    full = np.concatenate([perm, p + perm])
    return {"blocks": measure(M), "baseline": measure(M[np.ix_(full, full)])}


@dataclass
class ModularResult:
    """Train/test accuracy against RFM iteration (grokking) and the structure of the learned M."""

    p: int
    train_fraction: float
    method: str
    settings: dict[str, Any]
    train_acc: list[float]
    test_acc: list[float]
    circulant_overall: list[float | None]
    structure: dict[str, Any]
    seconds: float
    M: np.ndarray | None = None

    def first(self, series: list[float], level: float) -> int | None:
        return next((t for t, a in enumerate(series) if a >= level), None)

    def to_dict(self) -> dict[str, Any]:
        train_done = self.first(self.train_acc, 1.0)
        test_done = self.first(self.test_acc, 1.0)
        test_90 = self.first(self.test_acc, 0.9)
        chance = 1.0 / self.p
        near_chance = [t for t, a in enumerate(self.test_acc) if a <= 3 * chance]
        return {
            "experiment": "modular addition",
            "p": self.p,
            "train_fraction": self.train_fraction,
            "method": self.method,
            "settings": self.settings,
            "train_acc": self.train_acc,
            "test_acc": self.test_acc,
            "first_iter_train_acc_1": train_done,
            "first_iter_test_acc_ge_0.9": test_90,
            "first_iter_test_acc_1": test_done,
            "iters_train_perfect_test_near_chance": sum(
                1 for t in near_chance if train_done is not None and t >= train_done
            ),
            "near_chance_means": f"test acc <= 3/p = {3 * chance:.3f}",
            "final_test_acc": self.test_acc[-1],
            "circulant_overall": self.circulant_overall,
            "structure_final": self.structure,
            "seconds": round(self.seconds, 2),
        }


def run_modular(
    *,
    p: int = 61,
    train_fraction: float = 0.5,
    method: str = "fact",
    iters: int = 75,
    bandwidth: float = 2.5,
    ridge: float = 0.0,
    s: float = 0.5,
    centered: bool = True,
    seed: int = 0,
    progress: Progress | None = None,
) -> ModularResult:
    """Modular addition mod p with a Gaussian kernel (defaults: REFERENCE section 5)."""
    # why p >= 3: for p = 2 each 2 x 2 block of M is empty once its diagonal and mean are
    # removed, so the block-circulant measure (the experiment's output) is undefined
    p = _positive_int("p", p, 3, "Pass e.g. --p 61.")
    if not (isinstance(train_fraction, (int, float)) and 0 < train_fraction < 1):
        raise bad_input(
            "train_fraction",
            "be strictly between 0 and 1",
            train_fraction,
            "Pass e.g. --train-fraction 0.5.",
        )
    n_train = int(round(train_fraction * p * p))
    if not 1 <= n_train <= p * p - 1:
        raise bad_input(
            "train_fraction", f"leave a pair to train on and one to test (p^2 = {p * p} pairs)",
            train_fraction, "Raise --p or pick e.g. 0.5.",
        )  # fmt: skip
    (method,) = _check_methods([method])
    s = _check_s(s)
    check_seed(seed, "seed")
    _check_rfm_memory(n_train, p * p, 2 * p, p, "p", p, "Pass a smaller modulus, e.g. --p 61.")
    rng = np.random.default_rng(seed)
    X, Y, Xt, Yt = modular_addition_data(p, train_fraction, rng)
    circ: list[float | None] = []

    def on_iter(t: int, machine: KernelMachine, rec: dict[str, float]) -> None:
        circ.append(circulant_structure(machine.M, p, seed=seed)["blocks"]["overall"])
        if progress:
            progress(
                f"modular {method} iter {t}/{iters}: train {rec['train_acc']:.3f} "
                f"test {rec['test_acc']:.3f}"
            )

    out: RFMResult = rfm(
        X,
        Y,
        method=method,
        kernel=Kernel("gaussian", bandwidth),
        ridge=ridge,
        iters=iters,
        s=s,
        centered=centered,
        X_test=Xt,
        Y_test=Yt,
        on_iter=on_iter,
    )
    settings = {
        "kernel": "gaussian",
        "bandwidth": bandwidth,
        "ridge": ridge,
        "s": s,
        "centered_agop": centered,
        "iters": iters,
        "seed": seed,
        "normalisation": "max eigenvalue 1",
        "solvers": sorted(set(out.solvers)),
        "n_train": int(X.shape[0]),
        "n_test": int(Xt.shape[0]),
    }
    return ModularResult(
        p,
        train_fraction,
        method,
        settings,
        out.train_acc,
        out.test_acc,
        circ,
        circulant_structure(out.M, p, seed=seed),
        out.seconds,
        out.M,
    )
