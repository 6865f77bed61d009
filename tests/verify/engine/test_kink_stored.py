"""A ReLU point certified ON a kink survives a run file: its pinned pairs and slopes are stored
(``kink_pins``, ``kink_slopes``) and ``check`` certifies the stored point with them, where it
lies (verify/engine/kink/stored.py); wrong or missing slopes leave it ``on_kink``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from theory._errors import InputError
from verify.claims.checks import check_fact
from verify.cli.main import main
from verify.engine.kink import PinnedProblem
from verify.engine.kink.stored import evaluate_on_kink
from verify.engine.network import MLP
from verify.engine.runfile import load_run, save_run
from verify.engine.train import Status, TrainResult, synthetic_problem, train


@pytest.fixture(scope="module")
def kinked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TrainResult]:
    """The acceptance network (4, 16, 16, 2), certified on a kink, saved as verify --save does."""
    problem = synthetic_problem(MLP((4, 16, 16, 2), "relu"), 32, seed=0)
    result = train(problem, seed=0, spectrum="none")
    assert result.converged and isinstance(result.problem, PinnedProblem)
    path = tmp_path_factory.mktemp("kink") / "run.npz"
    save_run(path, result.problem, result.theta, {"seed": 0})
    return path, result


def _rewrite(src: Path, dst: Path, **change: object) -> Path:
    """A copy of the run file ``src`` with entries replaced (None: removed)."""
    with np.load(src, allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    for key, value in change.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = np.asarray(value)
    np.savez(dst, **data)  # type: ignore[arg-type]
    return dst


def test_the_stored_kink_point_is_certified_where_it_lies(kinked, capsys) -> None:  # noqa: ANN001
    """F1 (ReLU, on a kink): the run file gives back the pins and slopes bit for bit, and the
    stored weights, unmoved, are certified with them; `check` agrees with the run (exit 0)."""
    path, result = kinked
    run = load_run(path)
    assert run.kink is not None
    pins, slopes = run.kink
    assert pins == list(result.problem.pins)  # type: ignore[attr-defined]
    assert np.array_equal(slopes, np.asarray(result.problem.slopes, dtype=float))  # type: ignore[attr-defined]
    checked = evaluate_on_kink(run.problem, run.theta, pins, slopes, spectrum="none")
    assert checked.status is Status.CONVERGED and isinstance(checked.problem, PinnedProblem)
    assert np.array_equal(checked.theta, result.theta) and checked.pieces.certified
    assert checked.grad_norm == result.grad_norm and "stored slopes" in checked.reason
    assert check_fact(checked).verdict.value == "NUMERICALLY_CONSISTENT"
    assert main(["check", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "converged" and out["verdict"] == "NUMERICALLY_CONSISTENT"


def test_without_the_slopes_the_point_reads_on_kink(kinked, tmp_path, capsys) -> None:  # noqa: ANN001
    """F1 (ReLU): the same weights without kink entries (a file from other code) stay on_kink,
    INCONCLUSIVE: no slopes, no certificate."""
    path, _ = kinked
    plain = _rewrite(path, tmp_path / "plain.npz", kink_pins=None, kink_slopes=None)
    assert load_run(plain).kink is None
    assert main(["check", str(plain), "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["status"] == "on_kink"


def test_wrong_slopes_do_not_certify(kinked) -> None:  # noqa: ANN001
    """F1 (ReLU): one slope moved by 0.05 (still in [0, 1]) breaks G = 0 at the stored point:
    on_kink with the failing rule, never converged."""
    path, _ = kinked
    run = load_run(path)
    assert run.kink is not None
    pins, slopes = run.kink
    moved = slopes.copy()
    moved[0] = moved[0] + 0.05 if moved[0] < 0.5 else moved[0] - 0.05
    out = evaluate_on_kink(run.problem, run.theta, pins, moved, spectrum="none")
    assert out.status is Status.ON_KINK and "do not certify" in out.reason
    assert check_fact(out).verdict.value == "INCONCLUSIVE"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kink_slopes": None}, r"'kink_slopes' must be present with 'kink_pins'"),
        ({"kink_pins": None}, r"'kink_pins' must be present with 'kink_slopes'"),
        ({"kink_pins": np.zeros((2, 2), dtype=np.int64)}, r"must be an \(m, 3\) integer array"),
        ({"kink_pins": [[2, 0, 0]]}, r"must name a hidden layer < 2"),
        ({"kink_pins": [[0, 32, 0]]}, r"a sample < 32"),
        ({"kink_slopes": [0.5]}, r"must be \(\d+,\) floats, one per pinned pair"),
        ({"kink_slopes": "half"}, r"must be \(\d+,\) floats"),
    ],
)
def test_bad_kink_entries_are_named(kinked, tmp_path, change, message) -> None:  # noqa: ANN001
    """F1 (run file): malformed kink entries fail with the key, the rule and the fix."""
    path, _ = kinked
    if "kink_pins" in change and change["kink_pins"] is not None and "kink_slopes" not in change:
        rows = len(np.asarray(change["kink_pins"]))
        change = {**change, "kink_slopes": np.full(rows, 0.5)}
    with pytest.raises(InputError, match=message):
        load_run(_rewrite(path, tmp_path / "bad.npz", **change))


def test_slopes_outside_the_unit_interval_and_repeats_are_refused(kinked, tmp_path) -> None:  # noqa: ANN001
    """F1 (run file): a slope outside [0, 1] or a pair listed twice is refused, by name."""
    path, _ = kinked
    run = load_run(path)
    assert run.kink is not None
    pins, slopes = run.kink
    bad = slopes.copy()
    bad[0] = 1.5
    with pytest.raises(InputError, match=r"'kink_slopes' must be in \[0, 1\]"):
        load_run(_rewrite(path, tmp_path / "a.npz", kink_slopes=bad))
    twice = np.array([pins[0], pins[0]], dtype=np.int64)
    with pytest.raises(InputError, match=r"'kink_pins' must list each pair once"):
        load_run(_rewrite(path, tmp_path / "b.npz", kink_pins=twice, kink_slopes=[0.5, 0.5]))


def test_kink_entries_only_for_relu(tmp_path) -> None:  # noqa: ANN001
    """F1 (run file): kink entries in a tanh run file are refused (no kinks there)."""
    problem = synthetic_problem(MLP((3, 4, 2), "tanh"), 8, seed=0)
    path = tmp_path / "t.npz"
    save_run(path, problem, problem.net.init(0))
    bad = _rewrite(path, tmp_path / "t2.npz", kink_pins=[[0, 0, 0]], kink_slopes=[0.5])
    with pytest.raises(InputError, match=r"'kink_pins' must be stored only for relu"):
        load_run(bad)


def test_slopes_that_fail_leave_the_dps_check_in_place(kinked, tmp_path, capsys) -> None:  # noqa: ANN001
    """F1 (ReLU): when the stored slopes do not certify the point, `check --dps 50` still
    evaluates it at 50 digits (as any stored point), never silently in float64 only."""
    path, _ = kinked
    run = load_run(path)
    assert run.kink is not None
    moved = run.kink[1].copy()
    moved[0] = moved[0] + 0.05 if moved[0] < 0.5 else moved[0] - 0.05
    bad = _rewrite(path, tmp_path / "moved.npz", kink_slopes=moved)
    assert main(["check", str(bad), "--dps", "50", "--json"]) == 3
    out = json.loads(capsys.readouterr().out)
    assert out["dps"] == 50 and out["status"] != "converged"
