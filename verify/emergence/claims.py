"""Claims of the emergence experiment, with verdicts computed from the seeds (S4-S6, F1, N1).

These are empirical claims about a finite experiment, so the verdicts are NUMERICALLY_CONSISTENT
(the stated inequality holds with a margin of ``Z = 3`` standard errors over the seeds) or
INCONCLUSIVE (it does not, fewer than 2 seeds, a run diverged, or a point was not certified),
never PROVED. The standard error of a mean over s seeds is ``std(ddof=1) / sqrt(s)``; each seed
has its own dictionary, data, test set and initialisation, so it covers all of those sources of
variation. With few seeds that estimate can come out near 0 by chance, so for test errors it is
never taken below the binomial sampling error of the pooled test sets (s * n_test points):
``sqrt((e1 (1 - e1) + e2 (1 - e2)) / (s n_test))`` for a difference of two error rates and
``sqrt(c (1 - c) / (s n_test))`` for an accuracy at chance level c.
``SHARE_LEVEL = 0.9`` is the acceptance level for the share of ``W^T W`` in span(M_A), fixed
before any run; the same level is used for every share below, so they are comparable.

1. (S4) the share of ``W^T W`` in span(M_A) at the end of training is >= 0.9
   (mean - 3 SE >= 0.9); its initial value is reported next to its expectation k/d.
2. (S6, Thm 2) the network's test error is below the best fixed-feature baseline of the same
   seed (lowest test error over random features and kernels) by more than 3 SE of the paired
   differences.
3. (S6, Thm 3) on the control the network does no better than chance: mean test accuracy
   <= max(Pr[y = +1], Pr[y = -1]) + 3 SE.
4. (F1) FACT holds at the certified stationary points (``verify.claims.checks.check_fact`` on every
   seed) and (F1) FACT's top-k eigenspace lies in span(M_A): top mass mean - 3 SE >= 0.9.
5. (N1) the AGOP's share of span(M_A) at the same points: mean - 3 SE >= 0.9.
6. (RFM) NFA-RFM's and FACT-RFM's metric share of span(M_A): mean - 3 SE >= 0.9.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from theory._records import Verdict

if TYPE_CHECKING:
    from verify.emergence.experiment import EmergenceResult

__all__ = ["SHARE_LEVEL", "Z", "Claim", "Stat", "claims", "stat", "summary"]

SHARE_LEVEL = 0.9  # the acceptance level for the relevant-subspace share (module docstring)
Z = 3.0  # margins in standard errors


@dataclass(frozen=True)
class Stat:
    """Mean and standard error of the mean over ``n`` seeds (``se`` is NaN for one seed)."""

    mean: float
    se: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.4f} +- {self.se:.4f}"

    def to_dict(self) -> dict[str, float | None]:
        return {"mean": self.mean, "se": self.se if math.isfinite(self.se) else None,
                "seeds": self.n}  # fmt: skip


def stat(values: Sequence[float]) -> Stat:
    """Mean and ``std(ddof=1)/sqrt(n)`` of finite values (raises on none or non-finite)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0 or not np.isfinite(v).all():
        raise ValueError(f"need finite values for a statistic, got {v.tolist()}")
    se = float(np.std(v, ddof=1) / math.sqrt(v.size)) if v.size > 1 else float("nan")
    return Stat(float(np.mean(v)), se, int(v.size))


@dataclass(frozen=True)
class Claim:
    """One claim, its verdict and the numbers behind it."""

    key: str
    tag: str
    claim: str
    verdict: Verdict
    reason: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "tag": self.tag, "claim": self.claim,
                "verdict": self.verdict.value, "evidence": self.verdict.evidence,
                "reason": self.reason, "data": self.data}  # fmt: skip


def _at_least(s: Stat, level: float) -> tuple[bool, str]:
    """``mean - Z se >= level``, and the sentence that says so (needs two seeds)."""
    if s.n < 2:
        return False, f"{s} over 1 seed: a standard error needs >= 2 seeds (raise --seeds)"
    ok = s.mean - Z * s.se >= level
    rel = ">=" if ok else "<"
    return ok, f"{s} over {s.n} seeds; mean - {Z:g} SE = {s.mean - Z * s.se:.4f} {rel} {level:g}"


def _claim(key: str, tag: str, text: str, ok: bool, reason: str, **data: Any) -> Claim:
    verdict = Verdict.NUMERICALLY_CONSISTENT if ok else Verdict.INCONCLUSIVE
    return Claim(key, tag, text, verdict, reason, {k: _jsonable(v) for k, v in data.items()})


def _jsonable(v: Any) -> Any:
    return v.to_dict() if isinstance(v, Stat) else v


def claims(res: EmergenceResult) -> list[Claim]:
    """Every claim of the experiment with its verdict (module docstring)."""
    cfg, seeds = res.config, res.seeds
    k, d = cfg.model.k, cfg.model.d
    diverged = [s.seed for s in seeds if s.network.diverged or s.control.diverged]
    note = f"; network diverged at seeds {diverged}: lower --lr" if diverged else ""
    out = []

    init, final = stat([s.network.initial.share for s in seeds]), stat(
        [s.network.final.share for s in seeds])  # fmt: skip
    ok, why = _at_least(final, SHARE_LEVEL)
    out.append(_claim(
        "emergence", "S4",
        f"the first layer's W^T W moves into span(M_A): share >= {SHARE_LEVEL} after training",
        ok and not diverged,
        f"final share {why}; initial {init} (expected k/d = {k / d:.4f}){note}",
        final_share=final, initial_share=init, k_over_d=k / d,
    ))  # fmt: skip

    net = stat([s.network.final.test_error for s in seeds])
    best = stat([s.best_baseline.test_error for s in seeds])
    gap = stat([s.best_baseline.test_error - s.network.final.test_error for s in seeds])
    pooled = cfg.n_test * len(seeds)  # test points behind each mean error
    floor = math.sqrt((net.mean * (1 - net.mean) + best.mean * (1 - best.mean)) / pooled)
    gap = Stat(gap.mean, max(gap.se, floor), gap.n)  # never below the test-set sampling error
    ok, why = _at_least(gap, 0.0)
    ok = ok and gap.mean - Z * gap.se > 0  # strictly: a margin larger than 3 SE
    out.append(_claim(
        "baselines", "S6",
        "the trained network beats every fixed-feature baseline (linear, random features, "
        "NNGP, NTK)",
        ok and not diverged,
        f"network test error {net}, best baseline per seed {best}; paired gap {why}{note}",
        network_test_error=net, best_baseline_test_error=best, gap=gap,
        best_models=[s.best_baseline.model for s in seeds],
    ))  # fmt: skip

    mom = cfg.model.moments(control=True)
    chance = max(mom.p_plus, 1 - mom.p_plus)
    acc = stat([1 - s.control.final.test_error for s in seeds])
    # the SE of a chance-level accuracy on the pooled test sets, if the seeds' spread is smaller
    acc = Stat(acc.mean, max(acc.se, math.sqrt(chance * (1 - chance) / pooled)), acc.n)
    ok = acc.n >= 2 and acc.mean <= chance + Z * acc.se
    out.append(_claim(
        "control", "S6",
        "without the input structure (A1') the network does no better than chance",
        ok and not diverged,
        f"control test accuracy {acc} over {acc.n} seeds; chance {chance:.3f} + {Z:g} SE = "
        f"{chance + Z * acc.se:.4f}" + ("" if acc.n >= 2 else "; needs >= 2 seeds") + note,
        control_accuracy=acc, chance=chance,
        control_share=stat([s.control.final.share for s in seeds]),
    ))  # fmt: skip

    certs = [s.certified for s in seeds if s.certified is not None]
    if certs:
        out += _certified_claims(certs, k)
    for method in ("nfa", "fact"):
        runs = [s.rfm[method] for s in seeds if method in s.rfm]
        if runs:
            share = stat([r.share for r in runs])
            ok, why = _at_least(share, SHARE_LEVEL)
            out.append(_claim(
                f"rfm-{method}", "RFM",
                f"{method.upper()}-RFM's metric M concentrates on span(M_A) (share >= "
                f"{SHARE_LEVEL})", ok,
                f"share {why} (start M = I: {k / d:.4f}); top-{k} eigenspace mass "
                f"{stat([r.top_mass for r in runs])}; test error "
                f"{stat([r.test_error for r in runs])} (n = {runs[0].n}, "
                f"{len(runs[0].shares) - 1} iterations)",
                share=share, top_mass=stat([r.top_mass for r in runs]),
                test_error=stat([r.test_error for r in runs]),
            ))  # fmt: skip
    return out


def _certified_claims(certs: list[Any], k: int) -> list[Claim]:
    c0 = certs[0]
    where = f"{c0.activation} network, width {c0.width}, n {c0.n}, MSE, lam {c0.lam:g}"
    bad = [c for c in certs if not (c.certified and c.fact_verdict == "NUMERICALLY_CONSISTENT")]
    errors = [c.fact_rel_error for c in certs if math.isfinite(c.fact_rel_error)]
    worst = max(errors) if errors else float("nan")
    if bad:
        reason = (f"{len(bad)} of {len(certs)} runs not certified stationary ({bad[0].status}: "
                  f"{bad[0].reason}); FACT relative error up to {worst:.2e} there, which F2 "
                  "explains as a rescaled gradient, not a failure of F1")  # fmt: skip
        if c0.activation == "relu":
            reason += ("; a ReLU run certifies only inside a smooth piece or on a kink "
                       "with interior slopes: --cert-activation tanh avoids kinks")  # fmt: skip
        return [_claim("certified-fact", "F1", f"W^T W = FACT at certified points ({where})",
                       False, reason, runs=len(certs), certified=len(certs) - len(bad),
                       max_fact_rel_error=worst)]  # fmt: skip
    out = [_claim(
        "certified-fact", "F1", f"W^T W = FACT at certified stationary points ({where})", True,
        f"{len(certs)} of {len(certs)} runs certified (gradient at its rounding floor) and "
        f"check_fact NUMERICALLY_CONSISTENT; FACT relative error <= {worst:.2e}",
        runs=len(certs), max_fact_rel_error=worst,
    )]  # fmt: skip
    for key, tag, name, values in (
        ("certified-fact-top", "F1", f"FACT's top-{k} eigenspace",
         [c.fact_top_mass for c in certs]),
        ("certified-agop", "N1", "the AGOP (share)", [c.agop_share for c in certs]),
    ):  # fmt: skip
        s = stat(values)
        ok, why = _at_least(s, SHARE_LEVEL)
        out.append(_claim(
            key, tag, f"at the certified points {name} lies in span(M_A) (>= {SHARE_LEVEL})", ok,
            f"{why}; shares: NFM {stat([c.nfm_share for c in certs])}, FACT "
            f"{stat([c.fact_share for c in certs])}, AGOP {stat([c.agop_share for c in certs])};"
            f" test error {stat([c.test_error for c in certs])} ({where})",
            value=s, nfm_share=stat([c.nfm_share for c in certs]),
            fact_share=stat([c.fact_share for c in certs]),
            agop_share=stat([c.agop_share for c in certs]),
            test_error=stat([c.test_error for c in certs]),
        ))  # fmt: skip
    return out


def summary(res: EmergenceResult) -> dict[str, Any]:
    """Mean +- SE over seeds of every model's test error (and share where defined)."""
    seeds = res.seeds
    rows: dict[str, dict[str, Any]] = {
        "network": {"test_error": stat([s.network.final.test_error for s in seeds]),
                    "share": stat([s.network.final.share for s in seeds]),
                    "initial_share": stat([s.network.initial.share for s in seeds])},
        "network on control": {"test_error": stat([s.control.final.test_error for s in seeds]),
                               "share": stat([s.control.final.share for s in seeds])},
    }  # fmt: skip
    for j, fit in enumerate(seeds[0].baselines):
        rows[f"{fit.model} (n={fit.n})"] = {
            "test_error": stat([s.baselines[j].test_error for s in seeds])
        }
    rows["best fixed-feature (per seed)"] = {
        "test_error": stat([s.best_baseline.test_error for s in seeds])
    }
    for j, fit in enumerate(seeds[0].control_baselines):
        rows[f"{fit.model} (n={fit.n}) on control"] = {
            "test_error": stat([s.control_baselines[j].test_error for s in seeds])
        }
    for method in seeds[0].rfm:
        rows[f"{method.upper()}-RFM (n={seeds[0].rfm[method].n})"] = {
            "test_error": stat([s.rfm[method].test_error for s in seeds]),
            "share": stat([s.rfm[method].share for s in seeds])}  # fmt: skip
    certs = [s.certified for s in seeds if s.certified is not None and s.certified.certified]
    if certs:  # only certified runs have feature matrices worth a row
        c = certs[0]
        rows[f"certified {c.activation} (n={c.n}, width {c.width})"] = {
            "test_error": stat([x.test_error for x in certs]),
            "share": stat([x.fact_share for x in certs]),
        }
    return {name: {k: v.to_dict() for k, v in row.items()} for name, row in rows.items()}
