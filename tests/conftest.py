"""Shared test configuration: Hypothesis profiles.

Profiles: "dev" (default, quick), "deep" (many examples, for a long local run) and Hypothesis's
built-in "ci" profile, which it loads itself when CI=true. Choose with HYPOTHESIS_PROFILE=deep.
"""

from __future__ import annotations

import os

# One BLAS thread: the suite's matrices are small, and on a 2-core machine shared with other
# work a two-thread OpenBLAS was measured 10-30x slower on mid-sized products. Set before NumPy
# is imported; an explicit setting in the environment wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

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
