"""Settings of the emergence experiment, validated in one place (the CLI and the report use them).

Defaults are the laptop setting of REFERENCE section 7 [R] (d = 64, D = 32, k = 5, parity,
p_o = 1/2, n_train = 4000, n_test = 2000) with 2m = 128 neurons and 200 GD steps after the two
feature steps, over 5 seeds; see :mod:`verify.emergence.schedule` for the schedule,
:mod:`verify.emergence.baselines`, :mod:`verify.emergence.rfm_recovery` and
:mod:`verify.emergence.certified` for the other parts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.emergence.data import EmergenceModel
from verify.emergence.schedule import Schedule

__all__ = ["EmergenceConfig"]


def _int(name: str, value: Any, least: int, fix: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise bad_input(name, f"be an integer >= {least}", value, fix)
    return int(value)


def _ints(name: str, values: Any, least: int, most: int | None, fix: str) -> tuple[int, ...]:
    out = tuple(_int(name, v, least, fix) for v in values)
    if not out:
        raise bad_input(name, "list at least one size", list(values), fix)
    if most is not None and max(out) > most:
        raise bad_input(name, f"be <= {most} (the training-set size)", max(out), fix)
    return tuple(sorted(set(out)))


@dataclass(frozen=True)
class EmergenceConfig:
    """Everything one run needs; ``seeds`` consecutive seeds starting at ``seed``."""

    model: EmergenceModel = field(default_factory=EmergenceModel)
    schedule: Schedule = field(default_factory=lambda: Schedule(width=128))
    n_train: int = 4000
    n_test: int = 2000
    seed: int = 0
    seeds: int = 5
    rf_sizes: tuple[int, ...] = (64, 256, 1024)
    kernel_n: tuple[int, ...] = (500, 1000, 2000)
    rfm: bool = True
    rfm_n: int = 1000
    rfm_iters: int = 10
    rfm_s: float = 0.5
    certified: bool = True
    cert_activation: str = "tanh"
    cert_n: int = 1000
    cert_width: int = 8
    cert_lam: float = 3e-4
    cert_max_iter: int = 20_000

    def __post_init__(self) -> None:
        n = _int("n_train", self.n_train, 10, "Pass e.g. --n-train 4000.")
        _int("n_test", self.n_test, 1, "Pass e.g. --n-test 2000.")
        _int("seed", self.seed, 0, "Seeds are non-negative: pass e.g. --seed 0.")
        _int("seeds", self.seeds, 1, "Pass e.g. --seeds 5 (standard errors need >= 2).")
        object.__setattr__(
            self,
            "rf_sizes",
            _ints("rf_sizes", self.rf_sizes, 1, None, "Pass e.g. --rf-sizes 64 256 1024."),
        )
        object.__setattr__(self, "kernel_n", _ints("kernel_n", self.kernel_n, 2, n,
                                                   "Pass sizes up to --n-train."))  # fmt: skip
        if self.rfm:
            _int("rfm_n", self.rfm_n, 2, "Pass e.g. --rfm-n 1000.")
            if self.rfm_n > n:
                raise bad_input("rfm_n", f"be <= n_train = {n}", self.rfm_n, "Lower --rfm-n.")
            _int("rfm_iters", self.rfm_iters, 0, "Pass e.g. --rfm-iters 10.")
            if not (math.isfinite(self.rfm_s) and self.rfm_s > 0):
                raise bad_input("rfm_s", "be a number > 0 (the AGOP exponent)", self.rfm_s,
                                "Pass --rfm-s 0.5 or 1.")  # fmt: skip
        if self.certified:
            if self.cert_activation not in ("tanh", "relu"):
                raise bad_input("cert_activation", "be tanh or relu (the engine's activations)",
                                self.cert_activation, "Pass --cert-activation tanh.")  # fmt: skip
            _int("cert_n", self.cert_n, 2, "Pass e.g. --cert-n 1000.")
            if self.cert_n > n:
                raise bad_input("cert_n", f"be <= n_train = {n}", self.cert_n, "Lower --cert-n.")
            _int("cert_width", self.cert_width, 2, "Pass e.g. --cert-width 8.")
            if self.cert_width % 2:
                raise bad_input("cert_width", "be even (mirrored warm start)", self.cert_width,
                                "Pass e.g. --cert-width 8.")  # fmt: skip
            _int("cert_max_iter", self.cert_max_iter, 1, "Pass e.g. 20000.")
            if not (math.isfinite(self.cert_lam) and self.cert_lam > 0):
                raise bad_input("cert_lam", "be > 0 (F1 needs weight decay)", self.cert_lam,
                                "Pass e.g. --cert-lam 3e-4.")  # fmt: skip

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.seed, self.seed + self.seeds))

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("model", "schedule")}
        return {"model": self.model.to_dict(), "schedule": self.schedule.to_dict(),
                **{k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}}  # fmt: skip
