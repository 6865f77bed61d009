"""Adapters for Recursive Feature Machines: sparse parity at one n, modular addition.

Each point is one call of the experiment behind ``factcheck rfm parity`` / ``rfm modular``
(verify.rfm.experiments.run_parity with a single sample size and method, run_modular), so a sweep
over n and the method maps the sparse-parity phase transition of NFA-RFM against FACT-RFM
(REFERENCE section 5). These are measurements, not checks of a claim: the record's verdict is
None.

run_parity draws the hidden coordinates, the test set and the training set from one generator
seeded by ``seed``, training rows last, so for one seed every n shares the hidden coordinates and
test set, and a smaller training set is a prefix of a larger one (nested data across the sweep).
"""

from __future__ import annotations

from typing import Any

from verify.rfm.experiments import run_modular, run_parity

__all__ = ["modular_point", "parity_point"]


def parity_point(p: dict[str, Any]) -> dict[str, Any]:
    res = run_parity(
        d=p["d"],
        k=p["k"],
        n_values=[p["n"]],
        methods=[p["method"]],
        iters=p["iters"],
        bandwidth=p["bandwidth"],
        ridge=p["ridge"],
        n_test=p["n_test"],
        seed=p["seed"],
    )
    m = p["method"]
    return {
        "verdict": None,
        "reason": f"hidden coordinates {res.hidden}",
        "values": {
            "test_acc": res.test_acc[m][0],
            "train_acc": res.train_acc[m][0],
            "hidden_trace_share": res.hidden_trace_share[m][0],
            "top_eigvec_hidden_mass": res.top_eigvec_hidden_mass[m][0],
        },
    }


def modular_point(p: dict[str, Any]) -> dict[str, Any]:
    res = run_modular(
        p=p["p"],
        train_fraction=p["train_fraction"],
        method=p["method"],
        iters=p["iters"],
        bandwidth=p["bandwidth"],
        ridge=p["ridge"],
        s=p["s"],
        centered=p["centered"],
        seed=p["seed"],
    )
    d = res.to_dict()
    return {
        "verdict": None,
        "reason": f"{d['settings']['n_train']} training pairs of {p['p'] ** 2}",
        "values": {
            "test_acc": d["final_test_acc"],
            "train_acc": res.train_acc[-1],
            "first_iter_test_acc_ge_0.9": d["first_iter_test_acc_ge_0.9"],
            "circulant_share": res.circulant_overall[-1],
        },
    }
