"""Run files: round trip, independent recomputation with plain NumPy, and every bad input."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from theory._errors import InputError
from verify.engine.network import MLP
from verify.engine.runfile import FORMAT, load_run, save_run
from verify.engine.train import synthetic_problem, train


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    problem = synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0)
    result = train(problem, seed=0)
    assert result.converged
    path = tmp_path_factory.mktemp("run") / "run.npz"
    save_run(path, problem, result.theta, {"seed": 0, "status": "converged"})
    return path, result


def test_round_trip_is_exact(saved) -> None:  # noqa: ANN001
    """F1 (run file): load(save(x)) gives back the same problem and parameters bit for bit."""
    path, result = saved
    run = load_run(path)
    assert np.array_equal(run.theta, result.theta)
    assert run.problem.net == result.problem.net and run.problem.lam == result.problem.lam
    assert np.array_equal(run.problem.X, result.problem.X) and run.info["status"] == "converged"


def test_plain_numpy_recomputes_gradient_and_fact_from_the_convention(saved) -> None:  # noqa: ANN001
    """F1: the documented convention suffices: plain NumPy gets grad ~ 0 and W^T W = FACT."""
    path, _ = saved
    f = np.load(path, allow_pickle=False)
    assert str(f["format"]) == "factcheck-run/1" and str(f["activation"]) == "tanh"
    X, Y, lam, W1, W2 = f["X"], f["Y"], float(f["lam"]), f["W1"], f["W2"]
    n = X.shape[0]
    z1 = X @ W1.T  # layer 1: z = h @ W.T (+ b); no biases in this file
    h2 = np.tanh(z1)
    out = h2 @ W2.T  # last layer is linear
    delta2 = out - Y  # MSE l_i = 0.5 ||f - y||^2: delta = residual
    gh2 = delta2 @ W2  # dl_i/dh_2
    delta1 = gh2 * (1 - h2**2)
    gh1 = delta1 @ W1  # dl_i/dh_1
    g1 = delta1.T @ X / n + lam * W1
    g2 = delta2.T @ h2 / n + lam * W2
    assert np.sqrt(np.sum(g1**2) + np.sum(g2**2)) <= 1e-13
    for W, gh, h in ((W1, gh1, X), (W2, gh2, h2)):
        fact = -(gh.T @ h) / (n * lam)
        assert np.linalg.norm(W.T @ W - fact) <= 1e-10 * np.linalg.norm(W.T @ W)


def _write(path: Path, **arrays: object) -> Path:
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


def _good(saved) -> dict[str, np.ndarray]:  # noqa: ANN001
    with np.load(saved[0], allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def _edit(**changes: object):  # noqa: ANN202
    def apply(d: dict) -> dict:
        d = dict(d)
        for key, value in changes.items():
            if value is None:
                d.pop(key)
            else:
                d[key] = value
        return d

    return apply


BAD_FILES = [
    (_edit(format=np.array("factcheck-run/0")), r"'format' must equal 'factcheck-run/1'"),
    (_edit(format=None), r"'format' must be present"),
    (_edit(W2=None), r"'W2' must be present"),
    (_edit(W1=np.zeros((4, 8))), r"'W1' must have shape \(out, in\) with in = 4 .*transpose"),
    (_edit(W2=np.zeros((2, 7))), r"'W2' must have shape \(out, in\) with in = 8 \(the rows"),
    (_edit(W2=np.zeros((3, 8))), r"'W2' must have 2 rows \(c, the columns of Y\)"),
    (_edit(X=np.full((32, 4), np.nan)), r"'X' must be finite"),
    (_edit(W1=np.full((8, 4), np.inf)), r"'W1' must be finite"),
    (_edit(lam=np.float64(np.nan)), r"'lam' must be finite"),
    (_edit(loss=np.array("hinge")), r"'loss' must be one of"),
    (_edit(activation=np.array("swish")), r"'activation' must be one of"),
    (_edit(W3=np.zeros((2, 2))), r"'W3' must not be present"),
    (_edit(depth=np.int64(3)), r"'W3' must be present"),
    (_edit(bias=np.bool_(True)), r"'b1' must be present"),
    (_edit(lam=np.array([0.1])), r"'lam' must be a scalar"),
    (_edit(W1=np.array([["a"] * 4] * 8)), r"'W1' must be a numeric array"),
    (_edit(Y=np.zeros((31, 2))), r"'X/Y' must be 2-D with the same number of rows"),
]


@pytest.mark.parametrize(("edit", "message"), BAD_FILES)
def test_bad_run_files_raise_one_line_errors(saved, tmp_path: Path, edit, message) -> None:  # noqa: ANN001
    """F1 (inputs): every malformed run file is refused with a message naming key and fix."""
    path = _write(tmp_path / "bad.npz", **edit(_good(saved)))
    with pytest.raises(InputError, match=message) as info:
        load_run(path)
    assert "\n" not in str(info.value)


def test_pickled_objects_and_non_archives_are_refused(saved, tmp_path: Path) -> None:  # noqa: ANN001
    """F1 (inputs): object arrays (pickle), plain .npy files and non-zip files are refused."""
    good = _good(saved)
    good["W1"] = np.array([{"evil": 1}] * 8, dtype=object)
    path = tmp_path / "pickled.npz"
    np.savez(path, **good)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"must hold plain numbers or text, but 'W1' has dtype"):
        load_run(path)
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(InputError, match=r"be an .npz archive of named arrays, not a single"):
        load_run(tmp_path / "single.npy")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(InputError, match=r"run file must be a NumPy .npz archive"):
        load_run(tmp_path / "text.npz")
    with pytest.raises(InputError, match=r"run file must exist"):
        load_run(tmp_path / "missing.npz")


def test_saved_archive_has_no_pickle_and_the_documented_keys(saved) -> None:  # noqa: ANN001
    """F1 (run file): every entry is a plain .npy member; the key list matches the docstring."""
    with zipfile.ZipFile(saved[0]) as z:
        names = sorted(n.removesuffix(".npy") for n in z.namelist())
        for name in z.namelist():
            header = io.BytesIO(z.read(name))
            np.lib.format.read_magic(header)
    assert names == sorted(
        ["format", "X", "Y", "lam", "loss", "activation", "depth", "bias", "decay_bias",
         "W1", "W2", "seed", "status"]
    )  # fmt: skip
    assert FORMAT == "factcheck-run/1"
