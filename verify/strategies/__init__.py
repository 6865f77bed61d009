"""Hypothesis strategies for the toolkit's objects: networks, converged networks, run files.

Use them in your own pytest suite::

    from hypothesis import HealthCheck, given, settings
    from verify.strategies import converged_networks

    @settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(converged_networks(activations=("tanh",), depths=(2,)))
    def test_fact(net):
        ...  # net.problem, net.theta: a point the engine certified stationary

- :mod:`verify.strategies.spec`: :class:`NetworkSpec` (one network, its data and its start, as a
  small hashable record that builds them deterministically), :class:`NetworkSpace` (where specs
  are drawn from) and :data:`NETWORK_FAMILIES` (named spaces);
- :mod:`verify.strategies.draws`: the strategies :func:`specs`, :func:`networks`,
  :func:`converged_networks`, :func:`deep_linear_networks`, :func:`run_files`, and
  :func:`train_spec` (train and certify one spec, with the on-disk cache);
- :mod:`verify.strategies.cache`: the on-disk cache of trained points.

Layer: above the engine and the claims, below the experiments (the counterexample search draws
its candidates from :func:`specs`).
"""

from verify.strategies.cache import cache_dir
from verify.strategies.draws import (
    COLLAPSED_NORM,
    CONVERGED_SPACE,
    DrawnRunFile,
    Network,
    converged_networks,
    deep_linear_networks,
    is_collapsed,
    networks,
    run_files,
    specs,
    train_spec,
)
from verify.strategies.spec import (
    ACTIVATION_CHOICES,
    CERTIFIED_ACTIVATIONS,
    INPUT_CHOICES,
    NETWORK_FAMILIES,
    TARGET_CHOICES,
    NetworkSpace,
    NetworkSpec,
)

__all__ = [
    "ACTIVATION_CHOICES",
    "CERTIFIED_ACTIVATIONS",
    "COLLAPSED_NORM",
    "CONVERGED_SPACE",
    "INPUT_CHOICES",
    "NETWORK_FAMILIES",
    "TARGET_CHOICES",
    "DrawnRunFile",
    "Network",
    "NetworkSpace",
    "NetworkSpec",
    "cache_dir",
    "converged_networks",
    "deep_linear_networks",
    "is_collapsed",
    "networks",
    "run_files",
    "specs",
    "train_spec",
]
