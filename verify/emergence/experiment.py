"""The emergence experiment: per seed, the network, its control, the baselines, RFM, FACT (S4-S6).

For each seed: draw the dictionary and A, sample training and test sets of the structured law
and of the control (A1'), train the network with the paper's schedule on both (same
initialisation: only the data differ), fit the fixed-feature baselines on both, run NFA-RFM and
FACT-RFM, and train a small network to a certified stationary point for FACT and the AGOP.
Every part draws from its own random stream (``default_rng([seed, part])``), so a result does not
depend on which other parts ran, nor on ``jobs`` (seeds run in worker processes when jobs > 1).

:func:`run_experiment` returns an :class:`EmergenceResult`; its claims and verdicts come from
:mod:`verify.emergence.claims`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.emergence.baselines import (
    KERNELS,
    BaselineFit,
    kernel_ridge,
    linear,
    random_features,
)
from verify.emergence.certified import CertifiedFeatures, certified_features
from verify.emergence.config import EmergenceConfig
from verify.emergence.data import Dataset, Instance
from verify.emergence.rfm_recovery import RFM_METHODS, RFMRecovery, rfm_recovery
from verify.emergence.schedule import TrainHistory, train_schedule

__all__ = ["EmergenceResult", "SeedResult", "run_experiment", "run_seed"]

Progress = Callable[[str], None]

# random streams: one per part of a seed's run
_INSTANCE, _DATA, _CONTROL_DATA, _INIT, _RF, _CERT = range(6)


@dataclass
class SeedResult:
    """Everything measured for one seed."""

    seed: int
    network: TrainHistory
    control: TrainHistory
    baselines: list[BaselineFit]
    control_baselines: list[BaselineFit]
    rfm: dict[str, RFMRecovery] = field(default_factory=dict)
    certified: CertifiedFeatures | None = None

    @property
    def best_baseline(self) -> BaselineFit:
        """The fixed-feature model with the lowest test error on this seed."""
        return min(self.baselines, key=lambda f: f.test_error)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "network": [c.to_dict() for c in self.network.checkpoints],
            "network_diverged": self.network.diverged,
            "control": [c.to_dict() for c in self.control.checkpoints],
            "control_diverged": self.control.diverged,
            "baselines": [f.to_dict() for f in self.baselines],
            "control_baselines": [f.to_dict() for f in self.control_baselines],
            "best_baseline": self.best_baseline.to_dict(),
            "rfm": {m: r.to_dict() for m, r in self.rfm.items()},
            "certified": self.certified.to_dict() if self.certified else None,
        }


def _rng(seed: int, part: int) -> np.random.Generator:
    return np.random.default_rng([seed, part])


def _prefix(data: Dataset, n: int) -> Dataset:
    return Dataset(data.X[:n], data.y[:n], data.bits[:n])


def run_seed(config: EmergenceConfig, seed: int) -> SeedResult:
    """All parts of the experiment for one seed (module docstring)."""
    model, sched = config.model, config.schedule
    mom = model.moments()
    inst = Instance.draw(model, _rng(seed, _INSTANCE))
    rng = _rng(seed, _DATA)
    train, test = inst.sample(config.n_train, rng), inst.sample(config.n_test, rng)
    rng = _rng(seed, _CONTROL_DATA)
    ctrain = inst.sample(config.n_train, rng, control=True)
    ctest = inst.sample(config.n_test, rng, control=True)
    net = train_schedule(inst, train, test, sched, _rng(seed, _INIT), gamma=mom.gamma, s2=mom.s2)
    ctl = train_schedule(inst, ctrain, ctest, sched, _rng(seed, _INIT), gamma=mom.gamma,
                         s2=mom.s2)  # fmt: skip
    rng = _rng(seed, _RF)
    base = [linear(train, test)]
    base += [random_features(train, test, N, sched.activation, model.k, rng)
             for N in config.rf_sizes]  # fmt: skip
    base += [kernel_ridge(kind, _prefix(train, n), test, model.k)
             for kind in KERNELS for n in config.kernel_n]  # fmt: skip
    rng = _rng(seed, _RF)  # the same random features on the control
    cbase = [random_features(ctrain, ctest, max(config.rf_sizes), sched.activation, model.k, rng)]
    cbase += [kernel_ridge(kind, _prefix(ctrain, max(config.kernel_n)), ctest, model.k)
              for kind in KERNELS]  # fmt: skip
    out = SeedResult(seed, net, ctl, base, cbase)
    if config.rfm:
        for method in RFM_METHODS:
            out.rfm[method] = rfm_recovery(
                inst, train, test, method=method, n=config.rfm_n, iters=config.rfm_iters,
                s=config.rfm_s,
            )  # fmt: skip
    if config.certified:
        out.certified = certified_features(
            inst, train, test, _rng(seed, _CERT), activation=config.cert_activation,
            n=config.cert_n, width=config.cert_width, lam=config.cert_lam,
            max_iter=config.cert_max_iter,
        )  # fmt: skip
    return out


@dataclass
class EmergenceResult:
    """Per-seed results of one configuration, with the claims derived from them."""

    config: EmergenceConfig
    seeds: list[SeedResult]
    seconds: float = 0.0

    def claims(self) -> list[Any]:
        from verify.emergence.claims import claims

        return claims(self)

    def to_dict(self) -> dict[str, Any]:
        from verify.emergence.claims import summary

        return _finite(
            {
                "experiment": "feature emergence (Shi, Wei, Liang, ICLR 2022, arXiv:2206.01717)",
                "config": self.config.to_dict(),
                "summary": summary(self),
                "claims": [c.to_dict() for c in self.claims()],
                "seeds": [s.to_dict() for s in self.seeds],
                "seconds": round(self.seconds, 2),
            }
        )  # NaN never reaches JSON: see _finite


def _finite(obj: Any) -> Any:
    """Replace non-finite floats (e.g. the gradient of a non-finite run) by None, recursively."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def run_experiment(
    config: EmergenceConfig | None = None, *, jobs: int = 1, progress: Progress | None = None
) -> EmergenceResult:
    """Run every seed of ``config`` (in ``jobs`` worker processes when jobs > 1)."""
    config = EmergenceConfig() if config is None else config
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise bad_input("jobs", "be an integer >= 1", jobs, "Pass --jobs 1 or --jobs 2.")
    start = time.perf_counter()
    seeds = config.seed_list
    results: list[SeedResult] = []
    if jobs > 1 and len(seeds) > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, len(seeds))) as pool:
            for res in pool.map(run_seed, [config] * len(seeds), seeds):
                results.append(res)
                _report(progress, res, start)
    else:
        for seed in seeds:
            results.append(run_seed(config, seed))
            _report(progress, results[-1], start)
    return EmergenceResult(config, results, time.perf_counter() - start)


def _report(progress: Progress | None, res: SeedResult, start: float) -> None:
    if progress is not None:
        progress(
            f"seed {res.seed}: network test error {res.network.final.test_error:.4f}, share "
            f"{res.network.final.share:.3f}; control {res.control.final.test_error:.3f}; best "
            f"baseline {res.best_baseline.test_error:.3f} ({time.perf_counter() - start:.1f} s)"
        )
