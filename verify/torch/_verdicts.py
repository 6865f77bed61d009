"""Verdicts for a torch model, by the engine's rules (:mod:`verify.claims.checks`).

FACT (F1), per layer:

- the point is not certified stationary (:mod:`verify.torch._stationarity`): INCONCLUSIVE, the
  defect explained by F2 (||W^T W - FACT|| <= ||W|| ||grad_W L_lam|| / lam), with what to change;
  but if the model was trained by AdamW, OUTSIDE_HYPOTHESIS: its fixed points satisfy
  m / (sqrt(v) + eps) = -lam W, not grad L_lam = 0, so FACT makes no claim there (REFERENCE.md,
  optimizer caveat). A certified point is checked whatever the optimizer was;
- certified and the defect within F2 bound + rounding: NUMERICALLY_CONSISTENT;
- certified and above: REFUTED only if confirmed at higher precision. Float64 is torch's limit,
  so for an MLP of the engine's kind the engine re-checks the same point (Newton refinement and
  re-evaluation at >= 40 digits, :func:`verify.claims.checks.check_fact`); if the engine does not
  confirm the violation, or for any other model, the layer is INCONCLUSIVE and says why.

The NFA (N2), per layer: Pearson correlation of NFM and AGOP^alpha against the threshold, with
the engine's rounding tolerance; INCONCLUSIVE when not certified or within rounding of the
threshold; below it, REFUTED only after the same engine re-check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from theory._errors import bad_input
from theory._records import Verdict
from verify.claims.common import _worst
from verify.torch._records import OUTSIDE_HYPOTHESIS, LayerReport
from verify.torch._stationarity import Stationarity

__all__ = ["OPTIMIZERS", "Recheck", "assign_fact", "assign_nfa", "engine_recheck", "optimizer_kind"]

#: optimizer names accepted by feature_report (``adamw`` = decoupled weight decay)
OPTIMIZERS = ("unknown", "gd", "sgd", "adam", "lbfgs", "adamw")

#: (claim "fact" or "nfa", layer names) -> {name: (verdict, reason)} from a higher-precision
#: re-check, or None when the model has no engine twin
Recheck = Callable[[str, list[str]], dict[str, tuple[Verdict, str]]]


def optimizer_kind(optimizer: Any) -> str:
    """The name of the optimizer that trained the model: a name of :data:`OPTIMIZERS` or a
    ``torch.optim.Optimizer`` (AdamW, or Adam with decoupled_weight_decay, is ``adamw``)."""
    if optimizer is None:
        return "unknown"
    if isinstance(optimizer, str):
        name = optimizer.lower()
        if name not in OPTIMIZERS:
            raise bad_input(
                "optimizer", f"be one of {list(OPTIMIZERS)} or a torch.optim.Optimizer",
                optimizer, "Name the optimizer that trained the model (AdamW: 'adamw').",
            )  # fmt: skip
        return name
    if isinstance(optimizer, torch.optim.Optimizer):
        if isinstance(optimizer, torch.optim.AdamW) or optimizer.defaults.get(
            "decoupled_weight_decay", False
        ):
            return "adamw"
        return type(optimizer).__name__.lower()
    raise bad_input(
        "optimizer", "be a name or a torch.optim.Optimizer", type(optimizer).__name__,
        "Pass e.g. optimizer='sgd'.",
    )  # fmt: skip


def assign_fact(
    layers: list[LayerReport], stat: Stationarity, optimizer: str, recheck: Recheck | None
) -> tuple[str, str]:
    """Set each layer's FACT outcome; return the report's ``(outcome, reason)``."""
    bounds = ", ".join(f"{x.f2_bound:.3g}" for x in layers)
    worst = max(x.fact_rel_error for x in layers)
    ratio = stat.grad_norm / stat.floor if stat.floor > 0 else float("inf")
    where = (
        f"||grad L_lam|| = {stat.grad_norm:.3g} is {ratio:.3g} times its rounding floor "
        f"{stat.floor:.3g}"
    )
    if not stat.certified:
        outside = optimizer == "adamw"
        for x in layers:
            why = (
                f"not a certified stationary point; F2 bounds the defect by ||W|| "
                f"||grad_W L_lam||/lam = {x.f2_bound:.3g} (measured {x.defect:.3g})"
            )
            x.fact_verdict = None if outside else Verdict.INCONCLUSIVE
            x.fact_outcome = OUTSIDE_HYPOTHESIS if outside else Verdict.INCONCLUSIVE.value
            x.fact_reason = why
        f2 = (
            f"Max relative FACT error {worst:.3g}; F2 (W^T W - FACT = W^T grad_W L_lam / lam, "
            f"exact at any point) bounds the defects by {bounds}"
        )
        if outside:
            return OUTSIDE_HYPOTHESIS, (
                f"OUTSIDE_HYPOTHESIS: trained with AdamW (decoupled weight decay), whose fixed "
                f"points satisfy m/(sqrt(v)+eps) = -lam W, not grad L_lam = 0; here {where}. "
                f"FACT (F1) assumes a stationary point of L_lam and makes no claim at this point. "
                f"{f2}. polish() moves the weights to a stationary point of L_lam (a different "
                "point), where FACT applies."
            )
        hint = ""
        # why 0.5 (presentation only, no verdict depends on it): above it the decay term is
        # the larger part of the residual gradient
        if stat.decay_alignment > 0.5:
            hint = (
                f" The residual gradient is aligned with the decay term lam * theta (cosine "
                f"{stat.decay_alignment:.3f}): the data gradient does not balance the decay, as "
                "at a fixed point of decoupled decay (AdamW) or with a lam other than the one "
                "used in training."
            )
        return Verdict.INCONCLUSIVE.value, (
            f"INCONCLUSIVE: the point is not stationary: {where}. {f2}. To decide: polish the "
            "weights (verify.torch.polish, or factcheck check-torch --polish), or train longer "
            "with the L2 term in the gradient (SGD/Adam weight_decay), not decoupled AdamW "
            f"decay.{hint}"
        )
    suspect = []
    for x in layers:
        if x.defect <= x.tolerance:
            x.fact_verdict = Verdict.NUMERICALLY_CONSISTENT
            x.fact_reason = (
                f"defect {x.defect:.3g} <= tolerance {x.tolerance:.3g} (F2 bound + rounding)"
            )
        else:
            suspect.append(x)
            x.fact_verdict = Verdict.INCONCLUSIVE
            x.fact_reason = (
                f"defect {x.defect:.3g} > tolerance {x.tolerance:.3g} at a certified float64 "
                "point; not re-checked at higher precision (only MLPs of the engine's kind can "
                "be: save_runfile, then factcheck check --dps 50), so not REFUTED"
            )
    _apply_recheck("fact", suspect, recheck)
    for x in layers:
        assert x.fact_verdict is not None
        x.fact_outcome = x.fact_verdict.value
    verdict = _worst([x.fact_verdict for x in layers if x.fact_verdict is not None])
    if verdict is Verdict.NUMERICALLY_CONSISTENT:
        reason = (
            f"at a certified stationary point (||grad L_lam|| = {stat.grad_norm:.3g} <= floor "
            f"{stat.floor:.3g}), every layer agrees within F2 bound + rounding in float64: max "
            f"relative FACT error {worst:.3g}"
        )
    else:
        reason = "; ".join(f"{x.name}: {x.fact_reason}" for x in suspect)
    return verdict.value, reason


def assign_nfa(
    layers: list[LayerReport], stat: Stationarity, threshold: float, recheck: Recheck | None
) -> Verdict:
    """Set each layer's NFA verdict (module docstring); return the worst."""
    suspect = []
    for x in layers:
        text = f"Pearson {x.pearson:.6f}, cosine {x.cosine:.6f} at alpha={x.alpha:g}"
        if not stat.certified:
            x.nfa_verdict, x.nfa_reason = (
                Verdict.INCONCLUSIVE, f"{text}; not a certified stationary point"
            )  # fmt: skip
        elif abs(x.pearson - threshold) <= x.nfa_tolerance:
            x.nfa_verdict = Verdict.INCONCLUSIVE
            x.nfa_reason = f"{text}; within rounding {x.nfa_tolerance:.2g} of threshold"
        elif x.pearson >= threshold:
            x.nfa_verdict = Verdict.NUMERICALLY_CONSISTENT
            x.nfa_reason = f"{text} >= threshold {threshold:g}"
        else:
            suspect.append(x)
            x.nfa_verdict = Verdict.INCONCLUSIVE
            x.nfa_reason = (
                f"{text} < threshold {threshold:g} at a certified float64 point; not re-checked "
                "at higher precision (only MLPs of the engine's kind can be), so not REFUTED"
            )
    _apply_recheck("nfa", suspect, recheck)
    return _worst([x.nfa_verdict for x in layers])


def _apply_recheck(claim: str, suspect: list[LayerReport], recheck: Recheck | None) -> None:
    if not suspect or recheck is None:
        return
    results = recheck(claim, [x.name for x in suspect])
    for x in suspect:
        verdict, why = results[x.name]
        if verdict is Verdict.REFUTED:
            outcome, note = Verdict.REFUTED, why
        else:  # the engine does not confirm it: a float64 artefact or an error, never a verdict
            outcome, note = Verdict.INCONCLUSIVE, f"NOT confirmed ({verdict.value}): {why}"
        if claim == "fact":
            x.fact_verdict, x.fact_reason = outcome, f"{x.fact_reason.split(';')[0]}; {note}"
        else:
            x.nfa_verdict, x.nfa_reason = outcome, f"{x.nfa_reason.split(';')[0]}; {note}"


def engine_recheck(twin: tuple[Any, Any, list[str]], alpha: float, threshold: float) -> Recheck:
    """A :data:`Recheck` by the engine on the same point (problem, theta, Linear names)."""
    from verify.claims.checks import check_fact, check_nfa
    from verify.engine.train import evaluate

    problem, theta, names = twin

    def run(claim: str, layer_names: list[str]) -> dict[str, tuple[Verdict, str]]:
        result = evaluate(problem, theta)
        idx = [names.index(name) + 1 for name in layer_names]
        if claim == "fact":
            fc = check_fact(result)
            got = [fc.layers[i - 1] for i in idx]
            return {
                name: (g.verdict, f"engine re-check ({fc.precision}): {g.reason}; {fc.reason}")
                for name, g in zip(layer_names, got, strict=True)
            }
        nc = check_nfa(result, alpha=alpha, threshold=threshold, layers=idx)
        return {
            name: (g.verdict, f"engine re-check: {g.reason}")
            for name, g in zip(layer_names, nc.layers, strict=True)
        }

    return run
