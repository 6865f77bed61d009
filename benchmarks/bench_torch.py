"""Benchmarks of verify.torch (run on demand: ``python benchmarks/bench_torch.py``).

Targets (the issue's speed goals, CPU; one BLAS/torch thread as the rest of the toolkit):
  (a) feature_report on a ~1e5-parameter MLP (d=100, widths 300, 300, 1 output, tanh, MSE,
      lam=1e-2) with n = 2000: <= 30 s;
  (b) polish of the standard net (tanh, d=20, width 64, n=256, 1 output, lam=1e-3, MSE) to a
      certified stationary point: <= 5 s; from a torch-trained start (2000 full-batch Adam steps
      with the L2 term in the gradient, float64) and, for reference, from the initialisation;
  (c) for context: torch.optim.LBFGS (strong Wolfe line search, float64) on (b)'s start, which
      the issue reports stalling at a gradient of 3-5e-8.
Times: wall seconds and CPU seconds of the process (``time.process_time``). Everything runs
on one thread, so on an idle machine wall = CPU; on a shared, loaded machine wall time is
inflated by waiting for a core, and ``met`` is judged on CPU time. GPU figures are not measured
here (no GPU on the development machine); ``--device cuda`` runs the same targets on a GPU.
Each target runs in its own subprocess so its peak memory (ru_maxrss, host memory) is its own.
Not collected by pytest.
"""

from __future__ import annotations

from verify.base.blas import set_blas_threads

# one thread, before NumPy and torch load (torch reads OMP_NUM_THREADS at import; on the loaded
# 2-core machine a 2-thread torch took 47 ms per forward of (b) against 0.25 ms on one thread)
set_blas_threads(1)

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402

from verify.engine.network import MLP  # noqa: E402
from verify.engine.train import synthetic_problem  # noqa: E402
from verify.torch import feature_report, mse_loss, polish  # noqa: E402


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _standard(device: str) -> tuple[Any, Any, Any]:
    problem = synthetic_problem(MLP((20, 64, 1), "tanh"), 256, lam=1e-3, seed=0)
    X = torch.tensor(problem.X, device=device)
    Y = torch.tensor(problem.Y, device=device)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 64, bias=False), nn.Tanh(), nn.Linear(64, 1, bias=False))
    return model.double().to(device), X, Y


def _adam(model: Any, X: Any, Y: Any, lam: float, steps: int) -> Any:
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=lam)
    for _ in range(steps):
        opt.zero_grad()
        mse_loss(model(X), Y).backward()
        opt.step()
    return model


def target_a(device: str) -> dict[str, Any]:
    problem = synthetic_problem(MLP((100, 300, 300, 1), "tanh"), 2000, lam=1e-2, seed=0)
    X = torch.tensor(problem.X, device=device)
    Y = torch.tensor(problem.Y, device=device)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(100, 300), nn.Tanh(), nn.Linear(300, 300), nn.Tanh(),
                          nn.Linear(300, 1)).double().to(device)  # fmt: skip
    _adam(model, X, Y, 1e-2, 200)
    t0, c0 = time.perf_counter(), time.process_time()
    report = feature_report(model, "mse", X, Y, 1e-2, recheck=False)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "target": "(a) feature_report, MLP 100-300-300-1, n=2000",
        "params": sum(p.numel() for p in model.parameters()),
        "seconds": seconds,
        "cpu": cpu,
        "grad_norm": report.grad_norm,
        "fact_rel": max(x.fact_rel_error for x in report.layers),
        "status": report.fact_outcome,
        "met": cpu <= 30,
        "goal": "<= 30 s",
        "mib": _peak_mib(),
    }


def target_b(device: str, start: str) -> dict[str, Any]:
    model, X, Y = _standard(device)
    if start == "adam":
        _adam(model, X, Y, 1e-3, 2000)
    t0, c0 = time.perf_counter(), time.process_time()
    result = polish(model, "mse", X, Y, 1e-3)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    report = feature_report(result.model, "mse", X, Y, 1e-3, recheck=False)
    return {
        "target": f"(b) polish standard net, from {'Adam' if start == 'adam' else 'init'}",
        "params": sum(p.numel() for p in model.parameters()),
        "seconds": seconds,
        "cpu": cpu,
        "grad_norm": result.grad_norm,
        "fact_rel": max(x.fact_rel_error for x in report.layers),
        "status": result.status.value,
        "met": cpu <= 5 and result.certified,
        "goal": "certified, <= 5 s",
        "mib": _peak_mib(),
        "moved": result.moved,
        "start_grad": result.grad_norm_start,
    }


def target_c(device: str) -> dict[str, Any]:
    model, X, Y = _standard(device)
    _adam(model, X, Y, 1e-3, 2000)
    opt = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=20_000, tolerance_grad=0.0,
                            tolerance_change=0.0, history_size=20,
                            line_search_fn="strong_wolfe")  # fmt: skip

    def closure() -> Any:
        opt.zero_grad()
        loss = mse_loss(model(X), Y) + 0.5e-3 * sum((p * p).sum() for p in model.parameters())
        loss.backward()
        return loss

    t0, c0 = time.perf_counter(), time.process_time()
    opt.step(closure)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    report = feature_report(model, "mse", X, Y, 1e-3, recheck=False)
    return {
        "target": "(c) torch.optim.LBFGS on (b)'s Adam start",
        "params": sum(p.numel() for p in model.parameters()),
        "seconds": seconds,
        "cpu": cpu,
        "grad_norm": report.grad_norm,
        "fact_rel": max(x.fact_rel_error for x in report.layers),
        "status": "certified" if report.certified else "not certified",
        "met": report.certified,
        "goal": "(context)",
        "mib": _peak_mib(),
    }


def _child(which: str, device: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--only", which, "--device", device],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["a", "b-adam", "b-init", "c"], default=None)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    run = {
        "a": lambda: target_a(args.device),
        "b-adam": lambda: target_b(args.device, "adam"),
        "b-init": lambda: target_b(args.device, "init"),
        "c": lambda: target_c(args.device),
    }
    if args.only:
        print(json.dumps(run[args.only]()))
        return
    rows = [_child(k, args.device) for k in run]
    print(f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    print(f"{'target':46} {'params':>7} {'cpu s':>6} {'wall s':>7} {'grad':>9} {'FACT rel':>9} "
          f"{'MiB':>6}  {'status':22} met  goal")  # fmt: skip
    for r in rows:
        print(
            f"{r['target']:46} {r['params']:>7} {r['cpu']:>6.2f} {r['seconds']:>7.2f} "
            f"{r['grad_norm']:>9.1e} "
            f"{r['fact_rel']:>9.1e} {r['mib']:>6.0f}  {r['status']:22} "
            f"{'yes' if r['met'] else 'NO':4} {r['goal']}"
        )
    for r in rows:
        if "moved" in r:
            print(f"{r['target']}: start ||grad|| {r['start_grad']:.1e}, weights moved by "
                  f"{r['moved']:.2e} (relative)")  # fmt: skip


if __name__ == "__main__":
    main()
