"""Families whose witness is a certified stationary point (REFERENCE.md section 6).

- ``quadratic``: two-layer networks with activation z^2 and a linear read-out, f(x) = x^T A x,
  A = W^T diag(a) W. At a stationary point where every eigendirection carries one neuron,
  W^T W = 2^{1/3} |A|^{2/3}, while AGOP = 4 A Sigma_hat A depends on the data. The family is
  indexed by kappa, the ratio of input standard deviations: coordinate 1 has standard deviation
  1/kappa and target weight R = 100, coordinates 2..5 have standard deviation 1 and weights
  1, 0.9, 0.8, 0.7. Then W^T W is dominated by coordinate 1 (|100|^{2/3} = 21.5) while AGOP
  is dominated by coordinates 2..5 (4 a_j^2 sigma_j^2: 4e4/kappa^2 against ~3), so the best-alpha
  correlation falls as kappa grows. Weight decay lam = 0.1 min_j(a_j^{4/3} sigma_j^4) keeps every
  direction above the decay's threshold (the Schatten-2/3 penalty sets weaker directions to 0).
  FACT holds at every member (it is a theorem).
- ``deep-linear-unbalanced``: a two-layer linear network without weight decay, started unbalanced
  along a direction the target ignores (W_1 = diag(1, 1, s) + noise). Without decay that
  direction is never removed (D2: the imbalance is conserved by gradient flow), so W_1^T W_1
  keeps an s^2 component that the AGOP (= A^T A) does not have: exact, permanent NFA defect
  and imbalance. lam = 0, so FACT does not apply.
- ``dead-relu``: a ReLU network without weight decay on inputs in the positive orthant, with one
  unit whose incoming weights -s (0.1, 0.1, 1) are negative: it is inactive on every training
  point, never moves, stays in W^T W (s^2 v v^T) and is absent from the AGOP.

Each family trains its members in float64 (verify.train.train) and certifies the last one at
``dps`` digits (verify.counterexample_certify.certify).
"""

from __future__ import annotations

import time

import numpy as np

from theory._errors import bad_input
from theory._verdict import Verdict
from verify.claims.features import layer_features
from verify.counterexamples.certify import CERT_DPS, certify
from verify.counterexamples.claims import Claim, Witness, balance_claim, nfa_claim
from verify.counterexamples.family_result import FamilyResult, _best_corr, _from_certificate
from verify.engine.network import MLP, Problem
from verify.engine.train import train

__all__ = [
    "QUADRATIC_LIGHT",
    "QUADRATIC_R",
    "dead_relu_family",
    "dead_relu_problem",
    "deep_linear_family",
    "deep_linear_problem",
    "quadratic_family",
    "quadratic_problem",
]


# -- quadratic ---------------------------------------------------------------------------------
QUADRATIC_R = 100.0
QUADRATIC_LIGHT = (1.0, 0.9, 0.8, 0.7)


def quadratic_problem(kappa: float, n: int = 48, seed: int = 0) -> tuple[Problem, np.ndarray]:
    """The quadratic family's member ``kappa`` (module docstring) and its start: one neuron per
    coordinate with the unshrunk values (a_j = (A_jj/2)^{1/3}, |w_j|^2 = 2 a_j^2)."""
    if not kappa >= 1:
        raise bad_input("kappa", "be >= 1", kappa, "Pass e.g. 316.")
    a = np.array([QUADRATIC_R, *QUADRATIC_LIGHT])
    std = np.array([1.0 / kappa, 1.0, 1.0, 1.0, 1.0])
    X = np.random.default_rng(seed).standard_normal((n, 5)) * std
    Y = ((X**2) @ a)[:, None]
    lam = 0.1 * float(np.min(a ** (4 / 3) * std**4))
    problem = Problem(MLP((5, 5, 1), "quadratic"), X, Y, "mse", lam)
    out = (a / 2) ** (1 / 3)
    theta0 = np.concatenate([np.diag(np.sqrt(2) * out).ravel(), out])
    return problem, theta0


def quadratic_family(claim: Claim, *, seed: int = 0, quick: bool = False,
                     dps: int = CERT_DPS) -> FamilyResult:  # fmt: skip
    t0 = time.perf_counter()
    kappas = (1.0, 10.0, 100.0, 316.0) if quick else (1.0, 3.0, 10.0, 30.0, 100.0, 316.0)
    seq, last = [], None
    for kappa in kappas:
        problem, theta0 = quadratic_problem(kappa, seed=seed)
        res = train(problem, theta0=theta0, spectrum="none")
        feat = layer_features(problem, res.theta)[0]
        seq.append({"kappa": kappa, "lam": problem.lam, "float64_status": res.status.value,
                    **_best_corr(problem, res.theta),
                    "fact_rel_error_float64": feat.fact_rel_error})  # fmt: skip
        last = (problem, res.theta)
    assert last is not None
    cert = certify(claim, *last, dps=dps, origin={"family": "quadratic", "kappa": kappas[-1]})
    return _from_certificate(
        "quadratic", claim, "kappa (input std ratio)", seq, cert, t0,
        note="sequence values are float64 (large kappa is ill-conditioned, so float64 training "
        "may stop above its floor); the last member is the certified witness",
    )  # fmt: skip


# -- deep linear, unbalanced, no weight decay --------------------------------------------------
def deep_linear_problem(s: float, seed: int = 0) -> tuple[Problem, np.ndarray]:
    """d = 3, width 3, c = 2, n = 12; target A = [[1, 2, 0], [0, 1, 0]] ignores x_3."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((12, 3))
    A = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 0.0]])
    problem = Problem(MLP((3, 3, 2), "identity"), X, X @ A.T, "mse", 0.0)
    W1 = np.diag([1.0, 1.0, s]) + 0.3 * rng.standard_normal((3, 3))
    W2 = 0.5 * A + 0.3 * rng.standard_normal((2, 3))
    return problem, np.concatenate([W1.ravel(), W2.ravel()])


def deep_linear_family(claim: Claim, *, seed: int = 0, quick: bool = False,
                       dps: int = CERT_DPS) -> FamilyResult:  # fmt: skip
    t0 = time.perf_counter()
    scales = (1.0, 2.0, 4.0) if quick else (1.0, 2.0, 4.0, 8.0)
    seq, last = [], None
    for s in scales:
        problem, theta0 = deep_linear_problem(s, seed)
        res = train(problem, theta0=theta0, spectrum="none")
        if not res.converged:
            continue
        half = nfa_claim(0.5, 0.5).score(Witness(problem, res.theta)).data["correlation"]
        bal = balance_claim(False).score(Witness(problem, res.theta)).violation
        seq.append({"s": s, "float64_status": res.status.value, "corr_alpha_1/2": half,
                    **_best_corr(problem, res.theta), "imbalance_rel": bal})  # fmt: skip
        last = (problem, res.theta)
    if last is None:
        return FamilyResult("deep-linear-unbalanced", claim, Verdict.INCONCLUSIVE,
                            "no member trained to a certified stationary point", "s", seq,
                            None, {}, time.perf_counter() - t0)  # fmt: skip
    cert = certify(claim, *last, dps=dps, origin={"family": "deep-linear-unbalanced",
                                                  "s": scales[-1]})  # fmt: skip
    return _from_certificate("deep-linear-unbalanced", claim, "s (initial scale of the "
                             "ignored direction)", seq, cert, t0)  # fmt: skip


# -- dead ReLU units, no weight decay ----------------------------------------------------------
def dead_relu_problem(s: float, seed: int = 0) -> tuple[Problem, np.ndarray]:
    """d = 3, width 4, c = 1, n = 16, inputs |N(0,1)| (positive orthant), target
    y = x . (1, 0.1, 0.1); unit 1 starts at -s (0.1, 0.1, 1): dead on every sample."""
    rng = np.random.default_rng(seed)
    X = np.abs(rng.standard_normal((16, 3))) + 0.05
    Y = (X @ np.array([1.0, 0.1, 0.1]))[:, None]
    problem = Problem(MLP((3, 4, 1), "relu"), X, Y, "mse", 0.0)
    W1 = np.abs(rng.standard_normal((4, 3))) * 0.5 + 0.1  # live: positive weights
    W1[0] = -s * np.array([0.1, 0.1, 1.0])
    W2 = np.abs(rng.standard_normal((1, 4))) * 0.5
    return problem, np.concatenate([W1.ravel(), W2.ravel()])


def dead_relu_family(claim: Claim, *, seed: int = 0, quick: bool = False,
                     dps: int = CERT_DPS) -> FamilyResult:  # fmt: skip
    t0 = time.perf_counter()
    scales = (0.0, 1.0, 4.0) if quick else (0.0, 1.0, 2.0, 4.0, 8.0)
    seq, last = [], None
    for s in scales:
        problem, theta0 = dead_relu_problem(s, seed)
        res = train(problem, theta0=theta0, spectrum="none")
        if not res.converged:
            continue
        seq.append({"s": s, "float64_status": res.status.value,
                    **_best_corr(problem, res.theta)})  # fmt: skip
        last = (problem, res.theta)
    if last is None:
        return FamilyResult("dead-relu", claim, Verdict.INCONCLUSIVE, "no member converged",
                            "s", seq, None, {}, time.perf_counter() - t0)  # fmt: skip
    cert = certify(claim, *last, dps=dps, origin={"family": "dead-relu", "s": scales[-1]})
    return _from_certificate(
        "dead-relu", claim, "s (norm scale of the dead unit)", seq, cert, t0,
        note="with weight decay lam > 0 a dead unit's gradient is lam w, so every stationary "
        "point has w = 0 there and the defect disappears (REFERENCE section 6)",
    )  # fmt: skip
