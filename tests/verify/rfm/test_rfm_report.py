"""The RFM report's derivation entries: the evidence level they are expected to reach."""

from __future__ import annotations

import time

from theory.kernel_expansion import derive_residual_identity
from verify.report.labels import as_expected, expected_of
from verify.rfm.report import _derivation_entry


def test_kernel_expansion_entries_expect_exact_at_sizes() -> None:
    """K2: a kernel-expansion derivation is checked exactly at listed sizes only, so its entry
    expects EXACT_AT_SIZES (not PROVED) and gets it; a planted variant still expects REFUTED."""
    t0 = time.perf_counter()
    d = derive_residual_identity()
    entry = _derivation_entry(d, time.perf_counter() - t0)
    assert entry.verdict == "EXACT_AT_SIZES" and expected_of(entry) == "EXACT_AT_SIZES"
    assert as_expected(entry)
    planted = _derivation_entry(d, 0.0, theorem=False)
    assert expected_of(planted) == "REFUTED"
