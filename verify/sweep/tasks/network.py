"""Adapters for trained networks: ``factcheck verify fact``/``nfa`` and FACT along training.

- :func:`fact_point`, :func:`nfa_point`: exactly what ``factcheck verify fact`` / ``verify nfa``
  do at one point: a synthetic problem (verify.engine.train.synthetic_problem), training to a
  certified stationary point (verify.engine.train.train), then verify.claims.checks.check_fact
  (F1, with F2 as the explanation off convergence) and check_nfa (N2, Pearson decides), every
  refutation of the point's verdict re-checked at higher precision. The record's verdict is the
  FACT verdict for ``verify-fact`` and the NFA verdict for ``verify-nfa``; the other check's is
  a value. In ``verify-fact`` the NFA is scored as ``factcheck verify fact`` scores it, without
  the re-check (in mpmath at 40 digits: minutes for a network of a thousand parameters), so a
  Pearson below the threshold is recorded as "below threshold (not re-checked)", never REFUTED;
  sweep ``verify-nfa`` for certified NFA verdicts. The Hessian spectrum at the end point (its
smallest eigenvalue and whether the point is a local minimum or a saddle) is computed only with
``hessian = true``: for a thousand parameters it costs as much as the training.
- :func:`gd_point`: the FACT defect after a number of training iterations, for full-batch
  gradient descent with the L2 term in the gradient and constant step 1/||H(theta_0)|| (the
  papers' protocol, as in benchmarks/bench_engine.py) or for certified training with that many
  L-BFGS iterations (then Newton). The end point goes through verify.engine.train.evaluate and
  check_fact, so an uncertified point is INCONCLUSIVE with the F2 explanation (its defect is a
  rescaled gradient: ||W^T W - FACT|| <= ||W|| ||grad_W L_lam|| / lam), never REFUTED.

Recorded numbers (the worst layer where there are several): ``fact_rel_error`` =
max_l ||W_l^T W_l - FACT_l||_F / ||W_l^T W_l||_F; ``f2_bound_rel`` the F2 bound over the same
norm; ``pearson``/``cosine`` the NFA correlations (N3) of the layer with the lowest Pearson,
``nfa_violation`` = 1 - pearson; ``certified`` 1 or 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from theory._errors import bad_input
from theory._verdict import Verdict
from verify.claims.checks import FactCheck, NfaCheck, check_fact, check_nfa
from verify.claims.features import layer_features
from verify.claims.nfa import shown
from verify.engine.network import MLP, Problem, gradient
from verify.engine.train import TrainResult, evaluate, hessian_norm, synthetic_problem, train

__all__ = ["fact_point", "gd_point", "nfa_point", "validate_gd"]


def _problem(p: dict[str, Any]) -> Problem:
    sizes = (p["d"], *[p["width"]] * (p["depth"] - 1), p["outputs"])
    net = MLP(sizes, p["activation"], p["bias"])
    return synthetic_problem(net, p["n"], loss=p["loss"], lam=p["lam"], seed=p["seed"])


def _train(p: dict[str, Any]) -> TrainResult:
    spectrum = "auto" if p["hessian"] else "none"
    return train(_problem(p), seed=p["seed"], max_iter=p["max_iter"], spectrum=spectrum)


def _alpha(p: dict[str, Any]) -> float | None:
    return None if p["alpha"] == "best" else float(p["alpha"])


def _values(
    result: TrainResult, fact: FactCheck | None, nfa: NfaCheck, nfa_rechecked: bool = True
) -> dict[str, Any]:
    nfa_verdict = shown(nfa.verdict, nfa_rechecked)
    out: dict[str, Any] = {
        "grad_norm": result.grad_norm,
        "certified": 1 if result.converged else 0,
        "iterations": result.iterations,
        "status": result.status.value,
        "fact_verdict": fact.verdict.value if fact else "not applicable: lam = 0",
        "nfa_verdict": nfa_verdict,
    }
    if result.hessian is not None:
        out.update(hessian_kind=result.hessian.kind, hessian_min_eig=result.hessian.min_eig)
    if fact is not None:
        out["fact_rel_error"] = max(x.rel_error for x in fact.layers)
        out["f2_bound_rel"] = max(x.f2_bound / x.nfm_norm for x in fact.layers if x.nfm_norm)
        out["bfact_rel_error"] = max(x.bfact_rel_error for x in fact.layers)
    if nfa.layers:
        worst = min(nfa.layers, key=lambda x: x.score.pearson)
        out.update(
            pearson=worst.score.pearson,
            cosine=worst.score.cosine,
            alpha_used=worst.score.alpha,
            nfa_violation=1.0 - worst.score.pearson,
        )
    return out


def fact_point(p: dict[str, Any]) -> dict[str, Any]:
    """``factcheck verify fact`` at one point; the verdict is FACT's (F1)."""
    result = _train(p)
    fact = check_fact(result)
    nfa = check_nfa(result, alpha=_alpha(p), threshold=p["threshold"], recheck=False)
    return {
        "verdict": fact.verdict.value,
        "reason": fact.reason,
        "values": _values(result, fact, nfa, nfa_rechecked=False),
    }


def nfa_point(p: dict[str, Any]) -> dict[str, Any]:
    """``factcheck verify nfa`` at one point; the verdict is the NFA's (N2), re-checked."""
    result = _train(p)
    nfa = check_nfa(result, alpha=_alpha(p), threshold=p["threshold"])
    fact = check_fact(result) if result.problem.lam > 0 else None
    return {
        "verdict": nfa.verdict.value,
        "reason": nfa.reason,
        "values": _values(result, fact, nfa),
    }


def validate_gd(p: dict[str, Any]) -> None:
    from verify.sweep.tasks.limits import network

    network(p)
    if p["optimizer"] == "certified" and p["iters"] < 1:
        raise bad_input(
            "parameter 'iters'",
            "be >= 1 for optimizer 'certified' (L-BFGS iterations)",
            p["iters"],
            "Pass iters = 1 or more.",
        )


def gd_point(p: dict[str, Any]) -> dict[str, Any]:
    """FACT (F1, F2) after ``iters`` steps of gradient descent or of certified training."""
    problem = _problem(p)
    if p["optimizer"] == "certified":
        result = train(problem, seed=p["seed"], max_iter=p["iters"], spectrum="none")
        steps = result.iterations + result.newton_steps
    else:
        theta = problem.net.init(p["seed"])
        step = 1.0 / hessian_norm(problem, theta)  # the papers' protocol (module docstring)
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(p["iters"]):
                theta = theta - step * gradient(problem, theta)[1]
        if not np.all(np.isfinite(theta)):
            return {
                "verdict": Verdict.INCONCLUSIVE.value,
                "values": {"steps": p["iters"], "certified": 0, "status": "diverged"},
                "reason": f"gradient descent diverged (step {step:.3g})",
            }
        result = evaluate(problem, theta, spectrum="none")
        steps = p["iters"]
    fact = check_fact(result)
    feats = layer_features(problem, result.theta)
    return {
        "verdict": fact.verdict.value,
        "reason": fact.reason,
        "values": {
            "fact_rel_error": max(f.fact_rel_error for f in feats),
            "f2_bound_rel": max(f.f2_bound / f.nfm_norm for f in feats if f.nfm_norm),
            "grad_norm": result.grad_norm,
            "certified": 1 if result.converged else 0,
            "steps": steps,
            "status": result.status.value,
        },
    }
