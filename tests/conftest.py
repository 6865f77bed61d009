"""Shared test configuration: Hypothesis profiles.

Profiles: "dev" (default: quick and derandomized, so reruns draw the same networks and find
them in the on-disk cache of trained points, verify/strategies/cache.py), "deep" (many random
examples, for a long local run) and "ci", loaded when CI=true: Hypothesis's own ci profile
(derandomized, no example database) with 20 examples per test, twice "dev", so that the
property tests on converged networks keep the suite well inside its time budget on 2 cores.
Choose with HYPOTHESIS_PROFILE=deep.
"""

from __future__ import annotations

import os

from verify.base.blas import set_blas_threads

# one BLAS thread for the whole suite (why: verify/base/blas.py), before anything imports NumPy
set_blas_threads(1)

from hypothesis import HealthCheck, settings

# drawing a converged network trains it (slow on a cold cache): too_slow is expected
_SLOW_DRAWS = [HealthCheck.too_slow]
settings.register_profile(
    "dev", max_examples=10, deadline=None, derandomize=True, suppress_health_check=_SLOW_DRAWS
)
settings.register_profile(
    "deep", max_examples=200, deadline=None, suppress_health_check=_SLOW_DRAWS
)
settings.register_profile(
    "ci", settings.get_profile("ci"), max_examples=20, suppress_health_check=_SLOW_DRAWS
)
if "HYPOTHESIS_PROFILE" in os.environ:
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
elif os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")
else:
    settings.load_profile("dev")
