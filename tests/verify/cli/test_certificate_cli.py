"""The stationarity certificate from the command line: badly scaled data cannot fool it,
non-finite arithmetic decides nothing, --dps fails fast, --certify gives CERTIFIED verdicts.

The first three tests are the three failures reported against the global floor
u (k G + ||H|| ||theta||): each passed as a certified stationary point (exit 0) before.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize

from verify.cli.main import main
from verify.engine.hessian import handover_scale
from verify.engine.network import FLOAT64, MLP, Problem, gradient
from verify.engine.runfile import load_run, save_run
from verify.engine.train import synthetic_problem

needs_flint = pytest.mark.skipif(
    importlib.util.find_spec("flint") is None,
    reason="python-flint (the certify extra) not installed",
)


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def _timestamp_run(path: Path) -> Problem:
    """A user's run: one feature is a timestamp (~1.7e9 s, spread over a year), a ReLU network
    trained by their own L-BFGS (SciPy, at most 500 iterations), saved as a run file."""
    net = MLP((4, 8, 2), "relu", bias=True)
    base = synthetic_problem(net, 32, seed=0)
    X = base.X.copy()
    X[:, 0] = 1.7e9 + np.sort(np.random.default_rng(0).uniform(0, 3.15e7, 32))
    problem = Problem(net, X, base.Y, "mse", 1e-2)
    res = optimize.minimize(
        lambda t: gradient(problem, t), net.init(0), jac=True, method="L-BFGS-B",
        options={"maxiter": 500, "gtol": 0.0, "ftol": 0.0},
    )  # fmt: skip
    save_run(path, problem, res.x)
    return problem


def test_timestamp_feature_is_inconclusive_with_a_hint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """F1, F2: the timestamp run is not stationary (FACT error ~1e2, explained by F2): exit 3,
    INCONCLUSIVE, and the remedy says to standardise; the old global floor accepted it."""
    path = tmp_path / "timestamp.npz"
    problem = _timestamp_run(path)
    code, out = _json(capsys, ["check", str(path), "--json"])
    assert code == 3 and out["verdict"] == "INCONCLUSIVE"
    assert out["status"] == "not_stationary"
    assert "times its own floor" in out["reason"] and "explained by F2" in out["reason"]
    assert "Standardise each feature" in out["training"]["remedy"]
    assert max(layer["fact_rel_error"] for layer in out["layers"]) > 10
    theta = load_run(path).theta
    # the failure this guards against: the global floor was above the gradient
    assert FLOAT64.unit_roundoff * handover_scale(problem, theta) > out["grad_norm"]


def test_huge_weight_decay_is_inconclusive(capsys: pytest.CaptureFixture[str]) -> None:
    """F1: lam = 1e300 (weights driven to ~1e-300, W^T W underflows): exit 3, INCONCLUSIVE,
    and the reason says the weights left float64's range."""
    code, out = _json(capsys, ["verify", "fact", "--lam", "1e300", "--json"])
    assert code == 3 and out["verdict"] == "INCONCLUSIVE"
    assert out["status"] != "converged"  # the certificate itself refuses, not only the check
    assert "float64's range" in out["reason"]


def test_inputs_scaled_by_1e80_fail_fast_at_50_digits(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """F1, F2: a converged run with inputs x 1e80 and first-layer weights x 1e-80 (the same
    network function, no longer stationary: its weight decay changed): `check --dps 50` is
    INCONCLUSIVE at once, without mpmath Newton, with the hint about the inputs' size."""
    good = tmp_path / "good.npz"
    assert main(["verify", "fact", "--save", str(good)]) == 0
    capsys.readouterr()
    data = dict(np.load(good, allow_pickle=False))
    data["X"], data["W1"] = data["X"] * 1e80, data["W1"] * 1e-80
    scaled = tmp_path / "scaled.npz"
    np.savez(scaled, **data)
    code, out = _json(capsys, ["check", str(scaled), "--dps", "50", "--json"])
    assert code == 3 and out["verdict"] == "INCONCLUSIVE" and out["dps"] == 50
    assert "no mpmath Newton was run" in out["reason"]
    assert out["training"]["newton_steps_dps"] == 0
    assert "has size 9" in out["training"]["remedy"]  # feature size ~9e79: standardise


@pytest.fixture(scope="module")
def converged_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("certify") / "run.npz"
    assert main(["verify", "fact", "--save", str(path)]) == 0
    return path


def test_weights_that_overflow_are_inconclusive(
    capsys: pytest.CaptureFixture[str], converged_run: Path, tmp_path: Path
) -> None:
    """F1, N3: output weights x 1e200 overflow the loss, W^T W and the AGOP: exit 3,
    INCONCLUSIVE for FACT and for every NFA layer, with the reason, and no NaN verdict."""
    data = dict(np.load(converged_run, allow_pickle=False))
    data["W2"] = data["W2"] * 1e200
    huge = tmp_path / "huge.npz"
    np.savez(huge, **data)
    code, out = _json(capsys, ["check", str(huge), "--json"])
    assert code == 3 and out["verdict"] == "INCONCLUSIVE" and out["status"] == "non_finite"
    assert "not finite" in out["reason"] and "explained by F2" not in out["reason"]
    nfa = [layer["nfa"] for layer in out["layers"]]
    assert all(x["verdict"] == "INCONCLUSIVE" and "not finite" in x["reason"] for x in nfa)


@needs_flint
def test_certify_a_converged_run(capsys: pytest.CaptureFixture[str], converged_run: Path) -> None:
    """F1, F2, N3: `check run.npz --certify` is CERTIFIED with enclosures: every layer's
    relative defect below epsilon, F2's two sides overlapping, the gradient and the NFA
    correlation at alpha = 0.5 enclosed, and the JSON says what was enclosed."""
    code, out = _json(capsys, ["check", str(converged_run), "--certify", "--json"])
    assert code == 0 and out["verdict"] == "CERTIFIED"
    enc = out["enclosure"]
    assert enc["verdict"] == "CERTIFIED" and enc["epsilon"] == 1e-6
    assert "exact binary rationals" in enc["enclosed"] and "arb ball arithmetic" in enc["enclosed"]
    for layer in enc["layers"]:
        lo, hi = layer["fact_rel_defect"]
        assert 0 <= lo <= hi <= 1e-6 and layer["f2_sides_overlap"]
    glo, ghi = enc["grad_norm"]
    # the exact gradient norm lies in [glo, ghi], and float64's value is within its rounding
    # floor of it (at the floor the two may differ in every digit)
    g64, floor = out["training"]["grad_norm"], out["training"]["grad_floor"]
    assert glo <= g64 + floor and ghi >= g64 - floor and ghi < 1e-14
    first = enc["nfa"][0]
    half = next(row for row in first["by_alpha"] if row["alpha"] == 0.5)
    pearson = out["layers"][0]["nfa"]["pearson"]
    assert half["pearson"][0] - 1e-12 <= pearson <= half["pearson"][1] + 1e-12
    code = main(["check", str(converged_run), "--certify"])
    text = capsys.readouterr().out
    assert code == 0 and "FACT enclosure (interval arithmetic): CERTIFIED" in text
    assert "FACT holds to within epsilon = 1e-06, rigorously" in text


@needs_flint
def test_certify_a_point_that_is_not_stationary(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """F2: at weights far from stationary the enclosure shows a large defect: no CERTIFIED
    verdict (exit 3), and the gradient's enclosure is reported with the F2 explanation."""
    path = tmp_path / "early.npz"
    problem = synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0)
    save_run(path, problem, problem.net.init(0))
    code, out = _json(capsys, ["check", str(path), "--certify", "--json"])
    assert code == 3 and out["verdict"] == "INCONCLUSIVE"
    enc = out["enclosure"]
    assert enc["verdict"] == "INCONCLUSIVE" and "F2 ties it to the gradient" in enc["reason"]
    assert min(layer["fact_rel_defect"][0] for layer in enc["layers"]) > 1e-3
    assert enc["grad_norm"][0] > 0.1


@needs_flint
def test_certify_with_a_stated_epsilon(
    capsys: pytest.CaptureFixture[str], converged_run: Path
) -> None:
    """F1: epsilon is the user's: below the enclosed defect it is not CERTIFIED; bad values
    are bad input (exit 2, one line)."""
    code, out = _json(capsys, ["check", str(converged_run), "--certify", "--epsilon", "1e-20",
                               "--json"])  # fmt: skip
    assert out["enclosure"]["verdict"] == "INCONCLUSIVE" and out["verdict"] != "CERTIFIED"
    for bad in ("0", "-1", "nan", "inf"):
        assert main(["check", str(converged_run), "--certify", "--epsilon", bad]) == 2
        err = capsys.readouterr().err.strip()
        assert "--epsilon must be a finite number > 0" in err and "\n" not in err


def test_certify_without_python_flint_names_the_extra(
    capsys: pytest.CaptureFixture[str], converged_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F1: without python-flint, --certify is one line naming pip install '.[certify]',
    exit 2, before any work."""
    monkeypatch.setitem(sys.modules, "flint", None)  # import flint now raises ImportError
    assert main(["check", str(converged_run), "--certify"]) == 2
    err = capsys.readouterr().err.strip()
    assert "pip install '.[certify]'" in err and "python-flint" in err and "\n" not in err


@needs_flint
@pytest.mark.slow
def test_certify_the_quadratic_counterexample_witness(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """F1, N3: the quadratic family's witness (an ill-conditioned stationary point, lam 4.7e-9):
    FACT CERTIFIED at its stored weights, and the NFA correlation enclosed there, its maximum
    over the exponent grid below the 0.9 threshold (the counterexample, rigorously)."""
    witness = tmp_path / "cx.npz"
    assert main(["counterexample", "nfa", "--family", "quadratic", "--save", str(witness),
                 "--quiet"]) == 1  # fmt: skip
    certificate = json.loads(witness.with_suffix(".json").read_text())
    capsys.readouterr()
    code, out = _json(capsys, ["check", str(witness), "--certify", "--json"])
    # FACT CERTIFIED; the NFA REFUTED there sets the exit status (the weakest verdict printed)
    assert out["verdict"] == "CERTIFIED" and out["nfa_verdict"] == "REFUTED"
    assert code == 1 and out["overall_verdict"] == "REFUTED"
    nfa = out["enclosure"]["nfa"][0]
    lo, hi = nfa["max_correlation"]
    assert hi < 0.9
    best = certificate["nfa_best_correlation"]  # the certificate's 50-digit score
    assert lo - 1e-9 <= best <= hi + 1e-9
