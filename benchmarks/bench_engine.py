"""Benchmarks of the verification engine (run on demand: ``python benchmarks/bench_engine.py``).

1. Against the papers' protocol: full-batch gradient descent with the L2 term in the gradient
   (step 1/||H||, the largest stable constant step), on the same network and data as target (a):
   FACT relative error after the engine's wall time, and time to reach 1e-6 and 1e-12.
2. Speed targets:
   (a) 2-layer tanh MLP, d=20, width 64, n=256, lam=1e-3: ||grad|| <= 1e-12 and FACT relative
       error <= 1e-10 in under 2 s;
   (b) 50-digit verification (||grad|| <= 1e-45) of a network with <= 100 parameters in < 30 s;
   (c) ~100,000 parameters (d=100, width 300, depth 3, n=2000): FACT relative error <= 1e-8 in
       under 60 s with memory under 2 GiB (Newton-MINRES on Hessian-vector products).
Each target runs in its own subprocess so that its peak memory (ru_maxrss) is its own.
Not collected by pytest (the file name does not start with ``test_``).
"""

from __future__ import annotations

from verify.base.blas import set_blas_threads

# one BLAS thread, as `factcheck` and the tests (gradient of target (c): 52 ms on one thread,
# 138 ms on two); before NumPy loads; an explicit environment setting wins
set_blas_threads(1)

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from verify.claims.features import layer_features  # noqa: E402
from verify.engine.network import MLP, Problem, backprop  # noqa: E402
from verify.engine.train import hessian_norm, synthetic_problem, train  # noqa: E402


def _fact_rel(problem: Problem, theta: np.ndarray) -> float:
    """Max over layers of ||W^T W - FACT||_F / ||W^T W||_F (F1), without the AGOP."""
    bp = backprop(problem, theta)
    worst = 0.0
    for (w, _), gh, h in zip(bp.params, bp.grad_h, bp.hs, strict=True):
        nfm = w.T @ w
        fact = -(gh.T @ h) / (problem.n * problem.lam)
        worst = max(worst, float(np.linalg.norm(nfm - fact) / np.linalg.norm(nfm)))
    return worst


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def problem_a() -> Problem:
    return synthetic_problem(MLP((20, 64, 1), "tanh"), 256, lam=1e-3, seed=0)


def target_a() -> dict[str, Any]:
    problem = problem_a()
    t0 = time.perf_counter()
    result = train(problem, seed=0, spectrum="none")
    seconds = time.perf_counter() - t0
    rel = max(f.fact_rel_error for f in layer_features(problem, result.theta))
    ok = result.grad_norm <= 1e-12 and rel <= 1e-10 and seconds < 2
    return {
        "target": "(a) tanh d=20 m=64 n=256 lam=1e-3",
        "params": problem.net.n_params,
        "seconds": seconds,
        "grad_norm": result.grad_norm,
        "fact_rel": rel,
        "status": result.status.value,
        "met": ok,
        "goal": "grad<=1e-12, FACT<=1e-10, <2 s",
        "mib": _peak_mib(),
    }


def target_b() -> dict[str, Any]:
    problem = synthetic_problem(MLP((4, 10, 2), "tanh", bias=True), 32, lam=1e-2, seed=0)
    t0 = time.perf_counter()
    result = train(problem, seed=0, dps=50, spectrum="none")
    seconds = time.perf_counter() - t0
    from verify.engine.network import mp_backend

    feats = layer_features(problem, result.theta_mp, mp_backend(50))
    rel = max(f.fact_rel_error for f in feats)
    gn = result.grad_norm_mp if result.grad_norm_mp is not None else float("nan")
    return {
        "target": "(b) 50 digits, tanh (4,10,2)+bias",
        "params": problem.net.n_params,
        "seconds": seconds,
        "grad_norm": gn,
        "fact_rel": rel,
        "status": result.status.value,
        "met": gn <= 1e-45 and seconds < 30 and problem.net.n_params <= 100,
        "goal": "grad<=1e-45 at 50 digits, <30 s",
        "mib": _peak_mib(),
    }


def target_c(lam: float = 1e-2, seconds: float = 55.0) -> dict[str, Any]:
    net = MLP((100, 300, 300, 1), "tanh")
    problem = synthetic_problem(net, 2000, lam=lam, seed=0)
    t0 = time.perf_counter()
    result = train(problem, seed=0, newton_steps=4, spectrum="none", max_seconds=seconds)
    seconds = time.perf_counter() - t0
    rel = _fact_rel(problem, result.theta)
    return {
        "target": f"(c) tanh (100,300,300,1) n=2000 lam={lam:g}",
        "params": net.n_params,
        "seconds": seconds,
        "grad_norm": result.grad_norm,
        "fact_rel": rel,
        "status": result.status.value,
        "met": rel <= 1e-8 and seconds < 60 and _peak_mib() < 2048,
        "goal": "FACT<=1e-8, <60 s, <2 GiB",
        "mib": _peak_mib(),
    }


def protocol(engine_seconds: float, cap: float = 30.0) -> dict[str, Any]:
    """Full-batch GD with the L2 term in the gradient, step 1/||H|| at the start."""
    problem = problem_a()
    theta = problem.net.init(0)
    step = 1.0 / hessian_norm(problem, theta)
    t0 = time.perf_counter()
    at_engine_time: float | None = None
    reached: dict[float, float | None] = {1e-6: None, 1e-12: None}
    steps, rel = 0, float("inf")
    while time.perf_counter() - t0 < cap:
        for _ in range(50):
            theta = theta - step * backprop(problem, theta).grad
        steps += 50
        rel = _fact_rel(problem, theta)
        now = time.perf_counter() - t0
        if at_engine_time is None and now >= engine_seconds:
            at_engine_time = rel
        for level in reached:
            if reached[level] is None and rel <= level:
                reached[level] = now
        if rel <= 1e-12:
            break
    return {
        "steps": steps,
        "fact_rel_at_engine_time": at_engine_time,
        "fact_rel_final": rel,
        "seconds_to_1e-6": reached[1e-6],
        "seconds_to_1e-12": reached[1e-12],
        "cap": cap,
    }


def _engine_times(engine_rel: float, seconds: float) -> dict[str, Any]:
    return {"fact_rel": engine_rel, "seconds": seconds}


def _child(which: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--only", which], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["a", "b", "c", "protocol"], default=None)
    parser.add_argument("--skip-c", action="store_true", help="skip the 100k-parameter target")
    args = parser.parse_args()
    if args.only:
        run = {"a": target_a, "b": target_b, "c": target_c}.get(args.only)
        if run is not None:
            print(json.dumps(run()))
        else:
            a = target_a()
            print(json.dumps({"engine": a, "gd": protocol(a["seconds"])}))
        return
    rows = [_child("a"), _child("b")] + ([] if args.skip_c else [_child("c")])
    print(f"{'target':44} {'params':>7} {'seconds':>8} {'grad':>9} {'FACT rel':>9} "
          f"{'MiB':>6}  status      met  goal")  # fmt: skip
    for r in rows:
        print(
            f"{r['target']:44} {r['params']:>7} {r['seconds']:>8.2f} {r['grad_norm']:>9.1e} "
            f"{r['fact_rel']:>9.1e} {r['mib']:>6.0f}  {r['status']:11} "
            f"{'yes' if r['met'] else 'NO':4} {r['goal']}"
        )
    for r in rows:
        if r["target"].startswith("(c)") and not r["met"]:
            print(
                f"GAP (c): FACT relative error {r['fact_rel']:.1e} after {r['seconds']:.0f} s, "
                f"goal 1e-8 in < 60 s ({r['fact_rel'] / 1e-8:.1e} times too large); ||grad|| "
                f"{r['grad_norm']:.1e}. Also measured: scipy trust-ncg / trust-krylov with exact "
                "Hessian-vector products stall at ||grad|| 1e-4..1e-3; lam 1e-1, 1e-3, 1e-4 are no "
                "better. Suspected, not confirmed: near-symmetries of the small-weight (nearly "
                "linear) network give a cluster of tiny Hessian eigenvalues."
            )
    comp = _child("protocol")
    e, g = comp["engine"], comp["gd"]

    def fmt(x: float | None) -> str:
        return f"{x:.2f} s" if x is not None else f"not within {g['cap']:.0f} s"

    print()
    print("Against the papers' protocol (full-batch GD, L2 in the gradient, step 1/||H||), (a):")
    print(f"  engine (L-BFGS + Newton): FACT rel {e['fact_rel']:.1e} after {e['seconds']:.2f} s")
    at = g["fact_rel_at_engine_time"]
    print(f"  GD after the same wall time: FACT rel {at:.1e}" if at is not None else "  GD: n/a")
    print(
        f"  GD time to FACT rel 1e-6: {fmt(g['seconds_to_1e-6'])}; to 1e-12: "
        f"{fmt(g['seconds_to_1e-12'])} ({g['steps']} steps, final {g['fact_rel_final']:.1e})"
    )
    print(f"  engine time to 1e-6 and 1e-12: <= {e['seconds']:.2f} s (reaches {e['fact_rel']:.0e})")


if __name__ == "__main__":
    main()
