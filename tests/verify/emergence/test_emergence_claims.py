"""Verdicts of the emergence claims (S4, S6, F1): computed from the seeds, never hard-coded."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pytest

from theory._records import Verdict
from verify.emergence import EmergenceConfig, EmergenceResult, SeedResult, claims, stat
from verify.emergence.baselines import BaselineFit
from verify.emergence.certified import CertifiedFeatures
from verify.emergence.schedule import Checkpoint, TrainHistory
from verify.emergence.twolayer import Params


def test_stat_is_mean_and_standard_error() -> None:
    """S6: SE = std(ddof=1)/sqrt(n); one value has no SE; NaN is refused."""
    s = stat([1.0, 2.0, 4.0])
    assert s.mean == pytest.approx(7 / 3, abs=1e-15)
    assert s.se == pytest.approx(math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 +
                                            (4 - 7 / 3) ** 2) / 2 / 3), abs=1e-15)  # fmt: skip
    assert math.isnan(stat([1.0]).se) and stat([1.0]).to_dict()["se"] is None
    with pytest.raises(ValueError):
        stat([1.0, float("nan")])


def _history(share0: float, share: float, err: float, diverged: bool = False) -> TrainHistory:
    empty = Params(np.zeros((1, 1)), np.zeros(1), np.zeros(1))
    cps = [Checkpoint(0, 0.5, 0.5, 1.0, share0, share0, 0.1),
           Checkpoint(202, err, err, 0.0, share, share, 0.9)]  # fmt: skip
    return TrainHistory(empty, cps, diverged)


def _result(
    net_err: list[float], base_err: list[float], ctl_err: list[float], shares: list[float],
    diverged: bool = False, certified: list[CertifiedFeatures] | None = None,
) -> EmergenceResult:  # fmt: skip
    seeds = []
    for i, (e, b, c, s) in enumerate(zip(net_err, base_err, ctl_err, shares, strict=True)):
        seeds.append(SeedResult(
            i, _history(0.08, s, e, diverged and i == 0), _history(0.08, 0.2, c),
            [BaselineFit("rf-64", 100, b, 1.0, b), BaselineFit("ntk", 100, b + 0.01, 1.0, b)],
            [BaselineFit("ntk", 100, 0.5, 1.0, 0.2)],
            certified=certified[i] if certified else None,
        ))  # fmt: skip
    cfg = EmergenceConfig(seeds=len(seeds), rfm=False, certified=certified is not None)
    return EmergenceResult(cfg, seeds)


def _verdicts(res: EmergenceResult) -> dict[str, Verdict]:
    return {c.key: c.verdict for c in claims(res)}


GOOD = dict(
    net_err=[0.001, 0.0, 0.002, 0.001, 0.0], base_err=[0.15, 0.16, 0.14, 0.15, 0.17],
    ctl_err=[0.49, 0.51, 0.50, 0.495, 0.505], shares=[0.95, 0.94, 0.96, 0.95, 0.93],
)  # fmt: skip


def test_verdicts_follow_the_numbers() -> None:
    """S4, S6: consistent when the margins hold; each broken margin turns its claim INCONCLUSIVE,
    and the others stay as they were."""
    ok = Verdict.NUMERICALLY_CONSISTENT
    assert set(_verdicts(_result(**GOOD)).values()) == {ok}
    cases = {
        # shares whose mean - 3 SE falls just below 0.9 (mean 0.92, SE 0.01)
        "emergence": dict(GOOD, shares=[0.94, 0.90, 0.92, 0.94, 0.90]),
        # the baseline as good as the network on average, within noise
        "baselines": dict(GOOD, base_err=[0.002, 0.0, 0.0, 0.003, 0.0]),
        # the control learns: accuracy 0.6
        "control": dict(GOOD, ctl_err=[0.40, 0.41, 0.39, 0.40, 0.40]),
    }
    for key, kwargs in cases.items():
        v = _verdicts(_result(**kwargs))  # type: ignore[arg-type]
        assert v[key] is Verdict.INCONCLUSIVE, key
        assert all(x is ok for k, x in v.items() if k != key), (key, v)


def test_the_threshold_is_mean_minus_three_se() -> None:
    """S4: the emergence verdict flips exactly where mean - 3 SE crosses 0.9."""
    for shift, want in ((0.001, Verdict.NUMERICALLY_CONSISTENT), (-0.001, Verdict.INCONCLUSIVE)):
        base = np.array([0.0, 0.02, -0.02, 0.01, -0.01])
        s = stat(base.tolist())
        shares = (base + 0.9 + 3 * s.se + shift).tolist()
        assert _verdicts(_result(**dict(GOOD, shares=shares)))["emergence"] is want  # type: ignore[arg-type]


def test_standard_errors_never_fall_below_the_test_set_noise() -> None:
    """S6: two seeds with identical control accuracies (seed SE 0) are judged with the binomial
    SE of the pooled test sets, sqrt(1/4 / (2 n_test)), not with 0."""
    two = {k: v[:2] for k, v in GOOD.items()}
    res = _result(**dict(two, ctl_err=[0.49, 0.49]))  # type: ignore[arg-type]
    control = next(c for c in claims(res) if c.key == "control")
    se = math.sqrt(0.25 / (2 * res.config.n_test))
    assert control.data["control_accuracy"]["se"] == pytest.approx(se, rel=1e-12)
    assert control.verdict is Verdict.NUMERICALLY_CONSISTENT  # 0.51 <= 0.5 + 3 SE


def test_one_seed_or_a_divergence_is_inconclusive() -> None:
    """S6: one seed gives no standard error; a diverged run is never evidence."""
    one = {k: v[:1] for k, v in GOOD.items()}
    res = claims(_result(**one))  # type: ignore[arg-type]
    assert all(c.verdict is Verdict.INCONCLUSIVE for c in res)
    assert "needs >= 2 seeds" in res[0].reason
    v = _verdicts(_result(**GOOD, diverged=True))  # type: ignore[arg-type]
    assert v["emergence"] is Verdict.INCONCLUSIVE and v["baselines"] is Verdict.INCONCLUSIVE


def _cert(status: str, share: float, activation: str = "tanh") -> CertifiedFeatures:
    verdict = "NUMERICALLY_CONSISTENT" if status == "converged" else "INCONCLUSIVE"
    return CertifiedFeatures(activation, 100, 8, 3e-4, status, "why", 1e-16, 1e-13, verdict,
                             1e-15, share, share, share, share, share, 0.0)  # fmt: skip


def test_certified_claims() -> None:
    """F1, N1: all certified -> F1 consistent and the shares judged; one run not certified ->
    INCONCLUSIVE naming the engine's status (and the ReLU limitation for ReLU)."""
    good = [_cert("converged", 0.99) for _ in range(5)]
    v = _verdicts(_result(**GOOD, certified=good))  # type: ignore[arg-type]
    assert v["certified-fact"] is v["certified-fact-top"] is v["certified-agop"]
    assert v["certified-agop"] is Verdict.NUMERICALLY_CONSISTENT
    low = [_cert("converged", 0.6) for _ in range(5)]
    v = _verdicts(_result(**GOOD, certified=low))  # type: ignore[arg-type]
    assert v["certified-fact"] is Verdict.NUMERICALLY_CONSISTENT
    assert v["certified-fact-top"] is Verdict.INCONCLUSIVE
    relu = [_cert("max_iter", 0.99, "relu") for _ in range(5)]
    res = [c for c in claims(_result(**GOOD, certified=relu)) if c.key.startswith("cert")]  # type: ignore[arg-type]
    assert len(res) == 1 and res[0].verdict is Verdict.INCONCLUSIVE
    assert "max_iter" in res[0].reason and "--cert-activation tanh avoids kinks" in res[0].reason


def test_a_diverged_certified_run_is_inconclusive_not_a_crash() -> None:
    """F1: a certified run that ended non-finite makes the F1 claim INCONCLUSIVE; the summary
    and the JSON record still build, with no NaN in them."""
    nan = float("nan")
    broken = CertifiedFeatures("tanh", 100, 8, 3e-4, "non_finite", "NaN objective", nan, nan,
                               "INCONCLUSIVE", nan, nan, nan, nan, nan, nan, nan)  # fmt: skip
    res = _result(**GOOD, certified=[_cert("converged", 0.99)] * 4 + [broken])  # type: ignore[arg-type]
    fact = next(c for c in claims(res) if c.key == "certified-fact")
    assert fact.verdict is Verdict.INCONCLUSIVE and "non_finite" in fact.reason
    json.dumps(res.to_dict(), allow_nan=False)


ALLOWED = {
    "verify.engine.network",
    "verify.engine.train",
    "verify.claims.features",
    "verify.claims.checks",
    "verify.base.records",
    "verify.base.svgplot",
    "verify.base.files",
}


def test_imports_go_downward_only() -> None:
    """S6: the subpackage imports the engine and claims layers; verify.rfm.machine only in
    rfm_recovery; never counterexamples, deep_linear, the report or the CLI."""
    root = Path(__file__).resolve().parents[3] / "verify" / "emergence"
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("verify") for a in node.names), path.name
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("verify")
            ):
                mod = node.module
                if mod.startswith("verify.emergence"):
                    continue
                if mod == "verify.rfm.machine":
                    assert path.name == "rfm_recovery.py", path.name
                    continue
                assert mod in ALLOWED, (path.name, mod)
