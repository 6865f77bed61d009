"""Built-in counterexample families, reproducible by name (REFERENCE.md section 6).

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
- ``adamw``: full-batch Adam with the L2 term in the gradient converges to a stationary point of
  L_lam, where FACT holds; AdamW (decoupled decay) converges to a fixed point of
  m/(sqrt(v) + eps) = -lam W, which is not a stationary point of L_lam, and FACT fails there.
  That is a violation of FACT's hypothesis, not of the theorem.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory._errors import bad_input
from theory._records import Verdict
from verify._report_entry import ReportEntry
from verify.counterexamples import (
    CERT_DPS,
    Certificate,
    Claim,
    Witness,
    balance_claim,
    certify,
    fact_claim,
    nfa_claim,
)
from verify.features import layer_features
from verify.network import MLP, Problem, backprop, mp_backend
from verify.train import train

__all__ = [
    "FAMILIES",
    "FamilyResult",
    "adam",
    "adamw_family",
    "dead_relu_family",
    "deep_linear_family",
    "family_report_entries",
    "quadratic_family",
    "quadratic_problem",
    "run_family",
    "search_family",
]


@dataclass
class FamilyResult:
    """A family run: the sequence over its parameter, the certified witness, and a verdict."""

    family: str
    claim: Claim
    verdict: Verdict
    reason: str
    parameter: str
    sequence: list[dict[str, Any]]
    certificate: Certificate | None
    extra: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    point: tuple[Problem, np.ndarray] | None = None  # uncertified end point (adamw)

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "claim": self.claim.name,
            "tag": self.claim.tag,
            "statement": self.claim.statement,
            "verdict": self.verdict.value,
            "evidence": self.verdict.evidence,
            "reason": self.reason,
            "parameter": self.parameter,
            "sequence": self.sequence,
            "certificate": self.certificate.to_dict() if self.certificate else None,
            **self.extra,
        }

    def to_text(self) -> str:
        lines = [f"family {self.family}: {self.claim.statement}",
                 f"verdict: {self.verdict.value} - {self.reason}"]  # fmt: skip
        if self.sequence:
            keys = list(self.sequence[0])
            lines.append("  ".join(keys))
            for row in self.sequence:
                lines.append("  ".join(_fmt(row[k]) for k in keys))
        if self.certificate is not None:
            lines.append(self.certificate.to_text())
        for k, v in self.extra.items():
            if isinstance(v, str):
                lines.append(f"{k}: {v}")
        return "\n".join(lines)


def _fmt(x: Any) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)


def _best_corr(problem: Problem, theta: np.ndarray, layer: int = 1) -> dict[str, float]:
    data = nfa_claim(None, 0.5, layers=(layer,)).score(Witness(problem, theta)).data
    row = data["layers"][0]
    return {"best_correlation": float(row["best_correlation"]), "best_alpha": row["best_alpha"]}


def _from_certificate(family: str, claim: Claim, param: str, seq: list[dict[str, Any]],
                      cert: Certificate, t0: float, **extra: Any) -> FamilyResult:  # fmt: skip
    return FamilyResult(family, claim, cert.verdict, cert.reason, param, seq, cert, extra,
                        time.perf_counter() - t0)  # fmt: skip


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


# -- Adam with L2 versus AdamW -----------------------------------------------------------------
def adam(
    problem: Problem, theta0: np.ndarray, *, decoupled: bool, steps: int = 20_000,
    lr: float = 1e-2, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
) -> tuple[np.ndarray, dict[str, float]]:  # fmt: skip
    """Full-batch Adam (L2 term in the gradient) or AdamW (decoupled decay lr * lam * theta),
    with the learning rate decayed as lr / (1 + t / 1000) so the iterates settle at a fixed
    point. Returns the final parameters and the fixed-point residuals."""
    lam = problem.lam
    data_only = Problem(problem.net, problem.X, problem.Y, problem.loss, 0.0)
    theta = np.array(theta0, dtype=np.float64)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    b1, b2 = betas
    for t in range(1, steps + 1):
        g = backprop(data_only if decoupled else problem, theta).grad
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mh, vh = m / (1 - b1**t), v / (1 - b2**t)
        rate = lr / (1 + t / 1000)
        theta = theta - rate * (mh / (np.sqrt(vh) + eps) + (lam * theta if decoupled else 0))
    direction = mh / (np.sqrt(vh) + eps) + (lam * theta if decoupled else 0)
    return theta, {
        "grad_L_lam": float(np.linalg.norm(backprop(problem, theta).grad)),
        "grad_L_data": float(np.linalg.norm(backprop(data_only, theta).grad)),
        # the optimizer's own update direction: zero exactly at its fixed point
        "update_direction_norm": float(np.linalg.norm(direction)),
        "last_step_norm": float(rate * np.linalg.norm(direction)),
    }


def adamw_family(claim: Claim, *, seed: int = 0, quick: bool = False,
                 dps: int = CERT_DPS) -> FamilyResult:  # fmt: skip
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((16, 3))
    Y = np.tanh(X @ np.array([[1.0], [-0.5], [0.3]]))
    problem = Problem(MLP((3, 4, 1), "tanh"), X, Y, "mse", 1e-2)
    theta0 = problem.net.init(seed)
    steps = 6000 if quick else 20_000
    hi = mp_backend(dps)
    rows: list[dict[str, Any]] = []
    theta = theta0
    for name, decoupled in (("Adam (L2 in the gradient)", False), ("AdamW (decoupled)", True)):
        theta, info = adam(problem, theta0, decoupled=decoupled, steps=steps)
        f64 = layer_features(problem, theta)
        fmp = layer_features(problem, theta, hi)  # the same point re-evaluated at dps digits
        polished = train(problem, theta0=theta, spectrum="none")  # nearest stationary point
        moved = float(np.linalg.norm(polished.theta - theta) / np.linalg.norm(theta))
        rows.append({"optimizer": name, "steps": steps, **info,
                     "fact_rel_error_max": max(f.fact_rel_error for f in f64),
                     f"fact_rel_error_max_{dps}_digits": max(f.fact_rel_error for f in fmp),
                     "f2_bound_rel_max": max(f.f2_bound / f.nfm_norm for f in f64),
                     "distance_to_stationary_point_rel": moved,
                     "stationary_point_status": polished.status.value})  # fmt: skip
    adam_row, adamw_row = rows
    # F2 bounds the defect by the residual gradient (why 1.0001: the bound is exact, the factor
    # only absorbs float64 rounding of the two norms); an O(1) defect at an O(lam) gradient
    # (why 1e-3: far above any rounding, far below the measured ~1) is a different point
    explained = float(adam_row["fact_rel_error_max"]) <= float(adam_row["f2_bound_rel_max"]) * (
        1.0001
    )
    violated = float(adamw_row[f"fact_rel_error_max_{dps}_digits"]) > 1e-3
    verdict = Verdict.REFUTED if violated else Verdict.INCONCLUSIVE
    reason = (
        f"at the AdamW end point (last step {adamw_row['last_step_norm']:.2g}) the "
        f"relative FACT defect is {adamw_row['fact_rel_error_max']:.3g} (confirmed at {dps} "
        f"digits), but ||grad L_lam|| = {adamw_row['grad_L_lam']:.3g} there: the point is not "
        "a stationary point of L_lam, so this violates FACT's hypothesis, not the theorem. "
        f"Adam with the L2 term reaches ||grad L_lam|| = {adam_row['grad_L_lam']:.2g} and a "
        f"FACT defect {adam_row['fact_rel_error_max']:.2g}, "
        + ("within" if explained else "NOT within")
        + f" the F2 bound {adam_row['f2_bound_rel_max']:.2g}; Newton from the Adam point moves "
        f"it by {adam_row['distance_to_stationary_point_rel']:.2g} (relative) to a stationary "
        f"point, from the AdamW point by {adamw_row['distance_to_stationary_point_rel']:.2g}"
    )  # fmt: skip
    return FamilyResult("adamw", claim, verdict, reason, "optimizer", rows, None,
                        {"explained_by_f2": explained}, time.perf_counter() - t0,
                        (problem, theta))  # fmt: skip


# -- seeded search within a family ------------------------------------------------------------
#: family -> (parameter name, sampler of the parameter, builder (param, seed) -> (problem, start))
FAMILY_SPACES: dict[str, tuple[str, Callable[[np.random.Generator], float], Callable[..., Any]]] = {
    "quadratic": ("kappa", lambda rng: float(10 ** rng.uniform(0.5, 3.0)),
                  lambda p, seed: quadratic_problem(p, seed=seed)),
    "deep-linear-unbalanced": ("s", lambda rng: float(rng.uniform(1.0, 8.0)),
                               deep_linear_problem),
    "dead-relu": ("s", lambda rng: float(rng.uniform(0.0, 8.0)), dead_relu_problem),
}  # fmt: skip


def search_family(
    family: str, claim: Claim, *, budget: int = 6, seed: int = 0, dps: int = CERT_DPS,
) -> FamilyResult:  # fmt: skip
    """Seeded random search over a family's parameter and data seed: each member is trained
    in float64 and scored (a screening score only); the worst member is then certified at
    ``dps`` digits, and only that certificate can give REFUTED. Members whose training ended
    in non-finite values or divergence are skipped and counted."""
    from verify.counterexamples import _check_budget

    if family not in FAMILY_SPACES:
        raise bad_input("family", f"be one of {sorted(FAMILY_SPACES)} for a search", family,
                        "Pick a listed family.")  # fmt: skip
    budget = _check_budget(budget)
    name, sample, build = FAMILY_SPACES[family]
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    best: tuple[float, Problem, np.ndarray, dict[str, Any]] | None = None
    skipped = 0
    for _ in range(budget):
        param, data_seed = sample(rng), int(rng.integers(0, 2**31))
        problem, theta0 = build(param, data_seed)
        res = train(problem, theta0=theta0, spectrum="none")
        if res.status.value in ("non_finite", "diverged"):
            skipped += 1
            continue
        ev = claim.score(Witness(problem, res.theta))
        rows.append({name: param, "data_seed": data_seed, "float64_status": res.status.value,
                     "violation": ev.violation})  # fmt: skip
        if best is None or ev.violation > best[0]:
            best = (ev.violation, problem, res.theta, rows[-1])
    if best is None:
        return FamilyResult(family, claim, Verdict.INCONCLUSIVE, "every member diverged", name,
                            rows, None, {"skipped": skipped}, time.perf_counter() - t0)  # fmt: skip
    cert = certify(claim, best[1], best[2], dps=dps,
                   origin={"family": family, **best[3]})  # fmt: skip
    return FamilyResult(family, claim, cert.verdict, cert.reason, name, rows, cert,
                        {"skipped": skipped, "budget": budget, "seed": seed},
                        time.perf_counter() - t0)  # fmt: skip


# -- registry ----------------------------------------------------------------------------------
Family = Callable[..., FamilyResult]

#: family name -> (runner, claims it speaks about)
FAMILIES: dict[str, tuple[Family, tuple[str, ...]]] = {
    "quadratic": (quadratic_family, ("nfa", "fact")),
    "deep-linear-unbalanced": (deep_linear_family, ("nfa", "balance")),
    "dead-relu": (dead_relu_family, ("nfa",)),
    "adamw": (adamw_family, ("fact",)),
}


def family_claim(family: str, claim: str, alpha: float | None, threshold: float) -> Claim:
    """The claim a family is checked against: the named claim, adapted to the family's decay
    (lam = 0 families check the NFA at lam = 0, and balance as the planted no-decay variant)."""
    if family not in FAMILIES:
        raise bad_input("family", f"be one of {sorted(FAMILIES)}", family, "Pick a listed name.")
    if claim not in FAMILIES[family][1]:
        raise bad_input(
            "claim", f"be one of {list(FAMILIES[family][1])} for family {family!r}", claim,
            "Pick a claim the family speaks about (see factcheck counterexample --help).",
        )  # fmt: skip
    zero = family in ("deep-linear-unbalanced", "dead-relu")
    if claim == "nfa":
        if alpha is None and family == "deep-linear-unbalanced":
            alpha = 0.5  # D5: 1/L for L = 2
        return nfa_claim(alpha, threshold, lam_policy="zero" if zero else "positive")
    if claim == "balance":
        return balance_claim(decay=not zero)
    return fact_claim("F1")


def run_family(
    family: str, claim: str = "nfa", *, alpha: float | None = None, threshold: float = 0.9,
    seed: int = 0, quick: bool = False, dps: int = CERT_DPS,
) -> FamilyResult:  # fmt: skip
    """Run a built-in family against ``claim`` ("nfa", "fact" or "balance")."""
    c = family_claim(family, claim, alpha, threshold)
    return FAMILIES[family][0](c, seed=seed, quick=quick, dps=dps)


def family_report_entries(quick: bool, seed: int = 0) -> list[ReportEntry]:
    """Report entries: every family certified. The FACT entry at the quadratic witness is a
    theorem (theorem=True); the others are known failures or planted claims (REFUTED expected)."""
    entries = []

    def add(res: FamilyResult, title: str, t0: float, theorem: bool = False,
            verdict: Verdict | None = None, reason: str | None = None) -> None:  # fmt: skip
        v = verdict or res.verdict
        entries.append(ReportEntry(
            "Counterexamples", f"{title} [family {res.family}]", "F1" if theorem else
            res.claim.tag, v.value, v.evidence, reason or res.reason,
            f"{CERT_DPS} digits (mpmath)" if res.certificate else "float64 (fixed point)",
            time.perf_counter() - t0, res.to_text(), "", res.to_dict(), None, theorem,
        ))  # fmt: skip

    t0 = time.perf_counter()
    quad = run_family("quadratic", "nfa", seed=seed, quick=quick)
    add(quad, "NFA (best alpha in 1/8..1) fails: quadratic network, anisotropic inputs", t0)
    cert = quad.certificate
    if cert is not None and cert.point.converged and cert.fact:
        ok = all(r["rel_error"] <= r["tolerance"] for r in cert.fact)
        worst = max(r["rel_error"] for r in cert.fact)
        add(quad, "FACT holds at the same certified quadratic witness", time.perf_counter(), True,
            Verdict.NUMERICALLY_CONSISTENT if ok else Verdict.REFUTED,
            f"max relative FACT defect {worst:.3g} at {CERT_DPS} digits, within the F2 bound "
            "plus rounding" if ok else "FACT defect above its tolerance")  # fmt: skip
    for family, claim, title in (
        ("deep-linear-unbalanced", "nfa", "NFA (alpha = 1/2) fails: unbalanced deep linear, "
         "no weight decay"),
        ("deep-linear-unbalanced", "balance", "balancedness fails without weight decay"),
        ("dead-relu", "nfa", "NFA fails: dead ReLU units, no weight decay"),
        ("adamw", "fact", "FACT's identity fails at the AdamW fixed point (hypothesis violated)"),
    ):  # fmt: skip
        t0 = time.perf_counter()
        add(run_family(family, claim, seed=seed, quick=quick), title, t0)
    if not quick:  # FACT soundness under search: a theorem, so REFUTED here would be a bug
        from verify.counterexamples import search

        t0 = time.perf_counter()
        res = search(fact_claim("F1"), budget=20, seed=seed, quiet=True, max_seconds=30)
        entries.append(ReportEntry(
            "Counterexamples", f"FACT is never refuted: search over {res.tried} candidates",
            "F1", res.verdict.value, res.verdict.evidence, res.reason, f"{CERT_DPS} digits "
            "(closest call)", time.perf_counter() - t0, res.to_text(False), "",
            res.to_dict(False), None, True,
        ))  # fmt: skip
    return entries
