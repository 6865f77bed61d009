"""verify.strategies: draws are what they claim to be, the cache is safe, bad spaces are refused.

Tags: the certificate (F2: a certified point is where the FACT defect is a rounding-level
gradient), D4/D5 for the balanced deep linear draws, run files (F1 via ``factcheck check``).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from theory._errors import InputError
from verify.engine.runfile import load_run
from verify.engine.train import evaluate
from verify.strategies import (
    CERTIFIED_ACTIVATIONS,
    COLLAPSED_NORM,
    NETWORK_FAMILIES,
    DrawnRunFile,
    Network,
    NetworkSpace,
    NetworkSpec,
    cache_dir,
    converged_networks,
    deep_linear_networks,
    networks,
    run_files,
    train_spec,
)
from verify.strategies import draws as draws_module


@given(converged_networks())
def test_converged_draws_pass_the_engines_certificate(net: Network) -> None:
    """F2: every converged draw is certified stationary by the engine's own rule (re-applied
    here to the returned point), is not collapsed, and has input dimension >= 2."""
    again = evaluate(net.problem, net.theta, spectrum="none")
    assert net.converged and again.converged, again.reason
    assert again.grad_norm <= again.grad_floor
    assert all(np.linalg.norm(w) >= COLLAPSED_NORM for w, _ in net.problem.net.unflatten(net.theta))
    assert net.spec.d >= 2 and net.spec.activation in CERTIFIED_ACTIVATIONS


def test_converged_needs_the_gradient_at_its_floor() -> None:
    """F2: a result whose status says converged but whose gradient is above its floor is not
    certified (both parts of the rule are read, neither is trusted alone)."""
    from dataclasses import replace

    net = train_spec(NetworkSpec("tanh", (3,), d=2, c=1, n=12, lam=1e-2, seed=1), cache=False)
    assert net.converged and net.result is not None
    above = replace(net.result, grad_norm=2 * net.result.grad_floor)
    assert not Network(net.spec, net.problem, net.theta, above).converged


@given(networks(activations=("relu",), biases=(True, False)))
def test_networks_draw_relu_with_finite_objective(net: Network) -> None:
    """F2: networks() draws ReLU networks (unconverged) with a finite objective and gradient."""
    from verify.engine.network import backprop

    assert net.problem.net.activation == "relu" and net.result is None
    bp = backprop(net.problem, net.theta)
    assert np.isfinite(float(bp.value)) and np.isfinite(bp.grad).all()


@given(deep_linear_networks(balanced=True, converged=False))
def test_balanced_deep_linear_draws_are_balanced(net: Network) -> None:
    """D5: balanced draws have D_j = W_{j+1}^T W_{j+1} - W_j W_j^T = 0 to float64 rounding
    (W_k = V_k S V_{k-1}^T computed in float64: a few products of size |W|^2), >= 2 outputs."""
    ws = [w for w, _ in net.problem.net.unflatten(net.theta)]
    assert (
        len(ws) >= 2
        and net.problem.net.sizes[-1] >= 2
        and net.problem.net.activation == ("identity")
    )
    k = max(net.problem.net.sizes)
    for a, b in zip(ws, ws[1:], strict=False):
        imbalance = np.linalg.norm(b.T @ b - a @ a.T)
        # rounding: each W has k-term products, D_j two more, relative to |W|^2 (Higham)
        assert imbalance <= 8 * k * np.finfo(float).eps * (np.linalg.norm(a) ** 2 +
                                                           np.linalg.norm(b) ** 2)  # fmt: skip


@given(deep_linear_networks(balanced=False, converged=False))
def test_unbalanced_deep_linear_draws_are_unbalanced(net: Network) -> None:
    """D4: unbalanced draws are clearly unbalanced (so D4 has something to show when trained)."""
    ws = [w for w, _ in net.problem.net.unflatten(net.theta)]
    assert max(np.linalg.norm(b.T @ b - a @ a.T) for a, b in zip(ws, ws[1:], strict=False)) > 1e-3


@given(run_files())
def test_run_files_round_trip(drawn: DrawnRunFile) -> None:
    """F1 (run file): a drawn run file loads back to the same problem and parameters."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        run = load_run(drawn.write(Path(tmp) / "run.npz"))
    net = drawn.network
    assert np.array_equal(run.theta, net.theta) and run.problem.net == net.problem.net
    assert np.array_equal(run.problem.X, net.problem.X) and run.problem.lam == net.problem.lam


@settings(max_examples=max(2, settings.default.max_examples // 3))
@given(run_files(converged=True))
def test_converged_run_files_pass_factcheck_check(drawn: DrawnRunFile) -> None:
    """F1: `factcheck check` accepts every converged run file: FACT consistent there. The exit
    status is that of the weakest verdict, FACT's or the NFA's (3 when the NFA is undefined at
    the point), never 2 (refused) or 1 (refuted)."""
    import json
    import tempfile

    from verify.cli.main import main

    with tempfile.TemporaryDirectory() as tmp:
        path = drawn.write(Path(tmp) / "run.npz")
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = main(["check", str(path), "--json"])
    out = json.loads(buf.getvalue())
    assert out["verdict"] == "NUMERICALLY_CONSISTENT", out.get("reason")
    assert code == (0 if out["overall_verdict"] == "NUMERICALLY_CONSISTENT" else 3)


def test_strategies_usable_from_a_users_suite_without_project_profiles() -> None:
    """F2: with Hypothesis's default health checks (only too_slow suppressed, as documented),
    converged draws of every family are not filtered out too often."""
    for name in sorted(NETWORK_FAMILIES):

        @settings(max_examples=5, deadline=None, database=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
        @given(converged_networks(name))
        def draw(net: Network) -> None:
            assert net.converged

        draw()


# -- the cache ----------------------------------------------------------------------------------
SPEC = NetworkSpec("tanh", (3,), d=2, c=1, n=12, lam=1e-2, seed=5)


def test_cache_is_used_and_the_certificate_recomputed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F2: a second draw of the same spec reads the trained point from the cache (training is
    not run) and the engine's certificate is recomputed on it."""
    monkeypatch.setenv("FACTCHECK_CACHE_DIR", str(tmp_path))
    first = train_spec(SPEC)
    assert first.converged and list(tmp_path.rglob("*.npy"))

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained again despite the cache")

    monkeypatch.setattr(draws_module, "train", no_training)
    again = train_spec(SPEC)
    assert np.array_equal(again.theta, first.theta) and again.converged


def test_corrupt_or_foreign_cache_entries_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F2: a truncated, pickled or wrong-sized entry is treated as missing and retrained."""
    monkeypatch.setenv("FACTCHECK_CACHE_DIR", str(tmp_path))
    ref = train_spec(SPEC)
    (entry,) = tmp_path.rglob("*.npy")
    for content in (b"\x93NUMPY garbage", entry.read_bytes()[:40]):
        entry.write_bytes(content)
        assert np.array_equal(train_spec(SPEC).theta, ref.theta)
    np.save(entry, np.zeros(3))  # wrong size
    assert np.array_equal(train_spec(SPEC).theta, ref.theta)
    np.save(entry, np.array([{"a": 1}], dtype=object), allow_pickle=True)  # pickled: refused
    assert np.array_equal(train_spec(SPEC).theta, ref.theta)


def test_cache_can_be_turned_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """F2: FACTCHECK_CACHE_DIR="" turns the cache off; nothing is written."""
    monkeypatch.setenv("FACTCHECK_CACHE_DIR", "")
    monkeypatch.chdir(tmp_path)
    assert cache_dir() is None
    assert train_spec(SPEC).converged
    assert not list(tmp_path.rglob("*.npy"))


# -- bad input ----------------------------------------------------------------------------------
BAD_SPECS = [
    ({"activation": "swish"}, "activation must be one of"),
    ({"loss": "hinge"}, "loss must be one of"),
    ({"inputs": "uniform"}, "inputs must be one of"),
    ({"loss": "cross_entropy", "c": 1}, "c must be >= 2 for cross_entropy"),
    ({"init": "orthogonal"}, "init must be one of"),
]


@pytest.mark.parametrize("kwargs, message", BAD_SPECS)
def test_bad_specs(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    """F2: a bad spec names the field, the rule and the value."""
    with pytest.raises(InputError, match=message):
        NetworkSpec(**kwargs)


BAD_SPACES = [
    ({"activations": ("swish",)}, "space.activations must be"),
    ({"activations": ()}, "space.activations must be"),
    ({"depths": (0,)}, "space must have depths >= 1"),
    ({"min_width": 5, "max_width": 2}, "min_width <= max_width"),
    ({"losses": ("cross_entropy",), "outputs": (1, 1)}, "space.outputs must be"),
    ({"digits": ()}, "at least one digits choice"),
]


@pytest.mark.parametrize("kwargs, message", BAD_SPACES)
def test_bad_spaces(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    """F2: a bad space names the field, the rule and the value."""
    with pytest.raises(InputError, match=message):
        NetworkSpace(**kwargs)
