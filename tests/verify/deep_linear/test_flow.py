"""D7: gradient flow of deep linear networks (balance, decay, NFA exponent 1/L), numerically."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from theory._errors import InputError
from verify.cli import deep_linear as _cli_deep_linear
from verify.deep_linear.flow import (
    ScalarOutputWarning,
    _gradients,
    balanced_init,
    converged_check,
    decay_rate_fit,
    flow_problem,
    gaussian_init,
    psd_power_clipped,
    report_entries,
    run_flow,
)
from verify.engine.network import MLP, Problem, gradient

# why 1e-9: DOP853 at rtol 1e-12 over t <= 20 keeps the relative state error ~1e-11; the defect
# is a difference of matrices of norm ~1 amplified by the 1/L root's conditioning (<= 1e2 here)
DEFECT_TOL = 1e-9


def _depth_widths() -> st.SearchStrategy[tuple[int, list[int]]]:
    return st.integers(2, 5).flatmap(
        lambda L: st.tuples(st.just(L), st.lists(st.integers(3, 5), min_size=L, max_size=L))
    )


@given(_depth_widths(), st.integers(2, 3), st.integers(0, 10_000))
@example((3, [4, 4, 4]), 2, 0)
@settings(max_examples=6)
def test_balanced_flow_keeps_nfa(case: tuple[int, list[int]], c: int, seed: int) -> None:
    """D5: balanced init + gradient flow: NFA defect <= 1e-9 at every recorded time, corr 1."""
    L, widths = case
    r = run_flow(L, widths, c, 0.0, init="balanced", t_end=5.0, n_times=6, seed=seed)
    assert max(r.defect) <= DEFECT_TOL
    assert min(r.correlations["1/L"]["pearson"]) >= 1 - 1e-10
    assert max(r.imbalance_total) <= 1e-10
    if L != 2:  # alpha = 1/2 is the right exponent only at L = 2
        assert max(r.correlations["1/2"]["pearson"]) < min(r.correlations["1/L"]["pearson"])
    assert max(r.correlations["1"]["pearson"]) < min(r.correlations["1/L"]["pearson"])


def test_balanced_flow_acceptance_case() -> None:
    """D5: depth 3, two outputs: alpha = 1/L scores 1, alpha = 1/2 and 1 measurably below."""
    r = run_flow(3, 4, 2, 0.0, init="balanced", t_end=20.0)
    assert max(r.defect) <= DEFECT_TOL
    final = {k: v["pearson"][-1] for k, v in r.correlations.items()}
    assert final["1/L"] >= 1 - 1e-12
    # "measurably below": the gap 1 - corr is > 1e-4, eight orders above the 1/L gap
    assert max(r.correlations["1/2"]["pearson"]) < 1 - 1e-4
    assert max(r.correlations["1"]["pearson"]) < 1 - 1e-3
    assert final["1/2"] < final["1/L"] - 1e-4


def test_balanced_flow_mpmath_40_digits() -> None:
    """D5: at 40 digits (Gragg-Bulirsch-Stoer) the NFA defect of a tiny network is <= 1e-25."""
    r = run_flow(3, 2, 2, 0.0, init="balanced", t_end=1.0, n_times=3, dps=40)
    assert max(r.defect_exact) <= 1e-25
    assert "40 digits" in r.solver


def test_decay_rate_acceptance_case() -> None:
    """D3: gaussian init, lam = 0.05: fitted decay rate within 1% of 0.1; NFA defect decays."""
    r = run_flow(3, 4, 2, 0.05, init="gaussian", t_end=60.0)
    assert r.decay_rate is not None and r.decay_rate_stderr is not None
    assert abs(r.decay_rate - 0.1) <= 1e-3
    assert r.decay_rate_stderr < 1e-6
    assert r.defect[-1] < r.defect[0] / 5
    # D7: the defect in the L-th root decays at least like exp(-2 lam t / L) eventually
    assert r.defect[-1] < r.defect[len(r.defect) // 2]


@given(st.floats(0.02, 0.2), st.integers(0, 10_000), st.integers(2, 4))
@settings(max_examples=5)
def test_decay_rate_hypothesis(lam: float, seed: int, L: int) -> None:
    """D3: fitted rate of log ||D(t)|| is 2 lam within 1% for random lam, seed, depth."""
    r = run_flow(L, 3, 2, lam, init="gaussian", t_end=10.0, n_times=11, seed=seed)
    assert r.decay_rate is not None
    assert abs(r.decay_rate - 2 * lam) <= 0.01 * 2 * lam


def test_no_decay_conserves_imbalance_and_nfa_fails() -> None:
    """D2: gaussian init, lam = 0: ||D|| conserved to solver tolerance; NFA defect stays away
    from 0."""
    r = run_flow(3, 4, 2, 0.0, init="gaussian", t_end=30.0)
    tot = np.array(r.imbalance_total)
    per_j = np.array(r.imbalance)
    # why 1e-9: rtol 1e-12 per step accumulated over a few hundred steps
    assert np.max(np.abs(per_j - per_j[0])) / tot[0] <= 1e-9
    assert min(r.defect) >= 1e-2
    assert r.decay_rate is None


def test_converged_point_balanced_and_nfa() -> None:
    """D4: a certified stationary point of the engine (identity MLP, lam > 0) is balanced and
    obeys the NFA with alpha = 1/L."""
    chk = converged_check(3, 3, 2, 0.05)
    assert chk.status == "converged"
    assert max(chk.imbalance) <= 1e-10
    assert chk.defect <= 1e-9


@given(_depth_widths(), st.integers(2, 3), st.floats(0.0, 0.5), st.integers(0, 1000))
@settings(max_examples=5)
def test_gradient_matches_engine_and_d1(
    case: tuple[int, list[int]], c: int, lam: float, seed: int
) -> None:
    """D1: closed-form flow gradients equal the engine's backprop, and satisfy D1 numerically."""
    L, widths = case
    p = flow_problem(L, widths, c, lam, seed=seed)
    Ws = gaussian_init(p.sizes, seed)
    g = _gradients(Ws, p.X.T @ p.X / p.n, p.Y.T @ p.X / p.n, p.lam)
    eng = Problem(MLP(p.sizes, "identity"), p.X, p.Y, "mse", p.lam)
    _, ge = gradient(eng, np.concatenate([w.ravel() for w in Ws]))
    mine = np.concatenate([x.ravel() for x in g])
    assert np.max(np.abs(mine - ge)) <= 1e-12 * (1 + np.max(np.abs(ge)))
    gl = [gk - p.lam * w for gk, w in zip(g, Ws, strict=True)]  # loss part only
    for j in range(L - 1):
        lhs, rhs = Ws[j + 1].T @ gl[j + 1], gl[j] @ Ws[j].T
        assert np.max(np.abs(lhs - rhs)) <= 1e-12 * (1 + np.max(np.abs(lhs)))


def test_balanced_init_is_balanced_and_deterministic() -> None:
    """D5: the SVD construction is balanced to rounding and reproducible for a seed."""
    sizes = (4, 5, 3, 2)
    a, b = balanced_init(sizes, 3), balanced_init(sizes, 3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    for j in range(2):
        assert np.linalg.norm(a[j + 1].T @ a[j + 1] - a[j] @ a[j].T) <= 1e-14
    with pytest.raises(InputError, match="widths must be >= rank"):
        balanced_init((4, 1, 3), 0)


def test_scalar_output_warns_and_flags() -> None:
    """D5: with c = 1 every alpha fits the rank-one AGOP: warning and flag, not an exponent."""
    with pytest.warns(ScalarOutputWarning, match="cannot be identified"):
        r = run_flow(3, 3, 1, 0.0, init="balanced", t_end=2.0, n_times=3)
    assert r.scalar_output and r.to_dict()["exponent_identifiable"] is False
    assert min(r.correlations["1/2"]["pearson"]) > 1 - 1e-9  # the pitfall itself


def test_decay_rate_fit_exact_exponential() -> None:
    """D3: the least-squares fit returns the rate of an exact exponential with zero error."""
    t = np.linspace(0, 5, 11)
    rate, se = decay_rate_fit(t, 3 * np.exp(-0.7 * t))
    assert abs(rate - 0.7) < 1e-12 and se < 1e-12


def test_psd_power_clips_rounding_eigenvalues() -> None:
    """D5: the 1/L root of a rank-deficient AGOP ignores rounding-level null eigenvalues."""
    v = np.linalg.qr(np.random.default_rng(0).standard_normal((4, 2)))[0]
    a = v @ np.diag([8.0, 1.0]) @ v.T
    root = psd_power_clipped(a, 1 / 3)
    assert np.linalg.norm(root - v @ np.diag([2.0, 1.0]) @ v.T) <= 1e-13


BAD = [
    ({"depth": 1}, "depth must be an integer from 2 to 8"),
    ({"widths": [3, 3]}, "widths must be one width or 3 widths"),
    ({"outputs": 0}, "outputs must be an integer"),
    ({"lam": -0.1}, r"lam must be a number in \[0, 10\]"),
    ({"init": "orthogonal"}, "init must be one of balanced, gaussian"),
    ({"t_end": 0.0}, r"t_end must be a number in \(0, 1000\]"),
    ({"dps": 5}, r"dps must be an integer in \[16, 300\]"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD)
def test_bad_input(kwargs: dict, match: str) -> None:
    """D7: every bad argument raises InputError naming argument, rule, value and fix."""
    with pytest.raises(InputError, match=match):
        run_flow(**{"depth": 3, "t_end": 1.0, **kwargs})


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="what")
    _cli_deep_linear.register_verify(sub)
    return p


def test_cli_verify_json_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """D5: `verify deep-linear-flow --depth 3 --outputs 2 --init balanced --json` and --plot."""
    svg = tmp_path / "flow.svg"
    argv = ["deep-linear-flow", "--depth", "3", "--outputs", "2", "--init", "balanced",
            "--json", "--plot", str(svg)]  # fmt: skip
    args = _parser().parse_args(argv)
    assert args.func(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert len(d["times"]) == len(d["nfa_defect"]) == len(d["imbalance_norms"])
    assert max(d["nfa_defect"]) <= DEFECT_TOL
    assert set(d["correlations"]) == {"1/L", "1/2", "1"}
    assert d["correlations"]["1/L"]["pearson"][-1] >= 1 - 1e-12
    assert svg.read_text().startswith("<svg") or "<svg" in svg.read_text()


def test_cli_verify_decay_text(capsys: pytest.CaptureFixture[str]) -> None:
    """D3: `--init gaussian --lam 0.05` prints the fitted decay rate near 0.1."""
    args = _parser().parse_args(
        ["deep-linear-flow", "--init", "gaussian", "--lam", "0.05", "--t-end", "40", "--json"]
    )
    assert args.func(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert abs(d["decay_rate"] - 0.1) <= 1e-3 and d["decay_rate_expected"] == pytest.approx(0.1)


def test_report_entries_quick() -> None:
    """D7: quick report: theorems supported, planted variants REFUTED, a figure present."""
    entries = report_entries(quick=True)
    tags = {e.tag for e in entries}
    assert {"D1", "D2", "D3", "D4", "D5", "D6", "D7"} <= tags
    for e in entries:
        if e.theorem:
            assert e.verdict in ("PROVED", "NUMERICALLY_CONSISTENT"), (e.claim, e.reason)
        else:
            assert e.verdict == "REFUTED"
    assert any(e.figure_svg for e in entries)
