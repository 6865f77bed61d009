"""Report producer for the symbolic FACT results (F1, F2, F4, F5) and the planted variants."""

from __future__ import annotations

import time
from typing import Any

from theory.fact import VARIANTS, check_fact_variant, derive_fact
from verify.base.records import ReportEntry

__all__ = ["report_entries"]

SECTION = "FACT (symbolic)"


def _layers(quick: bool) -> list[dict[str, Any]]:
    base: list[dict[str, Any]] = [
        {"arch": "linear"},
        {"arch": "deep-linear", "depth": 3, "layer": 2},
        {"arch": "mlp", "depth": 3, "layer": 2, "bias": True, "activation": "tanh"},
    ]
    if quick:
        return base
    return base + [
        {"arch": "deep-linear", "depth": 4, "layer": 1},
        {"arch": "deep-linear", "depth": 4, "layer": 4},
        {"arch": "mlp", "depth": 2, "layer": 1, "bias": False, "activation": "sigma"},
    ]


def _key(tag: str, case: dict[str, Any]) -> str:
    """A short stable id, e.g. ``fact/f1/mlp-depth3-layer2-bias-tanh``."""
    parts = [case["arch"]]
    parts += [f"{k}{case[k]}" for k in ("depth", "layer") if k in case]
    parts += ["bias"] if case.get("bias") else []
    parts += [case["activation"]] if "activation" in case else []
    return f"fact/{tag.lower()}/{'-'.join(parts)}"


def report_entries(quick: bool = False, seed: int = 0) -> list[ReportEntry]:
    """Every FACT derivation for a set of layers, then the planted variants of F1."""
    del seed  # the derivations are exact; their explicit instances use fixed seeds
    out: list[ReportEntry] = []
    for case in _layers(quick):
        t0 = time.perf_counter()
        result = derive_fact(**case)
        dt = (time.perf_counter() - t0) / 4
        out += [
            ReportEntry.from_derivation(
                d, SECTION, seconds=dt, data={"arch": case}, key=_key(d.claim.tag, case)
            )
            for d in result.all
        ]
    for name, (text, _) in VARIANTS.items():
        t0 = time.perf_counter()
        d = check_fact_variant(name, arch="mlp", depth=3, layer=2, bias=True)
        planted = name not in ("fact", "transposed")
        entry = ReportEntry.from_derivation(
            d,
            "FACT: planted variants",
            seconds=time.perf_counter() - t0,
            precision="exact (rational witness)" if planted else "exact (symbolic)",
            theorem=not planted,
            data={"variant": name, "expected": "REFUTED" if planted else "PROVED"},
            role="planted" if planted else "",
            expected="REFUTED" if planted else "PROVED",
            key=f"fact-variants/f1/{name}",
        )
        entry.claim = f"variant '{name}': {text}"
        out.append(entry)
    return out
