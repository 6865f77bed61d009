"""Adapter for feature emergence (``factcheck emergence``, verify.emergence; S1-S6).

Each point is one seed of the emergence experiment: :func:`verify.emergence.experiment.run_seed`
with an :class:`~verify.emergence.config.EmergenceConfig` built from the point (the data model of
Shi, Wei and Liang, the paper's two-layer network and schedule, its control on data without the
structure, the fixed-feature baselines, optionally RFM and a certified point), so a sweep over
n_train, width or steps maps where the network's features emerge and where it beats fixed
features. The claims of the experiment are statements over seeds (means and standard errors,
:mod:`verify.emergence.claims`): a single point checks none, so the record's verdict is None;
``factcheck emergence`` gives the verdicts.

Recorded (the network at the end of the schedule): ``test_error``, ``share`` (of W^T W in
span(M_A), S4), the control's ``control_test_error`` and ``control_share``, the best
fixed-feature model's ``baseline_error`` and ``baseline`` (its name), ``advantage`` =
baseline_error - test_error (S6: > 0 where the network beats fixed features), with RFM the
final shares ``nfa_rfm_share`` and ``fact_rfm_share``, with the certified point
``cert_fact_rel_error`` and ``cert_fact_verdict`` (F1 at that point).
"""

from __future__ import annotations

from typing import Any

from verify.emergence.config import EmergenceConfig
from verify.emergence.data import EmergenceModel
from verify.emergence.experiment import run_seed
from verify.emergence.schedule import Schedule

__all__ = ["emergence_point", "validate"]


def _config(p: dict[str, Any]) -> EmergenceConfig:
    """The experiment's own configuration (its validation included) for one point."""
    n_kernel = min(p["kernel_n"], p["n_train"])
    return EmergenceConfig(
        model=EmergenceModel(d=p["d"], D=p["D"], k=p["k"], labels=p["labels"]),
        schedule=Schedule(
            activation=p["activation"], width=p["width"], steps=p["steps"], lam=p["lam"]
        ),
        n_train=p["n_train"],
        n_test=p["n_test"],
        seed=p["seed"],
        seeds=1,
        rf_sizes=(p["rf_size"],),
        kernel_n=(n_kernel,),
        rfm=p["rfm"],
        rfm_n=min(p["rfm_n"], p["n_train"]),
        certified=p["certified"],
        cert_n=min(p["cert_n"], p["n_train"]),
    )


def validate(p: dict[str, Any]) -> None:
    """The experiment's rules (D <= d, k <= D, even width, ...) before anything is submitted."""
    _config(p)


def emergence_point(p: dict[str, Any]) -> dict[str, Any]:
    res = run_seed(_config(p), p["seed"])
    net, ctl, best = res.network.final, res.control.final, res.best_baseline
    values: dict[str, Any] = {
        "test_error": net.test_error,
        "share": net.share,
        "control_test_error": ctl.test_error,
        "control_share": ctl.share,
        "baseline_error": best.test_error,
        "baseline": best.model,
        "advantage": best.test_error - net.test_error,
        "nfa_rfm_share": res.rfm["nfa"].share if "nfa" in res.rfm else None,
        "fact_rfm_share": res.rfm["fact"].share if "fact" in res.rfm else None,
        "cert_fact_rel_error": res.certified.fact_rel_error if res.certified else None,
        "cert_fact_verdict": res.certified.fact_verdict if res.certified else None,
    }
    diverged = " (the network diverged)" if res.network.diverged else ""
    return {
        "verdict": None,
        "reason": f"one seed of the emergence experiment{diverged}; claims are over seeds "
        "(factcheck emergence)",
        "values": values,
    }
