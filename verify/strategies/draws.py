"""Hypothesis strategies for networks, converged networks, deep linear networks and run files.

- :func:`specs`: a :class:`~verify.strategies.spec.NetworkSpec` from a
  :class:`~verify.strategies.spec.NetworkSpace` (nothing trained; the counterexample search
  draws these);
- :func:`networks`: a :class:`Network` at its starting parameters (any activation, ReLU
  included, both losses, with or without biases);
- :func:`converged_networks`: a :class:`Network` trained by the engine and certified stationary
  (verify.engine.train.evaluate at the trained point, the engine's own certificate). Draws that
  do not certify are rejected with ``assume``, never returned; neither are collapsed ones (a
  layer with W = 0, where every identity holds as 0 = 0). Trained points are cached on disk
  (:mod:`verify.strategies.cache`), so reruns are fast;
- :func:`deep_linear_networks`: identity activation, no biases, depth 2..6, >= 2 outputs;
  exactly balanced weights or not, trained or not;
- :func:`run_files`: the bytes of a run file (verify.engine.runfile format) of a drawn network.

Drawing a converged network trains it, so the first run of a test is slower than Hypothesis
expects: suppress ``HealthCheck.too_slow`` for such tests (the project's profiles do).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from verify.engine.network import Problem
from verify.engine.runfile import save_run
from verify.engine.train import TrainResult, evaluate, train
from verify.strategies.cache import draw_key, load_point, store_point
from verify.strategies.spec import (
    CERTIFIED_ACTIVATIONS,
    NETWORK_FAMILIES,
    NetworkSpace,
    NetworkSpec,
)

__all__ = [
    "COLLAPSED_NORM",
    "CONVERGED_SPACE",
    "DrawnRunFile",
    "Network",
    "converged_networks",
    "deep_linear_networks",
    "is_collapsed",
    "networks",
    "run_files",
    "specs",
    "train_spec",
]

#: a layer with ||W||_F below this counts as collapsed onto the trivial stationary point W = 0
#: (reached when lam outweighs the data): every identity holds there as 0 = 0, so a property
#: tested on it would pass vacuously. Why 1e-3: the drawn targets have root-mean-square >= 1,
#: so a network that fits them at all has weights of order 1.
COLLAPSED_NORM = 1e-3
#: the training budget of a draw (L-BFGS iterations; the engine's Newton steps come on top)
MAX_ITER = 3000

#: the default space of :func:`converged_networks`: every activation the engine certifies, both
#: losses, with and without biases, depth 1-4, input dimension >= 2 (d = 1 makes every d x d
#: identity a statement about one number)
CONVERGED_SPACE = NetworkSpace(
    activations=CERTIFIED_ACTIVATIONS, inputs=("isotropic", "anisotropic"),
    targets=("teacher", "linear", "quadratic"), depths=(1, 2, 3, 4), max_width=5, max_d=4,
    samples=(12, 16, 24), log10_lam=(-2.5, -1.5), losses=("mse", "cross_entropy"),
    biases=(False, True), outputs=(1, 3), min_width=2, log_init_scale=(-0.5, 0.5),
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class Network:
    """A drawn network: its spec, problem, parameters and, if trained, the engine's result."""

    spec: NetworkSpec
    problem: Problem
    theta: np.ndarray
    result: TrainResult | None = None

    @property
    def converged(self) -> bool:
        """Certified stationary by the engine (only trained draws can be): the engine's status
        says converged AND the float64 gradient is at or below its rounding floor, both read
        from the certificate recomputed at the returned point."""
        r = self.result
        return r is not None and r.converged and bool(r.grad_norm <= r.grad_floor)

    def at_digits(self, dps: int, *, drawn: bool = True) -> tuple[Any, Any]:
        """The trained point refined by the engine's ``dps``-digit Newton, and that backend:
        ``(theta, backend)``. A point the refined certificate does not certify says nothing
        either way (INCONCLUSIVE): inside a Hypothesis test (``drawn``) it is rejected with
        ``assume``, never counted as passing or failing; otherwise it is an AssertionError.
        Certified means converged AND the ``dps``-digit gradient at its floor."""
        from verify.engine.network import mp_backend
        from verify.engine.train import refine_mp

        if self.result is None:
            raise ValueError("only a trained network (converged_networks()) can be refined")
        refined = refine_mp(self.result, dps)
        be = mp_backend(dps)
        if drawn:
            assume(refined.certified_at(be))
        assert refined.certified_at(be), refined.reason
        return refined.point(be), be

    def __repr__(self) -> str:
        state = "initial parameters" if self.result is None else f"trained: {self.result.status}"
        return f"Network({self.spec.describe()}; {state})"


def train_spec(spec: NetworkSpec, *, cache: bool = True, max_iter: int = MAX_ITER) -> Network:
    """Train ``spec`` from its start (verify.engine.train.train, float64) and certify the end
    point with the engine's certificate (verify.engine.train.evaluate). With ``cache`` the
    trained point is read from / written to the on-disk cache; the certificate is recomputed
    either way, so cached and fresh draws are judged by the same rule."""
    problem = spec.problem()
    theta0 = spec.theta0(problem)
    key = draw_key(problem, theta0, max_iter)
    theta = load_point(key, problem.net.n_params) if cache else None
    if theta is None:
        theta = train(problem, theta0=theta0, max_iter=max_iter, spectrum="none").theta
        if cache:
            store_point(key, theta)
    return Network(spec, problem, theta, evaluate(problem, theta, spectrum="none"))


def is_collapsed(problem: Problem, theta: np.ndarray) -> bool:
    """Some layer has ||W||_F < :data:`COLLAPSED_NORM` (the trivial stationary point W = 0)."""
    return any(float(np.linalg.norm(w)) < COLLAPSED_NORM for w, _ in problem.net.unflatten(theta))


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.just(float(lo)) if lo == hi else st.floats(lo, hi, allow_nan=False)


@st.composite
def _specs(draw: st.DrawFn, space: NetworkSpace, linear_only: bool, zero_lam: bool) -> Any:
    act = "identity" if linear_only else draw(st.sampled_from(space.activations))
    depths = [L for L in space.depths if act != "quadratic" or L <= space.max_quadratic_depth]
    depth = draw(st.sampled_from(depths or list(space.depths)))
    widths = tuple(draw(st.integers(space.min_width, space.max_width)) for _ in range(depth - 1))
    loss = draw(st.sampled_from(space.losses))
    c_lo = max(space.outputs[0], 2 if loss == "cross_entropy" else 1)
    c = draw(st.integers(c_lo, max(c_lo, space.outputs[1])))
    d = draw(st.integers(space.min_d, space.max_d))
    n = draw(st.sampled_from(space.samples))
    lam = 0.0 if zero_lam else float(10 ** draw(_floats(*space.log10_lam)))
    bias = False if linear_only else draw(st.sampled_from(space.biases))
    inputs = draw(st.sampled_from(space.inputs))
    param = 1.0
    if inputs == "anisotropic":
        param = math.exp(draw(_floats(0.0, math.log(300.0))))
    elif inputs == "lowrank":
        param = float(draw(st.integers(1, max(d - 1, 1))))
    elif inputs == "sparse":
        param = draw(_floats(0.3, 0.9))
    return NetworkSpec(
        activation=act, widths=widths, d=d, c=c, n=n, lam=lam, loss=loss, bias=bias,
        inputs=inputs, input_param=param, target=draw(st.sampled_from(space.targets)),
        target_param=draw(_floats(0.0, 2.0)),
        target_scale=math.exp(draw(_floats(*space.log_target_scale))),
        init=draw(st.sampled_from(space.inits)),
        init_scale=math.exp(draw(_floats(*space.log_init_scale))),
        seed=draw(st.integers(0, 2**16 - 1)), digits=draw(st.sampled_from(space.digits)),
    )  # fmt: skip


def specs(
    space: NetworkSpace | None = None, *, linear_only: bool = False, zero_lam: bool = False
) -> st.SearchStrategy[NetworkSpec]:
    """Specs drawn from ``space`` (default: every activation, small sizes); ``linear_only``
    draws deep linear networks (identity, no biases), ``zero_lam`` sets lam = 0."""
    return _specs(space or NetworkSpace(), linear_only, zero_lam)


def _space(space: NetworkSpace | None, default: NetworkSpace, overrides: Any) -> NetworkSpace:
    return (space or default).with_(**overrides) if overrides else (space or default)


def networks(space: NetworkSpace | None = None, **overrides: Any) -> st.SearchStrategy[Network]:
    """Untrained networks at their starting parameters; ``overrides`` replace fields of the
    space (e.g. ``networks(activations=("relu",), biases=(True,))``). Default: every
    activation including ReLU, both losses, with and without biases, depth 1-4."""
    sp = _space(space, CONVERGED_SPACE.with_(activations=(*CERTIFIED_ACTIVATIONS, "relu")),
                overrides)  # fmt: skip
    return specs(sp).map(lambda s: Network(s, s.problem(), s.theta0()))


def converged_networks(
    space: NetworkSpace | None = None, *, cache: bool = True, **overrides: Any
) -> st.SearchStrategy[Network]:
    """Networks trained and certified stationary by the engine (module docstring).

    ``space`` defaults to :data:`CONVERGED_SPACE`, or a name in
    :data:`~verify.strategies.spec.NETWORK_FAMILIES` ("mlp", "tanh-mlp", "deep-linear",
    "quadratic"); ``overrides`` replace its fields, e.g.
    ``converged_networks(activations=("tanh",), depths=(2,))``.
    """
    if isinstance(space, str):
        space = NETWORK_FAMILIES[space]
    return _trained(_space(space, CONVERGED_SPACE, overrides), cache, False)


@st.composite
def _trained(draw: st.DrawFn, space: NetworkSpace, cache: bool, zero_lam: bool) -> Network:
    net = train_spec(draw(specs(space, linear_only=space.activations == ("identity",),
                                zero_lam=zero_lam)), cache=cache)  # fmt: skip
    assume(net.converged)
    assume(not is_collapsed(net.problem, net.theta))
    return net


def deep_linear_networks(
    balanced: bool = True,
    converged: bool = False,
    *,
    depths: tuple[int, ...] = (2, 3, 4, 5, 6),
    outputs: tuple[int, int] = (2, 3),
    cache: bool = True,
) -> st.SearchStrategy[Network]:
    """Deep linear networks f(x) = W_L ... W_1 x (REFERENCE section 3), >= 2 outputs by default
    (with one output every exponent alpha gives correlation 1: the NFA pitfall).

    - ``converged=True, balanced=True``: trained with lam > 0 from an unbalanced start and
      certified stationary, hence balanced by D4 (the draw does not force it);
    - ``converged=True, balanced=False``: trained with lam = 0 from an unbalanced start
      (stationary without weight decay: D4 does not apply);
    - ``converged=False``: the starting point, exactly balanced (W_k = V_k S V_{k-1}^T) or a
      Gaussian start scaled unevenly across layers (unbalanced), on a problem with lam > 0.
    """
    space = NETWORK_FAMILIES["deep-linear"].with_(depths=tuple(depths), outputs=tuple(outputs))
    if converged:
        return _trained(space.with_(log_init_scale=(-1.0, 1.0)), cache, not balanced)
    space = space.with_(inits=("balanced",) if balanced else ("gaussian",),
                        log_init_scale=(-0.5, 0.5) if balanced else (0.5, 1.0))  # fmt: skip
    return specs(space, linear_only=True).map(lambda s: Network(s, s.problem(), s.theta0()))


@dataclass(frozen=True)
class DrawnRunFile:
    """A run file's bytes (``content``) and the network they hold; :meth:`write` saves them."""

    content: bytes
    network: Network

    def write(self, path: str | Path) -> Path:
        target = Path(path)
        target.write_bytes(self.content)
        return target

    def __repr__(self) -> str:
        return f"DrawnRunFile({len(self.content)} bytes, {self.network!r})"


def _run_file(net: Network) -> DrawnRunFile:
    info: dict[str, Any] = {"seed": net.spec.seed}
    if net.result is not None:
        info |= {"status": net.result.status.value, "grad_norm": net.result.grad_norm}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.npz"
        save_run(path, net.problem, net.theta, info)  # the engine's writer: the format itself
        return DrawnRunFile(path.read_bytes(), net)


def run_files(
    converged: bool = False, space: NetworkSpace | None = None, **overrides: Any
) -> st.SearchStrategy[DrawnRunFile]:
    """Run files (verify.engine.runfile format, written by the engine's own writer) of drawn
    networks: certified stationary ones with ``converged``, else at their starting point."""
    source = converged_networks(space, **overrides) if converged else networks(space, **overrides)
    return source.map(_run_file)
