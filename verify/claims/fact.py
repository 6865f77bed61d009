"""The FACT check (F1) at a trained point, its planted false variants, and F2 at any point.

Verdicts: see :mod:`verify.claims.checks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory._errors import OutsideAssumptionsError, bad_input
from theory._verdict import Verdict
from verify.claims.common import _backend, _precision, _table, _training_line, _worst
from verify.claims.defect_bounds import FactBound, fact_bounds
from verify.claims.features import LayerFeatures, fro, layer_features
from verify.engine.network import Array, Backend, mp_backend
from verify.engine.train import TrainResult, refine_mp

__all__ = [
    "MAX_TOLERANCE_REL",
    "PLANTED_FACT",
    "FactCheck",
    "FactLayer",
    "Formula",
    "check_f2",
    "check_fact",
]

#: the largest tolerance, relative to ||W^T W||_F, with which a layer can be called consistent.
#: Why 1e-3: NUMERICALLY_CONSISTENT states agreement to stated digits, and a tolerance above
#: 1e-3 states fewer than three, which no reader would call agreement (every certified float64
#: point in the test suite resolves >= 7 digits); above it float64 cannot resolve FACT at this
#: point (badly scaled data, tiny lam), and the verdict is INCONCLUSIVE.
MAX_TOLERANCE_REL = 1e-3


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
    f2_allowance: float = float("nan")  # F2 at the certified gradient (defect_bounds.py)
    rounding: float = float("nan")  # bound on the rounding error of the computed defect
    trivial: bool = False  # W = 0 exactly: W^T W = 0 = FACT, true but vacuous

    # pragma: no mutate start  # rendering and file output, not a formula or a verdict rule (README)
    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "trivial": self.trivial,
            "shape": list(self.shape),
            "verdict": self.verdict.value,
            "fact_rel_error": self.rel_error,
            "fact_defect": self.defect,
            "fact_bound": self.f2_bound,
            "fact_bound_rel": self.f2_bound / self.nfm_norm if self.nfm_norm else None,
            "tolerance": self.tolerance,
            "bfact_rel_error": self.bfact_rel_error,
            "fact_asymmetry": self.asymmetry,
            "f2_allowance": self.f2_allowance,
            "rounding_bound": self.rounding,
            "reason": self.reason,
        }

    # pragma: no mutate end


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

    # pragma: no mutate start  # rendering and file output, not a formula or a verdict rule (README)
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
            "trivial": self.trivial,
            "recheck": self.recheck,
            **self.training.to_dict(),
        }

    # pragma: no mutate end

    @property
    def trivial(self) -> bool:
        """Some layer sits at a trivial stationary point (its weights all zero)."""
        return any(x.trivial for x in self.layers)

    # pragma: no mutate start  # rendering and file output, not a formula or a verdict rule (README)
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

    # pragma: no mutate end


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
    point = result.point(be)
    bounds = fact_bounds(result.problem, point, be)
    out = []
    for feat, bound in zip(layer_features(result.problem, point, be), bounds, strict=True):
        with be.working():
            rhs = fn(feat, result.problem.n)
            defect = float(fro(feat.nfm - rhs, be))
        rel = defect / feat.nfm_norm if feat.nfm_norm else defect
        tol = bound.tolerance  # F2 at the certified gradient + rounding (defect_bounds.py)
        verdict, why = _layer_verdict(feat, bound, defect, tol, certified)
        trivial = feat.nfm_norm == 0
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
                bound.f2_allowance,
                bound.defect_rounding,
                trivial,
            )  # fmt: skip
        )
    return out


def _layer_verdict(
    feat: LayerFeatures, bound: FactBound, defect: float, tol: float, certified: bool
) -> tuple[Verdict, str]:
    numbers = (defect, feat.fact_defect, feat.nfm_norm, feat.f2_bound, tol)
    if not all(np.isfinite(x) for x in numbers):
        return Verdict.INCONCLUSIVE, (
            "non-finite values in the check (overflow): defect, ||W^T W||, F2 bound, tolerance = "
            + ", ".join(f"{x:.3g}" for x in numbers[1:])
        )
    if not certified:
        return Verdict.INCONCLUSIVE, (
            f"not a certified stationary point; F2 bounds the defect by "
            f"||W|| ||grad_W L||/lam = {feat.f2_bound:.3g} (measured {defect:.3g})"
        )
    if not bound.consistent(feat.fact_defect):  # the F2 consistency guard (defect_bounds.py)
        return Verdict.INCONCLUSIVE, (
            f"F2 consistency guard: the FACT defect {feat.fact_defect:.3g} exceeds the "
            f"{tol:.3g} that F2 allows at the certified gradient, so the gradient is larger "
            "than certified: not treated as a stationary point"
        )
    if feat.nfm_norm == 0 and defect == 0:  # W = 0 exactly: exact, whatever the tolerance
        return Verdict.NUMERICALLY_CONSISTENT, (
            "trivially: W = 0, so W^T W = 0 = FACT (a trivial stationary point)"
        )
    if not tol <= MAX_TOLERANCE_REL * feat.nfm_norm:
        return Verdict.INCONCLUSIVE, (
            f"tolerance {tol:.3g} (F2 at the certified gradient + rounding) exceeds "
            f"{MAX_TOLERANCE_REL:g} ||W^T W|| = {MAX_TOLERANCE_REL * feat.nfm_norm:.3g}: this "
            "precision cannot resolve FACT here"
        )
    if defect <= tol:
        return Verdict.NUMERICALLY_CONSISTENT, (
            f"defect {defect:.3g} <= tolerance {tol:.3g} (F2 at the certified gradient + rounding)"
        )
    return Verdict.REFUTED, f"defect {defect:.3g} > tolerance {tol:.3g} at a certified point"


# pragma: no mutate start  # rendering and file output, not a formula or a verdict rule (README)
def _fact_reason(result: TrainResult, layers: list[FactLayer], certified: bool, be: Backend) -> str:
    worst = max(layer.rel_error for layer in layers)
    undecided = [x for x in layers if x.verdict is Verdict.INCONCLUSIVE]
    if certified and undecided:
        hint = result.remedy or "standardise the data, or check at higher precision (--dps)"
        return (
            f"INCONCLUSIVE at a point certified stationary ({result.reason}): "
            + "; ".join(f"layer {x.layer}: {x.reason}" for x in undecided)
            + f". To decide: {hint}."
        )
    if not certified:
        if result.converged:
            why = f"the point was certified only at {result.dps or 'float64'} digits, not {be.dps}"
            fix = f"refine at {be.dps} digits (pass --dps {be.dps} to verify/check)"
        else:
            why, fix = f"training status {result.status.value}: {result.reason}", result.remedy
        if not np.isfinite(worst):  # overflow: no number to explain
            return f"INCONCLUSIVE: {why}; the FACT errors are not finite. To decide: {fix}."
        return (
            f"INCONCLUSIVE: {why}. Max relative FACT error {worst:.3g} is explained by F2 "
            f"(defect <= ||W|| ||grad_W L_lam|| / lam, bounds "
            + ", ".join(f"{layer.f2_bound:.3g}" for layer in layers)
            + f"). To decide: {fix}."
        )
    if all(layer.verdict is Verdict.NUMERICALLY_CONSISTENT for layer in layers):
        trivial = [layer.layer for layer in layers if layer.trivial]
        note = (
            f"; TRIVIAL stationary point: layers {trivial} have all weights zero, where FACT "
            "holds as 0 = 0 and says nothing"
            if trivial
            else ""
        )
        return (
            f"at a certified stationary point ({result.reason}), every layer agrees within "
            f"rounding at {_precision(be)}: max relative FACT error {worst:.3g}{note}"
        )
    bad = [layer.layer for layer in layers if layer.verdict is Verdict.REFUTED]
    return f"layers {bad} exceed the rounding tolerance at a certified stationary point"


# pragma: no mutate end


def _recheck_fact(check: FactCheck, be: Backend, fn: Formula) -> FactCheck:
    """Re-check a refutation at higher precision (at least twice the digits, >= 40)."""
    result = check.training
    hi = max(40, 2 * be.dps)
    try:
        refined = refine_mp(result, hi)
    except Exception as exc:  # noqa: BLE001 - any failure makes the refutation unconfirmed
        check.verdict = Verdict.INCONCLUSIVE
        check.reason += f"; the re-check at {hi} digits could not run ({exc}), so not REFUTED"
        for layer in check.layers:
            if layer.verdict is Verdict.REFUTED:
                layer.verdict = Verdict.INCONCLUSIVE
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


def check_f2(result: TrainResult, *, dps: int | None = None) -> tuple[Verdict, float, str]:
    """F2 at ANY point: ||(W^T W - FACT) - W^T grad_W L_lam / lam|| within rounding, every layer.

    Returns (verdict, worst residual relative to its tolerance, reason)."""
    be = _backend(result, dps)
    if not result.problem.lam > 0:
        raise OutsideAssumptionsError(
            f"F2 divides by the weight decay: lam must be > 0; got {result.problem.lam!r}."
        )
    point = result.point(be)
    feats = layer_features(result.problem, point, be)
    bounds = fact_bounds(result.problem, point, be)
    ratios = [f.f2_residual / b.f2_residual_rounding for f, b in zip(feats, bounds, strict=True)]
    worst = max(ratios)
    if not np.isfinite(worst):
        verdict = Verdict.INCONCLUSIVE  # an overflow decides nothing (nor refutes an identity)
    else:
        verdict = Verdict.NUMERICALLY_CONSISTENT if worst <= 1 else Verdict.REFUTED
    reason = (
        f"F2 residual / rounding tolerance = {worst:.3g} (worst layer) at {_precision(be)}, at a "
        f"point with ||grad L_lam|| = {result.grad_norm:.3g} and FACT relative errors "
        + ", ".join(f"{f.fact_rel_error:.3g}" for f in feats)
    )
    return verdict, worst, reason
