"""Input checks, memory estimates and the progress callback shared by the RFM experiments.

Private: used by :mod:`verify.rfm.parity`, :mod:`verify.rfm.modular` and :mod:`verify.rfm.tabular`
(re-exported together from :mod:`verify.rfm.experiments`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from theory._errors import bad_input
from verify.base.validate import check_memory
from verify.rfm.machine import METHODS

Progress = Callable[[str], None]


def _check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    for m in methods:
        if m not in METHODS:
            raise bad_input("method", f"be one of {', '.join(METHODS)}", m, "Pick a method.")
    if not methods:
        raise bad_input("methods", "name at least one method", list(methods), "Pass e.g. nfa.")
    return tuple(methods)


def _positive_int(name: str, value: int, least: int, fix: str) -> int:
    try:
        whole = not isinstance(value, bool) and int(value) == value
    except (TypeError, ValueError, OverflowError):  # None, NaN, infinity, text
        whole = False
    if not whole or value < least:
        raise bad_input(name, f"be an integer >= {least}", value, fix)
    return int(value)


#: largest AGOP exponent s of NFA-RFM. Why: the update is AGOP^s normalised, so an eigenvalue
#: ratio r becomes r^s; at s = 4 a ratio of 1e-4 is already at float64's 1e-16, and larger s
#: only turns the metric into the projector on the top eigenvector. The literature uses 1/2 and 1.
S_MAX = 4.0


def _check_s(s: float) -> float:
    if not (isinstance(s, (int, float)) and 0 < s <= S_MAX):
        raise bad_input("s", f"be in (0, {S_MAX:g}] (the AGOP exponent; 1/2 and 1 are usual)", s,
                        "Pass e.g. --s 0.5.")  # fmt: skip
    return float(s)


# -- memory (verify.base.validate.check_memory) --------------------------------------------------
#: float64 numbers held per kernel entry (K, gradient weights, squared distances, the Cholesky
#: copy, G^T G and A A^T of the AGOP/FACT pair route), per test kernel entry (chunks of at most
#: _TEST_ROWS rows), per data entry (inputs, targets and the index arrays that drew them) and per
#: entry of a d x d metric (M, AGOP or FACT, eigenvectors, powers). Fitted to the peak memory of
#: parity n = 2000, 4000 and modular p = 61, 101 and rounded up: the estimate is 1.3-1.9 times
#: the measured peak (benchmarks/bench_validate.py --memory).
C_KERNEL, C_TEST, C_DATA, C_METRIC = 5, 2, 4, 10
_TEST_ROWS = 4096
_BASELINE = 100 * 2**20


def rfm_bytes(n_train: int, n_rest: int, d: int, c: int) -> int:
    """Estimated peak bytes of RFM on ``n_train`` points with ``n_rest`` other (test) points,
    ``d`` inputs and ``c`` outputs (kernel matrices dominate: 8 bytes x C_KERNEL x n^2)."""
    numbers = (
        C_KERNEL * n_train * n_train
        + C_TEST * min(n_rest, _TEST_ROWS) * n_train
        + C_DATA * (n_train + n_rest) * (d + c)
        + C_METRIC * d * d
    )
    return _BASELINE + 8 * numbers


def _check_rfm_memory(n_train: int, n_rest: int, d: int, c: int, argument: str, value: object,
                      fix: str) -> None:  # fmt: skip
    what = f"RFM on {n_train:,} training points in dimension {d:,}"
    check_memory(rfm_bytes(n_train, n_rest, d, c), argument=argument, value=value, what=what,
                 fix=fix)  # fmt: skip
