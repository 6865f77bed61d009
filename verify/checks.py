"""Checks with verdicts: FACT (F1, with F2 as the explanation off convergence) and the NFA (N2).

Verdicts (``theory.Verdict``) follow the project's standard:

- NUMERICALLY_CONSISTENT: at a certified stationary point the FACT defect is within the rounding
  tolerance (plus the F2 bound of the residual gradient); for the NFA, the Pearson correlation of
  NFM and AGOP^alpha is at least the threshold.
- INCONCLUSIVE: the point is not certified (training did not converge, or a user's run file is
  not at a stationary point). The reason quotes F2: ||W^T W - FACT|| <= ||W|| ||grad_W L|| / lam,
  and says what to change. Non-convergence is never a refutation.
- REFUTED: only at a certified point, and only after the violation was re-checked by Newton
  refinement and re-evaluation in mpmath at higher precision (every refutation is re-checked).
  For FACT this should never happen; the planted false variants (:data:`PLANTED_FACT`) show that
  it does when the formula is wrong.

A FACT check with lam <= 0 is outside the theorem's assumptions and raises
``OutsideAssumptionsError``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from theory._errors import OutsideAssumptionsError, bad_input
from theory._records import Verdict
from verify._report_entry import ReportEntry
from verify.features import (
    DEFAULT_ALPHA_GRID,
    LayerFeatures,
    NfaScore,
    fro,
    layer_features,
    nfa_score,
)
from verify.network import FLOAT64, Array, Backend, mp_backend
from verify.train import TrainResult, refine_mp

__all__ = [
    "PLANTED_FACT",
    "FactCheck",
    "FactLayer",
    "NfaCheck",
    "NfaLayer",
    "check_f2",
    "check_fact",
    "check_nfa",
    "report_entries",
]

#: a FACT formula: the matrix claimed to equal W^T W, from a layer's features and n
Formula = Callable[[LayerFeatures, int], Array]


def _true_fact(feat: LayerFeatures, n: int) -> Array:
    return feat.fact  # F1


#: deliberately false variants of F1, which the check must refute. "transposed" (FACT^T) is NOT
#: false at a stationary point (F5 makes FACT symmetric there): only F2 off convergence sees it.
PLANTED_FACT: dict[str, Formula] = {
    "sign_flipped": lambda f, n: -f.fact,
    "missing_1_over_n": lambda f, n: f.fact * n,
    "transposed": lambda f, n: f.fact.T,
}

_ORDER = {
    Verdict.REFUTED: 0,
    Verdict.INCONCLUSIVE: 1,
    Verdict.NUMERICALLY_CONSISTENT: 2,
    Verdict.CERTIFIED: 3,
    Verdict.PROVED: 4,
}


def _worst(verdicts: Sequence[Verdict]) -> Verdict:
    return min(verdicts, key=_ORDER.__getitem__)


def _backend(result: TrainResult, dps: int | None) -> Backend:
    if dps is None:
        return mp_backend(result.dps) if result.dps else FLOAT64
    return mp_backend(dps)


def _rounding_tolerance(result: TrainResult, feat: LayerFeatures, be: Backend) -> float:
    """Absolute rounding tolerance for ||W^T W - FACT||_F at this precision.

    Why: both matrices are sums of at most k = n + depth * max_width products whose magnitudes
    add up to ``feat.rounding_scale`` (Higham's gamma_k bound for inner products); grad_h itself
    went through <= depth backprop layers, each adding the same relative error, hence the factor
    (depth + 1).
    """
    net = result.problem.net
    k = result.problem.n + net.depth * max(net.sizes)
    return (net.depth + 1) * k * be.unit_roundoff * feat.rounding_scale


# -- FACT --------------------------------------------------------------------------------------
@dataclass
class FactLayer:
    """FACT at one layer: relative error, defect, F2 bound, tolerance and the verdict."""

    layer: int
    shape: tuple[int, int]
    verdict: Verdict
    rel_error: float
    defect: float
    f2_bound: float
    tolerance: float
    nfm_norm: float
    bfact_rel_error: float
    asymmetry: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "shape": list(self.shape),
            "verdict": self.verdict.value,
            "fact_rel_error": self.rel_error,
            "fact_defect": self.defect,
            "fact_bound": self.f2_bound,
            "fact_bound_rel": self.f2_bound / self.nfm_norm if self.nfm_norm else None,
            "tolerance": self.tolerance,
            "bfact_rel_error": self.bfact_rel_error,
            "fact_asymmetry": self.asymmetry,
            "reason": self.reason,
        }


@dataclass
class FactCheck:
    """F1 checked in every layer of one trained network."""

    verdict: Verdict
    reason: str
    layers: list[FactLayer]
    training: TrainResult
    precision: str
    formula: str = "F1"
    recheck: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim": "FACT: W^T W = -(1/(n lam)) sum_i grad_h l_i h_i^T at a stationary point",
            "tag": "F1",
            "formula": self.formula,
            "verdict": self.verdict.value,
            "evidence": self.verdict.evidence,
            "reason": self.reason,
            "precision": self.precision,
            "layers": [layer.to_dict() for layer in self.layers],
            "recheck": self.recheck,
            **self.training.to_dict(),
        }

    def to_text(self) -> str:
        rows = [
            (
                "layer",
                "shape",
                "FACT rel.err",
                "F2 bound/|W'W|",
                "tol/|W'W|",
                "bFACT rel",
                "verdict",
            )
        ]
        for x in self.layers:
            norm = x.nfm_norm or 1.0
            rows.append((
                str(x.layer), f"{x.shape[0]}x{x.shape[1]}", f"{x.rel_error:.2e}",
                f"{x.f2_bound / norm:.2e}", f"{x.tolerance / norm:.2e}",
                f"{x.bfact_rel_error:.2e}", x.verdict.value,
            ))  # fmt: skip
        head = f"[F1] FACT ({self.formula}) at {self.precision}: {self.verdict.value}"
        return "\n".join([head, _training_line(self.training), _table(rows), self.reason])


def _training_line(r: TrainResult) -> str:
    h = r.hessian
    spec = ""
    if h is not None and h.min_eig is not None:
        spec = (
            f"; Hessian {h.kind}, eigenvalues [{h.min_eig:.3g}, {h.max_eig:.3g}], "
            f"{h.near_zero if h.near_zero is not None else '?'} near zero "
            f"({h.symmetry_zero_modes} symmetry, {h.dead_unit_modes} dead-unit)"
        )
    dps = f", {r.grad_norm_mp:.2e} at {r.dps} digits" if r.grad_norm_mp is not None else ""
    return (
        f"training: {r.status.value}, ||grad L_lam|| = {r.grad_norm:.2e} (float64){dps}, "
        f"{r.iterations} L-BFGS iterations, {r.newton_steps}+{r.newton_steps_mp} Newton steps, "
        f"{r.seconds:.2f} s{spec}"
    )


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def _precision(be: Backend) -> str:
    return "float64" if be.name == "float64" else f"{be.dps} digits (mpmath)"


def check_fact(
    result: TrainResult,
    *,
    dps: int | None = None,
    formula: Formula | str = "F1",
    recheck: bool = True,
) -> FactCheck:
    """Check F1 in every layer at the point of ``result`` (see module docstring for verdicts).

    ``dps``: evaluate in mpmath at that many digits (the point must have been refined to at
    least that precision to be certified there, see :func:`verify.train.refine_mp`).
    ``formula``: "F1" or the name of a planted false variant, or a callable (feat, n) -> matrix.
    """
    problem = result.problem
    if not problem.lam > 0:
        raise OutsideAssumptionsError(
            "FACT (F1) assumes weight decay lam > 0 (the proof divides by lam); got lam="
            f"{problem.lam!r}. Pass --lam 1e-3 or another positive value."
        )
    name, fn = _formula(formula)
    be = _backend(result, dps)
    certified = result.certified_at(be)
    layers = _fact_layers(result, be, fn, certified)
    verdict = _worst([layer.verdict for layer in layers])
    reason = _fact_reason(result, layers, certified, be)
    check = FactCheck(verdict, reason, layers, result, _precision(be), name)
    if verdict is Verdict.REFUTED and recheck:
        check = _recheck_fact(check, be, fn)
    return check


def _formula(formula: Formula | str) -> tuple[str, Formula]:
    if callable(formula):
        return getattr(formula, "__name__", "custom"), formula
    if formula == "F1":
        return "F1", _true_fact
    if formula in PLANTED_FACT:
        return f"planted:{formula}", PLANTED_FACT[formula]
    raise bad_input("formula", f"be 'F1' or one of {sorted(PLANTED_FACT)}", formula, "Use F1.")


def _fact_layers(result: TrainResult, be: Backend, fn: Formula, certified: bool) -> list[FactLayer]:
    out = []
    for feat in layer_features(result.problem, result.point(be), be):
        with be.working():
            rhs = fn(feat, result.problem.n)
            defect = float(fro(feat.nfm - rhs, be))
        rel = defect / feat.nfm_norm if feat.nfm_norm else defect
        tol = feat.f2_bound + _rounding_tolerance(result, feat, be)  # F2 + rounding
        if not certified:
            verdict = Verdict.INCONCLUSIVE
            why = (
                f"not a certified stationary point; F2 bounds the defect by "
                f"||W|| ||grad_W L||/lam = {feat.f2_bound:.3g} (measured {defect:.3g})"
            )
        elif defect <= tol:
            verdict = Verdict.NUMERICALLY_CONSISTENT
            why = f"defect {defect:.3g} <= tolerance {tol:.3g} (F2 bound + rounding)"
        else:
            verdict = Verdict.REFUTED
            why = f"defect {defect:.3g} > tolerance {tol:.3g} at a certified stationary point"
        out.append(
            FactLayer(
                feat.layer,
                tuple(feat.W.shape),
                verdict,
                rel,
                defect,
                feat.f2_bound,
                tol,
                feat.nfm_norm,
                feat.bfact_rel_error,
                feat.fact_asymmetry,
                why,
            )  # fmt: skip
        )
    return out


def _fact_reason(result: TrainResult, layers: list[FactLayer], certified: bool, be: Backend) -> str:
    worst = max(layer.rel_error for layer in layers)
    if not certified:
        if result.converged:
            why = f"the point was certified only at {result.dps or 'float64'} digits, not {be.dps}"
            fix = f"refine at {be.dps} digits (pass --dps {be.dps} to verify/check)"
        else:
            why, fix = f"training status {result.status.value}: {result.reason}", result.remedy
        return (
            f"INCONCLUSIVE: {why}. Max relative FACT error {worst:.3g} is explained by F2 "
            f"(defect <= ||W|| ||grad_W L_lam|| / lam, bounds "
            + ", ".join(f"{layer.f2_bound:.3g}" for layer in layers)
            + f"). To decide: {fix}."
        )
    if all(layer.verdict is Verdict.NUMERICALLY_CONSISTENT for layer in layers):
        return (
            f"at a certified stationary point ({result.reason}), every layer agrees within "
            f"rounding at {_precision(be)}: max relative FACT error {worst:.3g}"
        )
    bad = [layer.layer for layer in layers if layer.verdict is Verdict.REFUTED]
    return f"layers {bad} exceed the rounding tolerance at a certified stationary point"


def _recheck_fact(check: FactCheck, be: Backend, fn: Formula) -> FactCheck:
    """Re-check a refutation at higher precision (at least twice the digits, >= 40)."""
    result = check.training
    hi = max(40, 2 * be.dps)
    try:
        refined = refine_mp(result, hi)
    except Exception as exc:  # noqa: BLE001 - any failure makes the refutation unconfirmed
        check.verdict = Verdict.INCONCLUSIVE
        check.reason += f"; the re-check at {hi} digits could not run ({exc}), so not REFUTED"
        return check
    hbe = mp_backend(hi)
    layers = _fact_layers(refined, hbe, fn, refined.converged)
    check.recheck = {
        "dps": hi,
        "status": refined.status.value,
        "rel_errors": [layer.rel_error for layer in layers],
    }
    confirmed = refined.converged and all(
        low.verdict is not Verdict.REFUTED or high.verdict is Verdict.REFUTED
        for low, high in zip(check.layers, layers, strict=True)
    )
    if confirmed:
        check.reason += f"; confirmed at {hi} digits after mpmath Newton refinement"
    else:
        check.verdict = Verdict.INCONCLUSIVE
        check.reason += f"; NOT confirmed at {hi} digits (status {refined.status.value})"
        for layer in check.layers:
            if layer.verdict is Verdict.REFUTED:
                layer.verdict = Verdict.INCONCLUSIVE
    return check


# -- NFA ---------------------------------------------------------------------------------------
@dataclass
class NfaLayer:
    """The NFA at one layer: both correlations (N3), exponent, threshold and the verdict."""

    layer: int
    verdict: Verdict
    score: NfaScore
    threshold: float
    tolerance: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            **self.score.to_dict(),
            "threshold": self.threshold,
            "tolerance": self.tolerance,
            "reason": self.reason,
        }


@dataclass
class NfaCheck:
    """N2 (NFM proportional to AGOP^alpha) scored in every requested layer."""

    verdict: Verdict
    reason: str
    layers: list[NfaLayer]
    training: TrainResult
    precision: str
    recheck: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim": "NFA: W^T W proportional to AGOP^alpha (Pearson correlation >= threshold)",
            "tag": "N2",
            "verdict": self.verdict.value,
            "evidence": self.verdict.evidence,
            "reason": self.reason,
            "precision": self.precision,
            "layers": [layer.to_dict() for layer in self.layers],
            "recheck": self.recheck,
            **self.training.to_dict(),
        }

    def to_text(self, training: bool = True) -> str:
        rows = [("layer", "alpha", "Pearson", "cosine", "AGOP", "threshold", "verdict")]
        for x in self.layers:
            sc = x.score
            rows.append((
                str(x.layer), f"{sc.alpha:g}" + ("*" if sc.searched else ""),
                f"{sc.pearson:.6f}", f"{sc.cosine:.6f}",
                "centered" if sc.centered else "uncentered", f"{x.threshold:g}", x.verdict.value,
            ))  # fmt: skip
        head = f"[N2] NFA at {self.precision} (verdict by Pearson; * = best alpha): {self.verdict}"
        lines = [head, _training_line(self.training)] if training else [head]
        return "\n".join([*lines, _table(rows), self.reason])


def _nfa_tolerance(be: Backend, alpha: float, k: int) -> float:
    """Rounding tolerance of a correlation. Why: AGOP eigenvalues carry absolute error
    ~ k u ||AGOP||, and the power maps an error e on a (near-)zero eigenvalue to e^alpha; the
    factor 10 covers the eigensolver's own few-ulp errors."""
    return 10 * (k * be.unit_roundoff) ** min(alpha, 1.0)


def check_nfa(
    result: TrainResult,
    *,
    alpha: float | None = 0.5,
    threshold: float = 0.9,
    layers: Sequence[int] | None = None,
    centered: bool = False,
    grid: Sequence[float] = DEFAULT_ALPHA_GRID,
    dps: int | None = None,
    recheck: bool = True,
) -> NfaCheck:
    """Score the NFA per layer by Pearson correlation (cosine reported too; N3).

    ``alpha=None`` searches ``grid`` for the best exponent. ``layers`` are 1-based (default all).
    """
    if alpha is not None and not (alpha > 0 and alpha < float("inf")):
        raise bad_input("alpha", "be a finite number > 0", alpha, "Pass e.g. 0.5.")
    if not -1 <= threshold <= 1:
        raise bad_input("threshold", "be a correlation in [-1, 1]", threshold, "Pass e.g. 0.9.")
    depth = result.problem.net.depth
    chosen = list(range(1, depth + 1)) if layers is None else list(layers)
    if not chosen or any(not 1 <= layer <= depth for layer in chosen):
        raise bad_input("layers", f"be in 1..{depth}", layers, "Pass e.g. [1].")
    be = _backend(result, dps)
    certified = result.certified_at(be)
    scored = _nfa_layers(result, be, alpha, threshold, chosen, centered, grid, certified)
    check = NfaCheck(
        _worst([s.verdict for s in scored]), "", scored, result, _precision(be)
    )  # fmt: skip
    if check.verdict is Verdict.REFUTED and recheck:
        _recheck_nfa(check, be, alpha, threshold, chosen, centered, grid)
    check.reason = "; ".join(f"layer {s.layer}: {s.reason}" for s in check.layers)
    return check


def _nfa_layers(
    result: TrainResult, be: Backend, alpha: float | None, threshold: float, chosen: list[int],
    centered: bool, grid: Sequence[float], certified: bool,
) -> list[NfaLayer]:  # fmt: skip
    feats = layer_features(result.problem, result.point(be), be)
    net = result.problem.net
    k = result.problem.n + net.depth * max(net.sizes)
    out = []
    for layer in chosen:
        score = nfa_score(feats[layer - 1], alpha, grid=grid, centered=centered, be=be)
        tol = _nfa_tolerance(be, score.alpha, k)
        text = f"Pearson {score.pearson:.6f}, cosine {score.cosine:.6f} at alpha={score.alpha:g}"
        if not certified:
            verdict, why = Verdict.INCONCLUSIVE, f"{text}; not a certified stationary point"
        elif abs(score.pearson - threshold) <= tol:
            verdict, why = Verdict.INCONCLUSIVE, f"{text}; within rounding {tol:.2g} of threshold"
        elif score.pearson >= threshold:
            verdict, why = Verdict.NUMERICALLY_CONSISTENT, f"{text} >= threshold {threshold:g}"
        else:
            verdict, why = Verdict.REFUTED, f"{text} < threshold {threshold:g}"
        out.append(NfaLayer(layer, verdict, score, threshold, tol, why))
    return out


def _recheck_nfa(
    check: NfaCheck, be: Backend, alpha: float | None, threshold: float, chosen: list[int],
    centered: bool, grid: Sequence[float],
) -> None:  # fmt: skip
    hi, error = max(40, 2 * be.dps), ""
    try:
        refined: TrainResult | None = refine_mp(check.training, hi)
    except Exception as exc:  # noqa: BLE001 - any failure makes the refutation unconfirmed
        refined, error = None, str(exc)
    if refined is None or not refined.converged:
        why = error if refined is None else refined.reason
        check.verdict = Verdict.INCONCLUSIVE
        for s in check.layers:
            if s.verdict is Verdict.REFUTED:
                s.verdict = Verdict.INCONCLUSIVE
                s.reason += f"; re-check at {hi} digits failed ({why}), so not REFUTED"
        return
    high = _nfa_layers(refined, mp_backend(hi), alpha, threshold, chosen, centered, grid, True)
    check.recheck = {"dps": hi, "pearson": [s.score.pearson for s in high]}
    for low, hs in zip(check.layers, high, strict=True):
        if low.verdict is Verdict.REFUTED:
            if hs.verdict is Verdict.REFUTED and abs(hs.score.pearson - low.score.pearson) <= (
                low.tolerance
            ):
                low.reason += f"; confirmed at {hi} digits (Pearson {hs.score.pearson:.12f})"
            else:
                low.verdict = Verdict.INCONCLUSIVE
                low.reason += f"; NOT confirmed at {hi} digits (Pearson {hs.score.pearson:.12f})"
    check.verdict = _worst([s.verdict for s in check.layers])


# -- F2 and the report -------------------------------------------------------------------------
def check_f2(result: TrainResult, *, dps: int | None = None) -> tuple[Verdict, float, str]:
    """F2 at ANY point: ||(W^T W - FACT) - W^T grad_W L_lam / lam|| within rounding, every layer.

    Returns (verdict, worst residual relative to its tolerance, reason)."""
    be = _backend(result, dps)
    if not result.problem.lam > 0:
        raise OutsideAssumptionsError(
            f"F2 divides by the weight decay: lam must be > 0; got {result.problem.lam!r}."
        )
    feats = layer_features(result.problem, result.point(be), be)
    ratios = [f.f2_residual / _rounding_tolerance(result, f, be) for f in feats]
    worst = max(ratios)
    verdict = Verdict.NUMERICALLY_CONSISTENT if worst <= 1 else Verdict.REFUTED
    reason = (
        f"F2 residual / rounding tolerance = {worst:.3g} (worst layer) at {_precision(be)}, at a "
        f"point with ||grad L_lam|| = {result.grad_norm:.3g} and FACT relative errors "
        + ", ".join(f"{f.fact_rel_error:.3g}" for f in feats)
    )
    return verdict, worst, reason


def report_entries(quick: bool, seed: int = 0) -> list[ReportEntry]:
    """FACT and NFA checks for ``factcheck report`` (quick: a few seconds; else < ~40 s)."""
    import time

    from verify.network import MLP
    from verify.train import synthetic_problem, train

    entries: list[ReportEntry] = []

    def fact_entry(check: FactCheck, claim: str, theorem: bool, seconds: float) -> None:
        entries.append(
            ReportEntry(
                "FACT",
                claim,
                "F1",
                check.verdict.value,
                check.verdict.evidence,
                check.reason,
                check.precision,
                seconds,
                check.to_text(),
                "",
                check.to_dict(),
                None,
                theorem,
            )  # fmt: skip
        )

    cases: list[tuple[str, tuple[int, ...], str, int | None]] = [
        ("tanh", (4, 8, 2), "mse", None),
        ("tanh", (4, 8, 2), "mse", 40 if quick else 60),
    ]
    if not quick:
        cases += [
            ("gelu", (4, 6, 6, 3), "cross_entropy", None),
            ("sigmoid", (5, 6, 6, 6, 3), "cross_entropy", None),
            ("softplus", (3, 5, 2), "mse", 50),
            ("identity", (4, 5, 5, 3), "mse", 50),  # rotation zero modes: least-squares Newton
            ("tanh", (20, 64, 1), "mse", None),  # 1344 parameters: Newton-MINRES path
        ]
    base = None
    for act, sizes, loss, dps in cases:
        t0 = time.perf_counter()
        problem = synthetic_problem(MLP(sizes, act), 32, loss=loss, lam=1e-2, seed=seed)
        result = train(problem, seed=seed, dps=dps)
        base = base or result
        where = "float64" if dps is None else f"{dps} digits"
        desc = f"{act} MLP {sizes}, {loss}, lam 1e-2, n 32, seed {seed}; {where}"
        fact_entry(check_fact(result), f"FACT in every layer ({desc})", True,
                   time.perf_counter() - t0)  # fmt: skip
    assert base is not None
    for name in ("sign_flipped", "missing_1_over_n"):
        t0 = time.perf_counter()
        planted = check_fact(base, formula=name, recheck=True)
        fact_entry(planted, f"planted false FACT ({name}) must be REFUTED", False,
                   time.perf_counter() - t0)  # fmt: skip
    t0 = time.perf_counter()
    early = train(base.problem, seed=seed, max_iter=5, newton_steps=0, spectrum="none")
    verdict, _, why = check_f2(early)
    entries.append(
        ReportEntry(
            "FACT",
            "F2: W^T W - FACT = W^T grad_W L_lam / lam after 5 L-BFGS steps",
            "F2",
            verdict.value,
            verdict.evidence,
            why,
            "float64",
            time.perf_counter() - t0,
        )  # fmt: skip
    )
    nfa_cases = [("tanh", (4, 8, 2), 0.5), ("identity", (4, 6, 2), None)]
    for act, sizes, alpha in nfa_cases:
        t0 = time.perf_counter()
        problem = synthetic_problem(MLP(sizes, act), 32, lam=1e-2, seed=seed)
        nfa = check_nfa(train(problem, seed=seed), alpha=alpha, threshold=0.9, layers=[1])
        what = f"alpha={alpha}" if alpha is not None else "best alpha over a grid"
        entries.append(
            ReportEntry(
                "NFA",
                f"NFA, layer 1 of a {act} MLP {sizes} ({what}; Pearson >= 0.9)",
                "N2",
                nfa.verdict.value,
                nfa.verdict.evidence,
                nfa.reason,
                nfa.precision,
                time.perf_counter() - t0,
                nfa.to_text(),
                "",
                nfa.to_dict(),
                None,
                False,
            )  # fmt: skip
        )
    return entries
