"""The NFA check (N2): Pearson correlation of W^T W and AGOP^alpha per layer, with re-check.

Verdicts: see :mod:`verify.claims.checks`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from theory._errors import bad_input
from theory._verdict import Verdict
from verify.claims.common import _backend, _precision, _table, _training_line, _worst
from verify.claims.features import DEFAULT_ALPHA_GRID, NfaScore, layer_features, nfa_score
from verify.engine.network import Backend, mp_backend
from verify.engine.train import TrainResult, refine_mp

__all__ = ["NOT_RECHECKED", "TRIVIAL_NFA", "NfaCheck", "NfaLayer", "check_nfa", "shown"]

#: how a Pearson below the threshold reads where the NFA is scored but not judged (``verify
#: fact``, the sweep's ``verify-fact``): without the re-check at higher precision it is no
#: refutation (``check_nfa(recheck=False)`` keeps the raw REFUTED for its caller to render)
NOT_RECHECKED = "below threshold (not re-checked)"


def shown(verdict: Verdict, judged: bool) -> str:
    """A verdict as printed: REFUTED reads :data:`NOT_RECHECKED` where the NFA is not judged."""
    return NOT_RECHECKED if verdict is Verdict.REFUTED and not judged else verdict.value


#: the reason of an NFA layer at a trivial stationary point (W^T W = 0 = AGOP)
TRIVIAL_NFA = (
    "trivial stationary point: W^T W = 0 and AGOP = 0 exactly (the layer's weights are all zero),"
    " so the NFA reads 0 = c 0 and its correlation is undefined; nothing is learned here. A "
    "constant loss (one output with cross-entropy) or zero weights without weight decay lead "
    "here: change the loss, the number of outputs or the initialisation"
)


@dataclass
class NfaLayer:
    """The NFA at one layer: both correlations (N3), exponent, threshold and the verdict."""

    layer: int
    verdict: Verdict
    score: NfaScore
    threshold: float
    tolerance: float
    reason: str

    # pragma: no mutate start  # rendering and file output, not a formula or a verdict rule (README)
    def to_dict(self, judged: bool = True) -> dict[str, Any]:
        return {
            "verdict": shown(self.verdict, judged),
            **self.score.to_dict(),
            "threshold": self.threshold,
            "tolerance": self.tolerance,
            "reason": self.reason,
        }

    # pragma: no mutate end


@dataclass
class NfaCheck:
    """N2 (NFM proportional to AGOP^alpha) scored in every requested layer."""

    verdict: Verdict
    reason: str
    layers: list[NfaLayer]
    training: TrainResult
    precision: str
    recheck: dict[str, Any] = field(default_factory=dict)

    # pragma: no mutate start  # rendering and file output, not a formula or a verdict rule (README)
    def to_dict(self) -> dict[str, Any]:
        return {
            "claim": "NFA: W^T W proportional to AGOP^alpha (Pearson correlation >= threshold)",
            "tag": "N2",
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
        """Some scored layer sits at a trivial stationary point (W^T W = 0 = AGOP)."""
        return any(x.score.trivial for x in self.layers)

    # pragma: no mutate start  # rendering and file output, not a formula or a verdict rule (README)
    def to_text(self, training: bool = True, judged: bool = True) -> str:
        """The table; ``judged=False``: scored only (``verify fact``), a refutation not claimed."""
        rows = [("layer", "alpha", "Pearson", "cosine", "AGOP", "threshold", "verdict")]
        for x in self.layers:
            sc = x.score
            rows.append((
                str(x.layer), f"{sc.alpha:g}" + ("*" if sc.searched else ""),
                f"{sc.pearson:.6f}", f"{sc.cosine:.6f}",
                "centered" if sc.centered else "uncentered", f"{x.threshold:g}",
                shown(x.verdict, judged),
            ))  # fmt: skip
        head = f"[N2] NFA at {self.precision} (verdict by Pearson; * = best alpha): {self.verdict}"
        if not judged:
            head = (
                f"[N2] NFA at {self.precision}, scored, not judged here (Pearson; * = best "
                "alpha; `factcheck verify nfa` judges it, re-checking a refutation at higher "
                f"precision): {shown(self.verdict, judged)}"
            )
        lines = [head, _training_line(self.training)] if training else [head]
        return "\n".join([*lines, _table(rows), self.reason])

    # pragma: no mutate end


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
        if not math.isfinite(score.pearson):
            verdict, why = (
                Verdict.INCONCLUSIVE,
                ("W^T W or the AGOP is not finite (float64 overflowed): no correlation to score"),
            )
        elif not certified:
            verdict, why = Verdict.INCONCLUSIVE, f"{text}; not a certified stationary point"
        elif score.trivial:
            verdict, why = Verdict.INCONCLUSIVE, TRIVIAL_NFA
        elif not score.defined:
            verdict, why = Verdict.INCONCLUSIVE, (
                f"{text}; the Pearson correlation is undefined (0/0: W^T W or AGOP^alpha has all "
                "entries equal), so it cannot decide the NFA here"
            )  # fmt: skip
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
