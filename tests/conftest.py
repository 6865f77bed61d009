"""Shared test configuration: Hypothesis profiles.

Profiles: "dev" (default, quick), "deep" (many examples, for a long local run) and Hypothesis's
built-in "ci" profile, which it loads itself when CI=true. Choose with HYPOTHESIS_PROFILE=deep.
"""

from __future__ import annotations

import os

from verify.base.blas import set_blas_threads

# one BLAS thread for the whole suite (why: verify/base/blas.py), before anything imports NumPy
set_blas_threads(1)

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "deep", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
if "HYPOTHESIS_PROFILE" in os.environ:
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
elif os.environ.get("CI", "").lower() != "true":
    settings.load_profile("dev")
